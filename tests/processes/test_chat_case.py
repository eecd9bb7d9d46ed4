"""Walk-throughs of processes/chat_case.bpmn (Sök vård) through the service layer. Every service call
restores the instance from its saved state, so each step serializes and restores mid-way."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cases import chat, handling
from app.cases.models import CaseState, ChatMessage
from app.documentation.models import JournalDraft
from app.errors import Conflict, Forbidden, GuardRefused
from app.notifications.models import Notification


def test_OG_6_1_b_c_d_receive_start_chat_and_close_in_dialogue(world, clock):
    """OG-6.1-b: Ta emot after checking priority; OG-6.1-c: the SMS that handling starts; OG-6.1-d: Starta
    sends the first message; HA-close-confirm: closing needs an explicit confirmation."""
    case = world.submit("adult")
    assert world.titles(case) == ["Ta emot ärendet"]
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    assert case.state == CaseState.RECEIVED and case.owner_user_id == nurse.user_id
    sms = world.session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.patient_id.is_not(None))
    ).all()
    assert [n.purpose.value for n in sms] == ["case_received"]
    staff_sms = world.session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.user_id.is_not(None))
    ).all()
    assert staff_sms and {n.purpose.value for n in staff_sms} == {"staff_new_case"}
    assert world.titles(case) == ["Starta ärendet"]

    handling.start(
        world.session,
        world.engine,
        actor=nurse,
        case_id=case.id,
        first_message="Hej Anna, hur länge har du haft ont?",
    )
    world.session.commit()
    assert case.state == CaseState.STARTED
    assert world.titles(case) == ["Handlägg ärendet"]
    clock.advance(minutes=5)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Sedan i fredags."
    )
    chat.staff_write(
        world.session,
        actor=nurse,
        case_id=case.id,
        body="Tack. Drick varmt och vila. Hör av dig om det blir värre.",
    )
    clock.advance(minutes=5)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack!"
    )
    world.session.commit()

    with pytest.raises(GuardRefused) as refused:
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=True,
            confirmed=False,
        )
    assert refused.value.rule == "HA-close-confirm"
    world.session.rollback()
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    assert (
        case.state == CaseState.CLOSED and case.closed_reason == "dialogue" and case.reopen_until is not None
    )
    assert world.titles(case) == []
    messages = world.session.scalars(
        select(ChatMessage).where(ChatMessage.case_id == case.id).order_by(ChatMessage.id)
    ).all()
    assert messages[0].body.startswith("Hej Anna")
    assert [m.phrase_purpose for m in messages[-2:]] == [
        "closing",
        "reopen_possible",
    ]  # OG-6.5: the window is told
    assert world.session.scalar(select(JournalDraft).where(JournalDraft.case_id == case.id)) is not None


def _received_and_started(world, case, who="nurse"):
    actor = world.actor(who)
    handling.receive(world.session, world.engine, actor=actor, case_id=case.id)
    handling.start(
        world.session, world.engine, actor=actor, case_id=case.id, first_message="Hej! Hur mår du?"
    )
    world.session.commit()
    return actor


def test_OG_6_1_f_g_unanswered_case_closes_after_six_working_hours_and_two_attempts_hours_apart(world, clock):
    """Refusals name the rule and the earliest allowed closing time; then it closes, documented (OG-11-e)."""
    case = world.submit("adult")
    nurse = _received_and_started(world, case)  # started Monday 09:01
    with pytest.raises(GuardRefused) as refused:
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    assert refused.value.rule == "OG-6.1-g" and "tidigast" in refused.value.message
    world.session.rollback()
    clock.advance(hours=1)
    chat.remind(world.session, actor=nurse, case_id=case.id)  # HA-remind: a contact attempt
    world.session.commit()
    clock.advance(hours=2)
    chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Hej igen, hur mår du nu?")
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:  # 12:01: attempts fine, six working hours not yet
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    assert refused.value.rule == "OG-6.1-f" and "2026-11-23 15:01" in refused.value.message
    world.session.rollback()
    clock.advance(hours=3, minutes=1)
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=False, confirmed=True
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED and case.closed_reason == "unanswered"
    draft = world.session.scalar(select(JournalDraft).where(JournalDraft.case_id == case.id))
    assert draft.reason.value == "closed_unanswered"
    closing = world.session.scalar(
        select(ChatMessage).where(
            ChatMessage.case_id == case.id, ChatMessage.phrase_purpose == "closing_unanswered"
        )
    )
    assert "vård" in closing.body


def test_OG_6_1_g_the_unanswered_first_message_is_a_contact_attempt_so_one_more_hours_later_makes_two(
    world, clock
):
    """ "A contact attempt is an unanswered staff chat message": the message that starts the case is one.
    It did not count, so an unanswered case needed two attempts besides it before it could close."""
    from app.cases.models import AttemptKind, ContactAttempt

    case = world.submit("adult")
    nurse = _received_and_started(world, case)  # started Monday 09:01, the first message sent
    kinds = world.session.scalars(select(ContactAttempt.kind).where(ContactAttempt.case_id == case.id)).all()
    assert kinds == [AttemptKind.CHAT]
    clock.advance(hours=2)
    chat.remind(world.session, actor=nurse, case_id=case.id)  # 11:01: the second attempt, two hours on
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:  # the attempts are enough; six working hours are not
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    assert refused.value.rule == "OG-6.1-f" and "2026-11-23 15:01" in refused.value.message
    world.session.rollback()
    clock.advance(hours=4)
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=False, confirmed=True
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED and case.closed_reason == "unanswered"


def test_HA_remind_an_sms_reminder_counts_as_a_contact_attempt(world, clock):
    """HA-remind: the reminder button sends an SMS and counts as a contact attempt; not once the patient answered."""
    from app.cases.models import AttemptKind, ContactAttempt
    from app.notifications.purposes import NotificationPurpose

    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    world.session.commit()
    [attempt] = world.session.scalars(
        select(ContactAttempt).where(
            ContactAttempt.case_id == case.id, ContactAttempt.kind == AttemptKind.SMS_REMINDER
        )
    ).all()
    assert attempt.made_by == nurse.user_id
    [sms] = world.session.scalars(
        select(Notification).where(
            Notification.case_id == case.id, Notification.purpose == NotificationPurpose.SMS_REMINDER
        )
    ).all()
    assert sms.channel.value == "sms" and sms.patient_id == case.patient_id
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Hej, jag är här."
    )
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        chat.remind(world.session, actor=nurse, case_id=case.id)
    assert refused.value.rule == "HA-remind"


def test_OG_6_1_f_g_HA_close_plus1_closing_an_unanswered_case_under_each_regions_policy(world, clock):
    """The regions side by side. OG-6.1-f/g (Östergötland): six working hours and two attempts hours apart.
    HA-close-plus1 with HA-remind (Halland): after a reminder the chat may close the same day and stays
    answerable one more day."""
    from datetime import timedelta

    og, ha = world.submit("adult", unit="og"), world.submit("other", unit="ha")
    og_nurse, ha_nurse = _received_and_started(world, og), _received_and_started(world, ha, who="ha_nurse")
    with pytest.raises(GuardRefused) as refused:
        handling.close(
            world.session,
            world.engine,
            actor=ha_nurse,
            case_id=ha.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    assert refused.value.rule == "HA-remind"
    world.session.rollback()
    clock.advance(hours=1)
    chat.remind(world.session, actor=og_nurse, case_id=og.id)
    chat.remind(world.session, actor=ha_nurse, case_id=ha.id)
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        handling.close(
            world.session,
            world.engine,
            actor=og_nurse,
            case_id=og.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    assert refused.value.rule == "OG-6.1-g"
    world.session.rollback()
    handling.close(
        world.session,
        world.engine,
        actor=ha_nurse,
        case_id=ha.id,
        concluded_in_dialogue=False,
        confirmed=True,
    )
    world.session.commit()
    assert ha.state == CaseState.CLOSED and ha.reopen_until - ha.closed_at >= timedelta(days=1)
    assert og.state == CaseState.STARTED


def test_OG_6_1_h_priority_one_closes_the_same_day_after_two_chat_attempts_and_a_phone_attempt(world, clock):
    case = world.submit("adult", breathing=True)
    assert case.priority == 1
    nurse = _received_and_started(world, case)
    chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Hur andas du nu?")
    chat.remind(world.session, actor=nurse, case_id=case.id)
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
    assert refused.value.rule == "OG-6.1-h"
    world.session.rollback()
    chat.phone_attempt(world.session, actor=nurse, case_id=case.id, reached=False, note="Inget svar")
    world.session.commit()
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=False, confirmed=True
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED


def test_OG_6_1_a_HA_prio_b_the_clinician_may_change_the_priority_when_receiving(world):
    """Priority is an indicator; the licensed clinician decides (the triage's value is kept)."""
    from app.audit.models import AuditEvent

    case = world.submit("adult")
    handling.receive(
        world.session,
        world.engine,
        actor=world.actor("nurse"),
        case_id=case.id,
        new_priority=2,
        priority_reason="Hög feber i telefon",
    )
    world.session.commit()
    assert (case.priority, case.triage_priority) == (2, 3)
    event = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "case:priority_changed"))
    assert event.details["previous"] == 3 and event.details["new"] == 2


