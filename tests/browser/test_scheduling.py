"""The unit's schedule in a real browser (OG-5, HA-chat-staff): the head of unit reads the week, sees
the opening hours without a named chat responsible, corrects a refused shift (focus on the error
summary), adds, changes and removes a shift; every state of the page scanned with axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.people.models import ScheduledShift, User
from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser
DECEMBER = datetime(2026, 12, 1, tzinfo=UTC)


def _erik_shifts(live_server) -> list[tuple[str, str, bool]]:
    session = live_server.session()
    try:
        erik = session.scalar(select(User).where(User.username == "erik.holm"))
        return [
            (s.starts_at.isoformat(), s.ends_at.isoformat(), s.chat_responsible)
            for s in session.scalars(
                select(ScheduledShift)
                .where(ScheduledShift.user_id == erik.id, ScheduledShift.starts_at >= DECEMBER)
                .order_by(ScheduledShift.starts_at)
            )
        ]
    finally:
        session.close()


def test_OG_5_HA_chat_staff_the_head_of_unit_schedules_a_chat_responsible_where_the_week_has_a_gap(
    page, live_server
):
    sign_in_as(page, "Gunilla Ahl")
    page.get_by_role("navigation", name="Områden").get_by_role("link", name="Schema").click()
    page.get_by_role("heading", name="Schema").first.wait_for()
    week = page.get_by_role("table", name="Pass vecka 48")
    assert "Chattansvarig" in week.get_by_role("row", name="Sara Lind").inner_text()
    assert page.get_by_text("Chatten har en namngiven ansvarig under hela öppettiden").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "schedule-week")

    page.get_by_role("link", name="Nästa vecka").click()
    gaps = page.get_by_role("region", name="Öppettid utan namngiven chattansvarig")
    assert "Tisdag 2026-12-01: 08:00–17:00" in gaps.inner_text()
    assert axe_violations(page) == []

    page.get_by_label("Person").select_option(label="Erik Holm (Sjuksköterska)")
    page.get_by_label("Roll").select_option(label="Sjuksköterska")
    page.get_by_label("Datum").fill("2026-12-01")
    page.get_by_label("Börjar").fill("08:00")
    page.get_by_label("Slutar", exact=True).fill("07:00")
    page.get_by_label("Chattansvarig under passet").check()
    page.get_by_role("button", name="Lägg till pass").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")
    assert page.get_by_label("Slutar", exact=True).input_value() == "07:00"  # what was typed stays
    assert axe_violations(page) == []
    screenshot(page, "schedule-refused")
    summary.get_by_role("link", name="Slutar: Passet ska sluta efter att det börjar.").click()
    assert page.evaluate("document.activeElement.id") == "f-ends"

    page.get_by_label("Slutar", exact=True).fill("17:00")
    page.get_by_role("button", name="Lägg till pass").click()
    page.get_by_role("status").get_by_text("Passet är tillagt: 2026-12-01 08:00–17:00.").wait_for()
    assert (
        "Tisdag 2026-12-01"
        not in page.get_by_role("region", name="Öppettid utan namngiven chattansvarig").inner_text()
    )
    assert _erik_shifts(live_server) == [("2026-12-01T07:00:00+00:00", "2026-12-01T16:00:00+00:00", True)]
    assert axe_violations(page) == []
    screenshot(page, "schedule-added")

    page.get_by_role("link", name="Ändra passet för Erik Holm 2026-12-01 08:00–17:00").click()
    page.get_by_role("heading", name="Ändra passet", exact=True).wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Slutar", exact=True).fill("12:00")
    page.get_by_role("button", name="Spara ändringen").click()
    page.get_by_text("Passet är ändrat: 2026-12-01 08:00–12:00.").wait_for()
    assert (
        "Tisdag 2026-12-01: 12:00–17:00"
        in page.get_by_role("region", name="Öppettid utan namngiven chattansvarig").inner_text()
    )

    page.get_by_role("link", name="Ändra passet för Erik Holm 2026-12-01 08:00–12:00").click()
    page.get_by_role("button", name="Ta bort passet").click()
    page.get_by_text("Passet är borttaget: Erik Holm 2026-12-01 08:00–12:00.").wait_for()
    assert _erik_shifts(live_server) == []
    assert axe_violations(page) == []
