"""OG-6.1-h: priority 1–2 is concluded the same day; if the chat has not concluded it an hour of opening
time before the unit closes, the handler gets the task to phone the patient. The deadline is a product
timer row (it survives save/restore) that the timer worker fires."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.cases import chat, handling
from app.cases.models import Consent
from app.instances.models import PendingTimer

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PHONE = "Ring patienten – prioritet 1–2 ska avslutas i dag"


def _received_and_started(world, case, who="nurse", **receive):
    actor = world.actor(who)
    handling.receive(world.session, world.engine, actor=actor, case_id=case.id, **receive)
    handling.start(world.session, world.engine, actor=actor, case_id=case.id, first_message="Hej!")
    world.session.commit()
    return actor


def test_OG_6_1_h_priority_one_gets_the_phone_task_an_hour_before_the_unit_closes_the_same_day(world, clock):
    """OG-6.1-h: started Monday morning at Ekdalen (open 08–17): at 16:00 the nurse is told to phone."""
    case = world.submit("adult", breathing=True)
    assert case.priority == 1
    _received_and_started(world, case)
    deadline = world.session.scalar(select(PendingTimer).where(PendingTimer.element_id == "prio_same_day"))
    assert deadline is not None
    assert deadline.due_at.astimezone(STOCKHOLM) == datetime(2026, 11, 23, 16, 0, tzinfo=STOCKHOLM)
    assert world.titles(case) == ["Handlägg ärendet"]
    clock.set(datetime(2026, 11, 23, 15, 59, tzinfo=STOCKHOLM))
    world.fire_due_timers()
    assert world.titles(case) == ["Handlägg ärendet"]
    clock.set(datetime(2026, 11, 23, 16, 0, 1, tzinfo=STOCKHOLM))
    world.fire_due_timers()
    assert sorted(world.titles(case)) == ["Handlägg ärendet", PHONE]
    phone = next(t for t in world.tasks(case) if t.title == PHONE)
    assert phone.role.value == "Sjuksköterska"


def test_OG_6_1_h_the_same_day_deadline_follows_a_handover_to_the_doctor_and_the_regions_opening_hours(
    world, clock
):
    """OG-6.1-h at Havsbris (open 08–12 and 13–16:30): the deadline is 15:30; handed to the doctor meanwhile,
    the doctor gets the phone task."""
    case = world.submit("adult", unit="ha", breathing=True)
    nurse = _received_and_started(world, case, who="ha_nurse")
    deadline = world.session.scalar(select(PendingTimer).where(PendingTimer.element_id == "prio_same_day"))
    assert deadline.due_at.astimezone(STOCKHOLM) == datetime(2026, 11, 23, 15, 30, tzinfo=STOCKHOLM)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    world.session.commit()
    consent = world.session.scalar(select(Consent.id).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent, given=True
    )
    world.session.commit()
    assert world.titles(case) == ["Handlägg ärendet"]
    clock.set(datetime(2026, 11, 23, 15, 30, 1, tzinfo=STOCKHOLM))
    world.fire_due_timers()
    phone = next(t for t in world.tasks(case) if t.title == PHONE)
    assert phone.role.value == "Läkare"


def test_OG_6_1_h_priority_three_gets_no_same_day_deadline(world, clock):
    """OG-6.1-h is the exception for priority 1–2 only; a clinician lowering the priority on receive counts."""
    case = world.submit("adult", breathing=True)
    _received_and_started(world, case, new_priority=3, priority_reason="Andas lugnt vid kontroll")
    assert (
        world.session.scalar(select(PendingTimer).where(PendingTimer.element_id == "prio_same_day")) is None
    )
    clock.advance(hours=10)
    world.fire_due_timers()
    assert PHONE not in world.titles(case)
