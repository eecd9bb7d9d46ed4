"""Parse a bundle into SpiffWorkflow specs, plus the metadata the product needs per element."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.spiff.parser import VALIDATOR

from app.engine.bundle import Bundle, BundleInvalid, Finding
from app.engine.dmn import DecisionParser
from app.engine.xml import UnsafeXml, parse_xml

RULES_PROPERTY = "guidelineRules"
# A user task of the overall-responsible duty (OG-10.1-a): completed by the duty holder, or whoever it
# was assigned to as such, whatever the lane's role (the duty is no role). Marked in the diagram, so
# renaming the element keeps it the duty's.
DUTY_PROPERTY = "dutyTask"
# Bundles deployed before the property existed mark none: there the duty's tasks are known by id.
_DUTY_TASKS_BEFORE_THE_PROPERTY = frozenset({"Day_close", "Escalated"})


@dataclass(frozen=True)
class UserTaskMeta:
    """What the product shows and checks for one user task of a diagram."""

    element_id: str
    name: str
    lane: str | None
    form_schema: str | None
    form_ui_schema: str | None
    rules: tuple[str, ...] = ()
    documentation: str | None = None
    guard: str | None = None  # the task guard the app runs before completion
    duty: bool = False  # the overall responsible's task, whatever the lane (property dutyTask="true")


@dataclass
class LoadedSpec:
    content_hash: str
    process_id: str
    process_name: str
    spec: object
    subprocess_specs: dict
    user_tasks: dict[str, UserTaskMeta] = field(default_factory=dict)
    element_names: dict[str, str] = field(default_factory=dict)
    forms: dict[str, dict] = field(default_factory=dict)


def split_rules(value: str | None) -> tuple[str, ...]:
    return tuple(r.strip() for r in (value or "").replace(";", ",").split(",") if r.strip())


# Parsed bundles by content hash, shared by every engine in the process: a parse is a pure function
# of the bundle's text, and specs are only ever read (every workflow of a version shares one). Spares
# a deploy re-parsing what the checks just parsed, and every new app (a test's) re-parsing processes/.
_PARSED: OrderedDict[str, LoadedSpec] = OrderedDict()
_PARSED_SIZE = 64
_parsed_lock = threading.Lock()


def parse_bundle(bundle: Bundle) -> LoadedSpec:
    """Build specs from a bundle's documents, or raise BundleInvalid naming file and element."""
    content_hash = bundle.content_hash
    with _parsed_lock:
        hit = _PARSED.get(content_hash)
        if hit is not None:
            _PARSED.move_to_end(content_hash)
            return hit
    loaded = _parse(bundle, content_hash)
    with _parsed_lock:
        _PARSED[content_hash] = loaded
        while len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
    return loaded


def _parse(bundle: Bundle, content_hash: str) -> LoadedSpec:
    parser = DecisionParser(validator=VALIDATOR)
    findings: list[Finding] = []
    for name, text in bundle.documents.items():
        try:
            root = parse_xml(text, name)
            if name.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=name)
            else:
                parser.add_bpmn_xml(root, filename=name)
        except UnsafeXml as exc:
            findings.append(Finding(name, str(exc), code="unsafe_xml"))
        except ValidationException as exc:
            findings.append(_finding_from_validation(exc, name))
    if findings:
        raise BundleInvalid(findings)
    try:
        spec = parser.get_spec(bundle.process_id)
        subprocess_specs = parser.get_subprocess_specs(bundle.process_id)
    except ValidationException as exc:
        raise BundleInvalid([_finding_from_validation(exc, bundle.entry_file)]) from exc
    except Exception as exc:  # the parser raises plain errors on some malformed models
        raise BundleInvalid(
            [Finding(bundle.entry_file, f"the routine cannot be built: {exc}", code="unparseable")]
        ) from exc

    forms: dict[str, dict] = {}
    for form_name, text in bundle.forms.items():
        try:
            forms[form_name] = json.loads(text)
        except json.JSONDecodeError as exc:
            findings.append(
                Finding(form_name, f"not valid JSON: {exc.msg} (line {exc.lineno})", code="invalid_form")
            )
    if findings:
        raise BundleInvalid(findings)

    loaded = LoadedSpec(
        content_hash,
        bundle.process_id,
        getattr(spec, "description", None) or bundle.process_id,
        spec,
        subprocess_specs,
        forms=forms,
    )
    task_specs = [
        task_spec
        for process_spec in [spec, *subprocess_specs.values()]
        if process_spec is not None
        for task_spec in process_spec.task_specs.values()
    ]
    marks_duty = any(DUTY_PROPERTY in _properties(task_spec) for task_spec in task_specs)
    for task_spec in task_specs:
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if bpmn_id is None:
            continue
        loaded.element_names[bpmn_id] = task_spec.bpmn_name or bpmn_id
        if isinstance(task_spec, UserTaskMixin):
            props = _properties(task_spec)
            loaded.user_tasks[bpmn_id] = UserTaskMeta(
                element_id=bpmn_id,
                name=task_spec.bpmn_name or bpmn_id,
                lane=task_spec.lane,
                form_schema=props.get("formJsonSchemaFilename"),
                form_ui_schema=props.get("formUiSchemaFilename"),
                rules=split_rules(props.get(RULES_PROPERTY)),
                documentation=getattr(task_spec, "documentation", None),
                guard=props.get("guard"),
                duty=props.get(DUTY_PROPERTY) == "true"
                or (not marks_duty and bpmn_id in _DUTY_TASKS_BEFORE_THE_PROPERTY),
            )
    return loaded


def _properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _finding_from_validation(exc: ValidationException, default_file: str) -> Finding:
    message = str(exc.args[0]) if exc.args else str(exc)
    line = f" (line {exc.line_number})" if getattr(exc, "line_number", "") else ""
    return Finding(
        exc.file_name or default_file, message + line, getattr(exc, "id", None) or None, "invalid_bpmn"
    )
