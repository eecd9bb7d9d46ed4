"""Business-calendar functions in BPMN expressions: timers counted in the unit's working hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.instances import service as instances
from app.instances.expressions import add_working_hours, outage_contact
from app.instances.models import HumanTask, PendingTimer
from app.people.roles import Role
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_OG_6_1_f_a_timer_of_six_working_hours_started_friday_afternoon_falls_due_on_monday(
    session, engine, clock
):
    """'Sex arbetstimmar' is six hours of the unit's opening time: Friday 14:00 + 6 h = Monday 11:00."""
    f.deploy_fixture(session, engine, "working_hours_timer.bpmn")
    unit = f.unit(session)
    actor = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
    clock.set(datetime(2026, 11, 27, 14, 0, tzinfo=STOCKHOLM))
    instance = instances.start_instance(
        session,
        engine,
        process_id="working_hours_timer",
        actor=actor,
        case=f.case(session, unit, f.patient(session)),
    )
    session.commit()
    due = session.scalar(select(PendingTimer.due_at).where(PendingTimer.instance_id == instance.id))
    assert due == datetime(2026, 11, 30, 11, 0, tzinfo=STOCKHOLM)

    clock.set(datetime(2026, 11, 30, 10, 59, tzinfo=STOCKHOLM))
    instances.fire_timers(session, engine, instance_id=instance.id, actor=actor)
    session.commit()
    assert session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id)) is None
    clock.set(datetime(2026, 11, 30, 11, 1, tzinfo=STOCKHOLM))
    instances.fire_timers(session, engine, instance_id=instance.id, actor=actor)
    session.commit()
    assert (
        session.scalar(select(HumanTask.title).where(HumanTask.instance_id == instance.id))
        == "Avsluta ärendet"
    )


def test_calendar_functions_need_a_running_step():
    with pytest.raises(RuntimeError, match="routine step"):
        add_working_hours(1, None, 6)


def test_OG_12_a_the_outage_contact_is_available_to_expressions_as_plain_data(clock):
    weekday_evening = outage_contact(datetime(2026, 11, 24, 18, 0, tzinfo=STOCKHOLM))
    assert (
        weekday_evening["channel"]
        != outage_contact(datetime(2026, 11, 24, 9, 0, tzinfo=STOCKHOLM))["channel"]
    )
    assert weekday_evening["phone"] == "0771-25 10 10"
