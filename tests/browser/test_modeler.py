"""The process owner in a real browser: rename a task and change a timer in the bpmn-js modeler, save,
see a validation finding highlighted on the canvas, fix it, publish with an approver; the form editor's
live preview and the decision-table editor; axe on every page of the area."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.process_models.models import ProcessModel, ProcessVersion, VersionStatus
from app.process_models.service import load_bundle
from tests.browser.conftest import axe_violations, screenshot, sign_in_as

pytestmark = pytest.mark.browser

EKDALEN = "Vårdcentralen Ekdalen"
NEW_TIMER = "iso(closing_time(unit_id, day) - duration_hours(0.5))"


def _axe(page, name: str) -> None:
    assert axe_violations(page) == [], name
    screenshot(page, f"modeler-{name}")


def _select(page, element_id: str) -> None:
    page.locator(f'#canvas [data-element-id="{element_id}"]').first.click()
    expect(page.locator("#p-id")).to_have_text(element_id)


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    # The shell's missing /favicon.ico is not this area's: a failed load is reported with its URL apart.
    # dmn-js's production bundle warns about its own Inferno build (vendored as npm ships it).
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error"
            and not message.text.startswith(
                ("Failed to load resource", "It looks like you're using a minified")
            )
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_a_process_owner_edits_a_task_and_a_timer_fixes_a_finding_and_publishes_with_an_approver(
    page, live_server
):
    sign_in_as(page, "Anna Dahl", unit=EKDALEN)
    page.goto("/process-models")
    expect(page.get_by_role("heading", name="Processer", exact=True)).to_be_visible()
    _axe(page, "list")

    page.get_by_role("link", name="Dagens stängning").click()
    page.wait_for_url("**/process-models/*")  # the model's page, not the list still unloading
    _axe(page, "model")
    page.get_by_role("button", name="Redigera som nytt utkast (från version 1)").click()
    expect(page.locator('#canvas [data-element-id="Day_close"]')).to_be_visible()
    expect(page.locator("#findings")).not_to_contain_text("Granskar")
    _axe(page, "editor")

    # Rename the user task, change the timer, and (by mistake) clear another task's label.
    _select(page, "Day_close")
    page.get_by_label("Namn").fill("Dagens stängning: besked till de väntande")
    page.get_by_role("button", name="Använd").click()
    _select(page, "At_closing")
    expect(page.get_by_label("Timeruttryck (Python, t.ex. 'PT2H')")).to_have_value(
        "iso(closing_time(unit_id, day) - duration_hours(0.25))"
    )
    page.get_by_label("Timeruttryck (Python, t.ex. 'PT2H')").fill(NEW_TIMER)
    page.get_by_label("Riktlinjeregler (t.ex. OG-6.1-b, OG-8.6)").fill(
        "HA-day-end"
    )  # a new extension element
    page.get_by_role("button", name="Använd").click()
    _select(page, "Next_day")
    page.get_by_label("Namn").fill("")
    page.get_by_role("button", name="Använd").click()
    page.get_by_role("button", name="Spara utkast").click()
    expect(page.locator("#status")).to_have_text("Utkastet är sparat.")

    # The finding is listed, linked to its element and highlighted on the canvas.
    finding = page.locator("#findings .finding.error", has_text="label_missing")
    expect(finding).to_be_visible()
    expect(page.locator('#canvas .djs-element.finding-error[data-element-id="Next_day"]')).to_have_count(1)
    screenshot(page, "modeler-editor-finding")
    finding.get_by_role("button", name="Next_day").click()
    expect(page.locator("#p-id")).to_have_text("Next_day")
    page.get_by_label("Namn").fill("Planera nästa dags stängning")
    page.get_by_role("button", name="Använd").click()
    page.get_by_role("button", name="Spara utkast").click()
    expect(page.locator("#findings")).to_contain_text("Inga fynd")
    expect(page.locator("#canvas .finding-error")).to_have_count(0)

    page.get_by_role("link", name="Granska och publicera").click()
    _axe(page, "publish")
    hanna = page.locator("#approver option", has_text="Hanna Wik").get_attribute("value")
    page.get_by_label("Fastställd av").select_option(hanna)
    page.get_by_label("Vad har ändrats?").fill("Besked en halvtimme före stängning.")
    page.get_by_label("Gäller för nya ärenden från").fill(
        (clock.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    )
    page.get_by_role("button", name="Publicera").click()
    expect(page.get_by_role("status")).to_contain_text("Version 2 är publicerad.")
    expect(page.locator("table.versions")).to_contain_text("Hanna Wik")
    screenshot(page, "modeler-published")

    with live_server.session() as session:
        model = session.scalar(select(ProcessModel).where(ProcessModel.process_id == "unit_day_close"))
        version = session.scalar(
            select(ProcessVersion).where(
                ProcessVersion.process_model_id == model.id, ProcessVersion.number == 2
            )
        )
        assert version.status == VersionStatus.PUBLISHED and version.approved_by == "Hanna Wik"
        text = load_bundle(session, version.bundle_hash).entry_text
        assert "Dagens stängning: besked till de väntande" in text and "duration_hours(0.5)" in text
        assert (
            'name="formJsonSchemaFilename" value="day_close.schema.json"' in text
        )  # extension properties kept
        timer = text.split('id="At_closing"')[1].split("</bpmn:intermediateCatchEvent>")[0]
        assert 'name="guidelineRules" value="HA-day-end"' in timer


def test_the_form_editor_previews_live_and_the_decision_table_editor_opens(page, live_server):
    errors = _console_errors(page)
    sign_in_as(page, "Anna Dahl", unit=EKDALEN)
    page.goto("/process-models/chat_case")
    page.get_by_role("button", name="Redigera som nytt utkast (från version 1)").click()
    expect(page.locator("#canvas .djs-element").first).to_be_visible()
    page.get_by_role("link", name="Beslutstabell queue_role.dmn").click()
    expect(page.locator("#dmn .tjs-table, #dmn table").first).to_be_visible()
    _axe(page, "decision")
    page.go_back()
    page.get_by_role("link", name=re.compile(r"Formulär receive\.schema\.json")).click()
    # htmx binds the live preview once the page has loaded: typing before that sends nothing.
    page.wait_for_url(re.compile(r"/forms/receive\.schema\.json$"), wait_until="load")
    schema = page.get_by_label("JSON Schema (fälten)")
    schema.fill(
        '{"type": "object", "properties": {"extra_note": {"type": "string", "title": "Extra anteckning"}}}'
    )
    expect(page.locator("#preview")).to_contain_text("Extra anteckning")
    _axe(page, "form")
    assert errors == [], errors  # the BPMN and DMN editors' set-up included


def test_a_nurse_gets_a_403_page(page, live_server):
    sign_in_as(page, "Sara Lind")
    response = page.goto("/process-models")
    assert response.status == 403
    expect(page.get_by_text("Processmodellerna ändras och publiceras av processägare.")).to_be_visible()
    _axe(page, "refused")


def _select_by_id(page, element_id: str) -> None:
    """Select through bpmn-js's selection service (a connection is too thin to click reliably)."""
    page.evaluate(
        "id => { const m = window.vardflodeModeler; m.get('selection').select(m.get('elementRegistry').get(id)); }",
        element_id,
    )
    expect(page.locator("#p-id")).to_have_text(element_id)


