"""HA-suicide-e / HA-no-times: the physical visit for moderate suicide risk is booked within two working
days, and the confirmation that it was held is due at the booked time. A task's due time comes from the
timer attached to it; each service call restores the instance from its saved state."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.cases import handling
from app.instances import service as instances

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ASSESSMENT = {"ladder_step": 3, "mode": "chat", "risk_factors": "", "protective_factors": "Familj"}
BOOK = "Boka fysiskt besök inom 2 dagar i journalsystemet"


def _booking_task(world, case, assessor: str):
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(world.session, world.engine, actor=nurse, case_id=case.id, first_message="Hej!")
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [assess] = world.tasks(case)
    instances.complete_task(
        world.session,
        world.engine,
        task_id=assess.id,
        actor=world.actor(assessor),
        data={**ASSESSMENT, "risk": "moderate"},
    )
    world.session.commit()
    [booking] = world.tasks(case)
    assert booking.title == BOOK
    return booking


def test_HA_suicide_e_HA_no_times_the_booking_task_is_due_within_two_working_days(world):
    """HA-suicide-e: assessed Monday 23 Nov: the booking is due by the unit's closing on Wednesday 25 Nov."""
    case = world.submit("adult", reason="nedstamdhet")
    booking = _booking_task(world, case, "psychologist")
    assert booking.due_at is not None
    assert booking.due_at.astimezone(STOCKHOLM) == datetime(2026, 11, 25, 17, 0, tzinfo=STOCKHOLM)


def test_HA_suicide_e_the_visit_held_confirmation_is_due_at_the_booked_visit_time(world):
    """HA-suicide-e: "Har besöket genomförts?" is due when the booked visit takes place."""
    case = world.submit("adult", reason="nedstamdhet")
    booking = _booking_task(world, case, "psychologist")
    instances.complete_task(
        world.session,
        world.engine,
        task_id=booking.id,
        actor=world.actor("psychologist"),
        data={"booking": "booked", "visit_at": "2026-11-24T10:30:00+01:00"},
    )
    world.session.commit()
    [held] = world.tasks(case)
    assert held.title == "Har besöket genomförts?"
    assert held.due_at.astimezone(STOCKHOLM) == datetime(2026, 11, 24, 10, 30, tzinfo=STOCKHOLM)


def test_HA_suicide_e_a_booking_without_a_time_leaves_the_confirmation_due_within_two_working_days(world):
    """HA-suicide-e: the visit time is optional in the form; without it the two-working-day limit is the due time."""
    case = world.submit("adult", reason="nedstamdhet")
    booking = _booking_task(world, case, "psychologist")
    instances.complete_task(
        world.session,
        world.engine,
        task_id=booking.id,
        actor=world.actor("psychologist"),
        data={"booking": "booked"},
    )
    world.session.commit()
    [held] = world.tasks(case)
    assert held.due_at.astimezone(STOCKHOLM) == datetime(2026, 11, 25, 17, 0, tzinfo=STOCKHOLM)
