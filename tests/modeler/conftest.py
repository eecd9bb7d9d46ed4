"""Fixtures for the process owners' area: a deployed routine, a process owner, a head of unit, a draft."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.audit.service import Actor
from app.people.roles import Role
from app.process_models.drafts import start_draft
from app.process_models.models import ProcessVersion
from app.process_models.service import load_bundle
from tests import factories as f
from tests.conftest import FIXTURES, ROOT

SIMPLE = (FIXTURES / "bpmn" / "simple_case.bpmn").read_text(encoding="utf-8")
FORMS_DIR = FIXTURES / "forms"


@dataclass
class Owners:
    owner: Actor
    nurse: Actor
    head_id: int
    head_name: str
    unit_id: int


@pytest.fixture
def owners(session, engine) -> Owners:
    """simple_case deployed as version 1, a Processägare, a nurse and a Verksamhetschef (the approver)."""
    f.deploy_fixture(session, engine, "simple_case.bpmn")
    unit = f.unit(session)
    owner = f.user(session, unit, Role.PROCESS_OWNER, given="Anna", family="Dahl")
    nurse = f.user(session, unit, Role.NURSE)
    head = f.user(session, unit, Role.HEAD_OF_UNIT, given="Hanna", family="Wik")
    owners = Owners(
        f.signed_in(session, owner, unit),
        f.signed_in(session, nurse, unit),
        head.id,
        head.display_name,
        unit.id,
    )
    session.commit()
    return owners


@pytest.fixture
def draft(session, owners) -> ProcessVersion:
    """An open draft of simple_case copied from version 1."""
    version = start_draft(session, actor=owners.owner, process_id="simple_case", from_number=1)
    session.commit()
    return version


def entry_text(session, version: ProcessVersion) -> str:
    return load_bundle(session, version.bundle_hash).entry_text


__all__ = ["FORMS_DIR", "ROOT", "SIMPLE", "entry_text"]


class Browser:
    """The test client signed in as one of the owners' fixture users, with the CSRF token at hand."""

    def __init__(self, client, session):
        self.client, self.session = client, session

    def as_(self, actor: Actor) -> Browser:
        with self.client.session_transaction() as browser:
            browser.clear()
            browser["user_id"], browser["unit_id"], browser["csrf_token"] = (
                actor.user_id,
                actor.unit_id,
                "test-token",
            )
        return self

    def get(self, path: str, **kw):
        self.session.commit()  # SQLite: the test's session must not hold a transaction during a request
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        self.session.commit()
        if "json" in kw or isinstance(data, bytes):
            kw.setdefault("headers", {})["X-CSRF-Token"] = "test-token"
            return (
                self.client.post(path, data=data, **kw) if data is not None else self.client.post(path, **kw)
            )
        return self.client.post(path, data={"csrf_token": "test-token", **(data or {})}, **kw)


@pytest.fixture
def browser(client, session) -> Browser:
    return Browser(client, session)
