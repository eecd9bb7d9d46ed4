"""Validation before publishing: one test per finding the editor shows, each tied to its element."""

from __future__ import annotations

import pytest

from app.process_models.drafts import save_draft
from tests.modeler.conftest import FORMS_DIR, SIMPLE


def _findings(session, engine, owners, draft, bpmn: str, **kw):
    _, findings = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=FORMS_DIR,
        bpmn=bpmn,
        **kw,
    )
    session.commit()
    return findings


def _errors(findings, code=None):
    return [
        (f.element_id, f.code) for f in findings if f.severity == "error" and (code is None or f.code == code)
    ]


def test_the_deployed_routine_has_no_errors_only_the_missing_layout_warning(session, engine, owners, draft):
    findings = _findings(session, engine, owners, draft, SIMPLE)
    assert _errors(findings) == []
    assert [(f.code, f.severity) for f in findings] == [("diagram_missing", "warning")]
    assert set(findings[0].as_dict()) == {"element_id", "code", "message", "severity", "file"}


def test_a_process_without_a_start_event_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace(
        '<bpmn:startEvent id="StartEvent_1" name="Ärende inkommet">',
        '<bpmn:intermediateThrowEvent id="StartEvent_1" name="Ärende inkommet">',
    ).replace("</bpmn:startEvent>", "</bpmn:intermediateThrowEvent>")
    assert ("simple_case", "start_event_missing") in _errors(_findings(session, engine, owners, draft, text))


def test_a_process_without_an_end_event_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace("<bpmn:endEvent ", "<bpmn:intermediateThrowEvent ").replace(
        "</bpmn:endEvent>", "</bpmn:intermediateThrowEvent>"
    )
    assert ("simple_case", "end_event_missing") in _errors(_findings(session, engine, owners, draft, text))


def test_a_disconnected_element_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace(
        "</bpmn:process>", '<bpmn:manualTask id="Task_lonely" name="Ensam uppgift" /></bpmn:process>'
    )
    assert ("Task_lonely", "disconnected") in _errors(_findings(session, engine, owners, draft, text))


def test_an_element_without_an_outgoing_flow_is_a_dead_end(session, engine, owners, draft):
    text = (
        SIMPLE.replace(
            '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_assess" targetRef="Event_assessed" />', ""
        )
        .replace("<bpmn:outgoing>Flow_3</bpmn:outgoing>", "")
        .replace("<bpmn:incoming>Flow_3</bpmn:incoming>", "")
    )
    errors = _errors(_findings(session, engine, owners, draft, text), "disconnected")
    assert ("Task_assess", "disconnected") in errors and ("Event_assessed", "disconnected") in errors


def test_an_implicit_split_from_a_task_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace(
        '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_assess" targetRef="Event_assessed" />',
        '<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_assess" targetRef="Event_assessed" /><bpmn:sequenceFlow id="Flow_3b" sourceRef="Task_assess" targetRef="Event_done" />',
    )
    assert ("Task_assess", "implicit_split") in _errors(_findings(session, engine, owners, draft, text))


def test_a_flow_of_an_exclusive_gateway_without_a_condition_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace("<bpmn:conditionExpression>needs_doctor == True</bpmn:conditionExpression>", "")
    assert ("Flow_yes", "condition_missing") in _errors(_findings(session, engine, owners, draft, text))


def test_the_default_flow_needs_no_condition(session, engine, owners, draft):
    assert _errors(_findings(session, engine, owners, draft, SIMPLE), "condition_missing") == []


def test_a_task_without_a_label_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace('name="Bedöm ärendet"', "")
    assert ("Task_assess", "label_missing") in _errors(_findings(session, engine, owners, draft, text))


def test_a_diverging_gateway_without_a_label_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace('name="Behövs läkare?" ', "")
    assert ("Gateway_doctor", "label_missing") in _errors(_findings(session, engine, owners, draft, text))


def test_a_lane_that_names_no_role_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace('name="Läkare"', 'name="Trollkarl"')
    assert ("Task_assess", "lane_unknown_role") in _errors(_findings(session, engine, owners, draft, text))


