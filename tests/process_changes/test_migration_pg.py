"""Migration against concurrent work on PostgreSQL: the row lock orders them, nothing is overwritten."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from app.errors import Conflict
from app.instances import migration
from app.instances import service as instances
from app.instances.models import HumanTask, ProcessInstance
from app.people.roles import Role
from tests import factories as f
from tests.conftest import FIXTURES

pytestmark = pytest.mark.postgres

DONE = {"priority_checked": True, "needs_doctor": True}


@pytest.fixture
def pg_setup(pg_app, tmp_path):
    database, engine = pg_app.extensions["database"], pg_app.extensions["engine"]
    variant = tmp_path / "v2"
    variant.mkdir()
    text = (
        (FIXTURES / "bpmn" / "simple_case.bpmn")
        .read_text(encoding="utf-8")
        .replace('name="Bedöm ärendet"', 'name="Bedöm ärendet noga"')
    )
    (variant / "simple_case.bpmn").write_text(text, encoding="utf-8")
    with database.transaction() as session:
        f.deploy_fixture(session, engine, "simple_case.bpmn")
        unit = f.unit(session)
        nurse = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
        owner = f.signed_in(session, f.user(session, unit, Role.PROCESS_OWNER), unit)
        instance_id = instances.start_instance(
            session,
            engine,
            process_id="simple_case",
            actor=nurse,
            case=f.case(session, unit, f.patient(session)),
        ).id
        f.deploy_fixture(session, engine, "simple_case.bpmn", processes_dir=variant)
    return database, engine, nurse, owner, instance_id


def _complete_in_thread(database, engine, actor, task_id, outcome):
    def run():
        try:
            with database.transaction() as session:
                instances.complete_task(session, engine, task_id=task_id, actor=actor, data=DONE)
            outcome.append("ok")
        except Conflict as exc:
            outcome.append(f"conflict: {exc}")

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_completion_during_a_migration_waits_for_it_and_then_runs_on_the_new_version(pg_setup):
    database, engine, nurse, owner, instance_id = pg_setup
    with database.transaction() as session:
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
        version_before = session.get(ProcessInstance, instance_id).version
    outcome: list[str] = []
    with database.transaction() as session:
        migration.migrate_instance(
            session, engine, actor=owner, instance_id=instance_id, from_number=1, to_number=2
        )
        thread = _complete_in_thread(database, engine, nurse, task_id, outcome)
        time.sleep(0.5)
        assert outcome == []  # blocked on the instance's row lock while the migration is uncommitted
    thread.join(timeout=30)
    assert outcome == ["ok"]
    with database.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.version == version_before + 2
        titles = session.scalars(select(HumanTask.title).where(HumanTask.instance_id == instance_id)).all()
        assert titles == ["Bedöm ärendet noga"]  # the step after the migration followed version 2


def test_a_migration_planned_before_a_concurrent_completion_is_a_conflict(pg_setup):
    database, engine, nurse, owner, instance_id = pg_setup
    with database.transaction() as session:
        [candidate] = migration.dry_run(
            session, engine, actor=owner, process_id="simple_case", from_number=1, to_number=2
        )
        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))
    barrier = threading.Barrier(2)
    results: list[str] = []

    def migrate():
        try:
            with database.transaction() as session:
                barrier.wait(timeout=10)
                time.sleep(0.3)  # let the completion take the lock first
                migration.migrate_instance(
                    session,
                    engine,
                    actor=owner,
                    instance_id=instance_id,
                    from_number=1,
                    to_number=2,
                    expected_version=candidate.version,
                )
            results.append("migrated")
        except Conflict:
            results.append("conflict")

    def complete():
        with database.transaction() as session:
            barrier.wait(timeout=10)
            instances.complete_task(session, engine, task_id=task_id, actor=nurse, data=DONE)
            time.sleep(0.6)  # hold the lock while the migration waits for it
        results.append("completed")

    threads = [threading.Thread(target=migrate), threading.Thread(target=complete)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["completed", "conflict"]
    with database.transaction() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert (
            instance.process_version_id
            == migration.version_by_number(session, process_id="simple_case", number=1).id
        )
        assert session.scalars(select(HumanTask.title).where(HumanTask.instance_id == instance_id)).all() == [
            "Bedöm ärendet"
        ]
