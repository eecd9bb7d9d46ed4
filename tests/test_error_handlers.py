"""A value the database cannot hold is refused as bad input (422) and nothing of the request is saved;
the same for pages and the API. Real paths bound their input before the database, so the test gives a
route a value past PostgreSQL's integer range (on SQLite it reaches the handler as the same error)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from app.audit.models import AuditEvent
from app.audit.service import Actor, record
from app.db import request_session

TOO_BIG = 2**40  # past PostgreSQL's INTEGER


@pytest.fixture
def app_with_route(app):
    def store_too_big():
        session = request_session()
        record(session, "test:written_first", actor=Actor(label="test"))  # must not survive the refusal
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(AuditEvent).where(AuditEvent.id == TOO_BIG)).all()  # the driver refuses
        else:  # SQLite's integers are 64-bit: raise what psycopg raises
            raise DataError(
                "SELECT ... WHERE audit_event.id = %(id)s", {"id": TOO_BIG}, ValueError("out of range")
            )
        session.commit()
        return "saved"

    app.add_url_rule("/_test/too-big", "test_too_big", store_too_big, methods=["GET"])
    return app


@pytest.mark.parametrize("wants_json", [False, True])
def test_a_value_the_database_cannot_hold_is_a_422_and_nothing_is_saved(app_with_route, session, wants_json):
    client = app_with_route.test_client()
    headers = {"Accept": "application/json"} if wants_json else {}
    response = client.get("/_test/too-big", headers=headers)
    assert response.status_code == 422
    if wants_json:
        assert response.get_json()["code"] == "validation_failed"
    else:
        assert "Ett värde är för stort eller för långt. Inget sparades." in response.get_data(as_text=True)
    written = session.scalar(select(func.count()).where(AuditEvent.action == "test:written_first"))
    assert written == 0
