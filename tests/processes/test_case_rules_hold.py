"""Rules the case's own code holds, whichever way a routine reaches them: closing early, reopening,
answers nobody waits for, documentation of a handover or a video visit, the day's closing message,
and the texts the routines send from the units' phrase templates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.cases import chat, handling
from app.cases.ack import inbox
from app.cases.day_close import send_day_close_messages
from app.cases.lookup import case_instance
from app.cases.models import AckKind, CaseState, ChatMessage, Consent
from app.documentation.models import JournalDraft
from app.errors import GuardRefused
from app.instances import service as instances
from app.notifications.models import Notification
from app.notifications.purposes import NotificationPurpose
from app.people.service import sign_out
from app.phrases.models import PhraseLevel, PhraseTemplate


def _close(world, actor, case, *, dialogue: bool):
    handling.close(
        world.session,
        world.engine,
        actor=actor,
        case_id=case.id,
        concluded_in_dialogue=dialogue,
        confirmed=True,
    )
    world.session.commit()


def test_OG_6_1_f_g_closing_an_unanswered_case_early_is_refused_by_the_close_itself_without_the_guard(
    world, monkeypatch
):
    """A routine version published without the handling task's guard still cannot close an unanswered
    case at once: the close step holds OG-6.1-f/g itself, with the rule and the earliest time, and the
    whole action rolls back (no incident, the case stays started)."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    monkeypatch.setattr(instances, "run_guard", lambda *args, **kwargs: None)  # as if no guard were named
    with pytest.raises(GuardRefused) as refused:
        _close(world, nurse, case, dialogue=False)
    assert refused.value.rule in ("OG-6.1-f", "OG-6.1-g") and "tidigast" in refused.value.message
    world.session.rollback()
    world.session.expire_all()
    assert case.state == CaseState.STARTED and world.titles(case) == ["Handlägg ärendet"]
    with pytest.raises(GuardRefused) as refused:  # nor "in dialogue" when the patient never wrote
        _close(world, nurse, case, dialogue=True)
    assert refused.value.rule == "OG-6.1-f"


def test_OG_6_1_f_g_a_case_resumed_after_closing_counts_attempts_from_the_resumption(world, clock):
    """Two attempts and six working hours before the first closing do not let the reopened case close
    unanswered at once: it is judged as a case started when the patient reopened it (OG-6.5)."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)  # Monday 09:01
    clock.advance(hours=1)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    clock.advance(hours=3)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    clock.advance(hours=3)
    world.session.commit()
    _close(world, nurse, case, dialogue=False)
    assert case.state == CaseState.CLOSED
    clock.advance(hours=20)
    chat.reopen(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, search_reason="Halsont"
    )
    world.session.commit()
    assert case.state == CaseState.STARTED and case.resumed_at == clock.now()
    with pytest.raises(GuardRefused) as refused:
        _close(world, world.actor("nurse"), case, dialogue=False)
    assert refused.value.rule == "OG-6.1-g" and "kontaktförsök" in refused.value.message


def test_OG_6_5_HA_close_plus1_a_unit_without_reopening_keeps_the_answer_day_but_allows_no_reopening(
    world, clock
):
    """Halland's extra answerable day (HA-close-plus1) is for answering; a unit that sets no reopening
    window (0 days, OG-6.5's local routine) is not overruled by it, and the patient is not promised one."""
    unit = world.units["ha"]
    unit.settings = {**unit.settings, "reopen_days": 0}
    world.session.commit()
    case = world.submit("adult", unit="ha")
    nurse = world.received_and_started(case, "ha_nurse")
    clock.advance(hours=1)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    world.session.commit()
    _close(world, nurse, case, dialogue=False)
    assert case.reopen_until - case.closed_at == timedelta(days=1)
    purposes = world.session.scalars(
        select(ChatMessage.phrase_purpose).where(ChatMessage.case_id == case.id)
    ).all()
    assert "reopen_possible" not in purposes
    clock.advance(hours=2)
    with pytest.raises(GuardRefused) as refused:
        chat.reopen(
            world.session,
            world.engine,
            actor=world.resident("adult"),
            case_id=case.id,
            search_reason="Halsont",
        )
    assert refused.value.rule == "OG-6.5"
    world.session.rollback()
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Nu är jag här."
    )
    world.session.commit()
    assert case.after_close and case.state == CaseState.STARTED


