"""Walk-throughs of processes/admin_case.bpmn and processes/chat_no_triage.bpmn."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cases import handling
from app.cases.models import CaseKind, CaseState, ChatMessage
from app.errors import GuardRefused
from app.worklist.queries import open_tasks_for


def test_OG_7_a_administrative_cases_wait_for_the_administrative_contact(world):
    case = world.submit("adult", kind=CaseKind.ADMIN)
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.priority) == (
        "Hantera det administrativa ärendet",
        "Administrativ kontakt",
        None,
    )
    admin_list = open_tasks_for(world.session, world.actor("admin"))
    assert [t.case_id for t in admin_list] == [case.id]
    assert open_tasks_for(world.session, world.actor("nurse")) == []


def test_OG_7_c_a_care_matter_in_the_administrative_flow_is_told_to_create_a_sok_vard_case(world):
    case = world.submit("adult", kind=CaseKind.ADMIN)
    handling.admin_outcome(
        world.session, world.engine, actor=world.actor("admin"), case_id=case.id, outcome="sok_vard"
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED and case.closed_reason == "to_sok_vard"
    message = world.session.scalar(
        select(ChatMessage).where(
            ChatMessage.case_id == case.id, ChatMessage.phrase_purpose == "admin_to_sok_vard"
        )
    )
    assert "Sök vård" in message.body


def test_OG_7_e_prescription_renewal_is_referred_to_fornya_recept(world):
    case = world.submit("adult", kind=CaseKind.ADMIN)
    handling.admin_outcome(
        world.session, world.engine, actor=world.actor("admin"), case_id=case.id, outcome="prescription"
    )
    world.session.commit()
    message = world.session.scalar(
        select(ChatMessage).where(
            ChatMessage.case_id == case.id, ChatMessage.phrase_purpose == "prescription_renewal"
        )
    )
    assert "Förnya recept" in message.body and case.closed_reason == "prescription"


def test_OG_8_6_administrative_cases_are_handed_to_medicinsk_admin_and_closing_needs_confirmation(world):
    case = world.submit("adult", kind=CaseKind.ADMIN)
    handling.admin_outcome(
        world.session, world.engine, actor=world.actor("admin"), case_id=case.id, outcome="medical_admin"
    )
    world.session.commit()
    [task] = world.tasks(case)
    assert task.role.value == "Medicinsk admin"
    with pytest.raises(GuardRefused) as refused:
        handling.admin_outcome(
            world.session,
            world.engine,
            actor=world.actor("medadmin"),
            case_id=case.id,
            outcome="close",
            confirmed=False,
        )
    assert refused.value.rule == "HA-close-confirm"
    world.session.rollback()
    handling.admin_outcome(
        world.session,
        world.engine,
        actor=world.actor("medadmin"),
        case_id=case.id,
        outcome="close",
        confirmed=True,
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED


def test_HA_no_triage_a_message_to_the_unit_without_triage_is_read_and_answered(world):
    case = world.submit("child", by="guardian", kind=CaseKind.NO_TRIAGE)
    assert case.priority is None
    [task] = world.tasks(case)
    assert (task.title, task.role.value) == ("Läs och besvara meddelandet", "Sjuksköterska")
    handling.close(
        world.session,
        world.engine,
        actor=world.actor("nurse"),
        case_id=case.id,
        concluded_in_dialogue=True,
        confirmed=True,
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED


def test_OG_7_the_administrative_staff_answer_in_the_chat_and_close_without_clinical_words_or_a_journal_note(
    world,
):
    """An administrative case is never started, and the chat opened only in a started case: nobody could
    answer the resident's question. Closing sent the clinical closing text ("om dina besvär blir värre")
    and made a journal note of a dialogue that never was."""
    from app.cases import chat
    from app.documentation.models import JournalDraft

    case = world.submit("adult", kind=CaseKind.ADMIN)
    handling.admin_outcome(
        world.session, world.engine, actor=world.actor("admin"), case_id=case.id, outcome="medical_admin"
    )
    chat.staff_write(
        world.session,
        actor=world.actor("medadmin"),
        case_id=case.id,
        body="Intyget skickas med post i veckan.",
    )
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack så mycket!"
    )
    handling.admin_outcome(
        world.session,
        world.engine,
        actor=world.actor("medadmin"),
        case_id=case.id,
        outcome="close",
        confirmed=True,
    )
    world.session.commit()
    purposes = world.session.scalars(
        select(ChatMessage.phrase_purpose).where(ChatMessage.case_id == case.id).order_by(ChatMessage.id)
    ).all()
    assert purposes == [None, None, "admin_closing"]  # no "same symptoms" reopening text either
    assert case.state == CaseState.CLOSED and case.priority is None  # OG-7-d
    assert world.session.scalars(select(JournalDraft).where(JournalDraft.case_id == case.id)).all() == []


def test_OG_7_b_medicinsk_admin_cannot_hand_the_case_to_itself(world):
    """The administrative form is the same for both steps and offered "Till Medicinsk admin" to Medicinsk
    admin too; choosing it looped the case back to the same queue."""
    case = world.submit("adult", kind=CaseKind.ADMIN)
    handling.admin_outcome(
        world.session, world.engine, actor=world.actor("admin"), case_id=case.id, outcome="medical_admin"
    )
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        handling.admin_outcome(
            world.session,
            world.engine,
            actor=world.actor("medadmin"),
            case_id=case.id,
            outcome="medical_admin",
        )
    assert refused.value.rule == "OG-7-b" and "redan hos Medicinsk admin" in str(refused.value)
    world.session.rollback()
    [task] = world.tasks(case)
    assert task.role.value == "Medicinsk admin"
