"""The unit's day close (processes/unit_day_close.bpmn), shifts, absent owners, staffing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import handling, shifts
from app.cases.day_close import start_day_close
from app.cases.models import ChatMessage
from app.errors import Forbidden, GuardRefused
from app.instances import service as instances
from app.instances.models import HumanTask
from app.people.roles import Role
from app.people.service import present, take_duty
from app.timers.worker import TimerWorker

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _start(world, case, who):
    actor = world.actor(who)
    handling.receive(world.session, world.engine, actor=actor, case_id=case.id)
    handling.start(world.session, world.engine, actor=actor, case_id=case.id)
    world.session.commit()
    return actor


def test_OG_6_1_e_HA_close_day_at_closing_the_overall_responsible_sends_next_weekday_and_stangning(
    world, clock, database
):
    """Unhandled cases hear they are handled the next weekday (OG-6.1-e); under Halland's policy residents who
    have not answered get "Stängning" (HA-close-day); sent as the unit, audited; tomorrow's closing is planned."""
    waiting = world.submit("other", unit="ha")
    silent = world.submit("adult", unit="ha")
    _start(world, silent, "ha_nurse")
    duty = world.actor("ha_nurse2")
    take_duty(world.session, actor=duty)
    start_day_close(world.session, world.engine, unit_id=world.units["ha"].id, actor=duty, after=clock.now())
    world.session.commit()
    clock.set(datetime(2026, 11, 23, 16, 16, tzinfo=STOCKHOLM))  # a quarter before closing (16:30)
    TimerWorker(database, world.engine, name="test").run_once()
    world.session.expire_all()
    task = world.session.scalar(select(HumanTask).where(HumanTask.process_id == "unit_day_close"))
    assert task.title.startswith("Dagens stängning") and task.owner_user_id == duty.user_id
    instances.complete_task(
        world.session, world.engine, task_id=task.id, actor=world.actor("ha_nurse2"), data={"send": True}
    )
    world.session.commit()
    purposes = {
        m.case_id: m.phrase_purpose
        for m in world.session.scalars(
            select(ChatMessage).where(ChatMessage.phrase_purpose.in_(["next_weekday", "stangning"]))
        )
    }
    assert purposes == {waiting.id: "next_weekday", silent.id: "stangning"}
    sent = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit:day_close_sent"))
    assert sent.details["as_unit"] == "Vårdcentralen Havsbris"
    tomorrow = world.session.scalars(select(HumanTask).where(HumanTask.process_id == "unit_day_close")).all()
    assert tomorrow == []  # the next day's routine waits for its own closing


def test_OG_6_1_i_HA_shift_ending_a_shift_warns_and_moves_own_cases_to_the_role_queue(world):
    case = world.submit("adult")
    nurse = _start(world, case, "nurse")
    with pytest.raises(GuardRefused) as refused:
        shifts.end_shift(world.session, actor=nurse, confirmed=False)
    assert refused.value.rule == "HA-shift" and case.id in refused.value.details["cases"]
    world.session.rollback()
    moved = shifts.end_shift(world.session, actor=nurse, confirmed=True)
    world.session.commit()
    assert moved == [case.id] and case.owner_user_id is None
    [task] = world.tasks(case)
    assert task.owner_user_id is None and task.role.value == "Sjuksköterska"
    assert not present(world.session, nurse.user_id, case.unit_id)


def test_OG_6_1_j_cases_left_on_an_absent_person_are_shown_and_moved_by_the_overall_responsible(world, clock):
    from app.people.service import sign_out

    case = world.submit("adult")
    nurse = _start(world, case, "nurse")
    sign_out(world.session, actor=nurse)  # gone without ending the shift: the case stays on her
    world.session.commit()
    clock.advance(minutes=1)
    absent = shifts.absent_owner_cases(world.session, unit_id=case.unit_id)
    assert [(a.case_id, a.owner_user_id) for a in absent] == [(case.id, nurse.user_id)]
    with pytest.raises(Forbidden):  # only the overall responsible moves a colleague's case
        shifts.move_to_role_queue(world.session, actor=world.actor("doctor"), case_id=case.id)
    world.session.rollback()
    take_duty(world.session, actor=world.actor("nurse2"))
    shifts.move_to_role_queue(world.session, actor=world.actor("nurse2"), case_id=case.id)
    world.session.commit()
    assert case.owner_user_id is None
    moved = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "case:moved_to_role_queue"))
    assert moved.details["previous_owner"] == nurse.user_id


def test_OG_5_the_product_knows_who_is_on_shift_in_which_role_and_whether_present(world, clock):
    from app.people.models import ScheduledShift
    from app.people.staffing import on_shift

    unit = world.units["og"]
    nurse_user, _ = world.staff["nurse"]
    head_user, _ = world.staff["head"]
    now = clock.now()
    for user, role in ((nurse_user, Role.NURSE), (head_user, Role.HEAD_OF_UNIT)):
        world.session.add(
            ScheduledShift(
                user_id=user.id,
                unit_id=unit.id,
                role=role,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=7),
                chat_responsible=user is nurse_user,
            )
        )
    world.session.commit()
    rows = {r.user_id: r for r in on_shift(world.session, unit_id=unit.id, at=now)}
    assert rows[nurse_user.id].present and rows[nurse_user.id].role.value == "Sjuksköterska"
    assert not rows[head_user.id].present  # scheduled, not signed in


