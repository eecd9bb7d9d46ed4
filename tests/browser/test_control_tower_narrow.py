"""The control tower on a phone (390 px wide), in Swedish and English: the tower, the region view and
every check's case list keep to the screen's width; their wide tables scroll inside their own box.
The cases have waited three days, so the waits read as days and hours."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.service import Actor
from app.cases import handling
from app.cases.models import Case, CaseKind
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.control_tower.queries import CHECKS
from app.instances.persistence import reproject_case
from app.patients.models import Patient
from app.people.models import Unit, User
from app.people.roles import Role
from app.people.service import actor_for
from tests.browser.conftest import screenshot, sign_in_as

pytestmark = pytest.mark.browser

EKDALEN = "Vårdcentralen Ekdalen"
PHONE = {"width": 390, "height": 844}


def _submit(session, engine, unit: Unit, given: str, family: str, *, kind=CaseKind.SOK_VARD) -> Case:
    patient = session.scalar(
        select(Patient).where(Patient.given_name == given, Patient.family_name == family)
    )
    sok_vard = kind == CaseKind.SOK_VARD
    triage = (
        DemoTriage().assess({"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3})
        if sok_vard
        else None
    )
    return submit_case(
        session, engine, actor=Actor(label=patient.display_name, patient_id=patient.id), patient_id=patient.id,
        unit_id=unit.id, kind=kind, triage=triage, search_reason=None if sok_vard else "Intyg",
        message="" if sok_vard else "Jag behöver ett intyg.",
    )  # fmt: skip


def _cases_for_every_list(live_server) -> None:
    """An urgent case nobody has touched, a case left on Erik Holm (never signed in here), one he handed
    to the doctors (waiting for the patient's consent) and an administrative case nobody present can take."""
    engine = live_server.app.extensions["engine"]
    with live_server.app.extensions["database"].transaction() as session:
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        erik = actor_for(session, session.scalar(select(User).where(User.username == "erik.holm")), unit.id)
        urgent = _submit(session, engine, unit, "Bertil", "Berg")
        urgent.priority = 2
        session.flush()
        reproject_case(session, urgent)
        for given, family in (("Anna", "Andersson"), ("Helena", "Holm")):
            case = _submit(session, engine, unit, given, family)
            handling.receive(session, engine, actor=erik, case_id=case.id)
            handling.start(session, engine, actor=erik, case_id=case.id)
        handling.hand_over(session, engine, actor=erik, case_id=case.id, role=Role.DOCTOR.value)
        _submit(session, engine, unit, "Fredrik", "Dahl", kind=CaseKind.ADMIN)


def _widths(page, path: str) -> tuple[int, int]:
    """The page's scroll width and how many tables in a scroll box it shows."""
    page.goto(path)
    return page.evaluate(
        "[document.documentElement.scrollWidth, document.querySelectorAll('.table-scroll').length]"
    )


def _on_a_phone(page, live_server, clock, lang: str) -> None:
    _cases_for_every_list(live_server)
    clock.advance(days=3)  # Thursday 09:00: the cases have waited three days
    page.set_viewport_size(PHONE)
    sign_in_as(page, "Gunilla Ahl")
    if lang == "en":
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state("load")


CHECK_PAGES = [f"/control-tower/checks/{key}" for key in CHECKS]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_OG_10_1_j_the_tower_region_and_checks_fit_a_phone_and_show_long_waits_in_days(
    page, live_server, clock, lang
):
    _on_a_phone(page, live_server, clock, lang)
    widths = {path: _widths(page, path) for path in ["/control-tower", "/control-tower/region", *CHECK_PAGES]}
    # every list here has cases but one (closing needs contact attempts), so every other page shows its table
    assert [path for path, (_width, tables) in widths.items() if not tables] == [
        "/control-tower/checks/closable"
    ]
    assert {path: width for path, (width, _tables) in widths.items() if width > PHONE["width"]} == {}

    wait = "3 dygn 0 tim" if lang == "sv" else "3 d 0 h"
    page.goto("/control-tower/region")
    screenshot(page, f"control-tower-narrow-{lang}-region")
    ekdalen = page.get_by_role("row").filter(has_text=EKDALEN).inner_text()
    assert wait in ekdalen and " min" not in ekdalen
    page.goto("/control-tower")
    screenshot(page, f"control-tower-narrow-{lang}-unit")
    assert wait in page.locator(".tower-card .table-scroll").inner_text()
    page.goto("/control-tower/checks/urgent")
    assert wait in page.get_by_role("row").filter(has_text="Bertil Berg").inner_text()
