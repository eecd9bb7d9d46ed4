"""Retrying incidents: a failed retry always backs off, and only a live instance is retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock as product_clock
from app.errors import Conflict
from app.instances import service as instances
from app.instances.models import HumanTask, Incident, IncidentStatus, InstanceStatus, ProcessInstance
from app.people.roles import Role
from app.timers.worker import TimerWorker
from tasks.registry import ServiceOperator
from tests import factories as f


class Failing:
    """A service operator that fails while `fail` is set."""

    def __init__(self):
        self.calls = 0
        self.fail = True

    def __call__(self, ctx, fail=False):
        self.calls += 1
        if self.fail:
            raise ConnectionError("the SMS gateway did not answer")
        return {"ok": True}


@pytest.fixture
def failing(engine):
    operator = Failing()
    engine.operators["test_flaky"] = ServiceOperator("test_flaky", operator, "test", ("fail",))
    return operator


@pytest.fixture
def setup(database, engine, failing):
    with database.transaction() as session:
        f.deploy_fixture(session, engine, "service_step.bpmn")
        f.deploy_fixture(session, engine, "endless_loop.bpmn")
        unit = f.unit(session)
        nurse = f.user(session, unit, Role.NURSE)
        case = f.case(session, unit, f.patient(session))
        actor = f.signed_in(session, nurse, unit)
        return {"case_id": case.id, "actor": actor}


def _start(database, engine, setup, process_id: str, **data) -> int:
    with database.transaction() as session:
        from app.cases.models import Case

        case = session.get(Case, setup["case_id"])
        return instances.start_instance(
            session, engine, process_id=process_id, actor=setup["actor"], case=case, data=data
        ).id


def _failed_service_step(database, engine, setup) -> tuple[int, int]:
    """An instance of service_step waiting at its failed service call with an open incident."""
    instance_id = _start(database, engine, setup, "service_step", should_fail=False)
    with database.transaction() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
        instances.complete_task(session, engine, task_id=task_id, actor=setup["actor"], data={})
    with database.transaction() as session:
        incident_id = session.scalar(select(Incident.id).where(Incident.instance_id == instance_id))
    return instance_id, incident_id


def test_a_retry_stopped_again_by_a_guard_rail_is_counted_and_pushed_back(database, engine, setup, clock):
    """A RoutineFailed retry (the endless loop trips the guard rail again) must not stay due."""
    instance_id = _start(database, engine, setup, "endless_loop", counter=0)
    with database.transaction() as session:
        [incident] = session.scalars(select(Incident)).all()
        assert session.get(ProcessInstance, instance_id).status == InstanceStatus.STOPPED
        clock.set(incident.next_retry_at + timedelta(seconds=1))

    worker = TimerWorker(database, engine, name="test")
    worker.run_once()

    with database.transaction() as session:
        incident = session.scalar(select(Incident))
        assert incident.status == IncidentStatus.OPEN and incident.retries == 1
        assert incident.next_retry_at > product_clock.now()
        assert session.get(ProcessInstance, instance_id).status == InstanceStatus.STOPPED
    # Nothing is due any more: the next pass retries nothing and the worker may sleep.
    before = worker.stats.failures
    worker.run_once()
    assert worker.stats.failures == before
    with database.transaction() as session:
        assert session.scalar(select(Incident.retries)) == 1


def test_a_retry_that_raises_unexpectedly_is_counted_and_pushed_back(
    database, engine, setup, clock, monkeypatch
):
    _, incident_id = _failed_service_step(database, engine, setup)
    with database.transaction() as session:
        clock.set(session.get(Incident, incident_id).next_retry_at + timedelta(seconds=1))

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(instances, "retry_incident", broken)
    TimerWorker(database, engine, name="test").run_once()

    with database.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident.retries == 1 and incident.next_retry_at > product_clock.now()


def test_cancelling_an_instance_closes_its_open_incidents(database, engine, setup, failing):
    instance_id, incident_id = _failed_service_step(database, engine, setup)
    with database.transaction() as session:
        instances.cancel_instance(
            session, engine, instance_id=instance_id, actor=setup["actor"], reason="patienten avböjde"
        )
    with database.transaction() as session:
        incident = session.get(Incident, incident_id)
        assert incident.status == IncidentStatus.RESOLVED and incident.next_retry_at is None


def test_a_cancelled_instance_is_never_retried(database, engine, setup, failing, clock):
    """An incident left open on a cancelled instance (older data) is refused, not re-run."""
    instance_id, incident_id = _failed_service_step(database, engine, setup)
    with database.transaction() as session:
        instances.cancel_instance(
            session, engine, instance_id=instance_id, actor=setup["actor"], reason="patienten avböjde"
        )
        # As before the fix: the incident stayed open.
        incident = session.get(Incident, incident_id)
        incident.status = IncidentStatus.OPEN
        incident.resolved_at = None
        incident.next_retry_at = product_clock.now()
    failing.fail = False
    calls = failing.calls

    with database.transaction() as session, pytest.raises(Conflict):
        instances.retry_incident(session, engine, incident_id=incident_id, actor=setup["actor"])
    assert failing.calls == calls

    clock.advance(minutes=1)
    TimerWorker(database, engine, name="test").run_once()
    assert failing.calls == calls  # the service task of the cancelled routine never ran again
    with database.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == InstanceStatus.CANCELLED
        incident = session.get(Incident, incident_id)
        assert incident.status == IncidentStatus.RESOLVED and incident.next_retry_at is None


def test_completing_an_instance_closes_its_other_open_incidents(database, engine, setup, failing):
    instance_id, incident_id = _failed_service_step(database, engine, setup)
    with database.transaction() as session:
        # A second, stale incident on the same instance (e.g. from an earlier failed firing).
        session.add(
            Incident(
                instance_id=instance_id,
                element_id="Elsewhere",
                error_type="Stale",
                message="old",
                created_at=product_clock.now(),
                next_retry_at=product_clock.now() + timedelta(minutes=1),
            )
        )
    failing.fail = False
    with database.transaction() as session:
        instances.retry_incident(session, engine, incident_id=incident_id, actor=setup["actor"])
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    with database.transaction() as session:
        instances.complete_task(session, engine, task_id=task_id, actor=setup["actor"], data={})
    with database.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == InstanceStatus.COMPLETED
        assert session.scalars(select(Incident.status)).all() == [IncidentStatus.RESOLVED] * 2
