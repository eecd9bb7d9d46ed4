"""Walk-throughs of processes/suicide_risk.bpmn beyond the moderate-risk path: low risk and the
question whether online care feels safe, the patient who cannot be reached, and no free time for the
physical visit. Each service call restores the instance from its saved state."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.service import Actor
from app.cases import chat, handling
from app.cases.models import CaseState, ChatMessage
from app.errors import GuardRefused
from app.instances import service as instances
from app.instances.models import ProcessInstance
from app.people.service import mark_idle

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ASSESSMENT = {"ladder_step": 1, "mode": "chat", "risk_factors": "", "protective_factors": "Familj, arbete"}


def _assessment_task(world, case):
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(
        world.session, world.engine, actor=nurse, case_id=case.id, first_message="Hej, hur mår du i dag?"
    )
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [task] = world.tasks(case)
    assert task.title == "Gör en samlad suicidriskbedömning"
    return task


def _assess(world, task, **data):
    instances.complete_task(
        world.session,
        world.engine,
        task_id=task.id,
        actor=world.actor("psychologist"),
        data={**ASSESSMENT, **data},
    )
    world.session.commit()


def test_HA_suicide_d_low_risk_asks_whether_online_care_feels_safe_and_continues_online(world):
    """HA-suicide-d: no or low risk continues online, but only once the patient was asked whether that feels safe."""
    case = world.submit("adult", reason="nedstamdhet")
    task = _assessment_task(world, case)
    with pytest.raises(GuardRefused) as refused:
        _assess(world, task, risk="low")
    assert refused.value.rule == "HA-suicide-d"
    world.session.rollback()
    _assess(world, task, risk="low", feels_safe_online=True)
    [handle] = world.tasks(case)
    assert (handle.title, handle.role.value) == ("Handlägg ärendet", "Psykolog")
    assert case.suicide_risk == "low" and case.state == CaseState.STARTED
    # The assessment is done, so the mental-health case may now close (HA-suicide-a no longer refuses).
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=case.id,
        body="Det känns bra att skriva här.",
    )
    handling.close(
        world.session,
        world.engine,
        actor=world.actor("psychologist"),
        case_id=case.id,
        concluded_in_dialogue=True,
        confirmed=True,
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED


def test_HA_suicide_d_low_risk_that_does_not_feel_safe_online_books_a_physical_visit(world):
    """HA-suicide-d: when online care does not feel safe to the patient, the assessor books a physical visit."""
    case = world.submit("adult", reason="nedstamdhet")
    _assess(world, _assessment_task(world, case), risk="none", feels_safe_online=False)
    [booking] = world.tasks(case)
    assert (booking.title, booking.role.value) == (
        "Boka fysiskt besök inom 2 dagar i journalsystemet",
        "Psykolog",
    )
    assert case.state == CaseState.STARTED


def test_HA_suicide_f_an_unreachable_patient_is_phoned_first_then_closed_without_action_when_risk_is_low(
    world,
):
    """HA-suicide-f: "then try to phone" before judging the patient unreachable; low risk with no contact closes."""
    case = world.submit("adult", reason="nedstamdhet")
    task = _assessment_task(world, case)
    with pytest.raises(GuardRefused) as refused:
        _assess(world, task, risk="unreachable_low", mode="records_only")
    assert refused.value.rule == "HA-suicide-f"
    world.session.rollback()
    chat.phone_attempt(
        world.session,
        actor=world.actor("psychologist"),
        case_id=case.id,
        reached=False,
        note="Inget svar, två signaler",
    )
    world.session.commit()
    _assess(world, task, risk="unreachable_low", mode="records_only")
    assert world.tasks(case) == []
    assert (case.state, case.closed_reason, case.suicide_risk) == (
        CaseState.CLOSED,
        "unanswered",
        "unreachable_low",
    )


def test_HA_suicide_f_g_an_unreachable_patient_with_raised_risk_goes_to_the_on_call_service_then_closes(
    world,
):
    """HA-suicide-f, HA-suicide-g: not reached and the risk may be at least moderate: hand over to the on-call service."""
    case = world.submit("adult", reason="nedstamdhet")
    task = _assessment_task(world, case)
    chat.phone_attempt(world.session, actor=world.actor("psychologist"), case_id=case.id, reached=False)
    world.session.commit()
    _assess(world, task, risk="unreachable_raised", mode="records_only")
    [on_call] = world.tasks(case)
    assert on_call.title == "Kontakta beredskapsjouren för överlämning (akut: ring 112)"
    assert (case.priority, case.suicide_risk) == (1, "unreachable_raised")
    assert case.state != CaseState.CLOSED


def test_HA_no_times_with_no_free_time_the_chat_stays_and_a_time_is_offered_the_next_weekday(world, clock):
    """HA-no-times, HA-suicide-e: no appointment today keeps the chat with the unit, tells the patient a time
    comes the next day (without asking them to seek care again) and brings the booking back at next opening."""
    clock.set(datetime(2026, 11, 27, 14, 0, tzinfo=STOCKHOLM))  # a Friday: the next weekday is Monday
    for key in ("nurse", "psychologist"):  # at work that afternoon: presence expires without activity
        mark_idle(world.session, actor=world.actor(key), idle=False)
    case = world.submit("adult", reason="nedstamdhet")
    _assess(world, _assessment_task(world, case), risk="moderate", ladder_step=3)
    [booking] = world.tasks(case)
    instances.complete_task(
        world.session,
        world.engine,
        task_id=booking.id,
        actor=world.actor("psychologist"),
        data={"booking": "no_time"},
    )
    world.session.commit()
    assert (
        world.tasks(case) == [] and case.state == CaseState.STARTED and case.unit_id == world.units["og"].id
    )
    told = world.session.scalar(
        select(ChatMessage).where(
            ChatMessage.case_id == case.id, ChatMessage.phrase_purpose == "time_next_day"
        )
    )
    assert told is not None and "nästa vardag" in told.body
    assert "söka vård" not in told.body and "sök vård" not in told.body

    instance_id = world.session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case.id))
    clock.set(datetime(2026, 11, 30, 7, 59, tzinfo=STOCKHOLM))  # Monday, a minute before opening
    instances.fire_timers(world.session, world.engine, instance_id=instance_id, actor=Actor.system("timer"))
    world.session.commit()
    assert world.tasks(case) == []
    clock.set(datetime(2026, 11, 30, 8, 0, 1, tzinfo=STOCKHOLM))  # a timer is due once its moment has passed
    instances.fire_timers(world.session, world.engine, instance_id=instance_id, actor=Actor.system("timer"))
    world.session.commit()
    [again] = world.tasks(case)
    assert (again.title, again.role.value) == (
        "Boka fysiskt besök inom 2 dagar i journalsystemet",
        "Psykolog",
    )
