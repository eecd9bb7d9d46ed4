"""Version diffs and migration of running instances (issue 6: governance)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import Conflict, Forbidden
from app.instances import migration
from app.instances import service as instances
from app.instances.models import HumanTask, InstanceStatus, PendingTimer, ProcessInstance

RENAME_FUTURE = ('name="Bedöm ärendet"', 'name="Bedöm ärendet noga"')
RENAME_ACTIVE = ('name="Ta emot ärendet"', 'name="Ta emot och läs ärendet"')
LONGER_TIMER = ('"PT2H"', '"PT4H"')


def _rows(session, instance_id):
    session.expire_all()
    tasks = session.execute(
        select(HumanTask.id, HumanTask.spiff_task_id, HumanTask.title, HumanTask.process_version_id).where(
            HumanTask.instance_id == instance_id
        )
    ).all()
    timers = session.execute(
        select(PendingTimer.id, PendingTimer.spiff_task_id, PendingTimer.due_at).where(
            PendingTimer.instance_id == instance_id
        )
    ).all()
    return tasks, timers


def test_diff_lists_added_removed_and_changed_elements_with_the_fields_that_changed(setup, session):
    setup.deploy_variant(
        RENAME_FUTURE,
        LONGER_TIMER,
        (
            "<bpmn:conditionExpression>needs_doctor == True</bpmn:conditionExpression>",
            "<bpmn:conditionExpression>needs_doctor</bpmn:conditionExpression>",
        ),
        ('<bpmn:endEvent id="Event_done" name="Klart">', '<bpmn:endEvent id="Event_finished" name="Klart">'),
        ('targetRef="Event_done"', 'targetRef="Event_finished"'),
    )
    diff = migration.version_diff(
        session, actor=setup.actors["owner"], process_id="simple_case", from_number=1, to_number=2
    )
    changed = {c.element_id: c.fields for c in diff.changed}
    assert [c.element_id for c in diff.added] == ["Event_finished"]
    assert [c.element_id for c in diff.removed] == ["Event_done"]
    assert changed["Task_assess"] == {"name": ("Bedöm ärendet", "Bedöm ärendet noga")}
    assert changed["Timer_remind"] == {"timer": ('"PT2H"', '"PT4H"')}
    assert changed["Flow_yes"] == {"condition": ("needs_doctor == True", "needs_doctor")}
    assert changed["Flow_no"] == {"target": ("Event_done", "Event_finished")}
    assert set(changed) == {"Task_assess", "Timer_remind", "Flow_yes", "Flow_no"}


def test_diff_of_identical_content_is_empty_and_a_lane_change_shows(setup, session):
    setup.deploy_variant(
        ("<bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef>", ""),
        (
            "<bpmn:flowNodeRef>Script_flag</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>Script_flag</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef>",
        ),
    )
    diff = migration.version_diff(
        session, actor=setup.actors["owner"], process_id="simple_case", from_number=2, to_number=2
    )
    assert diff.empty
    diff = migration.version_diff(
        session, actor=setup.actors["owner"], process_id="simple_case", from_number=1, to_number=2
    )
    assert [(c.element_id, c.fields) for c in diff.changed] == [
        ("Task_assess", {"lane": ("Läkare", "Sjuksköterska")})
    ]


def test_dry_run_says_which_instances_can_move_and_why_others_cannot(setup, session, engine):
    moving, done_receiving = setup.start(2)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == done_receiving.id))
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=setup.actors["nurse"],
        data={"priority_checked": True, "needs_doctor": True},
    )
    cancelled = setup.start(1)[0]
    instances.cancel_instance(
        session, engine, instance_id=cancelled.id, actor=setup.actors["nurse"], reason="test"
    )
    session.commit()
    setup.deploy_variant(RENAME_ACTIVE)

    result = {
        c.instance_id: c
        for c in migration.dry_run(
            session, engine, actor=setup.actors["owner"], process_id="simple_case", from_number=1, to_number=2
        )
    }
    assert set(result) == {moving.id, done_receiving.id}  # only running instances are candidates
    assert result[moving.id].reasons == [("changed_active", "Task_receive")]
    assert result[done_receiving.id].reasons == [("changed_completed", "Task_receive")]
    with pytest.raises(Conflict, match="completed step changed"):
        migration.migrate_instance(
            session,
            engine,
            actor=setup.actors["owner"],
            instance_id=done_receiving.id,
            from_number=1,
            to_number=2,
        )
    session.rollback()
    with pytest.raises(Conflict, match="not running"):
        migration.migrate_instance(
            session, engine, actor=setup.actors["owner"], instance_id=cancelled.id, from_number=1, to_number=2
        )


def test_a_changed_timer_the_instance_waits_on_refuses_the_move(setup, session, engine):
    [instance] = setup.start(1)
    setup.deploy_variant(LONGER_TIMER)
    [candidate] = migration.dry_run(
        session, engine, actor=setup.actors["owner"], process_id="simple_case", from_number=1, to_number=2
    )
    assert candidate.reasons == [("changed_active", "Timer_remind")]


def test_migrating_one_instance_moves_state_task_rows_and_timer_rows_in_one_audited_transaction(
    setup, session, engine, clock
):
    instance, other = setup.start(2)
    tasks_before, timers_before = _rows(session, instance.id)
    setup.deploy_variant(RENAME_FUTURE)
    v2 = migration.version_by_number(session, process_id="simple_case", number=2)
    [first, second] = migration.dry_run(
        session, engine, actor=setup.actors["owner"], process_id="simple_case", from_number=1, to_number=2
    )
    assert first.possible and second.possible
    clock.advance(minutes=20)

    migration.migrate_instance(
        session,
        engine,
        actor=setup.actors["owner"],
        instance_id=instance.id,
        from_number=1,
        to_number=2,
        expected_version=first.version,
    )
    session.commit()

    session.expire_all()
    moved = session.get(ProcessInstance, instance.id)
    assert (moved.process_version_id, moved.bundle_hash) == (v2.id, v2.bundle_hash)
    assert session.get(ProcessInstance, other.id).process_version_id != v2.id  # one, not all
    tasks_after, timers_after = _rows(session, instance.id)
    # The open task keeps its row (a form already open still posts to it); the timer keeps its due time.
    assert [(t.id, t.spiff_task_id, t.title) for t in tasks_after] == [
        (t.id, t.spiff_task_id, t.title) for t in tasks_before
    ]
    assert {t.process_version_id for t in tasks_after} == {v2.id}
    assert timers_after == timers_before
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance:migrated")).all()
    assert (
        event.subject_id == str(instance.id)
        and event.details["from_version"] == 1
        and event.details["to_version"] == 2
    )

    # The routine now runs on version 2: the next task has the new version's name.
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=setup.actors["nurse"],
        data={"priority_checked": True, "needs_doctor": True},
    )
    session.commit()
    tasks, timers = _rows(session, instance.id)
    assert [t.title for t in tasks] == ["Bedöm ärendet noga"] and {t.process_version_id for t in tasks} == {
        v2.id
    }
    assert timers == []  # the boundary timer went with the completed task


def test_a_new_timer_on_a_later_step_is_indexed_when_the_migrated_instance_reaches_it(setup, session, engine):
    [instance] = setup.start(1)
    boundary = (
        '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_assess" targetRef="Event_assessed" />',
        '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_assess" targetRef="Event_assessed" />'
        '<bpmn:boundaryEvent id="Timer_assess" name="En dag" cancelActivity="false" attachedToRef="Task_assess"><bpmn:outgoing>Flow_ta</bpmn:outgoing>'
        '<bpmn:timerEventDefinition id="TimerDef_2"><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
        '<bpmn:endEvent id="Event_late" name="Sen"><bpmn:incoming>Flow_ta</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="Flow_ta" sourceRef="Timer_assess" targetRef="Event_late" />',
    )
    setup.deploy_variant(boundary)
    migration.migrate_instance(
        session, engine, actor=setup.actors["owner"], instance_id=instance.id, from_number=1, to_number=2
    )
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=setup.actors["nurse"],
        data={"priority_checked": True, "needs_doctor": True},
    )
    session.commit()
    _, timers = _rows(session, instance.id)
    assert len(timers) == 1
    assert (
        session.scalar(select(PendingTimer.element_id).where(PendingTimer.instance_id == instance.id))
        == "Timer_assess"
    )


def test_only_process_owners_migrate(setup, session, engine):
    [instance] = setup.start(1)
    setup.deploy_variant(RENAME_FUTURE)
    for key in ("nurse", "head"):
        with pytest.raises(Forbidden):
            migration.migrate_instance(
                session, engine, actor=setup.actors[key], instance_id=instance.id, from_number=1, to_number=2
            )
        with pytest.raises(Forbidden):
            migration.dry_run(
                session, engine, actor=setup.actors[key], process_id="simple_case", from_number=1, to_number=2
            )
    session.rollback()
    assert (
        session.get(ProcessInstance, instance.id).process_version_id
        == migration.version_by_number(session, process_id="simple_case", number=1).id
    )


def test_an_instance_changed_since_the_dry_run_is_a_conflict_not_an_overwrite(setup, session, engine):
    [instance] = setup.start(1)
    setup.deploy_variant(RENAME_FUTURE)
    [candidate] = migration.dry_run(
        session, engine, actor=setup.actors["owner"], process_id="simple_case", from_number=1, to_number=2
    )
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=setup.actors["nurse"],
        data={"priority_checked": True, "needs_doctor": False},
    )
    session.commit()
    with pytest.raises(Conflict, match="changed since the dry run"):
        migration.migrate_instance(
            session,
            engine,
            actor=setup.actors["owner"],
            instance_id=instance.id,
            from_number=1,
            to_number=2,
            expected_version=candidate.version,
        )


def test_migrate_all_moves_those_that_can_each_in_its_own_transaction(setup, session, engine, database):
    a, b, c = setup.start(3)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == c.id))
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=setup.actors["nurse"],
        data={"priority_checked": True, "needs_doctor": True},
    )
    session.commit()
    setup.deploy_variant(
        (
            "<bpmn:script>waited_too_long = True</bpmn:script>",
            "<bpmn:script>waited_too_long = 1</bpmn:script>",
        ),
        RENAME_FUTURE,
    )
    result = migration.migrate_all(
        database, engine, actor=setup.actors["owner"], process_id="simple_case", from_number=1, to_number=2
    )
    assert sorted(result.migrated) == [a.id, b.id]
    assert list(result.refused) == [c.id] and "active step changed" in result.refused[c.id]
    session.expire_all()
    v2 = migration.version_by_number(session, process_id="simple_case", number=2)
    assert {
        i.id
        for i in session.scalars(select(ProcessInstance).where(ProcessInstance.process_version_id == v2.id))
    } == {a.id, b.id}
    assert session.get(ProcessInstance, c.id).status == InstanceStatus.RUNNING
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "instance:migrated")).all()) == 2


def test_a_migrated_instance_follows_the_new_versions_later_steps_to_an_added_end(setup, session, engine):
    [instance] = setup.start(1)
    setup.deploy_variant(
        (
            '<bpmn:endEvent id="Event_done" name="Klart">',
            '<bpmn:endEvent id="Event_finished" name="Klart nu">',
        ),
        ('targetRef="Event_done"', 'targetRef="Event_finished"'),
    )
    migration.migrate_instance(
        session, engine, actor=setup.actors["owner"], instance_id=instance.id, from_number=1, to_number=2
    )
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=setup.actors["nurse"],
        data={"priority_checked": True, "needs_doctor": False},
    )
    session.commit()
    session.expire_all()
    done = session.get(ProcessInstance, instance.id)
    assert done.status == InstanceStatus.COMPLETED
    handle = engine.restore(engine.loaded(done.bundle_hash, lambda: None), done.state)
    assert (
        handle.element_states().get("Event_finished") == "completed"
        and "Event_done" not in handle.element_states()
    )
