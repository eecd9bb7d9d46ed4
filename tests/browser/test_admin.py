"""The local system administrator and the log reviewer in a real browser: ending an employment,
publishing a local phrase template (OG-4-a, OG-8.2), searching who opened a patient and recording a
verdict on a sampled row; every page of app.admin and app.log_review scanned with axe-core."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.service import log_access
from app.patients.models import Patient
from app.people.models import User
from app.people.service import actor_for, units_of
from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser


def _opened_by(live_server, username: str, count: int) -> str:
    """`count` reads of one demo patient by a demo user; returns the patient's personnummer."""
    session = live_server.session()
    try:
        user = session.scalar(select(User).where(User.username == username))
        patient = session.scalars(
            select(Patient).where(Patient.identity_kind == "personnummer").order_by(Patient.id)
        ).first()
        actor = actor_for(session, user, units_of(session, user.id)[0].id)
        for _ in range(count):
            log_access(
                session, actor=actor, action="case:read", patient_ids=[patient.id], context="/cases/demo"
            )
        session.commit()
        return patient.identity_number
    finally:
        session.close()


def test_OG_4_a_OG_8_2_the_sysadmin_ends_an_employment_and_publishes_a_local_phrase_template(page):
    sign_in_as(page, "Karin Sjö")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("heading", name="Personal och roller").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "admin-staff")

    row = page.get_by_role("row").filter(has_text="Erik Holm")
    row.get_by_label("Bekräfta").check()
    row.get_by_role("button", name="Avsluta anställning för Erik Holm").click()
    page.get_by_text("Anställningen är avslutad").wait_for()
    assert "Avslutad" in page.get_by_role("row").filter(has_text="Erik Holm").inner_text()
    screenshot(page, "admin-employment-ended")

    page.get_by_role("link", name="Frasmallar").click()
    page.get_by_role("heading", name="Regionala och lokala frasmallar").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Lokal", exact=True).check()
    page.get_by_label("Ändamål").select_option("case_received")
    page.get_by_label("Rubrik").fill("Mottaget – Ekdalen")
    page.get_by_label("Text", exact=True).fill(
        "Hej {patient_first_name}. Vi på Ekdalen har tagit emot ditt ärende."
    )
    page.get_by_label("Beslutad av verksamhetschef (lokal frasmall)").select_option(label="Gunilla Ahl")
    page.get_by_role("button", name="Spara utkast").click()
    page.get_by_text("Utkastet är sparat").wait_for()
    page.get_by_role("button", name="Publicera Mottaget – Ekdalen").click()
    page.get_by_text("Frasmallen är publicerad").wait_for()
    published = page.get_by_role("row").filter(has_text="Mottaget – Ekdalen")
    assert "Publicerad" in published.inner_text() and "Gunilla Ahl" in published.inner_text()
    screenshot(page, "admin-phrase-published")

    page.get_by_role("link", name="Öppettider och täckning").click()
    page.get_by_role("heading", name="Öppettider och täckning").wait_for()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Ordna täckning").click()  # no unit chosen: closing is refused (OG-9.2)
    page.get_by_role("alert").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "admin-hours-closing-refused")


def test_a_reviewer_searches_who_opened_a_patient_and_records_a_verdict_on_a_sample(page, live_server, clock):
    number = _opened_by(live_server, "sara.lind", 3)
    clock.advance(minutes=5)  # the sample is drawn from rows before "now"
    sign_in_as(page, "Gunilla Ahl")
    page.get_by_role("link", name="Loggkontroll").click()
    page.get_by_role("heading", name="Loggkontroll", exact=True).wait_for()
    assert axe_violations(page) == []
    screenshot(page, "log-review")

    patient_search = page.locator(
        "section", has=page.get_by_role("heading", name="Vem har öppnat patienten?")
    )
    patient_search.get_by_label("Personnummer").fill(number)
    patient_search.get_by_role("button", name="Sök i loggen").click()
    results = page.locator("section", has=page.get_by_role("heading", name="Sökresultat"))
    results.wait_for()
    assert results.get_by_role("row").filter(has_text="Sara Lind").count() == 3
    assert number not in results.inner_text() and f"{number[:8]}-****" in results.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "log-review-who-opened")

    page.get_by_label("Antal rader").fill("2")
    page.get_by_role("button", name="Dra stickprov").click()
    page.get_by_text("Stickprovet är draget").wait_for()
    assert axe_violations(page) == []
    item = page.locator("li.review-item").filter(has=page.get_by_role("button", name="Spara bedömning")).first
    item.get_by_label("Behöver följas upp").check()
    item.get_by_label("Kommentar").fill("Ingen vårdrelation i journalen")
    item.get_by_role("button", name="Spara bedömning").click()
    page.get_by_text("Bedömningen är sparad").wait_for()
    assert (
        "Ingen vårdrelation i journalen" in page.locator("li.review-item").first.inner_text()
        or page.get_by_text("Ingen vårdrelation i journalen").count() >= 1
    )
    assert "att följa upp: 1" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "log-review-sample-verdict")


def test_the_opening_hours_fit_a_phone_their_table_scrolls_in_its_own_box(page):
    """At 390 px the week's hours table (five columns of inputs) widened the page to 428 px."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, "Karin Sjö")
    page.goto("/admin/hours")
    page.get_by_role("heading", name="Öppettider per veckodag").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
