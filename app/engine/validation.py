"""Everything deploy checks before a bundle may run: the server is the authority.

Parsing (safe XML, BPMN/DMN schema, SpiffWorkflow's own checks), forms (JSON Schema 2020-12),
service operators, lanes naming known roles, every expression compiled in the sandbox, timer
expressions whose value can be known before deploy parsed as SpiffWorkflow will parse it, and
message waits for a message nothing in the product sends (app/engine/messages.py).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from app.engine.bundle import BPMN_NS, NS, Bundle, BundleInvalid, Finding, owner_element
from app.engine.messages import SENT_MESSAGES
from app.engine.sandbox import FORBIDDEN_NAMES, check_source
from app.engine.specs import DUTY_PROPERTY, LoadedSpec, parse_bundle
from app.engine.timer_expressions import timer_findings
from app.engine.xml import UnsafeXml, parse_xml

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# Expression-bearing BPMN elements and how their text is compiled.
_EVAL_TAGS = (
    "conditionExpression",
    "timeDuration",
    "timeDate",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
)
_FEEL_HINTS = (
    (re.compile(r"\[\s*[^\]]*\.\.[^\]]*\]"), "FEEL range '[a..b]'"),
    (re.compile(r"^\s*not\s*\("), "FEEL negation 'not(...)'"),
    (re.compile(r"\b(date|time|date and time|duration)\s*\(\s*\""), "FEEL date/time literal"),
)


def validate_bundle(
    bundle: Bundle,
    *,
    operators: Iterable[str],
    roles: Iterable[str],
    guards: Iterable[str] | None = None,
    functions: Iterable[str] | None = None,
    sent_messages: Iterable[str] = SENT_MESSAGES,
) -> LoadedSpec:
    """Return the parsed bundle when it may run; raise BundleInvalid listing every finding."""
    findings: list[Finding] = []
    findings += _check_forms(bundle)
    try:
        loaded = parse_bundle(bundle)
    except BundleInvalid as exc:
        raise BundleInvalid(exc.findings + findings) from exc
    findings += _check_lanes(loaded, bundle, set(roles))
    if guards is not None:
        known = set(guards)
        for meta in loaded.user_tasks.values():
            if meta.guard and meta.guard not in known:
                findings.append(
                    Finding(
                        bundle.entry_file,
                        f"user task '{meta.name}' names an unknown guard '{meta.guard}'; known: {', '.join(sorted(known)) or 'none'}",
                        meta.element_id,
                        "guard_unknown",
                    )
                )
    roots = {}
    for name, text in bundle.documents.items():
        try:
            roots[name] = parse_xml(text, name)
        except UnsafeXml as exc:  # already reported by parse_bundle; keep the message
            findings.append(Finding(name, str(exc), code="unsafe_xml"))
    # A message thrown inside the routine itself (a throw or end event, a send task) arrives too.
    sent = set(sent_messages) | {
        message for name, root in roots.items() if name.endswith(".bpmn") for message in _thrown(root)
    }
    for name, root in roots.items():
        if name.endswith(".dmn"):
            findings += _check_dmn_expressions(root, name)
        else:
            findings += _check_lengths(root, name)
            findings += _check_bpmn_expressions(root, name)
            findings += timer_findings(root, name, None if functions is None else frozenset(functions))
            findings += _check_operators(root, name, set(operators))
            findings += _check_event_gateways(root, name)
            findings += _check_message_waits(root, name, sent)
            findings += _check_duty_marks(root, name)
    if findings:
        raise BundleInvalid(findings)
    return loaded


@functools.lru_cache(maxsize=512)
def _schema_error(text: str) -> SchemaError | None:
    """Checking a form against the JSON Schema metaschema takes ~8 ms, and every deploy and draft
    check sees the same forms again: once per text (a pure function of it)."""
    try:
        Draft202012Validator.check_schema(json.loads(text))
    except SchemaError as exc:
        return exc
    return None


def _check_forms(bundle: Bundle) -> list[Finding]:
    findings = []
    for name, text in bundle.forms.items():
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            findings.append(
                Finding(name, f"not valid JSON: {exc.msg} (line {exc.lineno})", code="invalid_form")
            )
            continue
        if name.endswith(".uischema.json"):
            if not isinstance(schema, dict):
                findings.append(Finding(name, "a UI schema must be a JSON object", code="invalid_form"))
            continue
        declared = schema.get("$schema") if isinstance(schema, dict) else None
        if declared not in (None, DRAFT_2020_12):
            findings.append(
                Finding(
                    name,
                    f"forms use JSON Schema 2020-12 ($schema {DRAFT_2020_12}), not {declared}",
                    code="invalid_form",
                )
            )
            continue
        error = _schema_error(text)
        if error is not None:
            path = "/".join(str(p) for p in error.path) or "(root)"
            findings.append(
                Finding(name, f"not a valid JSON Schema at {path}: {error.message}", code="invalid_form")
            )
            continue
        # Form fields become task data that expressions read by name: a field must be a name the
        # sandbox lets expressions use.
        for field in (schema.get("properties") or {}) if isinstance(schema, dict) else ():
            if field in FORBIDDEN_NAMES or field.startswith("_") or not field.isidentifier():
                findings.append(
                    Finding(
                        name,
                        f"field '{field}' cannot be read by expressions; rename it (not a Python name, or reserved)",
                        code="invalid_form",
                    )
                )
    return findings


def _check_lanes(loaded: LoadedSpec, bundle: Bundle, roles: set[str]) -> list[Finding]:
    findings = []
    for meta in loaded.user_tasks.values():
        if meta.lane is None:
            findings.append(
                Finding(
                    bundle.entry_file,
                    f"user task '{meta.name}' is not in a lane; its lane names the role that does it",
                    meta.element_id,
                    "lane_missing",
                )
            )
        elif meta.lane not in roles:
            findings.append(
                Finding(
                    bundle.entry_file,
                    f"user task '{meta.name}' is in lane '{meta.lane}', which is not a known role ({', '.join(sorted(roles))})",
                    meta.element_id,
                    "lane_unknown_role",
                )
            )
    return findings


def _owner_id(element) -> str | None:
    node = element
    while node is not None:
        if (
            node.get("id")
            and node.tag.startswith(f"{{{BPMN_NS}}}")
            and not node.tag.endswith(("Definition", "Expression"))
        ):
            return node.get("id")
        node = node.getparent()
    return None


def _compile_findings(
    source: str | None, mode: str, file: str, element_id: str | None, what: str
) -> list[Finding]:
    if not source or not source.strip():
        return []
    return [
        Finding(file, f"{what}: {problem}", element_id, "expression")
        for problem in check_source(source.strip(), mode)
    ]


def _check_bpmn_expressions(root, file: str) -> list[Finding]:
    findings = []
    for tag in _EVAL_TAGS:
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            findings += _compile_findings(
                node.text, "eval", file, _owner_id(node), f"{tag} '{(node.text or '').strip()[:60]}'"
            )
    for node in root.iter(f"{{{BPMN_NS}}}script"):
        findings += _compile_findings(node.text, "exec", file, _owner_id(node), "script")
    for tag in ("preScript", "postScript"):
        for node in root.iterfind(f".//spiffworkflow:{tag}", NS):
            findings += _compile_findings(node.text, "exec", file, _owner_id(node), tag)
    for node in root.iterfind(".//spiffworkflow:parameter", NS):
        findings += _compile_findings(
            node.get("value"), "eval", file, _owner_id(node), f"service parameter '{node.get('id')}'"
        )
    return findings


def _check_operators(root, file: str, operators: set[str]) -> list[Finding]:
    findings = []
    for task in root.iter(f"{{{BPMN_NS}}}serviceTask"):
        operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        name = operator.get("id") if operator is not None else None
        if not name:
            findings.append(Finding(file, "service task has no operator", task.get("id"), "operator_missing"))
        elif name not in operators:
            findings.append(
                Finding(
                    file,
                    f"unknown service operator '{name}'; registered: {', '.join(sorted(operators)) or 'none'}",
                    task.get("id"),
                    "operator_unknown",
                )
            )
    return findings


def _check_event_gateways(root, file: str) -> list[Finding]:
    """SpiffWorkflow keeps the due time of every timer behind an event-based gateway in one slot of the
    gateway's task, so two timers there would overwrite each other: refuse them."""
    findings = []
    catches = {event.get("id"): event for event in root.iter(f"{{{BPMN_NS}}}intermediateCatchEvent")}
    for gateway in root.iter(f"{{{BPMN_NS}}}eventBasedGateway"):
        flows = root.iterfind(f".//bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", NS)
        targets = [catches.get(flow.get("targetRef")) for flow in flows]
        timers = [t for t in targets if t is not None and t.find("bpmn:timerEventDefinition", NS) is not None]
        if len(timers) > 1:
            findings.append(
                Finding(
                    file,
                    f"event-based gateway waits for {len(timers)} timers; it may wait for at most one (use one timer, or a timer on a separate path)",
                    gateway.get("id"),
                    "gateway_timers",
                )
            )
    return findings


