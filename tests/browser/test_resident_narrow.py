"""Every resident page on a 390 px phone, in Swedish and in English: nothing is wider than the screen,
so no page scrolls sideways (the header, the forms with their hints, a refused form with its error
summary, a case with its chat, a form sent by the unit, an after-hours referral and an error page)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.service import Actor
from app.cases import chat, handling
from app.cases.models import CaseKind, PatientForm
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.patients.models import Patient
from app.people.models import Unit, User
from app.people.service import actor_for

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LONG_WORD = "Läkarintygsförlängningsansökningsblankettsfrågorna"  # one Swedish compound, no break in it


def _case_with_chat_and_form(live_server) -> tuple[int, int]:
    """Anna's case, received and started by Sara Lind, with a long word in the chat and a form sent."""
    session = live_server.session()
    try:
        anna = session.scalar(select(Patient).where(Patient.given_name == "Anna"))
        unit = session.scalar(select(Unit).where(Unit.name == "Vårdcentralen Ekdalen"))
        nurse = actor_for(session, session.scalar(select(User).where(User.username == "sara.lind")), unit.id)
        engine = live_server.app.extensions["engine"]
        triage = DemoTriage().assess(
            {
                "reason": "halsont",
                "description": f"Ont i halsen. {LONG_WORD}",
                "days": 2,
                "breathing": False,
                "self_harm": False,
                "high_fever": False,
            }
        )
        case = submit_case(
            session,
            engine,
            actor=Actor(label=anna.display_name, patient_id=anna.id),
            patient_id=anna.id,
            unit_id=unit.id,
            kind=CaseKind.SOK_VARD,
            triage=triage,
        )
        handling.receive(session, engine, actor=nurse, case_id=case.id)
        handling.start(session, engine, actor=nurse, case_id=case.id, first_message=f"Hej! {LONG_WORD}?")
        chat.send_form(session, actor=nurse, case_id=case.id, form_key="demo_mood")
        form_id = session.scalar(select(PatientForm.id).where(PatientForm.case_id == case.id))
        session.commit()
        return case.id, form_id
    finally:
        session.close()


def _fits(page, what: str) -> None:
    """The page does not scroll sideways (what reaches past the right edge is named if it does)."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """(limit) => [...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > limit + 0.5)
             .slice(0, 5).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)""",
        PHONE["width"],
    )
    assert width <= PHONE["width"], (what, width, wide)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_no_resident_page_scrolls_sideways_on_a_390_px_phone(
    playwright_browser, live_server, clock, language
):
    case_id, form_id = _case_with_chat_and_form(live_server)
    context = playwright_browser.new_context(base_url=live_server.url, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/resident/login")
        if language == "en":
            page.get_by_role("button", name="English").click()
            page.wait_for_function("document.documentElement.lang === 'en'")
        _fits(page, "sign-in")
        page.get_by_role("button", name="Anna Andersson").click()
        page.locator("h1").wait_for()
        for url in ("/resident/", "/resident/new", "/resident/new?kind=admin"):
            page.goto(url)
            _fits(page, url)
        page.goto("/resident/new")
        page.locator("button.primary").click()  # nothing chosen: the form comes back with its errors
        page.locator("#error-summary").wait_for()
        _fits(page, "refused form")
        page.goto(f"/resident/cases/{case_id}")
        _fits(page, "case with chat")
        page.goto(f"/resident/forms/{form_id}")
        _fits(page, "form from the unit")
        page.goto("/resident/cases/999999")
        _fits(page, "error page")

        clock.set(datetime(2026, 11, 28, 3, 0, tzinfo=ZoneInfo("Europe/Stockholm")))  # Saturday night
        page.goto("/resident/new")
        page.locator("#who-1").check()
        page.get_by_label("Vårdcentralen Ekdalen", exact=True).check()
        page.locator("#q-reason-2").check()  # Feber
        page.locator("#q-description").fill("Feber och frossa sedan i kväll.")
        for question, answer in (("breathing", 2), ("self_harm", 2), ("high_fever", 1)):  # no, no, yes
            page.locator(f"#q-{question}-{answer}").check()
        page.locator("button.primary").click()
        page.locator(".referral").wait_for()
        assert re.search(r"/resident/new$", page.url)  # the referral answers the post itself
        _fits(page, "after-hours referral")
    finally:
        context.close()
