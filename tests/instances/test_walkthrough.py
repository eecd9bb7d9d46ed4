"""Walk-through of the simple fixture routine through the service layer.

Every service call restores the instance from its saved state (spec kept out), so each step is a
serialize/restore in the middle of the routine; the engine-level test does it explicitly too.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import Case
from app.errors import Conflict, Forbidden, ValidationFailed
from app.instances import service as instances
from app.instances.models import HumanTask, InstanceStatus, PendingTimer, ProcessInstance
from app.instances.persistence import reproject_case
from app.people.roles import Role
from tests import factories as f


@pytest.fixture
def world(session, engine):
    f.deploy_fixture(session, engine, "simple_case.bpmn")
    unit = f.unit(session)
    nurse = f.user(session, unit, Role.NURSE)
    doctor = f.user(session, unit, Role.DOCTOR)
    patient = f.patient(session)
    case = f.case(session, unit, patient, priority=2)
    session.commit()
    return {"unit": unit, "nurse": nurse, "doctor": doctor, "patient": patient, "case": case}


def _actor(session, world, who):
    return f.signed_in(session, world[who], world["unit"])


def test_start_projects_the_first_human_task_with_case_fields(session, engine, world):
    actor = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="simple_case", actor=actor, case=world["case"]
    )
    session.commit()
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert [(r.title, r.role, r.priority, r.search_reason, r.patient_name) for r in rows] == [
        ("Ta emot ärendet", Role.NURSE, 2, "Halsont", "Testa Patientsson")
    ]
    assert rows[0].form_schema == "receive.schema.json"
    # The spec is not in the saved state: only the bundle hash pins it.
    state = json.loads(instance.state)
    assert "spec" not in state and "subprocess_specs" not in state
    assert instance.bundle_hash and instance.task_count > 0


def test_walk_through_to_the_doctor_and_completion(session, engine, world, clock):
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="simple_case", actor=nurse, case=world["case"]
    )
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(
        session, engine, task_id=task.id, actor=nurse, data={"priority_checked": True, "needs_doctor": True}
    )
    session.commit()
    doctor_task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert (doctor_task.title, doctor_task.role) == ("Bedöm ärendet", Role.DOCTOR)
    # The nurse may not do the doctor's task: checked on the task, in the service.
    with pytest.raises(Forbidden):
        instances.complete_task(session, engine, task_id=doctor_task.id, actor=nurse, data={})
    session.rollback()
    doctor = _actor(session, world, "doctor")
    instances.complete_task(session, engine, task_id=doctor_task.id, actor=doctor, data={})
    session.commit()
    session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED
    assert session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all() == []
    assert session.scalars(select(PendingTimer).where(PendingTimer.instance_id == instance.id)).all() == []
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("task:completed") == 2 and "instance:completed" in actions


def test_invalid_form_data_gets_field_errors_and_changes_nothing(session, engine, world):
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="simple_case", actor=nurse, case=world["case"]
    )
    session.commit()
    state_before, version_before = instance.state, instance.version
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    with pytest.raises(ValidationFailed) as refused:
        instances.complete_task(
            session,
            engine,
            task_id=task.id,
            actor=nurse,
            data={"priority_checked": False, "note": "x" * 501, "extra": 1},
        )
    session.rollback()
    errors = refused.value.field_errors
    assert "priority_checked" in errors and "note" in errors and "needs_doctor" in errors and "" in errors
    session.expire_all()
    fresh = session.get(ProcessInstance, instance.id)
    assert (fresh.state, fresh.version) == (state_before, version_before)
    assert session.get(HumanTask, task.id) is not None


def test_a_stale_version_is_a_conflict_not_an_overwrite(session, engine, world):
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="simple_case", actor=nurse, case=world["case"]
    )
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    with pytest.raises(Conflict):
        instances.complete_task(
            session,
            engine,
            task_id=task.id,
            actor=nurse,
            data={"priority_checked": True, "needs_doctor": False},
            expected_version=instance.version - 1,
        )
    session.rollback()
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=nurse,
        data={"priority_checked": True, "needs_doctor": False},
        expected_version=instance.version,
    )
    session.commit()
    # The task row is gone: completing it again is a conflict with a clear message.
    with pytest.raises(Conflict, match="no longer open"):
        instances.complete_task(
            session,
            engine,
            task_id=task.id,
            actor=nurse,
            data={"priority_checked": True, "needs_doctor": False},
        )


def test_boundary_timer_is_indexed_and_fires_only_when_the_clock_passes_it(session, engine, world, clock):
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="simple_case", actor=nurse, case=world["case"]
    )
    session.commit()
    timer = session.scalar(select(PendingTimer).where(PendingTimer.instance_id == instance.id))
    assert timer.element_id == "Timer_remind"
    assert timer.due_at == clock.now() + timedelta(hours=2)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert task.due_at == timer.due_at  # the task's deadline is its boundary timer

    clock.advance(hours=1, minutes=59)
    instances.fire_timers(session, engine, instance_id=instance.id, actor=nurse)
    session.commit()
    assert session.scalar(select(PendingTimer).where(PendingTimer.instance_id == instance.id)) is not None

    clock.advance(minutes=2)
    instances.fire_timers(session, engine, instance_id=instance.id, actor=nurse)
    session.commit()
    # The non-interrupting timer ran its path; the human task is still open, the timer consumed.
    assert session.scalar(select(PendingTimer).where(PendingTimer.instance_id == instance.id)) is None
    assert session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id)) is not None
    session.refresh(instance)
    states = engine.restore(engine.loaded(instance.bundle_hash, None), instance.state).element_states()
    assert states["Script_flag"] == "completed" and states["Event_flagged"] == "completed"


def test_ownership_comes_from_the_case_and_follows_it(session, engine, world):
    """One source of truth for ownership: the case; the projection copies it in the same transaction."""
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="simple_case", actor=nurse, case=world["case"]
    )
    session.commit()
    case = session.get(Case, world["case"].id)
    case.owner_user_id = world["nurse"].id
    reproject_case(session, case)
    session.commit()
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert {r.owner_user_id for r in rows} == {world["nurse"].id}
    _assert_projection_consistent(session)


def _assert_projection_consistent(session) -> None:
    for row in session.scalars(select(HumanTask)):
        case = session.get(Case, row.case_id) if row.case_id else None
        assert row.owner_user_id == (case.owner_user_id if case else None)
        if case:
            assert (row.priority, row.case_state, row.patient_answered) == (
                case.priority,
                case.state.value,
                case.patient_answered,
            )


def test_message_event_is_delivered_and_wrong_messages_are_refused(session, engine, world):
    f.deploy_fixture(session, engine, "waits_for_reply.bpmn")
    session.commit()
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="waits_for_reply", actor=nurse, case=world["case"]
    )
    session.commit()
    assert session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id)) is None
    with pytest.raises(Conflict, match="not waiting"):
        instances.deliver_message(
            session, engine, instance_id=instance.id, name="something_else", actor=nurse
        )
    session.rollback()
    instances.deliver_message(
        session,
        engine,
        instance_id=instance.id,
        name="patient_reply",
        actor=nurse,
        payload={"text": "Bättre nu"},
    )
    session.commit()
    assert session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id)).title == "Läs svaret"


def test_a_bare_engine_error_while_catching_a_message_rolls_the_delivery_back_as_a_routine_failure(
    session, engine, world, monkeypatch
):
    """Not a 500 and nothing half-done: the caller gets RoutineFailed naming the error, to roll back
    and record as an incident; the instance still waits for the message."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    from app.instances.incidents import RoutineFailed

    f.deploy_fixture(session, engine, "waits_for_reply.bpmn")
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="waits_for_reply", actor=nurse, case=world["case"]
    )
    session.commit()

    def broken(workflow, event):
        raise KeyError("lost")

    monkeypatch.setattr(BpmnWorkflow, "send_event", broken)
    with pytest.raises(RoutineFailed) as failed:
        instances.deliver_message(session, engine, instance_id=instance.id, name="patient_reply", actor=nurse)
    assert (failed.value.instance_id, failed.value.error_type) == (instance.id, "KeyError")
    session.rollback()
    monkeypatch.undo()
    instances.deliver_message(session, engine, instance_id=instance.id, name="patient_reply", actor=nurse)
    session.commit()
    assert session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id)).title == "Läs svaret"


def test_cancel_removes_open_tasks_and_timers(session, engine, world):
    nurse = _actor(session, world, "nurse")
    instance = instances.start_instance(
        session, engine, process_id="simple_case", actor=nurse, case=world["case"]
    )
    session.commit()
    instances.cancel_instance(session, engine, instance_id=instance.id, actor=nurse, reason="fel patient")
    session.commit()
    assert instance.status == InstanceStatus.CANCELLED
    assert session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all() == []
    assert session.scalars(select(PendingTimer).where(PendingTimer.instance_id == instance.id)).all() == []
