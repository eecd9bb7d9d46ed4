"""The overall responsible's tasks are marked in the diagram (property dutyTask="true"), not known by
element id: a process owner who renames the element keeps it the duty's (OG-10.1-a)."""

from __future__ import annotations

from pathlib import Path

from app.engine import Bundle, collect_bundle
from app.engine.specs import parse_bundle
from app.process_models.findings import bundle_findings

ROOT = Path(__file__).resolve().parents[2]


def _user_tasks(folder: Path, name: str, text: str) -> dict:
    (folder / name).write_text(text, encoding="utf-8")
    return parse_bundle(collect_bundle(folder / name, folder, ROOT / "forms")).user_tasks


def _task(element_id: str, incoming: str, outgoing: str, duty: str | None) -> str:
    properties = (
        '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="dutyTask" '
        f'value="{duty}"/></spiffworkflow:properties></bpmn:extensionElements>'
        if duty is not None
        else ""
    )
    return (
        f'<bpmn:userTask id="{element_id}" name="{element_id}">{properties}'
        f"<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing></bpmn:userTask>"
    )


def _diagram(first: str, second: str, *, first_duty: str | None, second_duty: str | None) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="duty_case" isExecutable="true">
    <bpmn:startEvent id="Start_duty"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    {_task(first, "F1", "F2", first_duty)}
    {_task(second, "F2", "F3", second_duty)}
    <bpmn:endEvent id="End_duty"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_duty" targetRef="{first}" />
    <bpmn:sequenceFlow id="F2" sourceRef="{first}" targetRef="{second}" />
    <bpmn:sequenceFlow id="F3" sourceRef="{second}" targetRef="End_duty" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_OG_10_1_a_a_task_marked_duty_task_is_the_dutys_whatever_its_id(tmp_path):
    text = _diagram("Closing_renamed", "Other", first_duty="true", second_duty=None)
    tasks = _user_tasks(tmp_path, "duty_case.bpmn", text)
    assert tasks["Closing_renamed"].duty and not tasks["Other"].duty


def test_OG_10_1_a_a_diagram_marking_its_duty_tasks_marks_no_other_by_its_old_id(tmp_path):
    """Once a diagram marks duty tasks, an element that happens to be called Day_close is not one."""
    text = _diagram("Escalation", "Day_close", first_duty="true", second_duty=None)
    tasks = _user_tasks(tmp_path, "duty_case.bpmn", text)
    assert tasks["Escalation"].duty and not tasks["Day_close"].duty


def test_a_bundle_from_before_the_property_knows_the_dutys_tasks_by_their_old_ids(tmp_path):
    """Versions deployed before dutyTask existed (running cases stay on them) keep working."""
    text = _diagram("Day_close", "Other", first_duty=None, second_duty=None)
    tasks = _user_tasks(tmp_path, "duty_case.bpmn", text)
    assert tasks["Day_close"].duty and not tasks["Other"].duty


def test_OG_10_1_a_the_products_duty_tasks_stay_the_dutys_when_renamed(tmp_path):
    for file, element in (("unit_day_close.bpmn", "Day_close"), ("suicide_risk.bpmn", "Escalated")):
        text = (ROOT / "processes" / file).read_text(encoding="utf-8")
        # every reference: the element, its flows' source/target, lanes' flowNodeRef, its DI shape
        renamed = text.replace(f'"{element}"', '"Renamed_duty_task"').replace(
            f">{element}<", ">Renamed_duty_task<"
        )
        tasks = _user_tasks(tmp_path, file, renamed)
        assert tasks["Renamed_duty_task"].duty, file


def test_a_duty_mark_other_than_true_or_false_or_off_a_user_task_is_a_finding(engine):
    """A typo ("yes") would silently leave the task with its lane: the process owner is told instead."""
    diagram = _diagram("Check_day", "Close_day", first_duty="yes", second_duty="false").replace(
        '<bpmn:endEvent id="End_duty">',
        '<bpmn:endEvent id="End_duty"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="dutyTask" value="true"/></spiffworkflow:properties></bpmn:extensionElements>',
    )
    bundle = Bundle("duty_case", "duty_case.bpmn", {"duty_case.bpmn": diagram}, {})
    found = {
        (finding.code, finding.element_id)
        for finding in bundle_findings(bundle, engine=engine)
        if finding.code.startswith("duty_task")
    }
    assert found == {("duty_task_value", "Check_day"), ("duty_task_misplaced", "End_duty")}