def test_HA_close_plus1_an_answer_after_closing_that_no_routine_waits_for_reaches_the_inbox(world):
    """Even when the case's routine no longer runs (a close path that ended it), the patient's answer
    within the window is never left unread: the case is flagged and the unit's inbox gets it."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack."
    )
    _close(world, nurse, case, dialogue=True)
    instance = case_instance(world.session, case.id)
    instances.cancel_instance(
        world.session, world.engine, instance_id=instance.id, actor=nurse, reason="test"
    )
    world.session.commit()
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=case.id,
        body="Jag mår sämre igen.",
    )
    world.session.commit()
    assert case.after_close
    items = inbox(world.session, actor=world.actor("nurse2"))
    assert [(i.case_id, i.kind) for i in items] == [(case.id, AckKind.ANSWER_AFTER_CLOSE)]


def test_HA_doc_b_a_halland_chat_switched_to_video_is_documented_as_a_video_visit(world):
    """HA-doc-b (Halland's policy): care contact "Distansbesök - video" for video, "- skriftlig" for chat."""
    case = world.submit("adult", unit="ha")
    nurse = world.received_and_started(case, "ha_nurse")
    handling.switch_meeting_form(
        world.session, world.engine, actor=nurse, case_id=case.id, form="video", cost="0"
    )
    world.session.commit()
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack."
    )
    world.session.commit()
    _close(world, world.actor("ha_nurse"), case, dialogue=True)
    [draft] = world.session.scalars(select(JournalDraft).where(JournalDraft.case_id == case.id)).all()
    assert "Distansbesök - video" in draft.text and "skriftlig" not in draft.text


def test_OG_11_e_HA_suicide_b_the_suicide_risk_handover_is_documented_by_the_clinician_who_hands_over(world):
    """Handing over to a psychologist or doctor for suicide-risk assessment is a handover like any other:
    the nurse owes a journal note on it (OG-11-e, HA-doc-a)."""
    case = world.submit("adult", reason="nedstamdhet")
    nurse = world.received_and_started(case)
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    drafts = world.session.scalars(select(JournalDraft).where(JournalDraft.case_id == case.id)).all()
    assert [(d.reason.value, d.for_user_id) for d in drafts] == [("handover", nurse.user_id)]


def test_HA_suicide_g_with_no_clinician_present_the_staff_member_who_raised_it_holds_the_case(world, clock):
    """Never nobody's: with no psychologist, doctor, overall responsible or other clinician present, the
    one who raised the risk is named on the escalated case rather than an empty queue."""
    case = world.submit("adult", reason="nedstamdhet")
    nurse = world.received_and_started(case)
    for key in ("psychologist", "doctor", "nurse2", "physio", "nurse"):
        sign_out(world.session, actor=world.actor(key))
    world.session.commit()
    clock.advance(minutes=1)
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    assert case.owner_user_id == nurse.user_id and case.suicide_risk == "suspected"


def test_HA_close_day_stangning_reaches_answered_and_handed_over_cases_not_yet_concluded(world, clock):
    """ "Residents who did not answer during the day, or cases not concluded" (HA-close-day): a case whose
    patient answered but which is not concluded, and one waiting on a handover, hear it too."""
    answered = world.submit("adult", unit="ha")
    nurse = world.received_and_started(answered, "ha_nurse")
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=answered.id, body="Svar."
    )
    waiting = world.submit("other", unit="ha")
    world.received_and_started(waiting, "ha_nurse")
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=waiting.id, role="Läkare")
    world.session.commit()
    assert waiting.state == CaseState.HANDED_OVER
    sent = send_day_close_messages(
        world.session, unit_id=world.units["ha"].id, actor=world.actor("ha_nurse2")
    )
    world.session.commit()
    told = set(
        world.session.scalars(
            select(ChatMessage.case_id).where(ChatMessage.phrase_purpose == "stangning")
        ).all()
    )
    assert told == {answered.id, waiting.id} and sent["stangning"] == 2


def test_OG_8_2_OG_6_1_c_HA_remind_the_received_and_reminder_sms_are_the_regions_phrase_templates(
    world, clock
):
    """The SMS on receiving (OG-6.1-c) and the reminder (HA-remind) say what the region's published
    phrase templates say, not built-in words."""
    region_id = world.units["og"].region_id
    for purpose, text in (
        ("case_received", "Vi har fått ditt ärende, eget ord."),
        ("reminder", "Svara oss, eget ord."),
    ):
        world.session.execute(
            update(PhraseTemplate)
            .where(
                PhraseTemplate.purpose == purpose,
                PhraseTemplate.level == PhraseLevel.REGIONAL,
                PhraseTemplate.region_id == region_id,
            )
            .values(text=text)
        )
    world.session.commit()
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    clock.advance(hours=1)
    chat.remind(world.session, actor=nurse, case_id=case.id)
    world.session.commit()
    bodies = {
        n.purpose: n.body
        for n in world.session.scalars(select(Notification).where(Notification.case_id == case.id))
        if n.purpose in (NotificationPurpose.CASE_RECEIVED, NotificationPurpose.SMS_REMINDER)
    }
    assert "eget ord" in bodies[NotificationPurpose.CASE_RECEIVED]
    assert "eget ord" in bodies[NotificationPurpose.SMS_REMINDER]