def test_the_side_panel_edits_form_operator_and_gateway_conditions_as_spiffworkflow_properties(
    page, live_server
):
    sign_in_as(page, "Anna Dahl", unit=EKDALEN)
    page.goto("/process-models/admin_case")
    page.get_by_role("button", name="Redigera som nytt utkast (från version 1)").click()
    expect(page.locator('#canvas [data-element-id="Handle_admin"]')).to_be_visible()
    _select(page, "Handle_admin")
    page.get_by_label("Formulär", exact=True).select_option("handling.schema.json")
    page.get_by_label("Övergripande ansvarigs uppgift", exact=False).check()  # OG-10.1-a: the duty's task
    page.get_by_role("button", name="Använd").click()
    _select(page, "Notify_admin")
    page.get_by_label("Tjänst").select_option("notify_staff_new_case")
    page.get_by_role("button", name="Använd").click()
    _select_by_id(page, "Flow_Gateway_admin_outcome_To_prescription")
    page.get_by_label("Villkor (Python)").fill("")
    page.get_by_role("button", name="Använd").click()
    page.get_by_role("button", name="Spara utkast").click()
    finding = page.locator("#findings .finding.error", has_text="condition_missing")
    expect(finding).to_be_visible()
    expect(
        page.locator(
            '#canvas .finding-error[data-element-id="Flow_Gateway_admin_outcome_To_prescription"]'
        ).first
    ).to_be_attached()
    finding.get_by_role("button").click()
    page.get_by_label("Villkor (Python)").fill("outcome == 'prescription'")
    page.get_by_role("button", name="Använd").click()
    page.get_by_role("button", name="Spara utkast").click()
    expect(page.locator("#findings")).to_contain_text("Inga fynd")

    with live_server.session() as session:
        model = session.scalar(select(ProcessModel).where(ProcessModel.process_id == "admin_case"))
        draft = session.scalar(
            select(ProcessVersion).where(
                ProcessVersion.process_model_id == model.id, ProcessVersion.status == VersionStatus.DRAFT
            )
        )
        bundle = load_bundle(session, draft.bundle_hash)
        handle = bundle.entry_text.split('id="Handle_admin"')[1].split("</bpmn:userTask>")[0]
        assert 'value="handling.schema.json"' in handle and 'name="guard" value="admin_handling"' in handle
        assert 'name="dutyTask" value="true"' in handle
        assert "handling.schema.json" in bundle.forms  # the shared form came into the draft with it
        assert "outcome == 'prescription'" in bundle.entry_text


