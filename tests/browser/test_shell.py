"""The browser harness itself and the pages every user passes: sign-in, unit choice, the patient list."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser


def test_a_nurse_signs_in_and_lands_on_the_patient_list_with_no_serious_accessibility_violation(page):
    page.goto("/login")
    assert axe_violations(page) == []
    sign_in_as(page, "Sara Lind")
    page.get_by_role("heading", name="Patientliggaren").wait_for()
    assert axe_violations(page) == []
    screenshot(page, "patient-list-empty")


def test_a_user_of_several_units_chooses_the_unit_she_acts_for(page):
    sign_in_as(page, "Frida Lund", unit="Vårdcentralen Ekdalen")
    page.get_by_role("heading", name="Patientliggaren").wait_for()
    assert "Frida Lund" in page.locator("header").inner_text()


def test_the_interface_switches_to_english_and_back(page):
    page.goto("/login")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Svenska").click()
    assert page.locator("html").get_attribute("lang") == "sv"


def test_signing_in_works_by_keyboard_alone(page):
    page.goto("/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent.trim()") == "Hoppa till innehållet"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sara Lind":
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Patientliggaren").wait_for()


def test_pages_of_the_shell_log_no_console_error(playwright_browser, live_server):
    """htmx injects its indicator styles inline, which the Content-Security-Policy (style-src 'self')
    refuses with a console error on every page that did not switch them off; the favicon was a 404.
    A context of its own: the shared one bypasses the CSP (for axe), which would hide the first."""
    context = playwright_browser.new_context(base_url=live_server.url, locale="sv-SE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto("/login")
        sign_in_as(page, "Gunilla Ahl")
        for path in ("/schedule", "/traceability", "/log-review"):
            page.goto(path)
            page.wait_for_load_state("load")
        page.wait_for_timeout(200)  # a favicon request comes after the load
        assert errors == []
    finally:
        context.close()