_CATCHING = ("intermediateCatchEvent", "boundaryEvent")
_THROWING = ("intermediateThrowEvent", "endEvent")


def _message_name(root, element, definition) -> str | None:
    """The name SpiffWorkflow gives the message (the referenced bpmn:message's name), as its parser does."""
    ref = definition.get("messageRef")
    if not ref:
        return element.get("name")
    message = next((m for m in root.iter(f"{{{BPMN_NS}}}message") if m.get("id") == ref), None)
    return message.get("name") if message is not None else None


def _thrown(root) -> set[str]:
    names = set()
    for tag in _THROWING:
        for event in root.iter(f"{{{BPMN_NS}}}{tag}"):
            for definition in event.iterfind("bpmn:messageEventDefinition", NS):
                names.add(_message_name(root, event, definition))
    for task in root.iter(f"{{{BPMN_NS}}}sendTask"):
        names.add(_message_name(root, task, task))
    return {n for n in names if n}


def _check_message_waits(root, file: str, sent: set[str]) -> list[Finding]:
    """A wait for a message nothing sends never ends: the case would stand still for good."""
    waits = [
        (event, definition)
        for tag in _CATCHING
        for event in root.iter(f"{{{BPMN_NS}}}{tag}")
        for definition in event.iterfind("bpmn:messageEventDefinition", NS)
    ]
    waits += [(task, task) for task in root.iter(f"{{{BPMN_NS}}}receiveTask")]
    # An event subprocess started by a message waits beside the routine for as long as it runs.
    waits += [
        (start, definition)
        for start in root.iter(f"{{{BPMN_NS}}}startEvent")
        if start.getparent().get("triggeredByEvent") == "true"
        for definition in start.iterfind("bpmn:messageEventDefinition", NS)
    ]
    findings = []
    for element, definition in waits:
        name = _message_name(root, element, definition)
        if name in sent:
            continue
        findings.append(
            Finding(
                file,
                f"waits for the message '{name or ''}', which nothing in the product sends, so the case "
                f"would wait for ever; the product sends: {', '.join(sorted(sent))}",
                element.get("id"),
                "message_never_sent",
            )
        )
    return findings


