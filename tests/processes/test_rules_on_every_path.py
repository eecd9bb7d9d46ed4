"""Rules that hold whichever path reaches them: who may reprioritise, who may hold the duty, which
functions a unit offers, what a follow-up's page logs, which names a diagram may carry, and what a
patient's protected identity shows on all their cases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AccessLog, AccessLogPatient
from app.audit.service import Actor
from app.cases import chat, handling
from app.cases.models import Consent
from app.casework import actions
from app.errors import GuardRefused, ValidationFailed
from app.instance_view.service import instance_page
from app.instances.models import ProcessInstance
from app.patients.service import claim_protection
from app.people.models import Membership
from app.people.roles import Role
from app.people.service import duty_holder, take_duty
from tests import factories as f


def test_HA_prio_b_only_a_licensed_clinician_changes_the_priority(world):
    """Medicinsk admin handles a Sök vård matter moved to it (OG-7-b) but does not reassess its priority."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    handling.to_medical_admin(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        actions.change_priority(
            world.session,
            actor=world.actor("medadmin"),
            case_id=case.id,
            priority=5,
            reason="Administrativt",
            expected_version=None,
        )
    assert refused.value.rule == "HA-prio-b"
    world.session.rollback()
    assert world.session.get(type(case), case.id).priority == case.triage_priority


def test_OG_10_1_a_the_duty_leaves_someone_who_no_longer_has_a_clinical_role_at_the_unit(world, clock):
    """The duty is held by a clinician on shift: when the holder's last clinical role at the unit is
    removed, the duty is released (audited) and the gap shows, instead of a holder who cannot act."""
    from app.admin.services import remove_role

    unit = world.units["og"]
    holder = world.actor("nurse2")
    take_duty(world.session, actor=holder)
    world.session.commit()
    membership = world.session.scalar(
        select(Membership).where(Membership.user_id == holder.user_id, Membership.unit_id == unit.id)
    )
    sysadmin = f.signed_in(
        world.session, f.user(world.session, unit, Role.LOCAL_SYSADMIN, given="Admin"), unit
    )
    remove_role(world.session, actor=sysadmin, membership_id=membership.id)
    world.session.commit()
    assert duty_holder(world.session, unit.id, clock.now()) is None


def test_HA_functions_a_chat_is_not_switched_to_video_at_a_unit_without_video(world):
    unit = world.units["og"]
    unit.functions = [f for f in unit.functions if f != "video"]
    world.session.commit()
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    with pytest.raises(GuardRefused) as refused:
        handling.switch_meeting_form(
            world.session, world.engine, actor=nurse, case_id=case.id, form="video", cost="0"
        )
    assert refused.value.rule == "HA-functions"
    world.session.rollback()
    assert world.session.scalar(select(Consent).where(Consent.case_id == case.id)) is None