def test_HA_chat_staff_opening_hours_without_a_named_chat_responsible_are_found_and_reported(world, clock):
    from app.notifications.models import Notification
    from app.people.models import ScheduledShift
    from app.people.staffing import chat_staffing_gaps, warn_staffing_gaps

    unit = world.units["ha"]
    nurse_user, _ = world.staff["ha_nurse"]
    day = clock.now().astimezone(STOCKHOLM).date()
    world.session.add(
        ScheduledShift(
            user_id=nurse_user.id,
            unit_id=unit.id,
            role=Role.NURSE,
            starts_at=datetime.combine(day, datetime.min.time().replace(hour=8), STOCKHOLM),
            ends_at=datetime.combine(day, datetime.min.time().replace(hour=12), STOCKHOLM),
            chat_responsible=True,
        )
    )
    world.session.commit()
    gaps = chat_staffing_gaps(world.session, unit_id=unit.id, day=day)
    assert [
        (
            g.starts_at.astimezone(STOCKHOLM).strftime("%H:%M"),
            g.ends_at.astimezone(STOCKHOLM).strftime("%H:%M"),
        )
        for g in gaps
    ] == [("13:00", "16:30")]
    warn_staffing_gaps(world.session, unit_id=unit.id, day=day)
    world.session.commit()
    head_user, _ = world.staff["ha_head"]
    warning = world.session.scalar(select(Notification).where(Notification.user_id == head_user.id))
    assert warning is not None and "13:00" in warning.body


def test_OG_9_1_the_overall_responsible_tells_waiting_patients_that_answers_may_take_longer(world, clock):
    """OG-9.1, OG-10.1-d: the "high load" phrase to every patient still waiting, once a day; only the duty holder sends it."""
    from app.cases.day_close import tell_waiting_patients_of_high_load

    waiting = [world.submit("adult"), world.submit("other")]
    started = world.submit("teen")
    handling.receive(world.session, world.engine, actor=world.actor("nurse"), case_id=started.id)
    handling.start(
        world.session,
        world.engine,
        actor=world.actor("nurse"),
        case_id=started.id,
        first_message="Hej, jag tittar på ditt ärende nu.",
    )
    world.session.commit()
    with pytest.raises(Forbidden):
        tell_waiting_patients_of_high_load(world.session, actor=world.actor("nurse"))
    world.session.rollback()
    take_duty(world.session, actor=world.actor("nurse2"))
    world.session.commit()
    assert tell_waiting_patients_of_high_load(world.session, actor=world.actor("nurse2")) == 2
    world.session.commit()
    told = world.session.scalars(
        select(ChatMessage.case_id).where(ChatMessage.phrase_purpose == "high_load")
    ).all()
    assert sorted(told) == sorted(c.id for c in waiting)
    assert (
        tell_waiting_patients_of_high_load(world.session, actor=world.actor("nurse2")) == 0
    )  # not twice a day


def test_OG_6_1_e_HA_close_day_the_timer_workers_start_each_units_first_day_close_once(
    world, clock, database
):
    """Each day-close routine starts the next day's, but nothing started the first: on a new database no
    unit ever got its closing prompt. The timer workers' periodic job starts it, once per unit, and
    the closing prompt then comes by itself."""
    from app.audit.service import Actor
    from app.cases.day_close import ensure_day_close
    from app.instances.models import InstanceStatus, ProcessInstance
    from app.timers.housekeeping import Housekeeping

    def running():
        world.session.expire_all()
        units = sorted(
            world.session.scalars(
                select(ProcessInstance.unit_id).where(
                    ProcessInstance.process_id == "unit_day_close",
                    ProcessInstance.status == InstanceStatus.RUNNING,
                )
            )
        )
        world.session.commit()  # the read's transaction ends: the worker writes next
        return units

    assert running() == []
    duty = world.actor("ha_nurse2")
    take_duty(world.session, actor=duty)
    world.session.commit()
    worker = TimerWorker(
        database, world.engine, name="test", housekeeping=Housekeeping(database, engine=world.engine)
    )
    worker.run_once()
    units = sorted(u.id for u in world.units.values() if u.activated)
    assert running() == units
    assert ensure_day_close(world.session, world.engine, actor=Actor.system("again")) == []  # once
    world.session.commit()
    clock.set(datetime(2026, 11, 23, 16, 16, tzinfo=STOCKHOLM))  # a quarter before Havsbris closes
    worker.run_once()
    world.session.expire_all()
    task = world.session.scalar(
        select(HumanTask).where(
            HumanTask.process_id == "unit_day_close", HumanTask.unit_id == world.units["ha"].id
        )
    )
    assert (
        task is not None and task.title.startswith("Dagens stängning") and task.owner_user_id == duty.user_id
    )