def test_HA_handover_consent_a_handover_to_the_doctor_waits_for_the_residents_consent(world):
    """HA-handover-consent, OG-8.6, OG-11-e: consent asked, then the doctor's queue; the nurse's part is documented."""
    from app.cases.models import Consent, ConsentAnswer

    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    world.session.commit()
    assert case.state == CaseState.HANDED_OVER and world.titles(case) == []
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    world.session.commit()
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.owner_user_id) == ("Handlägg ärendet", "Läkare", None)
    assert consent.answer == ConsentAnswer.GIVEN and case.handling_role == "Läkare"
    assert (
        world.session.scalar(
            select(JournalDraft).where(JournalDraft.case_id == case.id, JournalDraft.reason == "handover")
        )
        is not None
    )
    # The nurse no longer acts on it; the doctor does.
    with pytest.raises(Forbidden):
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    world.session.rollback()


def test_HA_handover_consent_declined_keeps_the_case_and_feeds_the_acknowledgement_inbox(world):
    from app.cases.ack import inbox
    from app.cases.models import Consent

    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=False
    )
    world.session.commit()
    [task] = world.tasks(case)
    assert task.role.value == "Sjuksköterska" and case.state == CaseState.STARTED
    assert [(item.kind.value, item.summary) for item in inbox(world.session, actor=world.actor("nurse"))] == [
        ("consent_declined", "Patienten avböjde samtycke till överlämning.")
    ]  # words, not "(handover)"


