"""The audit trail (one call, same transaction) and the access log of patient data (HA-logcheck)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from app.audit.models import AccessLog, AccessLogPatient, AuditEvent
from app.audit.service import Actor, log_access, record
from app.instances import service as instances
from app.people.roles import Role
from tests import factories as f


def test_an_audit_event_commits_with_its_change_and_a_rollback_leaves_none(database):
    actor = Actor(label="Test Person", user_id=None)
    with pytest.raises(RuntimeError), database.transaction() as session:
        f.unit(session, "Rullas tillbaka")
        record(session, "unit:created", actor=actor, subject=("unit", 1))
        raise RuntimeError("the action fails after recording")
    with database.transaction() as session:
        assert session.scalars(select(AuditEvent)).all() == []
        f.unit(session, "Blir kvar")
        record(session, "unit:created", actor=actor, subject=("unit", 2), reason="test")
    with database.transaction() as session:
        [event] = session.scalars(select(AuditEvent)).all()
        assert (event.action, event.subject_id, event.details, event.actor_label) == (
            "unit:created",
            "2",
            {"reason": "test"},
            "Test Person",
        )
        assert event.at.tzinfo is not None


def test_audit_and_access_log_are_append_only(database):
    with database.transaction() as session:
        record(session, "x:y", actor=Actor.system("test"))
        p = f.patient(session)
        log_access(session, actor=Actor.system("test"), action="case:read", patient_ids=[p.id])
    for statement in (
        "UPDATE audit_event SET action = 'forged'",
        "DELETE FROM audit_event",
        "UPDATE access_log SET action = 'forged'",
        "DELETE FROM access_log_patient",
    ):
        with pytest.raises(DatabaseError), database.transaction() as session:
            session.execute(text(statement))
    with database.transaction() as session:
        assert session.scalar(select(AuditEvent.action)) == "x:y"
        assert session.scalar(select(AccessLog.action)) == "case:read"


def test_HA_logcheck_the_worklist_writes_one_access_row_naming_every_patient_it_showed(
    app, session, engine, client
):
    """Every read of patient data is logged: who, acting unit, when, which patients (HSLF-FS 2016:40)."""
    f.deploy_fixture(session, engine, "simple_case.bpmn")
    unit = f.unit(session)
    nurse = f.user(session, unit, Role.NURSE)
    patients = [f.patient(session, n) for n in ("199203012381", "199205042386", "199206152382")]
    actor = f.signed_in(session, nurse, unit)
    for p in patients:
        instances.start_instance(
            session, engine, process_id="simple_case", actor=actor, case=f.case(session, unit, p)
        )
    session.commit()

    with client.session_transaction() as browser:
        browser["user_id"], browser["unit_id"] = nurse.id, unit.id
    response = client.get("/")
    assert response.status_code == 200
    assert all(p.display_name.encode() in response.data for p in patients)

    session.expire_all()
    [row] = session.scalars(select(AccessLog)).all()
    assert (row.user_id, row.acting_unit_id, row.action, row.context) == (
        nurse.id,
        unit.id,
        "worklist:list",
        "/",
    )
    shown = set(
        session.scalars(select(AccessLogPatient.patient_id).where(AccessLogPatient.access_log_id == row.id))
    )
    assert shown == {p.id for p in patients}
    session.commit()  # end the read transaction: SQLite lets one writer in at a time
    client.get("/")
    assert len(session.scalars(select(AccessLog)).all()) == 2  # one row per render
