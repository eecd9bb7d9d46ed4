"""Between two deployed versions: what changed element by element, and moving a running workflow.

The element diff reads the bundles' BPMN (ids align elements, as SpiffWorkflow's own diff does);
it covers what a process owner edits: name, type, lane, properties, conditions, timers, scripts,
flows and the forms a task shows. Moving a workflow uses SpiffWorkflow's `diff_workflow` and
`migrate_workflow`, refused when a step the instance completed or is at changed or disappeared
(architecture notes): its history and its open tasks must mean what they meant when they happened.

One exception is the process owner's repair path: a step that *failed* (in ERROR, with an open
incident) may change, because the new version is the fix. Nothing of that step happened (its
data and effects were not kept), and retrying the incident runs it again, now on the fixed
version. A failed step that disappeared is still refused: the instance would have nowhere to go on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from app.engine.bundle import BPMN_NS, FORM_PROPERTIES, NS, SPIFF_NS, Bundle
from app.engine.runtime import WorkflowHandle
from app.engine.specs import LoadedSpec
from app.engine.xml import parse_xml

# Containers and artefacts that are not steps of the routine.
_SKIPPED = {
    "laneSet",
    "lane",
    "extensionElements",
    "documentation",
    "incoming",
    "outgoing",
    "conditionExpression",
    "textAnnotation",
    "association",
}
# States where a step has happened or is happening: a change there is refused.
_HELD = TaskState.COMPLETED | TaskState.STARTED | TaskState.READY | TaskState.WAITING
# A failed step (its incident open): it may be changed (repaired), never removed.
_FAILED = TaskState.ERROR


@dataclass(frozen=True)
class ElementChange:
    """One element that differs between two versions; `fields` maps what changed to (before, after)."""

    element_id: str
    name: str
    kind: str
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionDiff:
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class MigrationCheck:
    """Whether one workflow can move to the new version, and if not, each reason (element, why);
    `repairs` are the failed steps the new version changes (the fix the move brings)."""

    reasons: list[tuple[str, str]]
    repairs: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.reasons


def describe_elements(bundle: Bundle) -> dict[str, dict[str, str]]:
    """Every step and flow of the bundle's BPMN with the attributes a diff compares, by element id."""
    elements: dict[str, dict[str, str]] = {}
    for name, text in sorted(bundle.documents.items()):
        if not name.endswith(".bpmn"):
            continue
        root = parse_xml(text, name)
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            lanes = {
                ref.text.strip(): lane.get("name") or lane.get("id")
                for lane in process.iter(f"{{{BPMN_NS}}}lane")
                for ref in lane.findall("bpmn:flowNodeRef", NS)
                if ref.text
            }
            for node in process.iter():
                if not isinstance(node.tag, str) or node is process:
                    continue
                kind = etree.QName(node).localname
                if (
                    etree.QName(node).namespace != BPMN_NS
                    or kind in _SKIPPED
                    or node.get("id") is None
                    or kind.endswith("EventDefinition")
                ):
                    continue
                if node.getparent() is not None and etree.QName(node.getparent()).localname in (
                    "extensionElements",
                ):
                    continue
                elements[node.get("id")] = _describe(node, kind, lanes, bundle)
    return elements


def _describe(node, kind: str, lanes: dict[str, str], bundle: Bundle) -> dict[str, str]:
    props = {
        p.get("name"): p.get("value") or ""
        for p in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    }
    described = {
        "type": kind,
        "name": node.get("name") or "",
        "lane": lanes.get(node.get("id"), ""),
        "properties": ", ".join(f"{k}={v}" for k, v in sorted(props.items())),
        "condition": _text(node.find("bpmn:conditionExpression", NS)),
        "timer": " ".join(_text(t) for t in node.iterfind("bpmn:timerEventDefinition/*", NS)),
        "script": _text(node.find("bpmn:script", NS)),
        "incoming": ", ".join(sorted(_text(i) for i in node.iterfind("bpmn:incoming", NS))),
        "outgoing": ", ".join(sorted(_text(o) for o in node.iterfind("bpmn:outgoing", NS))),
        "source": node.get("sourceRef") or "",
        "target": node.get("targetRef") or "",
        "attached_to": node.get("attachedToRef") or "",
        "default": node.get("default") or "",
        "extensions": _extensions(node),
        "events": ", ".join(
            sorted(
                etree.QName(d).localname
                for d in node
                if isinstance(d.tag, str) and etree.QName(d).localname.endswith("EventDefinition")
            )
        ),
    }
    # A task's form is part of the task: an edited form changes what the step asks.
    for prop in FORM_PROPERTIES:
        if props.get(prop) and props[prop] in bundle.forms:
            described[f"form {props[prop]}"] = json.dumps(
                json.loads(bundle.forms[props[prop]]), sort_keys=True
            )
    return {k: v for k, v in described.items() if v}


def _text(node) -> str:
    return (node.text or "").strip() if node is not None else ""


def _extensions(node) -> str:
    """Spiff extensions other than properties (service operator, called decision, pre/post scripts)."""
    parts = []
    for extension in node.iterfind("bpmn:extensionElements/*", NS):
        if (
            not isinstance(extension.tag, str)
            or etree.QName(extension).namespace != SPIFF_NS
            or etree.QName(extension).localname == "properties"
        ):
            continue
        parts.append(etree.tostring(extension, method="c14n").decode())
    return " ".join(parts)


