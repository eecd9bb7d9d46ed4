"""A routine may only wait for a message the product sends: one list (app/engine/messages.py) that
the deploy checks and every sender share."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from lxml import etree

from app.engine import Bundle, BundleInvalid
from app.engine.bundle import NS
from app.engine.messages import SENT_MESSAGES, Message
from app.process_models.findings import bundle_findings
from tests import factories as f
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
WAITS = (FIXTURES / "bpmn" / "waits_for_reply.bpmn").read_text(encoding="utf-8")
UNSENT = ('name="patient_reply"', 'name="patient_replied"')

RECEIVE_TASK = (
    '<bpmn:intermediateCatchEvent id="Wait_reply" name="Patienten svarar"><bpmn:incoming>M1</bpmn:incoming><bpmn:outgoing>M2</bpmn:outgoing>\n'
    '      <bpmn:messageEventDefinition id="MED_1" messageRef="Message_reply" /></bpmn:intermediateCatchEvent>',
    '<bpmn:receiveTask id="Wait_reply" name="Patienten svarar" messageRef="Message_reply"><bpmn:incoming>M1</bpmn:incoming>'
    "<bpmn:outgoing>M2</bpmn:outgoing></bpmn:receiveTask>",
)
BOUNDARY = (
    '<bpmn:endEvent id="End_m">',
    '<bpmn:boundaryEvent id="Reply_while_reading" name="Nytt svar" cancelActivity="false" attachedToRef="Task_read">'
    '<bpmn:outgoing>M4</bpmn:outgoing><bpmn:messageEventDefinition id="MED_2" messageRef="Message_other" /></bpmn:boundaryEvent>'
    '<bpmn:endEvent id="End_b"><bpmn:incoming>M4</bpmn:incoming></bpmn:endEvent>'
    '<bpmn:sequenceFlow id="M4" sourceRef="Reply_while_reading" targetRef="End_b" />'
    '<bpmn:endEvent id="End_m">',
)


def _bundle(*replacements: tuple[str, str], messages: str = "") -> Bundle:
    text = WAITS
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    text = text.replace('<bpmn:message id="Message_reply"', messages + '<bpmn:message id="Message_reply"')
    return Bundle("waits_for_reply", "waits_for_reply.bpmn", {"waits_for_reply.bpmn": text}, {})


def _never_sent(engine, bundle: Bundle) -> list[tuple[str, str]]:
    return [
        (finding.element_id, finding.file)
        for finding in bundle_findings(bundle, engine=engine)
        if finding.code == "message_never_sent" and finding.severity == "error"
    ]


def test_a_catch_event_waiting_for_a_message_nothing_sends_is_refused_at_deploy(session, engine, tmp_path):
    folder = tmp_path / "unsent"
    folder.mkdir()
    (folder / "waits_for_reply.bpmn").write_text(WAITS.replace(*UNSENT), encoding="utf-8")
    with pytest.raises(BundleInvalid) as refused:
        f.deploy_fixture(session, engine, "waits_for_reply.bpmn", processes_dir=folder)
    [finding] = [x for x in refused.value.findings if x.code == "message_never_sent"]
    assert (finding.file, finding.element_id) == ("waits_for_reply.bpmn", "Wait_reply")
    assert "patient_replied" in finding.message and "patient_reply" in finding.message
    # The same diagram waiting for a message the product sends deploys.
    assert f.deploy_fixture(session, engine, "waits_for_reply.bpmn").status == "deployed"


def test_a_receive_task_and_a_boundary_message_event_nothing_sends_are_findings_in_the_editor(engine):
    assert _never_sent(engine, _bundle(RECEIVE_TASK)) == []
    assert _never_sent(engine, _bundle(RECEIVE_TASK, UNSENT)) == [("Wait_reply", "waits_for_reply.bpmn")]
    with_boundary = _bundle(
        BOUNDARY, messages='<bpmn:message id="Message_other" name="lab_result_arrived" />'
    )
    assert _never_sent(engine, with_boundary) == [("Reply_while_reading", "waits_for_reply.bpmn")]
    # A message the routine throws to itself does arrive.
    thrown = _bundle(
        BOUNDARY,
        (
            '<bpmn:endEvent id="End_m"><bpmn:incoming>M3</bpmn:incoming>',
            '<bpmn:endEvent id="End_m"><bpmn:incoming>M3</bpmn:incoming><bpmn:messageEventDefinition id="MED_3" messageRef="Message_other" />',
        ),
        messages='<bpmn:message id="Message_other" name="lab_result_arrived" />',
    )
    assert _never_sent(engine, thrown) == []


EVENT_SUBPROCESS = (
    '<bpmn:endEvent id="End_m">',
    '<bpmn:subProcess id="On_message" name="Vid meddelande" triggeredByEvent="true">'
    '<bpmn:startEvent id="Message_starts" name="Provsvar kommer" isInterrupting="false"><bpmn:outgoing>S1</bpmn:outgoing>'
    '<bpmn:messageEventDefinition id="MED_4" messageRef="Message_other" /></bpmn:startEvent>'
    '<bpmn:endEvent id="End_s"><bpmn:incoming>S1</bpmn:incoming></bpmn:endEvent>'
    '<bpmn:sequenceFlow id="S1" sourceRef="Message_starts" targetRef="End_s" /></bpmn:subProcess>'
    '<bpmn:endEvent id="End_m">',
)


def test_an_event_subprocess_started_by_a_message_nothing_sends_is_a_finding(engine):
    unsent = _bundle(
        EVENT_SUBPROCESS, messages='<bpmn:message id="Message_other" name="lab_result_arrived" />'
    )
    assert _never_sent(engine, unsent) == [("Message_starts", "waits_for_reply.bpmn")]
    sent = _bundle(
        EVENT_SUBPROCESS,
        messages=f'<bpmn:message id="Message_other" name="{Message.SUICIDE_RISK_RAISED.value}" />',
    )
    assert _never_sent(engine, sent) == []


def _sender_names(node: ast.expr) -> list[str | None]:
    """The message names a sender's `name` argument can take (None: not read from the list)."""
    if isinstance(node, ast.IfExp):
        return _sender_names(node.body) + _sender_names(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Message":
        return [Message[node.attr].value]
    return [None]


def test_every_message_name_a_sender_uses_is_in_the_list():
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "app").rglob("*.py")) + sorted((ROOT / "tasks").rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call):
                continue
            callee = (
                call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
            )
            if callee != "deliver_message":
                continue
            [name] = [k.value for k in call.keywords if k.arg == "name"]
            found.setdefault(str(path.relative_to(ROOT)), []).extend(_sender_names(name))
    assert found, "no sender found: the scan is wrong"
    for path, names in found.items():
        assert all(n in SENT_MESSAGES for n in names), (path, names)
    assert {n for names in found.values() for n in names} | {Message.PRIO_SAME_DAY} == SENT_MESSAGES

    # Deadline messages are named by the diagrams (set_working_hours_deadline's `message`); the
    # timer worker sends them when due.
    deadlines = set()
    for path in (ROOT / "processes").glob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        for operator in root.iterfind(".//spiffworkflow:serviceTaskOperator", NS):
            if operator.get("id") == "set_working_hours_deadline":
                [param] = operator.iterfind(".//spiffworkflow:parameter[@id='message']", NS)
                deadlines.add(ast.literal_eval(param.get("value")))
    assert deadlines and deadlines <= SENT_MESSAGES
