"""Task forms rendered generically from their JSON Schema and UI hints, validated on the server:
each field type, required marks, errors beside the fields and every typed value kept."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.cases import handling
from app.cases.models import Case
from app.casework import schema_form
from app.errors import ValidationFailed
from app.instances.models import HumanTask
from app.people.service import sign_out, take_duty
from tests.casework.conftest import read, started, version_in

SCHEMA = {
    "type": "object",
    "required": ["risk", "ladder", "done", "held"],
    "properties": {
        "ladder": {"type": "integer", "minimum": 0, "maximum": 10, "title": "Steg"},
        "risk": {
            "type": "string",
            "enum": ["none", "low"],
            "title": "Risk",
            "x-labels": {"none": "Ingen", "low": "Låg"},
        },
        "many": {"type": "string", "enum": list("abcdefgh"), "title": "Många"},
        "done": {"type": "boolean", "const": True, "title": "Klart"},
        "dialogue": {"type": "boolean", "default": False, "title": "I dialog"},
        "held": {"type": "boolean", "title": "Genomfört"},
        "priority": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 5,
            "default": None,
            "title": "Ny prioritet",
        },
        "weight": {"type": "number", "title": "Vikt"},
        "at": {"type": "string", "format": "date-time", "title": "Tid"},
        "short": {"type": "string", "maxLength": 50, "title": "Kort"},
        "long": {"type": "string", "maxLength": 2000, "title": "Lång"},
        "hinted": {"type": "string", "maxLength": 100, "title": "Med ledtråd"},
    },
}
UI = {"ui:order": ["risk", "ladder"], "hinted": {"ui:widget": "textarea"}}


def test_each_schema_type_becomes_its_input_in_the_ui_order_with_required_marks():
    fields = {f.name: f for f in schema_form.fields(SCHEMA, UI)}
    assert list(fields)[:2] == ["risk", "ladder"]  # ui:order first, then the schema's order
    kinds = {name: f.kind for name, f in fields.items()}
    assert kinds == {
        "risk": "radio",
        "ladder": "integer",
        "many": "select",
        "done": "checkbox",
        "dialogue": "checkbox",
        "held": "yesno",
        "priority": "integer",
        "weight": "number",
        "at": "datetime",
        "short": "text",
        "long": "textarea",
        "hinted": "textarea",
    }
    assert fields["risk"].options == [("none", "Ingen"), ("low", "Låg")]  # x-labels
    assert (fields["ladder"].minimum, fields["ladder"].maximum) == (0, 10)
    assert fields["done"].must_tick and fields["priority"].nullable
    assert [n for n, f in fields.items() if f.required] == ["risk", "ladder", "done", "held"]


def test_posted_values_are_typed_by_the_schema_and_a_bad_date_is_reported_beside_its_field():
    data = schema_form.parse(
        SCHEMA,
        UI,
        {
            "risk": "low",
            "ladder": "3",
            "done": "on",
            "held": "false",
            "priority": "",
            "weight": "72,5",
            "at": "2026-11-24T10:30",
            "short": "x",
            "long": "",
        },
    )
    assert data == {
        "risk": "low",
        "ladder": 3,
        "done": True,
        "dialogue": False,
        "held": False,
        "priority": None,
        "weight": 72.5,
        "at": "2026-11-24T10:30:00+01:00",
        "short": "x",
        "long": "",
    }
    assert (
        schema_form.parse(SCHEMA, UI, {"ladder": "tre"})["ladder"] == "tre"
    )  # left for the schema to refuse
    with pytest.raises(ValidationFailed) as refused:
        schema_form.parse(SCHEMA, UI, {"at": "i morgon"})
    assert list(refused.value.field_errors) == ["at"]


def test_server_errors_read_as_plain_words_beside_their_fields():
    fields = {
        f.name: f
        for f in schema_form.fields(
            SCHEMA,
            UI,
            values={"ladder": "12"},
            errors={
                "ladder": ["12 is greater than the maximum of 10"],
                "risk": ["required"],
                "done": ["True was expected"],
            },
        )
    }
    assert fields["ladder"].errors == ["Ange ett heltal från 0 till 10."] and fields["ladder"].value == "12"
    assert fields["risk"].errors == ["Välj ett alternativ."]
    assert fields["done"].errors == ["Kryssa i rutan för att fortsätta."]


def _assessment(world):
    case = world.submit("adult", reason="nedstamdhet")
    started(world, case)
    handling.suspect_suicide_risk(world.session, world.engine, actor=world.actor("nurse"), case_id=case.id)
    world.session.commit()
    task_id = read(world, select(HumanTask.id).where(HumanTask.case_id == case.id))
    return case, task_id


def test_HA_suicide_c_the_assessment_form_is_rendered_from_its_schema(world, staff):
    case, task_id = _assessment(world)
    html = staff("psychologist").page(case.id)
    section = html[html.index(f'id="task-{task_id}"') :]
    assert "Gör en samlad suicidriskbedömning" in html and "Läge på suicidstegen" in section
    assert re.search(
        r'<input type="number" id="task-\d+-ladder_step" name="ladder_step" value="" inputmode="numeric" step="1" min="0" max="10"',
        section,
    )
    assert (
        '<legend lang="sv">Bedömd risk' in section and "Nås inte – risken bedöms låg" in section
    )  # enum with x-labels as radios
    assert f'<textarea id="task-{task_id}-risk_factors"' in section  # ui:widget textarea
    assert (
        'name="feels_safe_online" value="true"' in section
        and 'name="feels_safe_online" value="false"' in section
    )  # yes/no
    assert section.count('class="required"') == 3  # risk, ladder_step, mode
    assert "Fysiskt besök" in section and "records_only" not in section.replace('value="records_only"', "")


def test_every_choice_in_the_task_forms_is_labelled_in_words_not_shown_as_its_code():
    """The assessment form offered "chat / phone / video / physical / records_only": a string choice in a
    form of forms/ names each value in words (x-labels), so the clinician never reads a code."""
    import json
    from pathlib import Path

    unlabelled = []
    for path in sorted((Path(__file__).resolve().parents[2] / "forms").glob("*.schema.json")):
        for name, spec in json.loads(path.read_text(encoding="utf-8")).get("properties", {}).items():
            if spec.get("type") != "string" or "enum" not in spec:
                continue
            labels = spec.get("x-labels", {})
            codes = [
                v for v in spec["enum"] if v not in labels and not re.fullmatch(r"[A-ZÅÄÖ][a-zåäö ]+", v)
            ]
            if codes:
                unlabelled.append((path.name, name, codes))
    assert unlabelled == []


def test_HA_suicide_d_errors_show_beside_the_fields_and_every_typed_value_is_kept(world, staff):
    case, task_id = _assessment(world)
    psychologist = staff("psychologist")
    html = psychologist.page(case.id)
    version = version_in(html, f"tasks/{task_id}")
    refused = psychologist.post(
        f"/cases/{case.id}/tasks/{task_id}",
        {
            "ladder_step": "12",
            "risk": "low",
            "risk_factors": "Sömnbrist",
            "protective_factors": "Familjen",
            "expected_version": version,
        },
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f'id="task-{task_id}-ladder_step-error"' in html and "Ange ett heltal från 0 till 10." in html
    assert f'id="task-{task_id}-mode-error"' in html and "Välj ett alternativ." in html
    assert 'value="12"' in html and "Sömnbrist</textarea>" in html and "Familjen</textarea>" in html
    assert re.search(r'name="risk" value="low" checked', html)
    # The guard speaks next (HA-suicide-d): low risk needs the question whether online care feels safe.
    guarded = psychologist.post(
        f"/cases/{case.id}/tasks/{task_id}",
        {"ladder_step": "2", "risk": "low", "mode": "chat", "expected_version": version},
    )
    assert guarded.status_code == 422 and "HA-suicide-d" in guarded.get_data(as_text=True)
    done = psychologist.post(
        f"/cases/{case.id}/tasks/{task_id}",
        {
            "ladder_step": "2",
            "risk": "low",
            "mode": "chat",
            "feels_safe_online": "true",
            "expected_version": version,
        },
    )
    assert done.status_code == 302
    assert read(world, select(Case.suicide_risk).where(Case.id == case.id)) == "low"


def test_a_task_is_completed_only_through_the_case_it_belongs_to(world, staff):
    case, task_id = _assessment(world)
    other = world.submit("other")
    psychologist = staff("psychologist")
    response = psychologist.post(
        f"/cases/{other.id}/tasks/{task_id}",
        {"ladder_step": "2", "risk": "none", "mode": "chat", "feels_safe_online": "true"},
    )
    assert response.status_code == 404
    assert read(world, select(HumanTask.id).where(HumanTask.id == task_id)) == task_id


def test_the_visit_booking_takes_a_local_date_and_time(world, staff):
    """A date-time field: the browser's local value goes to the routine as Stockholm time with its offset."""
    case, task_id = _assessment(world)
    psychologist = staff("psychologist")
    version = version_in(psychologist.page(case.id), f"tasks/{task_id}")
    psychologist.post(
        f"/cases/{case.id}/tasks/{task_id}",
        {"ladder_step": "5", "risk": "moderate", "mode": "chat", "expected_version": version},
    )
    booking = read(world, select(HumanTask).where(HumanTask.case_id == case.id))
    assert booking.title.startswith("Boka fysiskt besök")
    html = psychologist.page(case.id)
    assert f'type="datetime-local" id="task-{booking.id}-visit_at"' in html
    version = version_in(html, f"tasks/{booking.id}")
    refused = psychologist.post(
        f"/cases/{case.id}/tasks/{booking.id}",
        {"booking": "booked", "visit_at": "på onsdag", "expected_version": version},
    )
    assert refused.status_code == 422 and "Ange datum och klockslag." in refused.get_data(as_text=True)
    assert (
        psychologist.post(
            f"/cases/{case.id}/tasks/{booking.id}",
            {"booking": "booked", "visit_at": "2026-11-25T10:00", "expected_version": version},
        ).status_code
        == 302
    )
    assert (
        read(world, select(HumanTask.title).where(HumanTask.case_id == case.id)) == "Har besöket genomförts?"
    )