def test_OG_6_2_a_test_result_follow_ups_page_is_read_like_its_case_and_access_logged(world):
    """The follow-up routine has no case of its own but carries the case's id and the doctor's note: the
    overall responsible who opens its instance page reads the patient's data, so the read is logged."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    handling.order_tests(
        world.session, world.engine, actor=world.actor("doctor"), case_id=case.id, note="CRP"
    )
    take_duty(world.session, actor=world.actor("nurse2"))
    world.session.commit()
    followup = world.session.scalar(
        select(ProcessInstance).where(ProcessInstance.process_id == "test_result_followup")
    )
    assert followup.case_id is None
    page = instance_page(
        world.session,
        world.engine,
        actor=world.actor("nurse2"),
        instance_id=followup.id,
        context="/instances",
    )
    world.session.commit()
    assert page.data["note"] == "CRP"
    logged = world.session.execute(
        select(AccessLog.action, AccessLogPatient.patient_id).join(
            AccessLogPatient, AccessLogPatient.access_log_id == AccessLog.id
        )
    ).all()
    assert ("instance:view", case.patient_id) in logged


def test_SEC_protected_sms_a_protected_identity_claimed_in_one_case_shows_on_the_patients_other_cases(world):
    """The badge staff rely on (task rows, the API) follows the patient, not the case it was claimed in."""
    first, second = world.submit("adult"), world.submit("adult", unit="ha")
    assert not any(t.patient_protected for t in world.tasks(first) + world.tasks(second))
    claim_protection(world.session, patient=world.patients["adult"], actor=world.resident("adult"))
    world.session.commit()
    assert all(t.patient_protected for t in world.tasks(first) + world.tasks(second))


def test_a_diagram_whose_names_or_ids_exceed_what_the_product_stores_is_refused_before_publishing(world):
    """A task name over 200 characters (the task's title) or an id over 120 would pass and then fail every
    case that reaches it on PostgreSQL; the deploy findings name it instead."""
    from pathlib import Path

    from app.engine.validation import _check_lengths
    from app.engine.xml import parse_xml

    source = (Path(__file__).resolve().parents[2] / "processes" / "chat_case.bpmn").read_text(
        encoding="utf-8"
    )
    long_name = "Ta emot ärendet " + "och läs anamnesen noga " * 10
    root = parse_xml(source.replace('name="Ta emot ärendet"', f'name="{long_name}"', 1), "chat_case.bpmn")
    findings = _check_lengths(root, "chat_case.bpmn")
    assert [f.code for f in findings] == ["too_long"] and "200" in findings[0].message
    assert _check_lengths(parse_xml(source, "chat_case.bpmn"), "chat_case.bpmn") == []


def test_an_actors_label_longer_than_its_column_is_shortened_never_a_failed_action():
    label = "Anna-Karin " * 8 + " " + "Lindqvist-Bergström " * 5
    assert len(Actor(label=label).label) == 160 and Actor(label="Sara Lind").label == "Sara Lind"


def test_OG_8_2_a_phrase_text_too_long_for_its_channel_is_refused_beside_the_field(world):
    from app.phrases.service import _validate

    with pytest.raises(ValidationFailed) as refused:
        _validate("reminder", "Påminnelse", "Svara oss. " * 50)
    assert "SMS" in refused.value.field_errors["text"][0]
    with pytest.raises(ValidationFailed):
        _validate("closing", "Avslut", "x" * 4001)
    _validate("closing", "Avslut", "Tack för i dag.")


def test_OG_8_6_a_colleague_id_past_the_databases_range_is_a_field_error_not_a_crash():
    """The handover form's named colleague is an id the database can hold (PostgreSQL's integer)."""
    import json
    from pathlib import Path

    from app.instances.service import validate_form_data

    schema = json.loads((Path(__file__).resolve().parents[2] / "forms" / "handling.schema.json").read_text())
    with pytest.raises(ValidationFailed) as refused:
        validate_form_data(
            schema, {"outcome": "handover", "target_role": "Läkare", "target_user_id": 3_000_000_000}
        )
    assert "target_user_id" in refused.value.field_errors


def test_HA_chat_staff_a_schedule_of_someone_who_left_covers_nothing_and_a_warning_nobody_can_receive_is_recorded(
    world, clock
):
    """A named chat responsible must be someone who can still work the shift: a nurse whose role at the
    unit ended leaves the hours uncovered. A head of unit without an e-mail address is not silently
    skipped: the audit trail records the warning that could not be sent."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from app.audit.models import AuditEvent
    from app.people.models import ScheduledShift
    from app.people.staffing import chat_staffing_gaps, warn_staffing_gaps

    stockholm = ZoneInfo("Europe/Stockholm")
    unit = world.units["ha"]
    nurse_user, _ = world.staff["ha_nurse"]
    head_user, _ = world.staff["ha_head"]
    day = clock.now().astimezone(stockholm).date() + timedelta(days=1)  # tomorrow, a Tuesday
    world.session.add(
        ScheduledShift(
            user_id=nurse_user.id,
            unit_id=unit.id,
            role=Role.NURSE,
            starts_at=datetime.combine(day, datetime.min.time().replace(hour=8), stockholm),
            ends_at=datetime.combine(day, datetime.min.time().replace(hour=17), stockholm),
            chat_responsible=True,
        )
    )
    world.session.commit()
    assert chat_staffing_gaps(world.session, unit_id=unit.id, day=day) == []
    membership = world.session.scalar(
        select(Membership).where(Membership.user_id == nurse_user.id, Membership.unit_id == unit.id)
    )
    membership.valid_until = clock.now()  # her role ends today, before tomorrow's shift
    head_user.email = None
    world.session.commit()
    assert len(chat_staffing_gaps(world.session, unit_id=unit.id, day=day)) == 2  # both opening spans
    warn_staffing_gaps(world.session, unit_id=unit.id, day=day)
    world.session.commit()
    missed = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "staffing_gap:not_sent"))
    assert missed is not None and missed.subject_id == str(head_user.id)