def test_OG_8_6_a_handover_outside_the_units_routine_is_refused(world):
    unit = world.units["og"]
    unit.settings = {**unit.settings, "handover_roles": {"Sjuksköterska": ["Läkare"]}}
    world.session.commit()
    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    with pytest.raises(GuardRefused) as refused:
        handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Fysioterapeut")
    assert refused.value.rule == "OG-8.6"


def test_HA_suicide_b_c_e_risk_goes_to_a_psychologist_at_once_and_moderate_risk_books_a_visit(world):
    """HA-suicide-b: no consent wait; HA-suicide-c: the psychologist assesses (ladder, risk and protective
    factors); HA-suicide-e: moderate risk books a visit within 2 days, prioritised, kept in the chat."""
    from app.cases.models import Consent
    from app.instances import service as instances

    case = world.submit("adult", reason="nedstamdhet")
    nurse = _received_and_started(world, case)
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    assert world.session.scalar(select(Consent).where(Consent.case_id == case.id)) is None
    [task] = world.tasks(case)
    assert (task.title, task.role.value) == ("Gör en samlad suicidriskbedömning", "Psykolog")
    psychologist = world.actor("psychologist")
    instances.complete_task(
        world.session,
        world.engine,
        task_id=task.id,
        actor=psychologist,
        data={
            "risk": "moderate",
            "ladder_step": 3,
            "mode": "chat",
            "risk_factors": "Sömnlöshet",
            "protective_factors": "Familj",
        },
    )
    world.session.commit()
    assert case.suicide_risk == "moderate" and case.priority == 1
    [booking] = world.tasks(case)
    assert booking.title == "Boka fysiskt besök inom 2 dagar i journalsystemet"
    instances.complete_task(
        world.session,
        world.engine,
        task_id=booking.id,
        actor=psychologist,
        data={"booking": "booked", "visit_at": "2026-11-24T10:00:00+01:00"},
    )
    world.session.commit()
    [held] = world.tasks(case)
    instances.complete_task(
        world.session, world.engine, task_id=held.id, actor=world.actor("nurse"), data={"visit_held": True}
    )
    world.session.commit()
    [handle] = world.tasks(case)
    assert (handle.title, handle.role.value) == (
        "Handlägg ärendet",
        "Psykolog",
    ) and case.state == CaseState.STARTED