@pytest.mark.parametrize("who", ["Gunilla Ahl", "Anna Dahl"])
def test_a_published_version_is_shown_in_the_viewer_without_a_palette_or_a_publish_promise(
    page, live_server, who
):
    errors = _console_errors(page)
    sign_in_as(page, who, unit=EKDALEN if who == "Anna Dahl" else None)
    page.goto("/process-models/admin_case/versions/1/edit")
    start = page.locator('#canvas [data-element-id="Start_admin"]')
    expect(start).to_be_visible()
    expect(page.locator("#findings")).not_to_contain_text("Granskar")
    # The viewer draws no modelling palette: nothing covers the start of the diagram.
    expect(page.locator("#canvas .djs-palette")).to_have_count(0)
    expect(page.locator("#findings")).not_to_contain_text("publiceras")
    _select(page, "Handle_admin")
    expect(page.get_by_label("Namn")).to_be_disabled()
    expect(page.get_by_role("button", name="Använd")).to_have_count(0)
    assert page.evaluate("() => !!window.vardflodeModeler.get('canvas')")
    _axe(page, "viewer")
    assert errors == [], errors


def test_at_phone_width_the_version_tables_scroll_in_place_and_the_page_stays_in_the_viewport(
    page, live_server
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_as(page, "Anna Dahl", unit=EKDALEN)
    for path in ("/process-models", "/process-models/admin_case"):
        page.goto(path)
        expect(page.locator("table.versions").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        expect(page.locator(".table-scroll table.versions").first).to_be_visible()
        _axe(page, "phone" + path.replace("/", "-"))


def test_a_published_decision_table_is_shown_in_the_viewer_with_no_cell_to_edit(page, live_server):
    errors = _console_errors(page)
    sign_in_as(page, "Anna Dahl", unit=EKDALEN)
    page.goto("/process-models/chat_case/versions/1/decisions/queue_role.dmn")
    expect(page.locator("#dmn table").first).to_be_visible()
    expect(page.locator('#dmn [contenteditable="true"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Spara utkast")).to_have_count(0)
    _axe(page, "decision-published")
    assert errors == [], errors
