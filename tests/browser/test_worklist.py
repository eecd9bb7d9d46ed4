"""The clinician's pages in a real browser: the patient list with cases of several priorities, its
filters by keyboard, the self-refresh that keeps the user's place, the inbox, and axe on every page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.service import Actor
from app.cases import chat, handling
from app.cases.models import AckItem, AckKind, Case, CaseKind
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.patients.models import Patient
from app.people.models import Unit, User
from app.people.service import actor_for
from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser

EKDALEN = "Vårdcentralen Ekdalen"


def _submit(live_server, given: str, family: str, *, kind: CaseKind = CaseKind.SOK_VARD, **answers) -> int:
    """A resident's case through the real submission service (the routine starts, the projection is written)."""
    with live_server.app.extensions["database"].transaction() as session:
        patient = session.scalar(
            select(Patient).where(Patient.given_name == given, Patient.family_name == family)
        )
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        triage = (
            DemoTriage().assess(
                {"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3, **answers}
            )
            if kind == CaseKind.SOK_VARD
            else None
        )
        case = submit_case(
            session,
            live_server.app.extensions["engine"],
            actor=Actor(label=patient.display_name, patient_id=patient.id),
            patient_id=patient.id,
            unit_id=unit.id,
            kind=kind,
            triage=triage,
            search_reason="Intyg" if kind == CaseKind.ADMIN else None,
            message="Jag behöver ett intyg." if kind == CaseKind.ADMIN else "",
        )
        return case.id


def _start_as(live_server, case_id: int, username: str) -> None:
    with live_server.app.extensions["database"].transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        actor = actor_for(session, user, unit.id)
        engine = live_server.app.extensions["engine"]
        handling.receive(session, engine, actor=actor, case_id=case_id)
        handling.start(session, engine, actor=actor, case_id=case_id)


def _patient_answers(live_server, case_id: int, given: str, family: str) -> None:
    with live_server.app.extensions["database"].transaction() as session:
        patient = session.scalar(
            select(Patient).where(Patient.given_name == given, Patient.family_name == family)
        )
        chat.patient_write(
            session,
            live_server.app.extensions["engine"],
            actor=Actor(label=patient.display_name, patient_id=patient.id),
            case_id=case_id,
            body="Det är värre i kväll.",
        )


def _names(page) -> list[str]:
    return [
        " ".join(cell.split()[:2])
        for cell in page.locator("#worklist-live tbody tr td:nth-child(2)").all_inner_texts()
    ]


def test_the_patient_list_shows_priorities_in_order_filters_by_keyboard_and_has_no_serious_violation(
    page, live_server, clock
):
    _submit(live_server, "Helena", "Holm", days=20)  # priority 4
    clock.advance(minutes=3)
    ongoing = _submit(live_server, "Anna", "Andersson")  # priority 3, started and answered below
    clock.advance(minutes=3)
    _submit(live_server, "Ingrid", "Isaksson")  # priority 3, new
    clock.advance(minutes=3)
    _submit(live_server, "Bertil", "Berg", breathing=True)  # priority 1
    _submit(live_server, "Gustav", "Gran")  # protected identity in the registry
    _submit(live_server, "Fredrik", "Dahl", kind=CaseKind.ADMIN)  # no priority, another role's queue
    _start_as(live_server, ongoing, "sara.lind")
    clock.advance(minutes=5)
    _patient_answers(live_server, ongoing, "Anna", "Andersson")

    sign_in_as(page, "Sara Lind")
    page.get_by_role("heading", name="Patientliggaren").wait_for()
    assert _names(page)[:4] == ["Bertil Berg", "Anna Andersson", "Ingrid Isaksson", "Gustav Gran"]
    assert "Patienten har svarat i 1 av dina ärenden." in page.locator("#worklist-alerts").inner_text()
    assert page.get_by_text("Skyddad identitet").count() >= 1
    assert axe_violations(page) == []
    screenshot(page, "patient-list")

    # Keyboard only: tick "answered only", then "Visa"; then the whole unit's list of today through the quick filter.
    page.get_by_label("Bara där patienten har svarat").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Visa"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"answered=1"))
    assert _names(page) == ["Anna Andersson"]
    page.get_by_role("link", name=re.compile("^Dagens ärenden")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"scope=unit.*date=.*answered=1"))  # one filter changes, the others stay
    assert _names(page) == ["Anna Andersson"] and page.locator("#f-scope").input_value() == "unit"
    page.get_by_role("link", name=re.compile(r"^Patienten har svarat \(")).focus()  # the toggle: answered off
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"scope=unit&date=[0-9-]+$"))
    assert (
        len(_names(page)) == 6 and _names(page)[-1] == "Fredrik Dahl"
    )  # today's cases of every queue, admin last
    assert axe_violations(page) == []


def test_the_list_refreshes_itself_keeping_the_filter_and_never_under_the_users_focus(page, live_server):
    live_server.app.config["WORKLIST_POLL_SECONDS"] = 1
    _submit(live_server, "Helena", "Holm")
    sign_in_as(page, "Sara Lind")
    page.goto("/?scope=unit&sort=waiting")
    assert _names(page) == ["Helena Holm"]

    _submit(live_server, "Ingrid", "Isaksson")
    page.locator("#worklist-live tbody").get_by_text("Ingrid Isaksson").wait_for(timeout=5_000)
    assert page.url.endswith("/?scope=unit&sort=waiting") and page.locator("#f-scope").input_value() == "unit"
    assert "Listan uppdaterades" in page.locator("#worklist-status").inner_text()

    # Focus on a row: the list waits for the user instead of replacing what is under the focus.
    page.get_by_role("link", name="Helena Holm").focus()
    _submit(live_server, "Bertil", "Berg")
    page.wait_for_timeout(2_500)
    assert "Bertil Berg" not in _names(page)
    assert page.evaluate("document.activeElement.textContent.trim()") == "Helena Holm"
    page.get_by_role("heading", name="Patientliggaren").click()  # focus leaves the list
    page.evaluate("document.activeElement.blur()")
    page.locator("#worklist-live tbody").get_by_text("Bertil Berg").wait_for(timeout=8_000)