def test_HA_suicide_g_with_no_psychologist_or_doctor_present_the_case_goes_to_the_overall_responsible(
    world, clock
):
    """Never an empty queue: the overall responsible on duty gets the case and the on-call task."""
    from app.people.service import sign_out, take_duty

    for key in ("psychologist", "doctor"):
        sign_out(world.session, actor=world.actor(key))
    nurse2 = world.actor("nurse2")
    take_duty(world.session, actor=nurse2)
    world.session.commit()
    clock.advance(minutes=1)
    case = world.submit("adult", reason="nedstamdhet", self_harm=True)
    nurse = _received_and_started(world, case)
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [task] = world.tasks(case)
    assert task.owner_user_id == nurse2.user_id and task.role.value == "Sjuksköterska"
    assert "beredskapsjouren" in task.title


def test_HA_suicide_g_with_nobody_to_assess_and_no_duty_holder_the_raising_clinician_keeps_the_case(
    world, clock
):
    """No psychologist, doctor or overall responsible present: the nurse who raised the risk gets the on-call
    task, not whichever colleague sorts first and not an empty queue."""
    from app.people.service import duty_holder, sign_out

    for key in ("psychologist", "doctor"):
        sign_out(world.session, actor=world.actor(key))
    world.session.commit()
    case = world.submit("adult", reason="nedstamdhet", self_harm=True)
    assert duty_holder(world.session, case.unit_id, clock.now()) is None
    nurse = _received_and_started(world, case)
    other_nurse = world.actor("nurse2")
    assert other_nurse.user_id != nurse.user_id
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [task] = world.tasks(case)
    assert task.owner_user_id == nurse.user_id and "beredskapsjouren" in task.title


def test_HA_suicide_g_the_escalated_case_goes_to_the_overall_responsible_when_its_holder_ends_the_shift(
    world, clock
):
    """The nurse who raised the risk held the escalated case; ending her shift put it in the nurses' queue
    like any other case. It goes to the present overall responsible instead: never a queue."""
    from app.cases import shifts
    from app.people.service import sign_out, take_duty

    for key in ("psychologist", "doctor"):
        sign_out(world.session, actor=world.actor(key))
    world.session.commit()
    case = world.submit("adult", reason="nedstamdhet", self_harm=True)
    nurse = _received_and_started(world, case)
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    nurse2 = world.actor("nurse2")
    take_duty(world.session, actor=nurse2)  # a colleague takes the duty later in the day
    world.session.commit()
    assert [t.owner_user_id for t in world.tasks(case)] == [nurse.user_id]
    [warned] = shifts.my_ongoing_cases(world.session, actor=nurse)  # the end-of-shift page says so first
    assert warned.case_id == case.id and warned.to_duty_holder
    shifts.end_shift(world.session, actor=nurse, confirmed=True)
    world.session.commit()
    world.session.expire_all()
    assert [t.owner_user_id for t in world.tasks(case)] == [nurse2.user_id]
    assert world.session.get(type(case), case.id).owner_user_id == nurse2.user_id


def test_HA_suicide_a_a_mental_health_case_needs_a_suicide_risk_assessment_before_closing(world, clock):
    case = world.submit("adult", reason="nedstamdhet")
    nurse = _received_and_started(world, case)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Det är tungt."
    )
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=True,
            confirmed=True,
        )
    assert refused.value.rule == "HA-suicide-a"


def test_OG_3_after_closing_a_priority_two_case_is_referred_to_1177_not_handled(world, clock):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock.set(datetime(2026, 11, 23, 20, 0, tzinfo=ZoneInfo("Europe/Stockholm")))
    case = world.submit("adult", high_fever=True)
    assert case.priority == 2
    assert (case.state, case.referral) == (CaseState.REFERRED, "call_1177")
    assert world.titles(case) == []
    [message] = world.session.scalars(select(ChatMessage).where(ChatMessage.case_id == case.id)).all()
    assert "1177" in message.body