# What the running product stores of a diagram, and how long its columns are (app/instances/models.py):
# a longer id or task name would pass here and then fail every case that reaches it.
ID_LENGTH = 120  # process ids, element ids, message names
NAME_LENGTH = 200  # task titles, element names in incidents, form file names
_NAMED_STEPS = ("userTask", "manualTask", "task", "serviceTask", "scriptTask", "sendTask", "receiveTask",
                "businessRuleTask", "callActivity", "subProcess", "startEvent", "endEvent",
                "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")  # fmt: skip


def _check_duty_marks(root, file: str) -> list[Finding]:
    """dutyTask marks a user task with "true" or "false": any other value ("yes", "True") or a mark on
    another kind of element would silently leave the task with its lane instead of the duty."""
    findings = []
    for prop in root.iterfind(".//spiffworkflow:property", NS):
        if prop.get("name") != DUTY_PROPERTY:
            continue
        owner = owner_element(prop)
        owner_id = owner.get("id") if owner is not None else None
        value = prop.get("value")
        if owner is None or owner.tag != f"{{{BPMN_NS}}}userTask":
            kind = etree.QName(owner).localname if owner is not None else "nothing"
            findings.append(
                Finding(
                    file,
                    f"{DUTY_PROPERTY} marks a user task; here it is on {kind}",
                    owner_id,
                    "duty_task_misplaced",
                )
            )
        elif value not in ("true", "false"):
            findings.append(
                Finding(
                    file,
                    f"{DUTY_PROPERTY} is 'true' or 'false', not '{value or ''}': the task would stay its lane's",
                    owner_id,
                    "duty_task_value",
                )
            )
    return findings


