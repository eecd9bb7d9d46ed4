"""Failures while advancing become visible incidents with retries; nothing is left half-advanced."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.instances import service as instances
from app.instances.models import HumanTask, Incident, IncidentStatus, InstanceStatus, ProcessInstance
from app.people.roles import Role
from tasks.registry import ServiceOperator
from tests import factories as f


class Flaky:
    """A service operator that fails its first `failures` calls."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def __call__(self, ctx, fail=False):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("the SMS gateway did not answer")
        ctx.audit("test:service_called")
        return {"ok": True}


@pytest.fixture
def flaky(engine):
    operator = Flaky(failures=1)
    engine.operators["test_flaky"] = ServiceOperator("test_flaky", operator, "test", ("fail",))
    return operator


@pytest.fixture
def setup(session, engine, flaky):
    f.deploy_fixture(session, engine, "service_step.bpmn")
    f.deploy_fixture(session, engine, "endless_loop.bpmn")
    unit = f.unit(session)
    nurse = f.user(session, unit, Role.NURSE)
    case = f.case(session, unit, f.patient(session))
    actor = f.signed_in(session, nurse, unit)
    session.commit()
    return {"unit": unit, "nurse": nurse, "case": case, "actor": actor}


def test_a_failing_service_task_becomes_an_incident_and_a_retry_resolves_it(session, engine, setup, flaky):
    actor = setup["actor"]
    instance = instances.start_instance(
        session,
        engine,
        process_id="service_step",
        actor=actor,
        case=setup["case"],
        data={"should_fail": False},
    )
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(session, engine, task_id=task.id, actor=actor, data={})
    session.commit()

    [incident] = session.scalars(select(Incident)).all()
    assert (incident.element_id, incident.status, incident.retries) == (
        "Service_call",
        IncidentStatus.OPEN,
        0,
    )
    assert "SMS gateway" in incident.message and incident.next_retry_at is not None
    # The user's completion was kept; the routine waits at the failed step with no new task.
    assert session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all() == []
    assert instance.status == InstanceStatus.RUNNING

    instances.retry_incident(session, engine, incident_id=incident.id, actor=actor)
    session.commit()
    assert incident.status == IncidentStatus.RESOLVED and flaky.calls == 2
    assert (
        session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id)).title == "Efterarbete"
    )
    assert "test:service_called" in {e.action for e in session.scalars(select(AuditEvent))}


def test_a_retry_that_fails_again_counts_and_backs_off(session, engine, setup, flaky, clock):
    flaky.failures = 5
    actor = setup["actor"]
    instance = instances.start_instance(
        session, engine, process_id="service_step", actor=actor, case=setup["case"]
    )
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(session, engine, task_id=task.id, actor=actor, data={})
    session.commit()
    incident = session.scalar(select(Incident))
    first_retry_at = incident.next_retry_at
    instances.retry_incident(session, engine, incident_id=incident.id, actor=actor)
    session.commit()
    assert incident.status == IncidentStatus.OPEN and incident.retries == 1
    assert incident.next_retry_at - clock.now() > first_retry_at - clock.now()


def test_a_guard_rail_stops_the_instance_with_an_incident_and_it_never_reports_complete(
    session, engine, setup
):
    instance = instances.start_instance(
        session,
        engine,
        process_id="endless_loop",
        actor=setup["actor"],
        case=setup["case"],
        data={"counter": 0},
    )
    session.commit()
    session.refresh(instance)
    assert instance.status == InstanceStatus.STOPPED
    [incident] = session.scalars(select(Incident)).all()
    assert incident.error_type == "InstanceTooLarge" and "depth" in incident.message
    # The saved state is the consistent one from before the runaway steps.
    assert instance.task_count < 20


def test_a_routine_failure_on_a_user_action_rolls_the_action_back_and_records_the_incident(
    app, database, engine, setup
):
    """`perform` is the unit of work routes and workers use: roll back, then record the incident."""
    with database.transaction() as session:
        instance = instances.start_instance(
            session,
            engine,
            process_id="service_step",
            actor=setup["actor"],
            case=session.merge(setup["case"]),
        )
        instance_id = instance.id
    with database.transaction() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    engine.max_depth = 1  # any step now trips the guard rail

    with pytest.raises(instances.RoutineFailed):
        instances.perform(
            database,
            lambda s: instances.complete_task(s, engine, task_id=task_id, actor=setup["actor"], data={}),
        )

    with database.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == InstanceStatus.STOPPED
        [incident] = session.scalars(select(Incident)).all()
        assert incident.error_type == "InstanceTooLarge"
        assert "task:completed" not in {e.action for e in session.scalars(select(AuditEvent))}


def test_an_endless_script_is_stopped_by_the_time_budget_and_becomes_an_incident(session, engine, setup):
    """`while True` in an uploaded script cannot hang a worker: the sandbox's time budget stops it."""
    import time

    f.deploy_fixture(session, engine, "runaway_script.bpmn")
    session.commit()
    started = time.monotonic()
    instance = instances.start_instance(
        session, engine, process_id="runaway_script", actor=setup["actor"], case=setup["case"]
    )
    session.commit()
    assert time.monotonic() - started < 5
    [incident] = session.scalars(select(Incident).where(Incident.instance_id == instance.id)).all()
    assert incident.element_id == "Loop_forever" and "budget" in incident.message.lower()
    assert session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all() == []