def test_HA_after_hours_at_a_care_centre_the_resident_may_send_anyway_and_it_waits_for_the_next_weekday(
    world, clock
):
    """HA-after-hours: whatever its priority; HA-chat-open: the chat takes cases around the clock."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock.set(datetime(2026, 11, 28, 3, 0, tzinfo=ZoneInfo("Europe/Stockholm")))  # Saturday night
    referred = world.submit("adult", unit="ha", high_fever=True)
    assert referred.state == CaseState.REFERRED
    sent = world.submit("adult", unit="ha", high_fever=True, send_anyway=True)
    assert sent.state == CaseState.NEW and sent.referral is None
    assert world.titles(sent) == ["Ta emot ärendet"]
    # In Östergötland the resident is referred by priority whatever they choose (OG-3).
    og = world.submit("adult", unit="og", high_fever=True, send_anyway=True)
    assert og.state == CaseState.REFERRED


def test_HA_protected_a_person_with_protected_identity_is_not_handled_and_gets_no_sms(world):
    """Region Halland: refuse and redirect to 1177.se or the clinic; no SMS at all (SEC-protected-sms)."""
    from app.notifications.models import NotificationStatus

    case = world.submit("adult", unit="ha", protected=True)
    assert (case.state, case.closed_reason) == (CaseState.REFUSED, "protected_identity")
    assert world.titles(case) == []
    [message] = world.session.scalars(select(ChatMessage).where(ChatMessage.case_id == case.id)).all()
    assert "1177.se" in message.body and "Havsbris" not in message.body
    sent = world.session.scalars(
        select(Notification).where(
            Notification.patient_id == case.patient_id, Notification.status != NotificationStatus.SUPPRESSED
        )
    ).all()
    assert sent == []


def test_OG_6_3_a_claimed_protected_identity_is_verified_in_the_ehr_and_the_case_follows_the_routine(world):
    """Region Östergötland: staff check the claim; messages stay neutral meanwhile and after confirmation."""
    from app.instances import service as instances
    from app.patients.models import Protection

    case = world.submit("adult", unit="og", protected=True)
    [verify] = world.tasks(case)
    assert verify.title == "Kontrollera skyddad identitet i journalsystemet" and verify.patient_protected
    instances.complete_task(
        world.session,
        world.engine,
        task_id=verify.id,
        actor=world.actor("nurse"),
        data={"ehr_checked": True, "confirmed": True},
    )
    world.session.commit()
    assert world.patients["adult"].protection == Protection.CONFIRMED
    assert world.titles(case) == ["Ta emot ärendet"]
    handling.receive(world.session, world.engine, actor=world.actor("nurse"), case_id=case.id)
    world.session.commit()
    [received] = world.session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.patient_id.is_not(None))
    ).all()
    assert "Ekdalen" not in (received.body or "") and "Ekdalen" not in (received.sender_id or "")


def test_HA_behalf_someone_who_sought_care_for_another_person_is_told_and_the_anamnesis_marked(world):
    case = world.submit("adult")
    original = case.anamnesis
    nurse = _received_and_started(world, case)
    handling.wrong_patient(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    assert case.state == CaseState.CLOSED and case.closed_reason == "wrong_patient"
    assert case.anamnesis.startswith("OBS FEL PATIENT") and original in case.anamnesis  # never overwritten
    assert (
        world.session.scalar(select(JournalDraft).where(JournalDraft.case_id == case.id)) is None
    )  # nothing to the EHR


def test_OG_7_b_an_administrative_matter_in_the_sok_vard_flow_goes_to_medicinsk_admin(world):
    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    handling.to_medical_admin(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.owner_user_id) == (
        "Handlägg administrativt",
        "Medicinsk admin",
        None,
    )


def test_HA_close_plus1_an_answer_after_closing_goes_to_the_role_queue_flagged(world, clock):
    """The former owner may be off duty: the answer lands in the role queue, flagged, and in the inbox."""
    from app.cases.ack import inbox

    case = world.submit("adult", unit="ha")
    nurse = _received_and_started(world, case, who="ha_nurse")
    clock.advance(hours=1)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    clock.advance(hours=3)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    clock.advance(hours=4)
    world.session.commit()
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=False, confirmed=True
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED and case.reopen_until is not None
    clock.advance(hours=12)
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=case.id,
        body="Förlåt, jag somnade. Det är bättre nu.",
    )
    world.session.commit()
    [task] = world.tasks(case)
    assert (task.title, task.owner_user_id, task.role.value) == ("Handlägg ärendet", None, "Sjuksköterska")
    assert case.after_close and case.state == CaseState.STARTED
    assert "answer_after_close" in [i.kind.value for i in inbox(world.session, actor=world.actor("ha_nurse"))]


def test_OG_6_5_reopening_only_within_the_window_and_for_the_same_search_reason(world, clock):
    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack, bättre nu."
    )
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        chat.reopen(
            world.session,
            world.engine,
            actor=world.resident("adult"),
            case_id=case.id,
            search_reason="Ont i ryggen",
        )
    assert refused.value.rule == "OG-6.5" and "ny sökorsak" in refused.value.message
    world.session.rollback()
    chat.reopen(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, search_reason="Halsont"
    )
    world.session.commit()
    assert case.state == CaseState.STARTED and world.titles(case) == ["Handlägg ärendet"]

    late = world.submit("other")
    _received_and_started(world, late)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("other"), case_id=late.id, body="Tack."
    )
    handling.close(
        world.session, world.engine, actor=nurse, case_id=late.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    clock.advance(days=4)
    with pytest.raises(GuardRefused) as refused:
        chat.reopen(
            world.session,
            world.engine,
            actor=world.resident("other"),
            case_id=late.id,
            search_reason="Halsont",
        )
    assert refused.value.rule == "OG-6.5"


def test_OG_8_3_switching_meeting_form_needs_consent_and_states_the_cost(world):
    """OG-2-b: the visit becomes chargeable only with the resident's consent to the stated cost."""
    from app.cases.models import Consent

    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    handling.switch_meeting_form(
        world.session, world.engine, actor=nurse, case_id=case.id, form="video", cost="200"
    )
    world.session.commit()
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    assert consent.details == {"form": "video", "cost": "200"} and not case.chargeable
    message = world.session.scalar(
        select(ChatMessage).where(
            ChatMessage.case_id == case.id, ChatMessage.phrase_purpose == "consent_meeting_form"
        )
    )
    assert "200" in message.body
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    world.session.commit()
    assert case.chargeable and case.meeting_form == "video"
    assert world.titles(case) == ["Handlägg ärendet"]


