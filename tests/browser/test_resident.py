"""The resident's pages in a phone-sized browser: a guardian seeks care for their child, answers the
nurse in the chat, uploads the image asked for and fills in a rating scale; refusals are shown with
focus on the error summary. axe-core finds no serious or critical violation on any page."""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.audit.service import Actor
from app.cases import chat, handling
from app.cases.models import Case, CaseImage, CaseKind, ChatMessage, PatientForm
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.patients.models import Patient
from app.people.models import Unit, User
from app.people.service import actor_for
from tests.browser.conftest import AXE, SERIOUS, axe_violations, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f7a6b30000000049454e44ae426082"
)


@pytest.fixture
def phone(playwright_browser, live_server):
    """A phone-sized browser context of its own (cookies, CSP bypassed only so axe can be injected)."""
    context = playwright_browser.new_context(
        base_url=live_server.url, locale="sv-SE", bypass_csp=True, viewport=PHONE
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _checked(page) -> None:
    """No serious accessibility violation, and nothing wider than the phone (no sideways scrolling)."""
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _axe_under_csp(page) -> list[dict]:
    """axe-core on a page served with the product's CSP: loaded from a same-origin URL the test serves."""
    page.route("**/__axe.js", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
    page.add_script_tag(url="/__axe.js")
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def _sign_in(page, name: str) -> None:
    page.goto("/resident/login")
    _checked(page)
    page.get_by_role("button", name=name).click()
    page.get_by_role("heading", name="Mina ärenden").wait_for()


def _no_red_flags(page) -> None:
    """Answer "Nej" to each of the triage's red-flag questions (none is answered in advance)."""
    for question in (
        "Har du svårt att andas eller ont i bröstet?",
        "Har du tankar på att skada dig själv?",
        "Har du över 39 graders feber?",
    ):
        page.get_by_role("group", name=question).get_by_label("Nej").check()


def _nurse(session):
    user = session.scalar(select(User).where(User.username == "sara.lind"))
    unit = session.scalar(select(Unit).where(Unit.name == "Vårdcentralen Ekdalen"))
    return actor_for(session, user, unit.id)


def _nurse_writes(live_server, case_id: int, body: str) -> None:
    session = live_server.session()
    try:
        chat.staff_write(session, actor=_nurse(session), case_id=case_id, body=body)
        session.commit()
    finally:
        session.close()


def _nurse_answers(live_server, case_id: int) -> None:
    """Sara Lind receives and starts the case, asks for an image and sends a rating scale (through the services)."""
    session = live_server.session()
    try:
        nurse = _nurse(session)
        engine = live_server.app.extensions["engine"]
        handling.receive(session, engine, actor=nurse, case_id=case_id)
        handling.start(
            session,
            engine,
            actor=nurse,
            case_id=case_id,
            first_message="Hej Cecilia, hur länge har du haft ont i halsen?",
        )
        chat.request_images(
            session, actor=nurse, case_id=case_id, instructions="Ta en bild på halsen i dagsljus."
        )
        chat.send_form(session, actor=nurse, case_id=case_id, form_key="demo_mood")
        session.commit()
    finally:
        session.close()


def test_a_guardian_seeks_care_for_their_child_answers_the_nurse_uploads_an_image_and_fills_in_a_rating_scale(
    phone, live_server
):
    page = phone
    _sign_in(page, "Anna Andersson")
    _checked(page)
    page.get_by_role("link", name="Sök vård").click()
    page.get_by_role("heading", name="Sök vård").wait_for()
    assert "certifierade triagering" in page.locator("#stand-in").inner_text()
    _checked(page)
    page.get_by_label(re.compile(r"^Cecilia Berg, \d+ år$")).check()
    page.get_by_label("Vårdcentralen Ekdalen", exact=True).check()
    page.get_by_label("Halsont", exact=True).check()
    page.get_by_label("Beskriv dina besvär").fill("Ont i halsen och svårt att svälja sedan i lördags.")
    _no_red_flags(page)  # the triage does not answer them for the patient
    screenshot(page, "resident-new-case")
    page.get_by_role("button", name="Skicka", exact=True).click()
    page.get_by_text("Ditt ärende är skickat till Vårdcentralen Ekdalen.").wait_for()
    page.wait_for_function(
        "document.activeElement.classList.contains('status-message')"
    )  # focus on the result
    _checked(page)

    case_id = int(re.search(r"/resident/cases/(\d+)", page.url).group(1))
    _nurse_answers(live_server, case_id)
    live_server.app.config["RESIDENT_CHAT_POLL_SECONDS"] = 1  # the chat follows itself, quickly here
    page.reload()
    page.get_by_text("Hej Cecilia, hur länge har du haft ont i halsen?").wait_for()
    # The chat answer goes through htmx: the chat part is swapped, focus returns to the message field.
    page.get_by_label("Skriv ett meddelande").fill("Sedan i lördags. Det gör mest ont på morgonen.")
    page.get_by_role("button", name="Skicka meddelandet").click()
    page.locator("#message-list").get_by_text("Sedan i lördags. Det gör mest ont på morgonen.").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'chat-body'")
    page.wait_for_function(
        "document.getElementById('live').textContent === 'Ditt meddelande är skickat.'"
    )  # announced
    assert page.get_by_label("Skriv ett meddelande").input_value() == ""

    # Following the chat: the nurse's next message arrives without a reload, while the resident is
    # typing; it is announced, and neither the text being typed nor the focus is disturbed.
    page.get_by_label("Skriv ett meddelande").fill("Jag har inte")
    _nurse_writes(live_server, case_id, "Har du haft feber?")
    page.locator("#message-list").get_by_text("Har du haft feber?").wait_for()
    page.wait_for_function("document.getElementById('live').textContent === 'Nytt meddelande i ärendet.'")
    assert page.get_by_label("Skriv ett meddelande").input_value() == "Jag har inte"
    expect(page.locator("#chat-body")).to_be_focused()  # waits: focus is moved by a deferred script
    assert page.locator("#message-list li").count() == 5  # each message once
    page.get_by_label("Skriv ett meddelande").fill("Jag har inte haft feber.")
    page.get_by_role("button", name="Skicka meddelandet").click()
    page.locator("#message-list").get_by_text("Jag har inte haft feber.").wait_for()
    page.wait_for_timeout(1500)  # a poll or two later: still each message once
    assert page.locator("#message-list li").count() == 6

    page.get_by_label("Välj bild").set_input_files(
        {"name": "hals.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_role("button", name="Ladda upp bilden").click()
    page.get_by_text("Bilden är uppladdad i ärendet.").wait_for()

    page.get_by_role("link", name=re.compile("Fyll i: Skattning av stämningsläge")).click()
    page.get_by_role("heading", name="Skattning av stämningsläge (demo)").wait_for()
    _checked(page)
    for item, answer in (
        ("Lite intresse eller glädje i att göra saker", "Flera dagar"),
        ("Känt dig nedstämd eller hopplös", "Inte alls"),
        ("Svårt att sova eller sovit för mycket", "Mer än hälften av dagarna"),
        ("Känt dig trött eller energilös", "Nästan varje dag"),
    ):
        page.get_by_role("group", name=item).get_by_label(answer).check()
    page.get_by_role("button", name="Skicka svaren").click()
    page.get_by_text("Tack! Dina svar är skickade till mottagningen.").wait_for()
    _checked(page)
    screenshot(page, "resident-chat")

    session = live_server.session()
    try:
        case = session.get(Case, case_id)
        assert case.patient.given_name == "Cecilia" and case.patient_id != case.submitted_by_id
        assert session.scalar(select(PatientForm.score).where(PatientForm.case_id == case_id)) == 6
        assert session.scalar(select(CaseImage.filename).where(CaseImage.case_id == case_id)) == "hals.png"
        assert (
            "Sedan i lördags. Det gör mest ont på morgonen."
            in session.scalars(select(ChatMessage.body).where(ChatMessage.case_id == case_id)).all()
        )
    finally:
        session.close()


def test_OG_6_4_a_a_refusal_comes_back_on_the_form_with_focus_on_the_error_summary_and_no_inline_code_blocked(
    playwright_browser, live_server
):
    # No CSP bypass here: the pages must work under the product's Content-Security-Policy as served.
    context = playwright_browser.new_context(base_url=live_server.url, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked = []
    page.on(
        "console",
        lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None,
    )
    try:
        page.goto("/resident/login")
        page.get_by_role("button", name="Anna Andersson").click()
        page.goto("/resident/new")
        ebba = page.get_by_label(re.compile(r"^Ebba Andersson, 0 år$"))
        expect(ebba).to_be_disabled()  # not choosable here, the reason beside the name
        expect(ebba).to_have_accessible_description("Under 1 år: ring 1177 eller kontakta vårdcentralen.")
        # The engine's guard still refuses her (a form from before she was shown as not choosable).
        ebba.evaluate("input => { input.disabled = false; }")
        ebba.check()
        page.get_by_label("Vårdcentralen Ekdalen", exact=True).check()
        page.get_by_label("Feber", exact=True).check()
        page.get_by_label("Beskriv dina besvär").fill("Feber sedan i går kväll.")
        _no_red_flags(page)
        page.get_by_role("button", name="Skicka", exact=True).click()
        summary = page.locator("#error-summary")
        summary.wait_for()
        assert "under 1 år" in summary.inner_text()
        expect(page.locator("#error-summary")).to_be_focused()  # waits: focus is moved by a deferred script
        assert page.get_by_label("Beskriv dina besvär").input_value() == "Feber sedan i går kväll."
        assert _axe_under_csp(page) == []
        summary.get_by_role("link").click()  # the summary's link leads to the question it is about
        expect(page.locator("#who-1")).to_be_focused()
        screenshot(page, "resident-refused")
        assert blocked == []
    finally:
        context.close()


NARROW = {"width": 320, "height": 568}  # WCAG 2.1 1.4.10 Reflow: usable at 320 CSS pixels wide


def _submit_for(live_server, resident: str, patient: str, *, kind: CaseKind, search_reason: str) -> int:
    """A case submitted through the service, as the resident would from the form."""
    session = live_server.session()
    try:
        by = session.scalar(select(Patient).where(Patient.given_name == resident))
        who = session.scalar(select(Patient).where(Patient.given_name == patient))
        unit = session.scalar(select(Unit).where(Unit.name == "Vårdcentralen Ekdalen"))
        triage = (
            DemoTriage().assess({"reason": "halsont", "description": "Ont i halsen", "days": 2})
            if kind == CaseKind.SOK_VARD
            else None
        )
        case = submit_case(
            session,
            live_server.app.extensions["engine"],
            actor=Actor(label=by.display_name, patient_id=by.id),
            patient_id=who.id,
            unit_id=unit.id,
            kind=kind,
            triage=triage,
            search_reason=search_reason if kind == CaseKind.ADMIN else None,
            message="Jag behöver ett intyg." if kind == CaseKind.ADMIN else "",
        )
        session.commit()
        return case.id
    finally:
        session.close()


def test_the_main_resident_page_reflows_on_a_narrow_phone_with_large_targets_and_no_sideways_scrolling(
    playwright_browser, live_server
):
    _submit_for(live_server, "Anna", "Cecilia", kind=CaseKind.SOK_VARD, search_reason="")
    _submit_for(
        live_server,
        "Anna",
        "Anna",
        kind=CaseKind.ADMIN,
        search_reason="Läkarintygsförlängningsansökningsblankettsfrågor till mottagningen",  # one long word
    )
    context = playwright_browser.new_context(
        base_url=live_server.url, locale="sv-SE", bypass_csp=True, viewport=NARROW
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _sign_in(page, "Anna Andersson")
        cards = page.locator(".case-card")
        assert cards.count() == 2 and "Gäller Cecilia Berg" in cards.nth(1).inner_text()
        assert page.get_by_role("heading", name="Dina barn").is_visible()
        _checked(page)  # axe and no sideways scrolling at 320 px
        # Every button and button-like link is at least 44 px high and fits inside the screen.
        sizes = page.evaluate(
            """() => [...document.querySelectorAll('main button, main a.button-link, nav a, nav button')]
                 .filter(e => e.offsetParent !== null)
                 .map(e => { const r = e.getBoundingClientRect();
                             return {text: e.textContent.trim(), height: r.height, right: r.right}; })"""
        )
        assert sizes and all(s["height"] >= 44 and s["right"] <= NARROW["width"] for s in sizes), sizes
        # The two ways in are stacked, each the full width of the column (easy to hit with a thumb).
        search, admin = (
            page.get_by_role("link", name="Sök vård"),
            page.get_by_role("link", name="Administrativa frågor"),
        )
        assert search.bounding_box()["y"] < admin.bounding_box()["y"]
        assert search.bounding_box()["width"] == admin.bounding_box()["width"] > NARROW["width"] * 0.8
        screenshot(page, "resident-start-mobile")
        cards.nth(0).get_by_role("link").click()  # the newest case (Anna's own) opens at the same width
        page.get_by_role("heading", name=re.compile("Läkarintyg")).wait_for()
        _checked(page)
    finally:
        context.close()


def _slow_answer(route) -> None:
    answer = route.fetch(max_redirects=0)  # the server has the post at once; its answer comes late
    time.sleep(0.5)
    route.fulfill(response=answer)


def test_HA_after_hours_the_referral_offers_send_anyway_which_sends_one_case_however_often_it_is_tapped(
    phone, live_server, clock
):
    clock.set(datetime(2026, 11, 28, 3, 0, tzinfo=ZoneInfo("Europe/Stockholm")))  # Saturday night
    page = phone
    _sign_in(page, "Anna Andersson")
    page.goto("/resident/new")
    page.get_by_label(re.compile(r"^Mig själv")).check()
    page.get_by_label("Vårdcentralen Havsbris", exact=True).check()
    assert "Stängd nu." in page.locator(".option", has_text="Vårdcentralen Havsbris").inner_text()
    page.get_by_label("Feber", exact=True).check()
    page.get_by_label("Beskriv dina besvär").fill("Feber och frossa sedan i kväll.")
    _no_red_flags(page)
    page.get_by_role("group", name="Har du över 39 graders feber?").get_by_label("Ja").check()
    page.get_by_role("button", name="Skicka", exact=True).click()
    page.get_by_role("heading", name="Mottagningen har stängt").wait_for()
    # The referral is read first; sending anyway says when the unit opens again.
    page.wait_for_function(
        "document.activeElement.classList.contains('referral')"
    )  # focus moves after the swap
    assert "Mottagningen öppnar 2026-11-30" in page.locator("#anyway-heading + p").inner_text()
    _checked(page)
    screenshot(page, "resident-after-hours")
    # A slow connection: the answer to a post takes a moment, and the resident taps twice meanwhile.
    page.route("**/resident/new", _slow_answer)
    page.get_by_role("button", name="Skicka ändå").evaluate(
        "button => { button.click(); setTimeout(() => button.click(), 200); }"
    )  # the second tap when the first post is at the server and its answer not yet back
    page.get_by_text("Ditt ärende är skickat till Vårdcentralen Havsbris.").wait_for()
    session = live_server.session()
    try:
        states = session.scalars(select(Case.state).order_by(Case.id)).all()
    finally:
        session.close()
    assert [s.value for s in states] == ["referred", "new"]