def test_OG_6_1_g_HA_remind_a_reminder_whose_sms_never_reached_the_patient_is_no_contact_attempt(
    world, clock
):
    """Two reminders hours apart let an unanswered case close, but not when their SMS failed for good (or
    was never to be sent): the patient was not contacted. Delivered ones count as before."""
    from sqlalchemy import update

    from app.notifications.models import Notification, NotificationStatus
    from app.notifications.purposes import NotificationPurpose

    case = world.submit("adult")
    nurse = world.received_and_started(case)  # Monday 09:01
    clock.advance(hours=1)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    clock.advance(hours=3)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    clock.advance(hours=3)  # past six working hours, two attempts three hours apart
    reminders = (Notification.case_id == case.id) & (Notification.purpose == NotificationPurpose.SMS_REMINDER)
    world.session.execute(update(Notification).where(reminders).values(status=NotificationStatus.FAILED))
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    assert refused.value.rule == "OG-6.1-g"
    world.session.rollback()
    world.session.execute(update(Notification).where(reminders).values(status=NotificationStatus.SENT))
    world.session.commit()
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=False, confirmed=True
    )
    world.session.commit()
    assert world.session.get(type(case), case.id).state.value == "closed"


def test_OG_6_1_h_the_same_message_sent_twice_at_once_is_one_message_and_one_contact_attempt(world, clock):
    """A double tap or a retried request on a flaky network: the same text from the same person within
    two minutes is the first message again — one row, one SMS, one contact attempt (two chat attempts
    and a phone call let a priority 1–2 case close, OG-6.1-h). A reminder minutes after the last one is
    refused as a repeat; hours later it is a new attempt (HA-remind)."""
    from app.cases.models import ChatMessage, ContactAttempt
    from app.errors import Conflict
    from app.notifications.models import Notification

    case = world.submit("adult")
    nurse = world.received_and_started(case)
    first = chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Har du feber?")
    again = chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Har du feber?")
    world.session.commit()
    assert again.id == first.id
    patient = world.resident("adult")
    answer = chat.patient_write(world.session, world.engine, actor=patient, case_id=case.id, body="Ja, 38,5.")
    assert (
        chat.patient_write(world.session, world.engine, actor=patient, case_id=case.id, body="Ja, 38,5.").id
        == answer.id
    )
    world.session.commit()
    clock.advance(minutes=3)
    later = chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Har du feber?")
    world.session.commit()
    assert later.id != first.id  # minutes later the same words are a new message
    count = lambda model: len(world.session.scalars(select(model).where(model.case_id == case.id)).all())  # noqa: E731
    assert count(ChatMessage) == 4  # the first message at start, two staff, one patient
    assert count(ContactAttempt) == 3  # the first message (OG-6.1-g) and the two staff messages
    silent = world.submit("other")
    nurse = world.received_and_started(silent)
    chat.remind(world.session, actor=nurse, case_id=silent.id)
    world.session.commit()
    clock.advance(minutes=1)
    with pytest.raises(Conflict):
        chat.remind(world.session, actor=nurse, case_id=silent.id)
    world.session.rollback()
    clock.advance(hours=2)
    chat.remind(world.session, actor=nurse, case_id=silent.id)
    world.session.commit()
    reminders = world.session.scalars(select(Notification).where(Notification.case_id == silent.id)).all()
    assert len([n for n in reminders if n.purpose.value == "sms_reminder"]) == 2
