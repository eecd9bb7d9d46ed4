"""The control tower in Chromium: the overall responsible sees a case left on an absent nurse and one
waiting in the queue of a role nobody present holds, moves the first to the role queue, and every
tower page passes the axe-core scan (WCAG 2.1 AA, no serious or critical violation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.audit.models import AccessLog, AuditEvent
from app.audit.service import Actor
from app.cases import handling
from app.cases.models import Case, CaseKind
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.patients.models import Patient
from app.people.models import Unit, User
from app.people.service import actor_for, sign_in, take_duty
from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser

EKDALEN = "Vårdcentralen Ekdalen"


def _submit(live_server, given: str, family: str, *, kind: CaseKind = CaseKind.SOK_VARD) -> int:
    with live_server.app.extensions["database"].transaction() as session:
        patient = session.scalar(
            select(Patient).where(Patient.given_name == given, Patient.family_name == family)
        )
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        triage = (
            DemoTriage().assess(
                {"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3}
            )
            if kind == CaseKind.SOK_VARD
            else None
        )
        case = submit_case(
            session, live_server.app.extensions["engine"], actor=Actor(label=patient.display_name, patient_id=patient.id),
            patient_id=patient.id, unit_id=unit.id, kind=kind, triage=triage,
            search_reason="Intyg" if kind == CaseKind.ADMIN else None, message="Jag behöver ett intyg." if kind == CaseKind.ADMIN else "",
        )  # fmt: skip
        return case.id


def _started_by_a_nurse_who_then_left(live_server, case_id: int) -> None:
    """Erik Holm starts the case without ever signing in here: it is his, and he is not present."""
    with live_server.app.extensions["database"].transaction() as session:
        user = session.scalar(select(User).where(User.username == "erik.holm"))
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        actor = actor_for(session, user, unit.id)
        engine = live_server.app.extensions["engine"]
        handling.receive(session, engine, actor=actor, case_id=case_id)
        handling.start(session, engine, actor=actor, case_id=case_id)


def _sara_takes_the_duty(live_server) -> None:
    with live_server.app.extensions["database"].transaction() as session:
        user = session.scalar(select(User).where(User.username == "sara.lind"))
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        take_duty(session, actor=sign_in(session, user=user, unit_id=unit.id))


def _scan(page, name: str) -> None:
    assert axe_violations(page) == [], name
    screenshot(page, name)


def test_OG_10_1_b_OG_10_1_e_OG_6_1_j_the_overall_responsible_sees_both_cases_and_moves_the_absent_nurses_case(
    page, live_server
):
    left = _submit(live_server, "Anna", "Andersson")
    _started_by_a_nurse_who_then_left(live_server, left)
    unheld = _submit(
        live_server, "Fredrik", "Dahl", kind=CaseKind.ADMIN
    )  # Administrativ kontakt: nobody present holds it
    _sara_takes_the_duty(live_server)
    sign_in_as(page, "Sara Lind")
    page.goto("/control-tower")
    assert "Sara Lind har det övergripande ansvaret sedan" in page.locator("main").inner_text()
    _scan(page, "control-tower-unit")

    page.get_by_role("link", name="Ärenden i kö för en yrkesroll som ingen på plats har: 1").click()
    row = page.get_by_role("row").filter(has_text="Fredrik Dahl")
    assert "Administrativ kontakt" in row.inner_text()
    _scan(page, "control-tower-unheld-role")

    page.goto("/control-tower")
    page.get_by_role("link", name="Ärenden hos någon som inte är på plats: 1").focus()
    page.keyboard.press("Enter")
    row = page.get_by_role("row").filter(has_text="Anna Andersson")
    assert "Erik Holm" in row.inner_text()
    _scan(page, "control-tower-absent-owner")
    row.get_by_role("button", name="Flytta till yrkesrollens kö").click()
    page.get_by_text("Ärendet ligger nu i yrkesrollens kö.").wait_for()
    assert "Inga ärenden." in page.locator("main").inner_text()

    with live_server.app.extensions["database"].transaction() as session:
        assert session.get(Case, left).owner_user_id is None
        moved = session.scalar(select(AuditEvent).where(AuditEvent.action == "case:moved_to_role_queue"))
        assert moved.subject_id == str(left) and moved.actor_label == "Sara Lind"
        assert (
            session.scalar(select(AccessLog).where(AccessLog.action == "control_tower:unheld-role"))
            is not None
        )
        assert session.get(Case, unheld).owner_user_id is None

    page.goto("/control-tower/high-load")
    _scan(page, "control-tower-high-load")
    page.get_by_label("Jag har beslutat att meddela patienterna").check()
    page.get_by_role("button", name="Skicka meddelandet").click()
    page.get_by_text("väntande patienter har fått meddelandet om hög belastning").wait_for()

    page.goto("/control-tower")
    page.locator("a[id^=diagram-]").first.click()
    page.locator("#heatmap.heatmap-ready .heat-badge").first.wait_for()
    assert page.locator("#heatmap-table tbody tr").count() >= 1
    _scan(page, "control-tower-heatmap")


def test_the_region_view_for_the_head_of_unit_has_no_serious_violation(page, live_server):
    _submit(live_server, "Anna", "Andersson")
    sign_in_as(page, "Gunilla Ahl")
    page.goto("/control-tower/region")
    assert EKDALEN in page.locator("main").inner_text()
    _scan(page, "control-tower-region")
    page.goto("/control-tower")
    assert (
        "Ingen har det övergripande ansvaret just nu, fast enheten har öppet."
        in page.locator("main").inner_text()
    )


def test_OG_10_1_j_the_overview_refreshes_itself_and_keeps_the_users_focus(page, live_server):
    """The tower refreshes without a reload; while focus is inside the refreshed part, it waits."""
    live_server.app.config["CONTROL_TOWER_POLL_SECONDS"] = 1
    sign_in_as(page, "Gunilla Ahl")
    page.goto("/control-tower")
    assert "0 öppna ärenden." in page.locator("#tower-live").inner_text()
    _submit(live_server, "Anna", "Andersson")
    page.get_by_text("1 öppet ärende.").wait_for(timeout=8_000)
    page.locator("#check-urgent").focus()
    _submit(live_server, "Fredrik", "Dahl", kind=CaseKind.ADMIN)
    page.wait_for_timeout(2_500)
    assert "1 öppet ärende." in page.locator("#tower-live").inner_text()  # not under the user's focus
    expect(page.locator("#check-urgent")).to_be_focused()  # waits: focus is moved by a deferred script
    page.locator("#t-day").focus()  # focus leaves the refreshed part: it catches up
    page.get_by_text("2 öppna ärenden.").wait_for(timeout=10_000)
