"""The timer worker in-process: firing on a moved clock, conflicts, incidents and backoff."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.errors import Conflict
from app.instances import service as instances
from app.instances.models import HumanTask, Incident, IncidentStatus, PendingTimer
from app.timers.worker import TimerWorker
from tests.timers.conftest import install_operator, start_timed_instances


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_timers_fire_when_the_frozen_clock_is_moved_past_due(database, engine, clock):
    calls = install_operator(engine)
    ids = start_timed_instances(database, engine, 3)
    worker = TimerWorker(database, engine, name="test")
    assert worker.run_once() == 0
    clock.advance(minutes=59)
    assert worker.run_once() == 0
    clock.advance(minutes=2)
    assert worker.run_once() == 3
    assert calls.count == 3
    with database.transaction() as session:
        assert _count(session, PendingTimer) == 0
        assert {t.title for t in session.scalars(select(HumanTask))} == {"Följ upp"}
        assert _count(session, AuditEvent, AuditEvent.action == "instance:timers_fired") == len(ids)
    assert worker.run_once() == 0  # nothing fires twice


def test_a_firing_that_loses_a_version_conflict_is_retried_at_once(database, engine, clock, monkeypatch):
    install_operator(engine)
    start_timed_instances(database, engine, 1)
    clock.advance(hours=2)
    real = instances.fire_timers
    attempts = []

    def conflicting(session, engine_, **kw):
        attempts.append(1)
        if len(attempts) == 1:
            raise Conflict("someone else changed this case at the same moment")
        return real(session, engine_, **kw)

    monkeypatch.setattr(instances, "fire_timers", conflicting)
    worker = TimerWorker(database, engine, name="test")
    assert worker.run_once() == 1
    assert len(attempts) == 2 and worker.stats.conflicts == 1
    with database.transaction() as session:
        assert _count(session, PendingTimer) == 0


def test_a_failing_step_becomes_an_incident_and_the_worker_retries_it_with_backoff(database, engine, clock):
    calls = install_operator(engine)
    calls.fail = True
    start_timed_instances(database, engine, 1)
    clock.advance(hours=2)
    worker = TimerWorker(database, engine, name="test")
    worker.run_once()
    with database.transaction() as session:
        incident = session.scalar(select(Incident))
        assert (incident.source, incident.element_id, incident.status) == (
            "step",
            "Call_ts",
            IncidentStatus.OPEN,
        )
        assert "journal system" in incident.message
        retry_at = incident.next_retry_at
    worker.run_once()
    assert calls.count == 1  # not retried before its backoff
    calls.fail = False
    clock.set(retry_at + timedelta(seconds=1))
    worker.run_once()
    assert calls.count == 2 and worker.stats.retried_incidents == 1
    with database.transaction() as session:
        assert session.scalar(select(Incident.status)) == IncidentStatus.RESOLVED
        assert session.scalar(select(HumanTask.title)) == "Följ upp"


def test_a_firing_that_raises_is_rolled_back_recorded_and_pushed_back_never_spinning(
    database, engine, clock, monkeypatch
):
    install_operator(engine)
    [instance_id] = start_timed_instances(database, engine, 1)
    clock.advance(hours=2)

    def broken(*_a, **_kw):
        raise RuntimeError("bug in a firing")

    monkeypatch.setattr(instances, "fire_timers", broken)
    worker = TimerWorker(database, engine, name="test")
    worker.run_once()
    worker.run_once()
    assert worker.stats.failures == 1  # the timer was pushed back, not retried in a loop
    with database.transaction() as session:
        incident = session.scalar(select(Incident))
        assert (incident.source, incident.error_type, incident.instance_id) == (
            "timer",
            "RuntimeError",
            instance_id,
        )
        timer = session.scalar(select(PendingTimer))
        assert timer.attempts == 1 and timer.due_at > clock.now()
    monkeypatch.undo()
    clock.set(timer.due_at + timedelta(seconds=1))
    assert worker.run_once() == 1
    with database.transaction() as session:
        assert session.scalar(select(Incident.status)) == IncidentStatus.RESOLVED


def test_the_next_due_time_is_known_so_a_worker_sleeps_exactly_until_then(database, engine, clock):
    install_operator(engine)
    start_timed_instances(database, engine, 1)
    with database.transaction() as session:
        from app.timers.claims import next_due

        assert next_due(session) == clock.now() + timedelta(hours=1)


def test_a_due_deadline_is_delivered_as_its_message(database, engine, clock):
    from app.instances.deadlines import schedule_deadline
    from app.people.roles import Role
    from tests import factories as f

    with database.transaction() as session:
        f.deploy_fixture(session, engine, "waits_for_reply.bpmn")
        unit = f.unit(session)
        actor = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
        instance = instances.start_instance(
            session,
            engine,
            process_id="waits_for_reply",
            actor=actor,
            case=f.case(session, unit, f.patient(session)),
        )
        schedule_deadline(
            session,
            instance_id=instance.id,
            name="reply_due",
            message_name="patient_reply",
            unit_id=unit.id,
            start=clock.now(),
            working_hours=0.5,
        )
        instance_id = instance.id
    worker = TimerWorker(database, engine, name="test")
    clock.advance(minutes=29)
    assert worker.run_once() == 0
    clock.advance(minutes=2)
    assert worker.run_once() == 1
    with database.transaction() as session:
        assert (
            session.scalar(select(HumanTask.title).where(HumanTask.instance_id == instance_id))
            == "Läs svaret"
        )
        assert _count(session, AuditEvent, AuditEvent.action == "deadline:fired") == 1
        assert _count(session, PendingTimer) == 0


def test_a_timer_behind_an_event_based_gateway_is_indexed_and_fired_by_the_worker(database, engine, clock):
    """SpiffWorkflow keeps such a timer on the gateway's task, not on the catch event: it must still
    reach the timer index, or "no answer within a day" would never happen."""
    from app.people.roles import Role
    from tests import factories as f

    with database.transaction() as session:
        f.deploy_fixture(session, engine, "reply_or_timeout.bpmn")
        unit = f.unit(session)
        actor = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
        instance_id = instances.start_instance(
            session,
            engine,
            process_id="reply_or_timeout",
            actor=actor,
            case=f.case(session, unit, f.patient(session)),
        ).id
    with database.transaction() as session:
        [timer] = session.scalars(select(PendingTimer).where(PendingTimer.instance_id == instance_id)).all()
        assert timer.element_id == "Gateway_rt" and timer.due_at == clock.now() + timedelta(days=1)
    worker = TimerWorker(database, engine, name="test")
    clock.advance(hours=23)
    assert worker.run_once() == 0
    clock.advance(hours=1, seconds=1)
    assert worker.run_once() == 1
    with database.transaction() as session:
        assert [
            t.title for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id))
        ] == ["Ring patienten"]
        assert _count(session, PendingTimer, PendingTimer.instance_id == instance_id) == 0
