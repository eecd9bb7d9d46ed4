"""The clinician's case page in the browser: the nurse's whole flow (with the mouse and by keyboard
alone), a handover to a doctor with the resident's consent, and the suicide-risk path to a
psychologist. axe-core runs on every page; the screenshot shows a case with a few messages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.service import Actor
from app.cases import chat
from app.cases.models import Case, CaseKind, Consent
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.patients.models import Patient
from app.people.models import Unit, User
from app.people.service import sign_in
from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser

EKDALEN = "Vårdcentralen Ekdalen"
ANNA = "199203012381"


def _submit(live_server, number: str = ANNA, **answers) -> int:
    """A resident's Sök vård case at Ekdalen, through the service (the resident pages are another area)."""
    session = live_server.session()
    try:
        patient = session.scalar(select(Patient).where(Patient.identity_number == number))
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        triage = DemoTriage().assess(
            {"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3, **answers}
        )
        case = submit_case(
            session,
            live_server.app.extensions["engine"],
            actor=Actor(label=patient.display_name, patient_id=patient.id),
            patient_id=patient.id,
            unit_id=unit.id,
            kind=CaseKind.SOK_VARD,
            triage=triage,
        )
        session.commit()
        return case.id
    finally:
        session.close()


def _as_resident(live_server, case_id: int, action) -> None:
    session = live_server.session()
    try:
        case = session.get(Case, case_id)
        patient = session.get(Patient, case.patient_id)
        action(session, Actor(label=patient.display_name, patient_id=patient.id))
        session.commit()
    finally:
        session.close()


def _no_violations(page) -> None:
    assert axe_violations(page) == []


def test_the_nurse_receives_starts_chats_reminds_and_closes_only_when_allowed(page, live_server, clock):
    """OG-6.1-b/c/d, HA-remind, OG-6.1-f/g, HA-close-confirm: the nurse's flow from the patient list."""
    case_id = _submit(live_server)
    sign_in_as(page, "Sara Lind")
    page.get_by_role("link", name="Anna Andersson").first.click()
    page.get_by_role("heading", name=re.compile("Halsont")).wait_for()
    _no_violations(page)

    page.get_by_label("Prioritet", exact=True).select_option("4")
    page.get_by_label("Skäl till ändrad prioritet").fill("Lindriga besvär enligt anamnesen.")
    page.get_by_role("button", name="Ta emot").click()
    page.get_by_role("status").filter(has_text="Ärendet är mottaget").wait_for()
    _no_violations(page)

    page.get_by_label("Första meddelandet").fill(
        "Hej Anna. Jag heter Sara och är sjuksköterska. Hur länge har du haft feber?"
    )
    page.get_by_role("button", name="Starta").click()
    page.get_by_role("status").filter(has_text="Ärendet är startat").wait_for()
    assert "Hur länge har du haft feber?" in page.locator("#chat-log").inner_text()

    _as_resident(
        live_server,
        case_id,
        lambda s, resident: chat.patient_write(
            s,
            live_server.app.extensions["engine"],
            actor=resident,
            case_id=case_id,
            body="Sedan i går kväll.",
        ),
    )
    clock.advance(minutes=5)
    page.reload()
    page.get_by_label("Nytt meddelande till patienten").fill(
        "Tack. Drick mycket och vila. Hör av dig om det blir värre."
    )
    page.get_by_role("button", name="Skicka", exact=True).click()
    page.get_by_role("status").filter(has_text="Meddelandet är skickat").wait_for()
    _no_violations(page)
    screenshot(page, "case-page")

    clock.advance(minutes=30)
    page.get_by_role("button", name="Skicka sms-påminnelse").click()
    page.get_by_role("status").filter(has_text="Sms-påminnelsen är skickad").wait_for()

    page.locator("#action-close summary").click()
    assert "kan avslutas tidigast" in page.locator("#close-info").inner_text()
    page.get_by_label("Jag bekräftar att ärendet ska avslutas").check()
    page.get_by_role("button", name="Avsluta ärendet").click()
    refusal = page.get_by_role("alert").filter(has_text="tidigast")
    refusal.wait_for()
    assert re.search(r"Tidigast: \d{4}-\d{2}-\d{2} \d{2}:\d{2}", refusal.inner_text())
    _no_violations(page)

    clock.advance(hours=7)  # past six working hours; a second contact attempt hours after the first
    page.goto(f"/cases/{case_id}")
    page.get_by_role("button", name="Skicka sms-påminnelse").click()
    page.get_by_role("status").filter(has_text="Sms-påminnelsen är skickad").wait_for()
    page.locator("#action-close summary").click()
    page.get_by_role("button", name="Avsluta ärendet").click()  # not confirmed: refused
    page.get_by_role("alert").filter(has_text="Bekräfta").wait_for()
    page.get_by_label("Jag bekräftar att ärendet ska avslutas").check()
    page.get_by_role("button", name="Avsluta ärendet").click()
    page.get_by_role("status").filter(has_text="Ärendet är avslutat").wait_for()
    assert "Avslutat" in page.locator("#h-case + dl").inner_text()
    assert page.get_by_role("button", name="Markera som dokumenterad").count() == 1
    _no_violations(page)
    screenshot(page, "case-page-closed")


def _started_by(live_server, case_id: int, username: str = "sara.lind") -> None:
    """Receive and start the case as a staff member, through the services (the test's focus is elsewhere)."""
    from app.cases import handling
    from app.people.service import actor_for

    session = live_server.session()
    try:
        user = session.scalar(select(User).where(User.username == username))
        case = session.get(Case, case_id)
        actor = actor_for(session, user, case.unit_id)
        engine = live_server.app.extensions["engine"]
        handling.receive(session, engine, actor=actor, case_id=case_id)
        handling.start(
            session,
            engine,
            actor=actor,
            case_id=case_id,
            first_message="Hej, jag heter Sara och är sjuksköterska. Hur mår du?",
        )
        session.commit()
    finally:
        session.close()


def _sign_out(page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    page.get_by_role("heading").first.wait_for()


def test_HA_handover_consent_the_nurse_hands_over_to_a_named_doctor_who_takes_it_after_consent(
    page, live_server
):
    case_id = _submit(live_server)
    sign_in_as(page, "Sara Lind")
    _started_by(live_server, case_id)
    page.goto(f"/cases/{case_id}")
    page.locator("#action-handover summary").click()
    page.get_by_label("Till yrkesroll").select_option("Läkare")
    maria = page.locator("#handover-user option", has_text="Maria Berg").get_attribute("value")
    page.get_by_label("Till namngiven kollega (valfritt)").select_option(maria)
    page.get_by_role("button", name="Fråga om samtycke och lämna över").click()
    page.get_by_role("status").filter(has_text="frågan om samtycke").wait_for()
    assert "väntar på svar" in page.locator("#contact").inner_text()
    _no_violations(page)

    def consent(session, resident):
        pending = session.scalar(select(Consent).where(Consent.case_id == case_id))
        chat.answer_consent(
            session, live_server.app.extensions["engine"], actor=resident, consent_id=pending.id, given=True
        )

    _as_resident(live_server, case_id, consent)
    _sign_out(page)
    sign_in_as(page, "Maria Berg")
    page.get_by_role("link", name="Anna Andersson").first.click()
    page.get_by_role("heading", name="Handlägg ärendet").wait_for()
    assert "Maria Berg" in page.locator("#h-case + dl").inner_text()
    assert page.locator("#action-close").count() == 1
    _no_violations(page)
    screenshot(page, "case-page-handed-over-to-doctor")


def test_HA_suicide_b_the_suspected_risk_reaches_the_psychologist_who_completes_the_assessment(
    page, live_server
):
    case_id = _submit(live_server, reason="nedstamdhet")
    session = live_server.session()
    try:
        johan = session.scalar(select(User).where(User.username == "johan.ek"))
        sign_in(
            session, user=johan, unit_id=session.scalar(select(Unit.id).where(Unit.name == EKDALEN))
        )  # Johan is at work
        session.commit()
    finally:
        session.close()
    sign_in_as(page, "Sara Lind")
    _started_by(live_server, case_id)
    page.goto(f"/cases/{case_id}")
    page.locator("#action-suicide summary").click()
    page.get_by_role("button", name="Lämna över för suicidriskbedömning").click()
    page.get_by_role("status").filter(has_text="suicidriskbedömning").wait_for()
    _sign_out(page)

    sign_in_as(page, "Johan Ek")
    page.get_by_role("link", name="Anna Andersson").first.click()
    page.get_by_role("heading", name="Gör en samlad suicidriskbedömning").wait_for()
    _no_violations(page)
    page.get_by_role("button", name="Klar").click()  # nothing filled in: errors beside the fields
    page.get_by_role("alert").first.wait_for()
    assert page.locator(".field-error").count() >= 3
    _no_violations(page)
    page.get_by_label("Läge på suicidstegen").fill("2")
    page.get_by_role("group", name=re.compile("Bedömd risk")).get_by_label("Låg", exact=True).check()
    page.get_by_role("group", name=re.compile("Bedömningen gjord via")).get_by_label("chat").check()
    page.get_by_role("group", name=re.compile("trygg med vård online")).get_by_label("Ja").check()
    page.get_by_label("Skyddsfaktorer").fill("Familj och arbete")
    page.get_by_role("button", name="Klar").click()
    page.get_by_role("status").filter(has_text="Uppgiften är klar").wait_for()
    assert "låg" in page.locator("#h-case + dl").inner_text()
    _no_violations(page)
    screenshot(page, "case-page-suicide-risk-assessed")


def _focus_on(page, role: str) -> None:
    page.wait_for_function(
        "(r) => document.activeElement && document.activeElement.getAttribute('role') === r",
        arg=role,
        timeout=3000,
    )


def _tab_to(page, selector: str, text: str | None = None, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` (and `text`) has focus (keyboard only, as a user would)."""
    check = "([s, t]) => { const e = document.activeElement; return !!e && e.matches(s) && (t === null || e.textContent.trim() === t); }"
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check, [selector, text]):
            return
    raise AssertionError(f"never reached {selector} {text or ''} by Tab")


def test_the_nurse_flow_works_by_keyboard_alone(page, live_server, clock):
    """Receive, start, remind and try to close with Tab, Enter and Space only; refusals take the focus."""
    case_id = _submit(live_server)
    page.goto("/login")
    _tab_to(page, "button", "Sara Lind")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Patientliggaren").wait_for()
    _tab_to(page, f"a[href='/cases/{case_id}']")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=re.compile("Halsont")).wait_for()

    _tab_to(page, "form[action$='/receive'] button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Ärendet är mottaget").wait_for()
    _focus_on(page, "status")  # the status message has the focus

    _tab_to(page, "#start-first-message")
    page.keyboard.type("Hej Anna. Jag heter Sara och är sjuksköterska. Hur mår du i dag?")
    _tab_to(page, "form[action$='/start'] button[value=send]")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Ärendet är startat").wait_for()

    _tab_to(page, "form[action$='/remind'] button")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Sms-påminnelsen är skickad").wait_for()

    page.keyboard.press("Shift+Tab")  # back up the page to the handling actions
    _tab_to(page, "#action-close summary", limit=200)
    page.keyboard.press("Enter")
    _tab_to(page, "#close-confirmed")
    page.keyboard.press("Space")
    _tab_to(page, "form[action$='/close'] button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_role("alert").filter(has_text="tidigast").wait_for()
    _focus_on(page, "alert")  # the refusal has the focus
    assert page.evaluate("document.activeElement.textContent").count("OG-6.1-")
    screenshot(page, "case-page-keyboard-close-refused")


def test_older_messages_a_form_preview_and_the_notes_to_document_work_in_place(page, live_server, clock):
    """Visa tidigare loads the older page in place (focus follows); OG-8.1 the preview comes before
    sending; OG-11-e the closed case's note is copied and ticked off from the list."""
    from datetime import timedelta

    from sqlalchemy import insert

    from app.cases.models import ChatMessage, MessageAuthor

    case_id = _submit(live_server)
    _started_by(live_server, case_id)
    session = live_server.session()
    try:
        case = session.get(Case, case_id)
        session.execute(
            insert(ChatMessage),
            [
                {
                    "case_id": case_id,
                    "author": MessageAuthor.PATIENT,
                    "author_patient_id": case.patient_id,
                    "body": f"Meddelande {i}",
                    "sent_at": case.started_at + timedelta(seconds=i),
                }
                for i in range(1, 41)
            ],
        )
        case.last_patient_message_at, case.patient_answered = case.started_at + timedelta(seconds=40), True
        session.commit()
    finally:
        session.close()
    sign_in_as(page, "Sara Lind")
    page.goto(f"/cases/{case_id}")
    assert page.locator("#chat-log li.msg").count() == 30
    page.get_by_role("link", name="Visa tidigare meddelanden").click()
    page.wait_for_function("document.querySelectorAll('#chat-log li.msg').length === 41")
    page.wait_for_function("document.activeElement && document.activeElement.matches('ol.messages')")
    assert page.locator("#chat-log li.msg").first.inner_text().count("Hej, jag heter Sara")

    page.get_by_label("Skicka formulär eller skattningsskala").select_option("demo_worry")
    page.get_by_role("button", name="Förhandsgranska").click()
    preview = page.get_by_role("region", name=re.compile("Förhandsgranskning"))
    preview.wait_for()
    assert "Inte kunnat sluta oroa dig" in preview.inner_text()
    _no_violations(page)
    preview.get_by_role("button", name="Skicka formuläret till patienten").click()
    page.get_by_role("status").filter(has_text="Formuläret är skickat").wait_for()

    page.locator("#action-close summary").click()
    page.get_by_label("Avslutat i dialog med patienten").check()
    page.get_by_label("Jag bekräftar att ärendet ska avslutas").check()
    page.get_by_role("button", name="Avsluta ärendet").click()
    page.get_by_role("status").filter(has_text="Ärendet är avslutat").wait_for()
    page.get_by_role("link", name="Att dokumentera").click()
    page.get_by_role("heading", name="Att dokumentera", level=1).wait_for()
    _no_violations(page)
    page.get_by_text("Visa anteckningen").click()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Kopiera texten").click()
    page.get_by_role("status").filter(has_text="Kopierat").wait_for()
    assert "Rådgivning RGS webb" in page.evaluate("navigator.clipboard.readText()")
    page.get_by_role("button", name="Markera som dokumenterad").click()
    page.get_by_role("status").filter(has_text="markerad som dokumenterad").wait_for()
    assert page.get_by_text("Inget att dokumentera.").is_visible()
    screenshot(page, "undocumented-list")


def test_a_clinician_of_another_unit_is_refused_and_the_attempt_is_logged(page, live_server):
    """Staff read only their own unit's cases (or a unit they cover): a Havsbris nurse opening an
    Ekdalen case gets 403, sees nothing of the patient, and the attempt is in the access log."""
    from app.audit.models import AccessLog

    case_id = _submit(live_server)
    sign_in_as(page, "Nils Åberg")
    response = page.goto(f"/cases/{case_id}")
    assert response is not None and response.status == 403
    page.get_by_role("heading", name="Åtkomst nekad").wait_for()
    assert "Anna" not in page.content() and not {ANNA, "19920301-2381", "2381"} & set(
        re.findall(r"[\d-]+", page.content())
    )
    _no_violations(page)
    screenshot(page, "case-page-other-unit-refused")
    session = live_server.session()
    try:
        nils = session.scalar(select(User.id).where(User.username == "nils.aberg"))
        refused = session.scalars(
            select(AccessLog).where(AccessLog.action == "case:view_refused", AccessLog.case_id == case_id)
        ).all()
        assert [(r.user_id, r.context) for r in refused] == [(nils, f"/cases/{case_id}")]
        assert not session.scalars(
            select(AccessLog).where(AccessLog.action == "case:view", AccessLog.user_id == nils)
        ).all()
    finally:
        session.close()


def test_text_typed_before_the_session_was_lost_is_there_after_signing_in_again(page, live_server):
    """Nothing typed is lost on an idle timeout: the session ends while a message is being written,
    the post is refused, and after signing in again the case page puts the text back until it is sent."""
    case_id = _submit(live_server)
    _started_by(live_server, case_id)
    sign_in_as(page, "Sara Lind")
    page.goto(f"/cases/{case_id}")
    text = "Hej Anna. Hur har natten varit? Har febern gått ner?"
    page.get_by_label("Nytt meddelande till patienten").fill(text)
    page.context.clear_cookies()  # the session is gone (timed out, or signed out in another tab)
    page.get_by_role("button", name="Skicka", exact=True).click()
    page.wait_for_load_state()
    assert text not in page.content()  # the post was refused, and that page knows nothing of the text

    sign_in_as(page, "Sara Lind")
    page.goto(f"/cases/{case_id}")
    assert page.get_by_label("Nytt meddelande till patienten").input_value() == text
    assert page.get_by_text("Återställd text").is_visible()
    _no_violations(page)
    screenshot(page, "case-page-text-restored-after-sign-in")
    page.get_by_role("button", name="Skicka", exact=True).click()
    page.get_by_role("status").filter(has_text="Meddelandet är skickat").wait_for()
    assert text in page.locator("#chat-log").inner_text()
    page.reload()
    assert page.get_by_label("Nytt meddelande till patienten").input_value() == ""  # sent: forgotten


def test_after_a_real_idle_timeout_signing_in_again_leads_back_to_the_case_with_the_text(page, live_server):
    """The server's idle timeout (here six seconds): the send is not carried out, the login page says
    why, and signing in again leads straight back to the case page with the typed text put back."""
    case_id = _submit(live_server)
    _started_by(live_server, case_id)
    live_server.app.config["SESSION_IDLE_MINUTES"] = 0.1
    try:
        sign_in_as(page, "Sara Lind")
        page.goto(f"/cases/{case_id}")
        text = "Hej Anna, hur mår du i dag?"
        with page.expect_response(re.compile(r"/tone$")):  # typing is activity: the tone hint asks the server
            page.get_by_label("Nytt meddelande till patienten").fill(text)
        page.wait_for_timeout(7_000)
        page.get_by_role("button", name="Skicka", exact=True).click()
        page.wait_for_url(re.compile(r"/login\?"))
        assert "Du loggades ut efter en stund utan aktivitet" in page.locator("main").inner_text()
        page.get_by_role("button", name="Sara Lind").first.click()
        page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
        assert page.get_by_label("Nytt meddelande till patienten").input_value() == text
        assert text not in page.locator("#chat-log").inner_text()  # not sent behind the user's back
    finally:
        live_server.app.config["SESSION_IDLE_MINUTES"] = 30


def test_a_colleague_was_quicker_the_page_says_what_changed_and_keeps_the_typed_text(page, live_server):
    """A stale page: Erik received the case while Sara's page was open. Sara's "Ta emot" is refused
    (409) with what happened since, and her reason for the priority is still there to copy."""
    from app.cases import handling
    from app.people.service import actor_for

    case_id = _submit(live_server)
    sign_in_as(page, "Sara Lind")
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Prioritet", exact=True).select_option("2")
    page.get_by_label("Skäl till ändrad prioritet").fill("Andningsbesvär enligt anamnesen.")
    session = live_server.session()
    try:
        erik = session.scalar(select(User).where(User.username == "erik.holm"))
        handling.receive(
            session,
            live_server.app.extensions["engine"],
            actor=actor_for(session, erik, session.get(Case, case_id).unit_id),
            case_id=case_id,
        )
        session.commit()
    finally:
        session.close()
    page.get_by_role("button", name="Ta emot").click()
    refusal = page.get_by_role("alert").filter(has_text="Någon annan har ändrat ärendet")
    refusal.wait_for()
    assert "Ärendet togs emot (Erik Holm)" in refusal.inner_text()
    assert page.locator("#kept-priority_reason").input_value() == "Andningsbesvär enligt anamnesen."
    _no_violations(page)
    screenshot(page, "case-page-conflict")


def test_switching_language_after_a_refused_form_keeps_the_page_and_what_was_typed(page, live_server):
    """A refused action answers at its action URL; switching language there used to GET that POST-only
    URL (an error page, the form gone). Now the case page comes back in English with the choice and the
    text as they were."""
    case_id = _submit(live_server)
    sign_in_as(page, "Sara Lind")
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Prioritet", exact=True).select_option("2")
    page.get_by_role("button", name="Ta emot").click()
    page.get_by_text("Skäl till ändrad prioritet").first.wait_for()
    assert page.url.endswith(f"/cases/{case_id}/receive")  # the refusal answers at the action URL
    page.get_by_label("Skäl till ändrad prioritet").fill("Andningsbesvär enligt anamnesen")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_label("Priority", exact=True).input_value() == "2"
    assert (
        page.get_by_label("Reason for the changed priority").input_value()
        == "Andningsbesvär enligt anamnesen"
    )
    page.reload()  # carried once, then forgotten
    assert page.get_by_label("Priority", exact=True).input_value() != "2"