def _check_lengths(root, file: str) -> list[Finding]:
    findings = []
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith("{"):
            continue
        local = element.tag.split("}", 1)[1]
        element_id = element.get("id") or ""
        if len(element_id) > ID_LENGTH:
            findings.append(
                Finding(
                    file, f"the id is longer than {ID_LENGTH} characters", element_id[:40] + "…", "too_long"
                )
            )
        if local == "message" and len(element.get("name") or "") > ID_LENGTH:
            findings.append(
                Finding(
                    file, f"the message name is longer than {ID_LENGTH} characters", element_id, "too_long"
                )
            )
        if local in _NAMED_STEPS and len(element.get("name") or "") > NAME_LENGTH:
            findings.append(
                Finding(
                    file,
                    f"the name is longer than {NAME_LENGTH} characters: shorten it (it is the task's title)",
                    element_id,
                    "too_long",
                )
            )
        if (
            local == "property"
            and element.get("name", "").startswith("form")
            and len(element.get("value") or "") > NAME_LENGTH
        ):
            findings.append(
                Finding(file, f"the form file name is longer than {NAME_LENGTH} characters", None, "too_long")
            )
    return findings


# The hit policies the engine carries out as the DMN standard means them (app/engine/dmn.py): the
# others (ANY, PRIORITY, RULE ORDER, OUTPUT ORDER, COLLECT with an aggregation) would silently run
# as "first match", so they are refused at deploy rather than misroute a case.
SUPPORTED_HIT_POLICIES = {"UNIQUE", "FIRST", "COLLECT"}


def _check_dmn_expressions(root, file: str) -> list[Finding]:
    findings = []
    for table in root.iter("{*}decisionTable"):
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in SUPPORTED_HIT_POLICIES or table.get("aggregation"):
            shown = policy + (f" {table.get('aggregation')}" if table.get("aggregation") else "")
            findings.append(
                Finding(
                    file,
                    f"hit policy {shown} is not supported; use UNIQUE (rows never overlap), FIRST (the "
                    "first matching row in order) or COLLECT (every matching row)",
                    _owner_id_any(table),
                    "hit_policy",
                )
            )
    for expression in root.iter("{*}inputExpression"):
        text = expression.findtext("{*}text")
        findings += _compile_findings(text, "eval", file, _owner_id_any(expression), "input expression")
    for entry_tag in ("inputEntry", "outputEntry"):
        for entry in root.iter(f"{{*}}{entry_tag}"):
            text = (entry.findtext("{*}text") or "").strip()
            if not text or text == "-":  # '-' is SpiffWorkflow's "any value"
                continue
            for pattern, label in _FEEL_HINTS:
                if pattern.search(text):
                    findings.append(
                        Finding(
                            file,
                            f"'{text}' looks like FEEL ({label}); decision tables use Python expressions",
                            _owner_id_any(entry),
                            "feel",
                        )
                    )
                    break
            else:
                findings += _dmn_cell_findings(text, entry_tag, file, _owner_id_any(entry))
    return findings


def _dmn_cell_findings(text: str, entry_tag: str, file: str, element_id: str | None) -> list[Finding]:
    # SpiffWorkflow's DMN engine compares an input cell with '==' unless it starts with an operator
    # ('< 3'), and '?' stands for the input value; compile what it will actually evaluate.
    source = text.replace("?", "dmninputexpr")
    if entry_tag == "inputEntry" and check_source(source, "eval"):
        source = f"dmninputexpr {source}"
    return _compile_findings(source, "eval", file, element_id, f"decision cell '{text[:60]}'")


def _owner_id_any(element) -> str | None:
    node = element
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None
