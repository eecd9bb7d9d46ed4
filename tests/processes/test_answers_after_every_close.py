"""Every closing path waits for an answer or a reopening, like the main close of chat_case.bpmn
(HA-close-plus1, OG-6.5): the administrative case, the chat without triage, the wrong-patient close and
the suicide-risk closes. Each service call restores the instance from its saved state."""

from __future__ import annotations

from app.cases import chat, handling
from app.cases.ack import inbox
from app.cases.models import CaseKind, CaseState
from app.instances import service as instances

ASSESSMENT = {"ladder_step": 3, "mode": "records_only", "risk_factors": "", "protective_factors": ""}


def _write_after_close(world, case, body: str, patient: str = "adult") -> None:
    assert case.state == CaseState.CLOSED and case.reopen_until is not None
    chat.patient_write(world.session, world.engine, actor=world.resident(patient), case_id=case.id, body=body)
    world.session.commit()


def _flagged(world, case, staff: str) -> list[str]:
    assert case.after_close and case.state == CaseState.STARTED and case.owner_user_id is None
    return [i.kind.value for i in inbox(world.session, actor=world.actor(staff)) if i.case_id == case.id]


def test_HA_close_plus1_OG_6_5_an_answer_after_closing_an_administrative_case_goes_to_the_role_queue_flagged(
    world,
):
    """HA-close-plus1: the administrative case waits for an answer after closing, like the Sök vård case."""
    case = world.submit("adult", kind=CaseKind.ADMIN)
    handling.admin_outcome(
        world.session,
        world.engine,
        actor=world.actor("admin"),
        case_id=case.id,
        outcome="close",
        confirmed=True,
    )
    world.session.commit()
    _write_after_close(world, case, "Jag glömde fråga om intyget för skolan också.")
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.owner_user_id) == (
        "Hantera det administrativa ärendet",
        "Administrativ kontakt",
        None,
    )
    assert "answer_after_close" in _flagged(world, case, "admin")


def test_OG_6_5_an_administrative_case_can_be_reopened_within_the_window(world):
    """OG-6.5: reopening a closed administrative case (same search reason) brings it back to the queue."""
    case = world.submit("adult", kind=CaseKind.ADMIN)
    handling.admin_outcome(
        world.session,
        world.engine,
        actor=world.actor("admin"),
        case_id=case.id,
        outcome="close",
        confirmed=True,
    )
    world.session.commit()
    chat.reopen(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, search_reason="Intyg"
    )
    world.session.commit()
    [task] = world.tasks(case)
    assert task.title == "Hantera det administrativa ärendet"
    assert "reopened" in _flagged(world, case, "admin")


def test_HA_close_plus1_HA_no_triage_an_answer_after_closing_a_message_goes_back_to_the_queue_flagged(world):
    """HA-close-plus1 for the chat without triage (HA-no-triage)."""
    case = world.submit("child", by="guardian", kind=CaseKind.NO_TRIAGE)
    handling.close(
        world.session,
        world.engine,
        actor=world.actor("nurse"),
        case_id=case.id,
        concluded_in_dialogue=True,
        confirmed=True,
    )
    world.session.commit()
    _write_after_close(world, case, "En fråga till om vaccinationen.", patient="guardian")
    [task] = world.tasks(case)
    assert (task.title, task.role.value) == ("Läs och besvara meddelandet", "Sjuksköterska")
    assert "answer_after_close" in _flagged(world, case, "nurse")


def test_HA_close_plus1_HA_behalf_an_answer_after_a_wrong_patient_close_goes_to_the_role_queue_flagged(world):
    """HA-close-plus1 on the wrong-patient close (HA-behalf): the reply is not lost."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    handling.wrong_patient(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    _write_after_close(world, case, "Det var faktiskt jag själv som behövde hjälp.")
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.owner_user_id) == ("Handlägg ärendet", "Sjuksköterska", None)
    assert "answer_after_close" in _flagged(world, case, "nurse")


def _suicide_assessment(world, case):
    nurse = world.received_and_started(case)
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [task] = world.tasks(case)
    assert task.title == "Gör en samlad suicidriskbedömning"
    chat.phone_attempt(world.session, actor=world.actor("psychologist"), case_id=case.id, reached=False)
    world.session.commit()
    return task


def _assess(world, task, risk: str) -> None:
    instances.complete_task(
        world.session,
        world.engine,
        task_id=task.id,
        actor=world.actor("psychologist"),
        data={**ASSESSMENT, "risk": risk},
    )
    world.session.commit()


def test_HA_close_plus1_HA_suicide_g_an_answer_after_the_on_call_close_reaches_the_assessors_queue(world):
    """HA-suicide-g then HA-close-plus1: after the handover to the on-call service and the close, a reply
    such as "jag vill inte leva" goes to the assessor's role queue, flagged, and to the inbox."""
    case = world.submit("adult", reason="nedstamdhet")
    _assess(world, _suicide_assessment(world, case), "unreachable_raised")
    [on_call] = world.tasks(case)
    instances.complete_task(
        world.session,
        world.engine,
        task_id=on_call.id,
        actor=world.actor("nurse"),
        data={"handed_over": True},
    )
    world.session.commit()
    assert case.closed_reason == "on_call" and world.tasks(case) == []
    _write_after_close(world, case, "jag vill inte leva")
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.owner_user_id) == ("Handlägg ärendet", "Psykolog", None)
    assert "answer_after_close" in _flagged(world, case, "psychologist")


def test_HA_close_plus1_HA_suicide_f_an_answer_after_the_no_contact_close_reaches_the_assessors_queue(world):
    """HA-suicide-f then HA-close-plus1: closed without contact at low risk, the patient's later reply is
    not lost: it goes to the assessor's role queue, flagged."""
    case = world.submit("adult", reason="nedstamdhet")
    _assess(world, _suicide_assessment(world, case), "unreachable_low")
    assert case.closed_reason == "unanswered" and world.tasks(case) == []
    _write_after_close(world, case, "jag vill inte leva")
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.owner_user_id) == ("Handlägg ärendet", "Psykolog", None)
    assert "answer_after_close" in _flagged(world, case, "psychologist")