def test_the_inbox_is_acknowledged_by_keyboard_and_says_so(page, live_server, clock):
    case_id = _submit(live_server, "Anna", "Andersson")
    with live_server.app.extensions["database"].transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        session.add(
            AckItem(
                unit_id=unit.id,
                case_id=case_id,
                kind=AckKind.ANSWER_AFTER_CLOSE,
                summary="Patienten har svarat efter att ärendet stängdes.",
                created_at=clock.now(),
            )
        )
    sign_in_as(page, "Sara Lind")
    assert "1 post att kvittera" in page.locator("#worklist-alerts").inner_text()
    page.get_by_role("link", name="Vidimering").first.click()
    page.get_by_role("heading", name="Svar efter avslut: Anna Andersson").wait_for()
    assert axe_violations(page) == []
    page.get_by_role("button", name=re.compile("^Kvittera")).focus()
    page.keyboard.press("Enter")
    page.get_by_text("Posten är kvitterad (Svar efter avslut).").wait_for()
    page.wait_for_function(
        "document.activeElement.getAttribute('role') === 'status'", timeout=3_000
    )  # focus on what happened
    assert page.get_by_text("Det finns inget att kvittera.").is_visible()


def test_every_clinician_page_has_no_serious_accessibility_violation(page, live_server):
    ongoing = _submit(live_server, "Anna", "Andersson")
    _start_as(live_server, ongoing, "sara.lind")
    sign_in_as(page, "Sara Lind")
    for path, heading in (
        ("/profile", "Min profil"),
        ("/phrases", "Frasmallar"),
        ("/duty", "Övergripande ansvar"),
        ("/shift/end", "Avsluta skift"),
    ):
        page.goto(path)
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        assert axe_violations(page) == [], path
    assert "Du har 1 pågående ärende" in page.locator("main").inner_text()
    screenshot(page, "end-shift-warning")

    page.goto("/phrases/new")
    page.get_by_label("Används till").select_option("first_message")
    page.get_by_label("Rubrik").fill("Snabbt svar")
    page.get_by_label("Text").fill("Hej! Ring OBS vårdcentralen.")
    page.get_by_role("button", name="Spara", exact=True).click()
    page.get_by_role("heading", name="Tänk på tonen").wait_for()
    # The heading is there before the deferred script has moved the focus: wait for the focus itself.
    page.wait_for_function("document.activeElement.classList.contains('error-summary')", timeout=3_000)
    assert page.get_by_label("Text").input_value() == "Hej! Ring OBS vårdcentralen."
    assert axe_violations(page) == []
    page.get_by_label("Rubrik").fill("")
    page.get_by_role("button", name="Spara ändå").click()
    page.get_by_role("heading", name="Frasmallen sparades inte").wait_for()
    assert page.get_by_label("Rubrik").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []


def test_HA_shift_OG_10_1_a_taking_the_duty_then_ending_the_shift_warns_first_and_leaves_nothing_on_the_person(
    page, live_server
):
    """OG-10.1-a: the duty is taken on its page and the start page says so; HA-shift: "Avsluta skift"
    warns with the user's own ongoing case and the held duty; OG-6.1-i: once confirmed the case is in the
    role's queue and the user is signed out."""
    ongoing = _submit(live_server, "Anna", "Andersson")
    _start_as(live_server, ongoing, "sara.lind")
    sign_in_as(page, "Sara Lind")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Övergripande ansvar").click()
    page.get_by_role("button", name="Ta det övergripande ansvaret").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Du har nu det övergripande ansvaret.").wait_for()
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Patientliggaren").click()
    alerts = page.locator("#worklist-alerts").inner_text()
    assert "Du har det övergripande ansvaret." in alerts
    assert "Alla pågående ärenden har en ägare som är på plats." in alerts

    page.goto("/shift/end")
    warning = page.get_by_role("alert")
    assert "Du har 1 pågående ärende" in warning.inner_text()
    assert "Anna Andersson" in page.locator("main").inner_text()
    assert "Lämna över det till en kollega innan du går" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "end-shift-with-duty")
    page.get_by_role("button", name="Lägg ärendet i kön och avsluta skiftet").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login$"))
    with live_server.app.extensions["database"].transaction() as session:
        assert session.get(Case, ongoing).owner_user_id is None


def test_the_patient_list_on_a_phone_scrolls_its_table_not_the_page(page, live_server):
    """At 390 px the table scrolls in its own box; the hidden " – sortera" texts of the column headers
    used to escape it and widen the whole page to ~900 px, and the filter's choice was cut off."""
    _submit(live_server, "Helena", "Holm", days=20)
    _submit(live_server, "Bertil", "Berg", breathing=True)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, "Sara Lind")
    page.get_by_role("heading", name="Patientliggaren").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    table_box = page.locator(".table-scroll").first
    assert table_box.evaluate("el => el.scrollWidth > el.clientWidth")  # the table itself scrolls
    choices = page.locator("main select").all()
    assert choices  # the filter's choices are there to be measured
    for choice in choices:
        box = choice.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, choice.get_attribute("id")
    screenshot(page, "patient-list-phone")
