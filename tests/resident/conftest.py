"""The resident's pages through the test client, over the care world of tests/processes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AccessLog, AccessLogPatient, AuditEvent
from app.patients.models import Patient
from tests.processes.conftest import World, world  # noqa: F401  (the care world fixture, shared)


def csrf(client) -> str:
    with client.session_transaction() as session:
        if "csrf_token" not in session:
            session["csrf_token"] = "test-csrf-token"
        return session["csrf_token"]


def post(client, url: str, data: dict | None = None, **kwargs):
    """A form post with the session's CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf(client)}, **kwargs)


@pytest.fixture
def sign_in(client, request):
    """Sign a world patient in through the development sign-in; returns the client."""
    care = request.getfixturevalue("world")

    def _sign_in(key: str):
        response = post(client, "/resident/login", {"patient_id": care.patients[key].id})
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return _sign_in


def sok_vard_form(care: World, patient: str = "adult", unit: str = "og", **answers) -> dict:
    """What the Sök vård form posts: who, where, and the demo stand-in's answers."""
    return {
        "kind": "sok_vard",
        "patient_id": care.patients[patient].id,
        "unit_id": care.units[unit].id,
        "reason": "halsont",
        "description": "Ont i halsen sedan tre dagar",
        "breathing": "false",
        "self_harm": "false",
        "high_fever": "false",
        "days": "3",
        **answers,
    }


def read(session, query) -> list:
    """Rows as they are now; the test's transaction ends at once (on SQLite it holds the write lock
    the app's next request needs)."""
    rows = list(session.scalars(query.execution_options(populate_existing=True)))
    session.commit()
    return rows


def patient(care: World, key: str):
    """A world patient as the database has it now."""
    return read(care.session, select(Patient).where(Patient.id == care.patients[key].id))[0]


def access_rows(session, *, action: str | None = None, case_id: int | None = None) -> list[AccessLog]:
    query = select(AccessLog).order_by(AccessLog.id)
    if action is not None:
        query = query.where(AccessLog.action == action)
    if case_id is not None:
        query = query.where(AccessLog.case_id == case_id)
    return read(session, query)


def logged_patients(session, row: AccessLog) -> set[int]:
    return set(
        read(session, select(AccessLogPatient.patient_id).where(AccessLogPatient.access_log_id == row.id))
    )


def audit(session, action: str) -> list[AuditEvent]:
    return read(session, select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