def test_HA_suicide_g_with_no_psychologist_or_doctor_present_the_escalation_form_reaches_the_overall_responsible(
    world, staff
):
    """HA-suicide-g: nobody to assess, so the case goes to the overall responsible (not the nurse who
    raised it, not an empty queue), whose page carries the on-call form; its errors keep the typed note."""
    for key in ("psychologist", "doctor"):
        sign_out(world.session, actor=world.actor(key))
    take_duty(world.session, actor=world.actor("nurse2"))
    world.session.commit()
    case, task_id = _assessment(world)
    assert read(world, select(Case.owner_user_id).where(Case.id == case.id)) == world.staff["nurse2"][0].id
    assert f'action="/cases/{case.id}/tasks/{task_id}"' not in staff("nurse").page(case.id)
    responsible = staff("nurse2")
    html = responsible.page(case.id)
    assert "kontakta beredskapsjouren" in html and f'action="/cases/{case.id}/tasks/{task_id}"' in html
    refused = responsible.post(
        f"/cases/{case.id}/tasks/{task_id}",
        {"note": "Ringt växeln", "expected_version": version_in(html, f"tasks/{task_id}")},
    )
    assert (
        refused.status_code == 422
        and "Kryssa i rutan för att fortsätta." in refused.get_data(as_text=True)
        and "Ringt växeln" in refused.get_data(as_text=True)
    )
