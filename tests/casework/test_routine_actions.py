"""The routine's steps from the case page: receive, start, close, hand over and the other handling
actions, each refusal shown beside its form with the user's input kept, and stale pages refused."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import chat, handling
from app.cases.models import Case, CaseState, ChatMessage, Consent, ConsentAnswer
from app.documentation.models import JournalDraft
from app.instances.models import HumanTask
from app.notifications.models import Notification
from tests.casework.conftest import read, seen_in, started, version_in


def _case(world, case_id):
    case = world.session.get(Case, case_id)
    world.session.refresh(case)
    world.session.commit()
    return case


def _with_doctor(world, case):
    """Started by the nurse, handed to the doctor with the resident's consent (the doctor's queue)."""
    started(world, case)
    handling.hand_over(
        world.session, world.engine, actor=world.actor("nurse"), case_id=case.id, role="Läkare"
    )
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    world.session.commit()


def test_OG_6_1_b_OG_6_1_c_receiving_from_the_page_takes_the_case_and_texts_the_resident(world, staff):
    case = world.submit("adult")
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert "Läs anamnesen och kontrollera prioriteten" in html
    response = nurse.post(
        f"/cases/{case.id}/receive",
        {"new_priority": "3", "priority_reason": "", "expected_version": version_in(html, "receive")},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.id}")
    after = nurse.page(case.id)
    assert 'role="status"' in after and "Ärendet är mottaget" in after
    assert (c := _case(world, case.id)).state == CaseState.RECEIVED and c.owner_user_id == nurse.user.id
    assert (
        read(
            world,
            select(Notification.purpose).where(
                Notification.case_id == case.id, Notification.patient_id.is_not(None)
            ),
        ).value
        == "case_received"
    )
    assert f'action="/cases/{case.id}/start"' in after


def test_HA_prio_b_a_changed_priority_needs_a_reason_and_the_triage_value_is_kept(world, staff):
    case = world.submit("adult")
    nurse = staff("nurse")
    version = version_in(nurse.page(case.id), "receive")
    refused = nurse.post(
        f"/cases/{case.id}/receive",
        {"new_priority": "2", "priority_reason": "  ", "expected_version": version},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Skriv varför du ändrar prioriteten." in html and 'aria-invalid="true"' in html
    assert '<option value="2" selected>' in html  # the chosen priority is kept
    assert _case(world, case.id).state == CaseState.NEW
    done = nurse.post(
        f"/cases/{case.id}/receive",
        {"new_priority": "2", "priority_reason": "Hög feber i telefon", "expected_version": version},
    )
    assert done.status_code == 302
    case = _case(world, case.id)
    assert (case.priority, case.triage_priority) == (2, 3)
    event = read(world, select(AuditEvent).where(AuditEvent.action == "case:priority_changed"))
    assert event.details["reason"] == "Hög feber i telefon"
    assert "Prioritet 2 (triagering: 3)" in nurse.page(case.id)


def test_OG_6_1_d_starting_sends_the_first_message_as_written(world, staff):
    case = world.submit("adult")
    nurse = staff("nurse")
    nurse.post(
        f"/cases/{case.id}/receive",
        {"new_priority": "3", "expected_version": version_in(nurse.page(case.id), "receive")},
    )
    html = nurse.page(case.id)
    response = nurse.post(
        f"/cases/{case.id}/start",
        {
            "first_message": "Hej Anna, hur länge har du haft ont i halsen?",
            "action": "send",
            "expected_version": version_in(html, "start"),
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.id}")
    assert _case(world, case.id).state == CaseState.STARTED
    assert (
        read(world, select(ChatMessage.body).where(ChatMessage.case_id == case.id))
        == "Hej Anna, hur länge har du haft ont i halsen?"
    )
    assert "Ärendet är startat" in nurse.page(case.id)


def test_HA_close_confirm_closing_without_the_confirmation_is_refused_with_the_input_kept(
    world, staff, clock
):
    case = world.submit("adult")
    started(world, case)
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=case.id,
        body="Tack, det räcker så.",
    )
    world.session.commit()
    nurse = staff("nurse")
    version = version_in(nurse.page(case.id), "close")
    refused = nurse.post(
        f"/cases/{case.id}/close",
        {"concluded_in_dialogue": "on", "note": "Egenvård räcker", "expected_version": version},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'role="alert"' in html and "Bekräfta" in html and "HA-close-confirm" in html
    assert '<details id="action-close" open>' in html and "Egenvård räcker</textarea>" in html
    assert 'id="close-dialogue" name="concluded_in_dialogue" checked' in html
    assert _case(world, case.id).state == CaseState.STARTED
    done = nurse.post(
        f"/cases/{case.id}/close",
        {
            "concluded_in_dialogue": "on",
            "confirmed": "on",
            "note": "Egenvård räcker",
            "expected_version": version,
        },
    )
    assert done.status_code == 302
    assert _case(world, case.id).state == CaseState.CLOSED
    assert "Ärendet är avslutat" in nurse.page(case.id)


def test_OG_6_1_f_the_earliest_closing_time_shows_before_trying_and_in_the_refusal(world, staff, clock):
    """Started Monday 09:01 at a unit open 08–17: six working hours make 15:01 the earliest closing."""
    case = world.submit("adult")
    started(world, case)
    chat.staff_write(world.session, actor=world.actor("nurse"), case_id=case.id, body="Hur mår du nu?")
    clock.advance(hours=2, minutes=30)
    chat.remind(world.session, actor=world.actor("nurse"), case_id=case.id)
    world.session.commit()
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert "Obesvarat ärende: kan avslutas tidigast" in html and "2026-11-23 15:01" in html
    refused = nurse.post(
        f"/cases/{case.id}/close", {"confirmed": "on", "expected_version": version_in(html, "close")}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "OG-6.1-f" in html and "Tidigast:" in html and "2026-11-23 15:01" in html
    clock.advance(hours=4)
    html = nurse.page(case.id)
    assert "Obesvarat ärende: kan avslutas nu." in html
    assert (
        nurse.post(
            f"/cases/{case.id}/close", {"confirmed": "on", "expected_version": version_in(html, "close")}
        ).status_code
        == 302
    )
    assert _case(world, case.id).closed_reason == "unanswered"


def test_HA_remind_the_reminder_button_is_a_contact_attempt_and_refused_once_the_patient_answered(
    world, staff
):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    assert nurse.post(f"/cases/{case.id}/remind").status_code == 302
    html = nurse.page(case.id)
    assert "Sms-påminnelsen är skickad" in html and "Sms-påminnelse" in html
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Jag är här."
    )
    world.session.commit()
    refused = nurse.post(f"/cases/{case.id}/remind")
    assert refused.status_code == 422
    assert "Patienten har redan svarat." in refused.get_data(
        as_text=True
    ) and "HA-remind" in refused.get_data(as_text=True)


def test_HA_handover_consent_handing_over_to_a_doctor_asks_the_resident_first(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert "Patienten får först frågan om samtycke" in html
    doctor = world.staff["doctor"][0]
    response = nurse.post(
        f"/cases/{case.id}/handover",
        {
            "role": "Läkare",
            "user_id": str(doctor.id),
            "note": "Behöver läkarbedömning",
            "expected_version": version_in(html, "handover"),
        },
    )
    assert response.status_code == 302
    case = _case(world, case.id)
    assert case.state == CaseState.HANDED_OVER
    consent = read(world, select(Consent).where(Consent.case_id == case.id))
    assert consent.answer == ConsentAnswer.PENDING and consent.details["role"] == "Läkare"
    html = nurse.page(case.id)
    assert "väntar på svar" in html and "Väntar på överlämning" in html
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    world.session.commit()
    html = staff("doctor").page(case.id)
    assert f'action="/cases/{case.id}/close"' in html and "samtycke givet" in html
    assert read(world, select(JournalDraft.reason).where(JournalDraft.case_id == case.id)).value == "handover"


def test_HA_handover_consent_a_role_is_needed_and_the_units_routine_is_followed(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    refused = nurse.post(
        f"/cases/{case.id}/handover",
        {"role": "", "note": "Till någon", "expected_version": version_in(html, "handover")},
    )
    assert refused.status_code == 422 and "Till någon</textarea>" in refused.get_data(as_text=True)
    world.units["og"].settings = {
        **world.units["og"].settings,
        "handover_roles": {"Sjuksköterska": ["Läkare"]},
    }
    world.session.commit()
    html = nurse.page(case.id)
    assert '<option value="Psykolog"' not in html  # only the routine's roles are offered (OG-8.6)
    refused = nurse.post(
        f"/cases/{case.id}/handover", {"role": "Psykolog", "expected_version": version_in(html, "handover")}
    )
    assert refused.status_code == 422 and "OG-8.6" in refused.get_data(as_text=True)


def test_HA_suicide_b_suspected_suicide_risk_goes_to_the_psychologist_without_consent(world, staff):
    case = world.submit("adult", reason="nedstamdhet")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert (
        nurse.post(
            f"/cases/{case.id}/suicide-risk",
            {"note": "Uttrycker hopplöshet", "expected_version": version_in(html, "suicide-risk")},
        ).status_code
        == 302
    )
    case = _case(world, case.id)
    assert case.suicide_risk == "suspected" and case.handling_role == "Psykolog"
    assert (
        read(
            world,
            select(Consent.id).where(Consent.case_id == case.id, Consent.answer == ConsentAnswer.PENDING),
        )
        is None
    )
    html = staff("psychologist").page(case.id)
    assert "Gör en samlad suicidriskbedömning" in html and "Läge på suicidstegen" in html


def test_OG_8_3_switching_meeting_form_states_the_cost_and_asks_for_consent(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert "kr enligt taxan" in html  # the region's fee is shown beside each meeting form
    refused = nurse.post(
        f"/cases/{case.id}/meeting-form",
        {"meeting_form": "video", "cost": "", "expected_version": version_in(html, "meeting-form")},
    )
    assert refused.status_code == 422 and "Välj mötesform och ange kostnaden." in refused.get_data(
        as_text=True
    )
    assert (
        nurse.post(
            f"/cases/{case.id}/meeting-form",
            {"meeting_form": "video", "cost": "200", "expected_version": version_in(html, "meeting-form")},
        ).status_code
        == 302
    )
    consent = read(world, select(Consent).where(Consent.case_id == case.id))
    assert consent.kind.value == "meeting_form" and consent.details["cost"] == "200"
    message = read(
        world,
        select(ChatMessage.body).where(
            ChatMessage.case_id == case.id, ChatMessage.phrase_purpose == "consent_meeting_form"
        ),
    )
    assert "200 kronor" in message


def test_OG_6_2_a_doctor_ordering_tests_gets_a_follow_up_task_shown_on_the_case(world, staff):
    case = world.submit("adult")
    _with_doctor(world, case)
    doctor = staff("doctor")
    html = doctor.page(case.id)
    assert (
        doctor.post(
            f"/cases/{case.id}/order-tests",
            {"note": "CRP och blodstatus", "expected_version": version_in(html, "order-tests")},
        ).status_code
        == 302
    )
    html = doctor.page(case.id)
    assert "Följ upp provsvaret" in html and "Provsvaret är uppföljt" in html
    followup = read(world, select(HumanTask).where(HumanTask.process_id == "test_result_followup"))
    assert followup.owner_user_id == doctor.user.id
    # the doctor's own task page works too (the patient list links tasks without a case there)
    own = doctor.get(f"/cases/tasks/{followup.id}")
    assert (
        own.status_code == 200
        and "Provsvaret är uppföljt" in own.get_data(as_text=True)
        and f'href="/cases/{case.id}"' in own.get_data(as_text=True)
    )
    done = doctor.post(
        f"/cases/{case.id}/tasks/{followup.id}",
        {
            "followed_up": "on",
            "note": "Normala värden",
            "expected_version": version_in(html, f"tasks/{followup.id}"),
        },
    )
    assert done.status_code == 302
    assert read(world, select(HumanTask.id).where(HumanTask.process_id == "test_result_followup")) is None


def test_HA_behalf_wrong_patient_needs_its_confirmation_then_closes_and_marks_the_anamnesis(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    refused = nurse.post(
        f"/cases/{case.id}/wrong-patient",
        {"note": "Gäller maken", "expected_version": version_in(html, "wrong-patient")},
    )
    assert refused.status_code == 422 and "Gäller maken</textarea>" in refused.get_data(as_text=True)
    assert (
        nurse.post(
            f"/cases/{case.id}/wrong-patient",
            {"confirmed": "on", "expected_version": version_in(html, "wrong-patient")},
        ).status_code
        == 302
    )
    case = _case(world, case.id)
    assert case.wrong_patient and case.anamnesis.startswith("OBS FEL PATIENT")


def test_OG_7_b_an_administrative_matter_goes_to_medical_admin(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert (
        nurse.post(
            f"/cases/{case.id}/medical-admin",
            {"note": "Intyg", "expected_version": version_in(html, "medical-admin")},
        ).status_code
        == 302
    )
    assert "Handlägg administrativt" in staff("medadmin").page(case.id)


def test_a_stale_page_is_refused_with_what_changed_and_the_typed_text_kept(world, staff):
    """Someone else changed the case since the page was rendered: nothing is overwritten, the page
    says what happened since (who received it, the text message to the patient) and keeps the text."""
    case = world.submit("adult")
    nurse, nurse2 = staff("nurse"), staff("nurse2")
    html = nurse.page(case.id)
    stale, seen = version_in(html, "receive"), seen_in(html)
    handling.receive(
        world.session, world.engine, actor=world.actor("nurse2"), case_id=case.id
    )  # the colleague was first
    world.session.commit()
    refused = nurse.post(
        f"/cases/{case.id}/receive",
        {
            "new_priority": "2",
            "priority_reason": "Andningsbesvär i telefon",
            "expected_version": stale,
            "seen_event": seen,
        },
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Någon annan har ändrat ärendet" in html and "Mottaget" in html and "ägs av Nurse2 OG" in html
    changes = html[html.index("Det här har hänt sedan du öppnade sidan") :]
    assert "Ärendet togs emot (Nurse2 OG)" in changes[: changes.index("</ul>")]
    assert "case:submitted" not in changes  # only what came after the page
    assert "Andningsbesvär i telefon</textarea>" in html  # the form is gone; the text is shown apart
    assert _case(world, case.id).owner_user_id == nurse2.user.id


def test_a_stale_handling_page_refuses_a_handover_and_keeps_the_note(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    stale = version_in(nurse.page(case.id), "handover")
    handling.suspect_suicide_risk(world.session, world.engine, actor=world.actor("nurse"), case_id=case.id)
    world.session.commit()
    refused = nurse.post(
        f"/cases/{case.id}/handover",
        {"role": "Läkare", "note": "Läkaren bör titta", "expected_version": stale},
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Någon annan har ändrat ärendet" in html and "Läkaren bör titta" in html
    assert read(world, select(Consent.id).where(Consent.case_id == case.id)) is None


def test_HA_prio_b_the_priority_of_a_started_case_is_changed_with_a_reason_and_the_patient_list_follows(
    world, staff
):
    case = world.submit("adult")
    started(world, case)
    triage = _case(world, case.id).triage_priority
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert f'action="/cases/{case.id}/priority"' in html
    new = 1 if triage != 1 else 2
    refused = nurse.post(
        f"/cases/{case.id}/priority",
        {"priority": str(new), "priority_reason": "", "expected_version": version_in(html, "priority")},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert (
        'id="priority-reason-error"' in page and f'<option value="{new}" selected>' in page
    )  # the choice is kept
    done = nurse.post(
        f"/cases/{case.id}/priority",
        {
            "priority": str(new),
            "priority_reason": "Andningsbesvär i chatten",
            "expected_version": version_in(html, "priority"),
        },
    )
    assert done.status_code == 302
    case = _case(world, case.id)
    assert (case.priority, case.triage_priority) == (new, triage)  # triage's value is kept beside it
    assert set(world.session.scalars(select(HumanTask.priority).where(HumanTask.case_id == case.id))) == {new}
    event = read(world, select(AuditEvent).where(AuditEvent.action == "case:priority_changed"))
    assert event.details["reason"] == "Andningsbesvär i chatten" and event.details["previous"] == triage
    assert "Prioriteten är ändrad." in nurse.page(case.id)


def test_HA_prio_b_a_priority_changed_by_a_colleague_meanwhile_is_not_overwritten(world, staff):
    """The overall responsible raised the priority while the nurse's page was open: the nurse's
    lowering is refused (409) with what changed, and her reason is kept."""
    from app.casework import actions
    from app.people.service import take_duty

    case = world.submit("adult")
    started(world, case)
    take_duty(world.session, actor=world.actor("nurse2"))
    world.session.commit()
    nurse = staff("nurse")
    html = nurse.page(case.id)
    version, seen = version_in(html, "priority"), seen_in(html)
    actions.change_priority(
        world.session,
        actor=world.actor("nurse2"),
        case_id=case.id,
        priority=1,
        reason="Försämrad",
        expected_version=None,
    )
    world.session.commit()
    refused = nurse.post(
        f"/cases/{case.id}/priority",
        {
            "priority": "5",
            "priority_reason": "Lindriga besvär",
            "expected_version": version,
            "seen_event": seen,
        },
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Prioriteten ändrades (Nurse2 OG)" in page and "Lindriga besvär</textarea>" in page
    assert _case(world, case.id).priority == 1


def test_closing_racing_a_patients_message_is_a_conflict_that_keeps_the_form_not_an_incident(
    world, staff, monkeypatch
):
    """The patient's message commits between the close's read of the case and its write: the close
    is refused (409, the typed note kept, the case still open) and no routine incident is recorded —
    a colleague's or the patient's change is not a broken routine."""
    from sqlalchemy import func, update

    from app.cases.effects import CaseEffectsImpl
    from app.instances.models import Incident

    case = world.submit("adult")
    started(world, case)
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=case.id,
        body="Tack, det räcker så.",
    )
    world.session.commit()
    real_close = CaseEffectsImpl.close

    def close_after_a_message(self, *args, **kwargs):
        table = Case.__table__  # the patient's next message, committed meanwhile: the version moves on
        self.session.execute(
            update(table).where(table.c.id == self.case.id).values(version=table.c.version + 1)
        )
        return real_close(self, *args, **kwargs)

    monkeypatch.setattr(CaseEffectsImpl, "close", close_after_a_message)
    nurse = staff("nurse")
    version = version_in(nurse.page(case.id), "close")
    refused = nurse.post(
        f"/cases/{case.id}/close",
        {
            "concluded_in_dialogue": "on",
            "confirmed": "on",
            "note": "Egenvård räcker",
            "expected_version": version,
        },
    )
    assert refused.status_code == 409
    assert "Egenvård räcker</textarea>" in refused.get_data(as_text=True)
    assert _case(world, case.id).state == CaseState.STARTED
    assert read(world, select(func.count()).select_from(Incident)) == 0


def _language_return(html: str) -> str:
    form = re.search(r'<form[^>]+action="/language".*?</form>', html, re.S).group(0)
    return re.search(r'name="next" value="([^"]*)"', form).group(1)


def test_switching_language_on_a_refused_form_returns_to_the_case_page_not_to_the_action_url(world, staff):
    """A refused action answers at its POST-only URL (/cases/7/receive); the language switch there used to
    send the user back to that URL with a GET, which ended on an error page with the form gone."""
    case = world.submit("adult")
    nurse = staff("nurse")
    version = version_in(nurse.page(case.id), "receive")
    refused = nurse.post(
        f"/cases/{case.id}/receive",
        {"new_priority": "2", "priority_reason": "", "expected_version": version},
        headers={"Referer": f"http://localhost/cases/{case.id}?before=1"},
    )
    assert refused.status_code == 422
    assert _language_return(refused.get_data(as_text=True)) == f"/cases/{case.id}?before=1"
    # Without a Referer (a browser may withhold it) the nearest page above the action URL.
    bare = nurse.post(
        f"/cases/{case.id}/receive", {"new_priority": "2", "priority_reason": "", "expected_version": version}
    )
    assert _language_return(bare.get_data(as_text=True)) == f"/cases/{case.id}"
    switched = nurse.post("/language", {"lang": "en", "next": f"/cases/{case.id}"})
    assert switched.headers["Location"].endswith(f"/cases/{case.id}")
    assert "Receive" in nurse.page(case.id)
    # A page that answers both (GET and POST at one URL) comes back to itself.
    assert _language_return(nurse.page(case.id)) == f"/cases/{case.id}"


def test_HA_doc_a_OG_8_6_the_handover_note_reaches_the_colleague_who_takes_over_and_the_journal_note(
    world, staff
):
    """The note written with a handover went into the routine's task data and nowhere else: the doctor
    who took the case over never saw it and the nurse's journal note had an empty assessment. It now
    is the nurse's assessment in her note, shown on the case page, also when the handover waits for
    the resident's consent (a later transaction); the audit trail does not carry the clinical text."""
    from app.audit.models import AuditEvent

    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    note = "Halsont sedan en vecka, svårt att svälja. Behöver läkarbedömning."
    response = nurse.post(
        f"/cases/{case.id}/handover",
        {"role": "Läkare", "note": note, "expected_version": version_in(nurse.page(case.id), "handover")},
    )
    assert response.status_code == 302
    case = _case(world, case.id)  # the page's request changed it: read it again
    consent = read(world, select(Consent).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
    )
    world.session.commit()
    draft = read(world, select(JournalDraft).where(JournalDraft.case_id == case.id))
    assert note in draft.text and draft.for_user_id == world.staff["nurse"][0].id
    assert note in staff("doctor").page(case.id)
    requested = read(world, select(AuditEvent.details).where(AuditEvent.action == "consent:requested"))
    assert note not in str(requested)


def test_HA_suicide_b_OG_11_e_the_note_with_a_suicide_risk_handover_and_with_closing_is_the_writers_assessment(
    world,
):
    case = world.submit("adult")
    started(world, case)
    handling.suspect_suicide_risk(
        world.session, world.engine, actor=world.actor("nurse"), case_id=case.id, note="Uttrycker hopplöshet."
    )
    world.session.commit()
    texts = world.session.scalars(select(JournalDraft.text).where(JournalDraft.case_id == case.id)).all()
    world.session.commit()
    assert any("Uttrycker hopplöshet." in t for t in texts)

    other = world.submit("other")
    started(world, other)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("other"), case_id=other.id, body="Tack!"
    )
    handling.close(
        world.session,
        world.engine,
        actor=world.actor("nurse"),
        case_id=other.id,
        concluded_in_dialogue=True,
        confirmed=True,
        note="Halsont utan feber, egenvårdsråd givna.",
    )
    world.session.commit()
    assert "Halsont utan feber, egenvårdsråd givna." in read(
        world, select(JournalDraft.text).where(JournalDraft.case_id == other.id)
    )
