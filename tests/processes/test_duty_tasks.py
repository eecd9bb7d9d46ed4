"""The overall responsible acts on the duty's tasks whatever lane they are drawn in; other roles' tasks
stay closed to everyone else (OG-10.1-a, OG-6.1-e, HA-close-day, HA-suicide-g)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import chat, handling
from app.cases.day_close import start_day_close
from app.cases.models import CaseState, Consent
from app.errors import Forbidden
from app.instances import service as instances
from app.instances.models import HumanTask
from app.people.service import mark_idle, pass_duty, sign_out, take_duty
from app.timers.worker import TimerWorker

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _day_close_task(world, clock, database, holder_key: str) -> HumanTask:
    world.submit("other", unit="ha")
    holder = world.actor(holder_key)
    take_duty(world.session, actor=holder)
    start_day_close(
        world.session, world.engine, unit_id=world.units["ha"].id, actor=holder, after=clock.now()
    )
    world.session.commit()
    clock.set(datetime(2026, 11, 23, 16, 16, tzinfo=STOCKHOLM))  # a quarter before closing (16:30)
    TimerWorker(database, world.engine, name="test").run_once()
    world.session.expire_all()
    task = world.session.scalar(select(HumanTask).where(HumanTask.process_id == "unit_day_close"))
    assert task.title.startswith("Dagens stängning") and task.role.value == "Sjuksköterska"
    assert task.owner_user_id == holder.user_id
    return task


def test_OG_6_1_e_HA_close_day_OG_10_1_a_a_doctor_on_duty_completes_dagens_stangning(world, clock, database):
    """The day's closing is the overall responsible's, drawn in the nurses' lane: a doctor holding the duty does it."""
    task = _day_close_task(world, clock, database, "ha_doctor")
    instances.complete_task(
        world.session, world.engine, task_id=task.id, actor=world.actor("ha_doctor"), data={"send": True}
    )
    world.session.commit()
    sent = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit:day_close_sent"))
    assert sent is not None and sent.actor_user_id == world.actor("ha_doctor").user_id


def test_OG_10_1_a_OG_6_1_e_the_duty_passed_on_after_closing_began_the_new_holder_completes_it(
    world, clock, database
):
    """The closing was assigned to the doctor on duty; she passed the duty to a physiotherapist, who now does it,
    while a nurse without the duty may not do the holder's task."""
    task = _day_close_task(world, clock, database, "ha_doctor")
    for key in ("ha_doctor", "ha_physio"):
        mark_idle(world.session, actor=world.actor(key), idle=False)  # both at work at 16:16
    pass_duty(world.session, actor=world.actor("ha_doctor"), to_user_id=world.actor("ha_physio").user_id)
    world.session.commit()
    with pytest.raises(Forbidden) as refused:
        instances.complete_task(
            world.session, world.engine, task_id=task.id, actor=world.actor("ha_nurse"), data={"send": True}
        )
    assert refused.value.details["rule"] == "OG-6.1-j" and "kollega" in refused.value.message
    world.session.rollback()
    instances.complete_task(
        world.session, world.engine, task_id=task.id, actor=world.actor("ha_physio"), data={"send": True}
    )
    world.session.commit()
    assert (
        world.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit:day_close_sent")) is not None
    )


def test_HA_suicide_g_OG_10_1_a_a_physiotherapist_on_duty_completes_the_escalation(world, clock):
    """No psychologist or doctor present: the escalation goes to the overall responsible, here a physiotherapist,
    who records the on-call contact although the task is drawn in the nurses' lane."""
    for key in ("psychologist", "doctor"):
        sign_out(world.session, actor=world.actor(key))
    physio = world.actor("physio")
    take_duty(world.session, actor=physio)
    world.session.commit()
    clock.advance(minutes=1)
    case = world.submit("adult", reason="nedstamdhet", self_harm=True)
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(world.session, world.engine, actor=nurse, case_id=case.id, first_message="Hej!")
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [task] = world.tasks(case)
    assert task.element_id == "Escalated" and task.owner_user_id == physio.user_id
    instances.complete_task(
        world.session,
        world.engine,
        task_id=task.id,
        actor=world.actor("physio"),
        data={"on_call_contacted": True, "note": "Jouren tar över."},
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED


def test_OG_5_OG_10_1_a_a_nurse_not_on_duty_still_cannot_take_a_doctors_task(world):
    """Opening the duty's tasks opens nothing else: a doctor's task stays the doctors', refused in Swedish."""
    case = world.submit("adult")
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(world.session, world.engine, actor=nurse, case_id=case.id, first_message="Hej!")
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    world.session.commit()
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    world.session.commit()
    [task] = world.tasks(case)
    assert task.role.value == "Läkare"
    with pytest.raises(Forbidden) as refused:
        instances.complete_task(
            world.session, world.engine, task_id=task.id, actor=world.actor("nurse2"), data={}
        )
    assert refused.value.message.startswith("Uppgiften är för yrkesrollen Läkare")
    assert refused.value.details["rule"] == "OG-5"
