"""The unit's local routines in a real browser: the Lokal systemadministratör corrects a refused value
(focus on the error summary), saves the reopen window and resets it to the default; every state of the
page scanned with axe-core."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.people.models import Unit
from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser

REOPEN = "Dagar då patienten kan återöppna ett avslutat ärende (dagar)"


def _settings(live_server) -> dict:
    session = live_server.session()
    try:
        return dict(session.scalar(select(Unit).where(Unit.name == "Vårdcentralen Ekdalen")).settings)
    finally:
        session.close()


def test_the_sysadmin_corrects_saves_and_resets_a_local_routine(page, live_server):
    sign_in_as(page, "Karin Sjö")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Lokala rutiner").click()
    page.get_by_role("heading", name="Lokala rutiner").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "admin-routines")

    page.get_by_label(REOPEN).fill("tre")
    page.get_by_label("Avsändarnamn för sms").fill("Vårdcentralen Ekdalen")
    page.get_by_role("button", name="Spara rutinerna").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    assert page.get_by_label(REOPEN).input_value() == "tre"  # what was typed stays
    assert axe_violations(page) == []
    screenshot(page, "admin-routines-errors")
    summary.get_by_role(
        "link", name="Dagar då patienten kan återöppna ett avslutat ärende: Skriv ett heltal."
    ).click()
    assert page.evaluate("document.activeElement.id") == "f-reopen_days"

    page.get_by_label(REOPEN).fill("5")
    page.get_by_label("Avsändarnamn för sms").fill("VC Ekdalen")
    page.get_by_label("Personalen får bjuda in en kollega i ett ärende").uncheck()
    page.get_by_role("button", name="Spara rutinerna").click()
    page.get_by_text("Enhetens rutiner är sparade.").wait_for()
    assert "Enhetens värde: 5 dagar (standard: 3 dagar)" in page.locator("#setting-reopen_days").inner_text()
    saved = _settings(live_server)
    assert saved["reopen_days"] == 5 and saved["invite_colleague"] is False
    assert "sms_sender" not in saved  # the name it derives anyway: not stored as the unit's own
    assert axe_violations(page) == []
    screenshot(page, "admin-routines-saved")

    page.get_by_role(
        "button", name="Återställ till standard: Dagar då patienten kan återöppna ett avslutat ärende"
    ).click()
    page.get_by_text("standardvärdet gäller nu").wait_for()
    assert "reopen_days" not in _settings(live_server)
    assert page.get_by_label(REOPEN).input_value() == "3"
