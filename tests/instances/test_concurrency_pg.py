"""Concurrency on PostgreSQL: two completions of one task at the same moment."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.errors import Conflict
from app.instances import service as instances
from app.instances.models import HumanTask, ProcessInstance
from app.people.roles import Role
from tests import factories as f

pytestmark = pytest.mark.postgres


def test_two_concurrent_completions_of_one_task_yield_one_success_and_one_conflict(pg_app):
    database = pg_app.extensions["database"]
    engine = pg_app.extensions["engine"]
    with database.transaction() as session:
        f.deploy_fixture(session, engine, "simple_case.bpmn")
        unit = f.unit(session)
        nurses = [f.user(session, unit, Role.NURSE) for _ in range(2)]
        case = f.case(session, unit, f.patient(session))
        actors = [f.signed_in(session, n, unit) for n in nurses]
        instance = instances.start_instance(
            session, engine, process_id="simple_case", actor=actors[0], case=case
        )
        instance_id = instance.id
    with database.transaction() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
        version_before = session.get(ProcessInstance, instance_id).version

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(actor, needs_doctor):
        try:
            with database.transaction() as session:
                barrier.wait(timeout=10)
                instances.complete_task(
                    session,
                    engine,
                    task_id=task_id,
                    actor=actor,
                    data={"priority_checked": True, "needs_doctor": needs_doctor},
                )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=complete, args=(actor, flag))
        for actor, flag in zip(actors, (True, False), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]

    with database.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
        # Exactly one completion took effect: either the doctor's task exists (needs_doctor) or the
        # routine ended; never both, never a lost or doubled step.
        assert instance.version == version_before + 1  # exactly one completion was written
        assert len(rows) in (0, 1)
