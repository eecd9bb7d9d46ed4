"""Process owners in a real browser: the diff of two versions on the diagram, a dry-run migration
then a migration, the instance page with its marked diagram, the traceability page; axe on each."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.audit.service import Actor
from app.cases.models import CaseKind
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.instances.models import ProcessInstance
from app.patients.models import Patient
from app.people.models import Unit
from app.process_models.service import deploy_file
from tests.browser.conftest import SCREENSHOTS, axe_violations, screenshot, sign_in_as
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

EKDALEN = "Vårdcentralen Ekdalen"


def _submit_case(live_server) -> int:
    """A resident's chat case on version 1 of chat_case; returns its instance id."""
    with live_server.app.extensions["database"].transaction() as session:
        patient = session.scalars(select(Patient).order_by(Patient.id)).first()
        unit = session.scalar(select(Unit).where(Unit.name == EKDALEN))
        case = submit_case(
            session,
            live_server.app.extensions["engine"],
            actor=Actor(label=patient.display_name, patient_id=patient.id),
            patient_id=patient.id,
            unit_id=unit.id,
            kind=CaseKind.SOK_VARD,
            triage=DemoTriage().assess(
                {"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3}
            ),
            message="",
        )
        return session.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == case.id))


def _deploy_version_2(live_server, tmp_path) -> int:
    """Version 2 of chat_case: a later step renamed (an instance at its first steps can move)."""
    folder = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", folder)
    path = folder / "chat_case.bpmn"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'name="Handlägg administrativt"', 'name="Handlägg administrativt ärende"'
        ),
        encoding="utf-8",
    )
    with live_server.app.extensions["database"].transaction() as session:
        result = deploy_file(
            session,
            live_server.app.extensions["engine"],
            path=path,
            processes_dir=folder,
            forms_dir=ROOT / "forms",
            actor=Actor(label="browser-test"),
            change_note="Tydligare namn",
        )
    assert result.status == "deployed"
    return result.version


def _axe_clean(page) -> None:
    violations = axe_violations(page)
    assert violations == [], violations


def test_a_process_owner_sees_the_diff_dry_runs_and_migrates_and_sees_the_instance_marked(
    live_server, page, tmp_path
):
    instance_id = _submit_case(live_server)
    new = _deploy_version_2(live_server, tmp_path)
    old = new - 1
    sign_in_as(page, "Anna Dahl", unit=EKDALEN)

    # The diff: listed and marked on the new version's diagram.
    page.goto(f"/process-models/chat_case/diff?from={old}&to={new}")
    expect(page.get_by_role("heading", name=re.compile("Ändrade steg och flöden \\(1\\)"))).to_be_visible()
    expect(page.locator(".diagram-canvas.diagram-ready")).to_have_count(1)
    expect(page.locator(".djs-element.change-changed[data-element-id='Handle_medadmin']")).to_have_count(1)
    screenshot(page, "process-changes-diff")
    _axe_clean(page)

    # The dry run, then the migration of the one instance that can move.
    page.get_by_role("link", name="Flytta pågående instanser").click()
    page.get_by_role("button", name="Provkör").click()
    expect(page.get_by_text("1 av 1 pågående instanser kan flyttas.")).to_be_visible()
    screenshot(page, "process-changes-dry-run")
    _axe_clean(page)
    page.get_by_role("button", name=f"Flytta instans {instance_id}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Instans {instance_id} går nu på version {new}.")
    expect(page.get_by_text(f"Inga pågående instanser går på version {old}.")).to_be_visible()
    screenshot(page, "process-changes-migrated")
    _axe_clean(page)

    # The instance page: version 2, its diagram with completed, active and waiting steps marked.
    page.goto(f"/instances/{instance_id}")
    expect(page.locator(".facts")).to_contain_text(str(new))
    expect(page.locator("#instance-diagram.diagram-ready")).to_have_count(1)
    expect(page.locator(".djs-element.state-completed").first).to_be_attached()
    expect(page.locator(".djs-element.state-active").first).to_be_attached()
    expect(page.get_by_role("cell", name=re.compile("flyttade till en ny version"))).to_be_visible()
    screenshot(page, "instance-page")
    _axe_clean(page)


def test_the_traceability_page_lists_rules_elements_and_tests_and_passes_axe(live_server, page):
    sign_in_as(page, "Anna Dahl", unit=EKDALEN)
    page.goto("/traceability")
    row = page.locator("tr#rule-OG-7-b")
    expect(row).to_contain_text("Handle_medadmin")
    expect(page.get_by_role("heading", name="Spårbarhet: riktlinjernas regler")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "traceability.png"))  # the top: the whole page is very long
    _axe_clean(page)
