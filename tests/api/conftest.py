"""The API under test: the care world of the routines' walk-throughs (both regions, staff, patients,
processes/ deployed) and a client that calls /api/v1 with bearer tokens issued by the token service."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from app.api.cli import api_cli
from app.api.models import TokenKind
from app.api.openapi import document
from app.api.tokens import issue_token
from app.audit.models import AccessLog, AccessLogPatient
from app.audit.service import Actor
from tests.processes.conftest import World, world  # noqa: F401  (the care world fixture, shared)

ADMIN = Actor(label="test-admin")


@dataclass
class Api:
    """Calls the API as a staff member or resident of the world; validates answers against the document."""

    client: object
    world: World
    tokens: dict = field(default_factory=dict)

    def token(self, who: str) -> str:
        """A bearer token for a world's staff key ("nurse", "ha_nurse", ...) or resident key ("adult", ...)."""
        if who not in self.tokens:
            session = self.world.session
            if who in self.world.staff:
                user, unit = self.world.staff[who]
                _, raw = issue_token(
                    session,
                    actor=ADMIN,
                    kind=TokenKind.USER,
                    name=f"test {who}",
                    user_id=user.id,
                    unit_id=unit.id,
                )
            else:
                _, raw = issue_token(
                    session,
                    actor=ADMIN,
                    kind=TokenKind.RESIDENT,
                    name=f"test {who}",
                    patient_id=self.world.patients[who].id,
                )
            session.commit()
            self.tokens[who] = raw
        return self.tokens[who]

    def call(self, method: str, path: str, who: str | None = None, *, token: str | None = None, **kwargs):
        # SQLite takes its write lock at BEGIN: the test's own session must not hold one across a request.
        self.world.session.commit()
        headers = dict(kwargs.pop("headers", {}))
        if token is None and who is not None:
            token = self.token(who)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        self.world.session.expire_all()
        return response

    def get(self, path: str, who: str | None = None, **kwargs):
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: str | None = None, **kwargs):
        return self.call("POST", path, who, **kwargs)

    def cli(self, *args: str):
        """`flask api ...` (the command group the app registers), after releasing the test's own lock."""
        app = self.client.application
        if "api" not in app.cli.commands:
            app.cli.add_command(api_cli)
        self.world.session.commit()
        result = app.test_cli_runner().invoke(args=["api", *args])
        self.world.session.expire_all()
        return result

    def access_log(self, case_id: int | None = None) -> list[tuple[str, int | None, list[int]]]:
        """(action, user id, patient ids) of every access-log row, oldest first (of one case, if given)."""
        session = self.world.session
        query = select(AccessLog).order_by(AccessLog.id)
        if case_id is not None:
            query = query.where(AccessLog.case_id == case_id)
        rows = session.scalars(query).all()
        patients = {}
        for link in session.scalars(select(AccessLogPatient)):
            patients.setdefault(link.access_log_id, []).append(link.patient_id)
        session.commit()
        return [(row.action, row.user_id, sorted(patients.get(row.id, []))) for row in rows]


@pytest.fixture
def api(app, client, world) -> Api:  # noqa: F811  (world is the imported fixture)
    return Api(client, world)


_DOCUMENT: dict = {}


def documented(response, operation_path: str, method: str = "get") -> dict:
    """Assert that a response is one its operation documents (status, media type, schema); return its JSON."""
    if not _DOCUMENT:
        _DOCUMENT.update(document())
    responses = _DOCUMENT["paths"][f"/api/v1{operation_path}"][method]["responses"]
    assert str(response.status_code) in responses, (
        f"{response.status_code} is not documented for {method.upper()} {operation_path}"
    )
    entry = responses[str(response.status_code)]
    if "content" not in entry:
        assert not response.data
        return {}
    [(media_type, content)] = entry["content"].items()
    assert response.mimetype == media_type
    registry = Registry().with_resource(
        "urn:api",
        Resource.from_contents({"components": _DOCUMENT["components"]}, default_specification=DRAFT202012),
    )
    schema = {**content["schema"], "$ref": "urn:api" + content["schema"]["$ref"]}
    errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(response.json), key=str)
    assert not errors, (
        f"{method.upper()} {operation_path} answered outside its schema: {errors[0].message} at {list(errors[0].absolute_path)}"
    )
    return response.json