def diff_bundles(old: Bundle, new: Bundle) -> VersionDiff:
    """Added, removed and changed elements (with each changed field) from `old` to `new`."""
    before, after = describe_elements(old), describe_elements(new)
    added = [_change(eid, after[eid]) for eid in after if eid not in before]
    removed = [_change(eid, before[eid]) for eid in before if eid not in after]
    changed = []
    for eid in before:
        if eid not in after or before[eid] == after[eid]:
            continue
        keys = sorted(set(before[eid]) | set(after[eid]))
        fields = {
            k: (before[eid].get(k, ""), after[eid].get(k, ""))
            for k in keys
            if before[eid].get(k, "") != after[eid].get(k, "")
        }
        changed.append(_change(eid, after[eid], fields))
    # Decision tables are compared whole: a changed table changes what its business rule task decides.
    for name in sorted(set(old.documents) | set(new.documents)):
        if name.endswith(".dmn") and old.documents.get(name) != new.documents.get(name):
            changed.append(
                ElementChange(
                    name,
                    name,
                    "decisionTable",
                    {"content": ("…" if name in old.documents else "", "…" if name in new.documents else "")},
                )
            )
    return VersionDiff(added, removed, changed)


def _change(element_id: str, described: dict[str, str], fields: dict | None = None) -> ElementChange:
    return ElementChange(
        element_id, described.get("name") or element_id, described.get("type", ""), fields or {}
    )


def check_migration(handle: WorkflowHandle, target: LoadedSpec, changed_elements: set[str]) -> MigrationCheck:
    """Can this workflow move to `target`? Refused when a completed or active step changed or is gone.

    `changed_elements` are ids the element diff found changed (it also sees forms and labels, which
    the engine's spec comparison does not). A failed step (ERROR) may change: that is the repair.
    """
    workflow = handle._workflow
    registry = handle.engine._serializer._serializer.registry
    reasons: list[tuple[str, str]] = []
    top, subs = diff_workflow(registry, workflow, target.spec, target.subprocess_specs)
    for sp_id, sub_diff in subs.items():
        if sub_diff is None:
            reasons.append((str(workflow.subprocesses[sp_id].spec.name), "removed_subprocess"))
    diffs = [top, *(d for d in subs.values() if d is not None)]
    seen: set[tuple[str, str]] = set()
    repairs: set[str] = set()
    for diff in diffs:
        for task in diff.removed:
            if task.has_state(_HELD | _FAILED):
                seen.add((task.task_spec.bpmn_id or task.task_spec.name, "removed_" + _held_word(task)))
        for task in diff.changed:
            if task.has_state(_HELD):
                seen.add((task.task_spec.bpmn_id or task.task_spec.name, "changed_" + _held_word(task)))
            elif task.has_state(_FAILED):
                repairs.add(task.task_spec.bpmn_id or task.task_spec.name)
    for task in handle._all_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id not in changed_elements:
            continue
        if task.has_state(_HELD) and not any(r[0] == bpmn_id for r in seen):
            seen.add((bpmn_id, "changed_" + _held_word(task)))
        elif task.has_state(_FAILED) and bpmn_id not in target.element_names:
            # Gone from the new version, though the engine aligned its place with another step.
            seen.add((bpmn_id, "removed_active"))
        elif task.has_state(_FAILED):
            repairs.add(bpmn_id)
    reasons.extend(sorted(r for r in seen if r[0] is not None))
    # A step both failed and held elsewhere (e.g. a loop) is refused, not repaired.
    held = {element for element, _ in reasons}
    return MigrationCheck(reasons, sorted(r for r in repairs if r is not None and r not in held))


def _held_word(task) -> str:
    return "completed" if task.has_state(TaskState.COMPLETED) else "active"


def migrate(handle: WorkflowHandle, target: LoadedSpec) -> WorkflowHandle:
    """The workflow moved onto `target` (call check_migration first); open timers keep their due time."""
    workflow = handle._workflow
    handle._changing()  # moved below: what `handle` last serialized no longer describes it
    registry = handle.engine._serializer._serializer.registry
    # The waiting timers' computed due times live in internal data that a reset would recompute
    # from now: an old deadline must not silently move later by migrating.
    kept = {
        (t.task_spec.bpmn_id, t.parent.task_spec.bpmn_id if t.parent else None): dict(t.internal_data)
        for t in handle._all_tasks()
        if t.has_state(TaskState.WAITING)
    }
    top, subs = diff_workflow(registry, workflow, target.spec, target.subprocess_specs)
    migrate_workflow(top, workflow, target.spec)
    for sp_id, sub_diff in subs.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(sub_diff, sub, target.subprocess_specs[sub.spec.name])
    workflow.subprocess_specs = target.subprocess_specs
    for task in handle._all_tasks():
        key = (task.task_spec.bpmn_id, task.parent.task_spec.bpmn_id if task.parent else None)
        if key in kept and not task.has_state(TaskState.COMPLETED):
            task.internal_data.update(kept[key])
    moved = WorkflowHandle(handle.engine, target, workflow)
    return moved
