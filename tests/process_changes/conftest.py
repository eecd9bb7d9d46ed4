"""Fixtures for version diffs and migration: simple_case deployed, a second version made from a
modified copy, a unit with a nurse, a process owner and a head of unit, and cases running on v1."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.audit.service import Actor
from app.instances import service as instances
from app.people.roles import Role
from tests import factories as f
from tests.conftest import FIXTURES


@dataclass
class Setup:
    session: object
    engine: object
    tmp: Path
    unit: object = None
    actors: dict = field(default_factory=dict)
    started: int = 0

    def deploy_variant(self, *replacements: tuple[str, str], name: str = "simple_case.bpmn"):
        """Deploy a copy of a fixture with text replaced, as the next version of its process."""
        text = (FIXTURES / "bpmn" / name).read_text(encoding="utf-8")
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new)
        folder = self.tmp / f"variant{len(list(self.tmp.iterdir()))}"
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
        result = f.deploy_fixture(self.session, self.engine, name, processes_dir=folder)
        assert result.status == "deployed", result
        self.session.commit()
        return result

    def start(self, n: int = 1) -> list:
        started = []
        for _ in range(n):
            self.started += 1
            # Distinct identity numbers (not checksummed here: only uniqueness matters).
            case = f.case(
                self.session,
                self.unit,
                f.patient(self.session, f"1992030{self.started:05d}", given=f"Patient{self.started}"),
            )
            started.append(
                instances.start_instance(
                    self.session, self.engine, process_id="simple_case", actor=self.actors["nurse"], case=case
                )
            )
        self.session.commit()
        return started


@pytest.fixture
def setup(session, engine, tmp_path, clock) -> Setup:
    s = Setup(session, engine, tmp_path / "variants")
    s.tmp.mkdir()
    f.deploy_fixture(session, engine, "simple_case.bpmn")
    s.unit = f.unit(session)
    for key, role in (
        ("nurse", Role.NURSE),
        ("owner", Role.PROCESS_OWNER),
        ("head", Role.HEAD_OF_UNIT),
        ("doctor", Role.DOCTOR),
    ):
        s.actors[key] = f.signed_in(session, f.user(session, s.unit, role, given=key.capitalize()), s.unit)
    s.actors["system"] = Actor.system("test")
    session.commit()
    return s


@pytest.fixture
def fixture_copy(tmp_path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(FIXTURES / "bpmn", folder)
    return folder


class Pages:
    """The test client signed in as one of the setup's actors, CSRF token at hand."""

    def __init__(self, client, setup: Setup):
        self.client, self.setup = client, setup

    def sign_in(self, key: str) -> Pages:
        actor = self.setup.actors[key]
        with self.client.session_transaction() as browser:
            browser.clear()
            browser["user_id"], browser["unit_id"], browser["csrf_token"] = (
                actor.user_id,
                actor.unit_id,
                "test-token",
            )
        return self

    def get(self, path: str, **kw):
        self.setup.session.commit()  # SQLite: the test's session must not hold a transaction during a request
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        self.setup.session.commit()
        return self.client.post(path, data={"csrf_token": "test-token", **(data or {})}, **kw)


@pytest.fixture
def pages(client, setup) -> Pages:
    return Pages(client, setup)