def test_a_form_that_does_not_exist_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace("receive.schema.json", "nowhere.schema.json")
    assert ("Task_receive", "missing_form") in _errors(_findings(session, engine, owners, draft, text))


def test_an_invalid_form_in_the_draft_is_a_finding(session, engine, owners, draft):
    findings = _findings(
        session, engine, owners, draft, SIMPLE, forms={"receive.schema.json": '{"type": "objekt"}'}
    )
    assert any(f.code == "invalid_form" and f.file == "receive.schema.json" for f in findings)


def test_an_expression_that_does_not_compile_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace("needs_doctor == True", "needs_doctor ==")
    assert ("Flow_yes", "expression") in _errors(_findings(session, engine, owners, draft, text))


def test_a_service_task_with_an_unknown_operator_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace(
        '<bpmn:scriptTask id="Script_flag" name="Markera som väntande">',
        '<bpmn:serviceTask id="Script_flag" name="Markera som väntande"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="send_pigeon"><spiffworkflow:parameters /></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>',
    ).replace(
        "<bpmn:script>waited_too_long = True</bpmn:script>\n    </bpmn:scriptTask>", "</bpmn:serviceTask>"
    )
    assert ("Script_flag", "operator_unknown") in _errors(_findings(session, engine, owners, draft, text))


def test_a_process_id_that_differs_from_the_model_is_a_finding(session, engine, owners, draft):
    text = SIMPLE.replace('id="simple_case"', 'id="other_case"')
    assert (None, "process_id") in _errors(_findings(session, engine, owners, draft, text))


@pytest.mark.parametrize("script", ["import os", "from subprocess import run", "__import__('os')"])
def test_hostile_a_script_that_imports_is_refused_with_a_clear_message(
    session, engine, owners, draft, script
):
    text = SIMPLE.replace("waited_too_long = True", script)
    findings = _findings(session, engine, owners, draft, text)
    [problem] = [f for f in findings if f.element_id == "Script_flag"]
    assert problem.severity == "error" and ("import" in problem.message or "'_'" in problem.message)


def test_hostile_an_endless_loop_in_a_script_is_refused_by_the_sandbox_time_budget(
    session, engine, owners, draft
):
    text = SIMPLE.replace("waited_too_long = True", "while True:\n        waited_too_long = True")
    findings = _findings(session, engine, owners, draft, text)
    assert ("Script_flag", "endless_loop") in _errors(findings)
    assert "time budget" in next(f.message for f in findings if f.code == "endless_loop")


def test_hostile_an_expression_that_would_run_without_end_is_refused_by_the_sandbox_limits(
    session, engine, owners, draft
):
    text = SIMPLE.replace("needs_doctor == True", "sum(range(10**12)) &gt; 0")
    findings = _findings(session, engine, owners, draft, text)
    assert ("Flow_yes", "budget") in _errors(findings)


def test_a_form_property_directly_under_the_process_is_a_finding_on_the_process_not_a_crash(
    session, engine, owners, draft
):
    misplaced = '<spiffworkflow:property name="formJsonSchemaFilename" value="absent.schema.json"/>'
    bpmn = SIMPLE.replace('<bpmn:laneSet id="LaneSet_1">', misplaced + '<bpmn:laneSet id="LaneSet_1">')
    findings = _findings(session, engine, owners, draft, bpmn)
    assert ("simple_case", "missing_form") in _errors(findings)


def test_a_form_property_directly_under_the_definitions_is_a_finding_on_the_definitions(
    session, engine, owners, draft
):
    misplaced = '<spiffworkflow:property name="formJsonSchemaFilename" value="absent.schema.json"/>'
    bpmn = SIMPLE.replace('<bpmn:process id="simple_case"', misplaced + '<bpmn:process id="simple_case"')
    findings = _findings(session, engine, owners, draft, bpmn)
    assert ("Definitions_simple", "missing_form") in _errors(findings)


def test_a_form_property_outside_any_bpmn_element_is_a_finding_without_an_element(
    session, engine, owners, draft
):
    stray = (
        '<x xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="absent.schema.json"/></x>'
    )
    findings = _findings(session, engine, owners, draft, stray)
    assert (None, "missing_form") in _errors(findings)