def test_OG_6_2_the_doctor_who_ordered_tests_gets_a_follow_up_task_of_their_own(world):
    from app.instances.models import HumanTask

    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    from app.cases.models import Consent

    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    world.session.commit()
    doctor = world.actor("doctor")
    with pytest.raises(Forbidden):  # the case is in the doctor's queue now
        handling.order_tests(
            world.session, world.engine, actor=world.actor("nurse"), case_id=case.id, note="CRP"
        )
    world.session.rollback()
    handling.order_tests(
        world.session, world.engine, actor=doctor, case_id=case.id, note="CRP och blodstatus"
    )
    world.session.commit()
    followup = world.session.scalar(select(HumanTask).where(HumanTask.process_id == "test_result_followup"))
    assert (followup.title, followup.owner_user_id) == ("Följ upp provsvaret", doctor.user_id)
    assert world.titles(case) == ["Handlägg ärendet"]


def test_OG_10_2_e_a_rehab_unit_routes_new_cases_to_the_physiotherapist(world):
    from app.people.models import UnitKind

    world.units["og"].kind = UnitKind.REHAB
    world.session.commit()
    case = world.submit("adult", reason="rygg")
    [task] = world.tasks(case)
    assert (task.title, task.role.value) == ("Ta emot ärendet", "Fysioterapeut")


def test_OG_6_5_when_the_reopen_window_ends_the_routine_completes(world, clock):
    """OG-6.5: the window is a timer the workers find; after it the case's routine is finished."""
    from app.instances.models import InstanceStatus, ProcessInstance

    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=case.id,
        body="Tack, nu är det bra.",
    )
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    instance = world.session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
    clock.advance(days=2)
    world.fire_due_timers()
    assert instance.status == InstanceStatus.RUNNING
    clock.advance(days=1, minutes=1)
    world.fire_due_timers()
    world.session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED


def test_HA_handover_consent_no_answer_within_a_day_keeps_the_case_with_the_nurse(world, clock):
    """HA-handover-consent: without the resident's consent there is no handover; a day without an answer
    counts as no consent and the case comes back to the one who asked."""
    from app.cases.models import Consent

    case = world.submit("adult")
    nurse = _received_and_started(world, case)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    world.session.commit()
    assert world.titles(case) == []
    clock.advance(hours=23)
    world.fire_due_timers()
    assert world.titles(case) == []
    clock.advance(hours=1, minutes=1)
    world.fire_due_timers()
    [task] = world.tasks(case)
    assert (task.title, task.role.value) == (
        "Handlägg ärendet",
        "Sjuksköterska",
    ) and case.handling_role != "Läkare"
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    assert consent.answer.value == "expired"
    with pytest.raises(Conflict):  # a late answer reaches no routine: it is refused, not lost silently
        chat.answer_consent(
            world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
        )
    world.session.rollback()
