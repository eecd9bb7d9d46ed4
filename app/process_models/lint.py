"""Lint rules that matter for execution, over a BPMN document's XML (no engine needed).

Each rule yields Findings tied to the element a process owner must fix: a start and an end event
per process, no disconnected elements, no implicit splits (a task or event with two or more
outgoing flows: the engine takes all of them), a condition on every outgoing flow of an
exclusive gateway but its default, and labels on tasks and diverging gateways.
"""

from __future__ import annotations

from lxml import etree

from app.engine.bundle import BPMN_NS, Finding

_TASKS = (
    "task",
    "userTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "manualTask",
    "sendTask",
    "receiveTask",
    "callActivity",
)
_GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway")
_EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
_FLOW_NODES = (*_TASKS, *_GATEWAYS, *_EVENTS, "subProcess")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(container: etree._Element, *names: str) -> list[etree._Element]:
    return [
        child
        for child in container
        if isinstance(child.tag, str) and child.tag in {f"{{{BPMN_NS}}}{n}" for n in names}
    ]


def lint_bpmn(root: etree._Element, file: str) -> list[Finding]:
    """Every lint finding in one BPMN document (processes and their embedded subprocesses)."""
    findings: list[Finding] = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        findings += _lint_container(process, file, is_process=True)
    for sub in root.iter(f"{{{BPMN_NS}}}subProcess"):
        findings += _lint_container(sub, file, is_process=False)
    return findings


def _lint_container(container: etree._Element, file: str, *, is_process: bool) -> list[Finding]:
    findings: list[Finding] = []
    cid = container.get("id")
    nodes = _children(container, *_FLOW_NODES)
    flows = _children(container, "sequenceFlow")
    if not nodes and not is_process:
        return findings
    starts = [n for n in nodes if _local(n) == "startEvent"]
    ends = [n for n in nodes if _local(n) == "endEvent"]
    if not starts:
        findings.append(
            Finding(file, "has no start event; add one where the routine begins", cid, "start_event_missing")
        )
    if not ends:
        findings.append(
            Finding(file, "has no end event; every path must end in one", cid, "end_event_missing")
        )
    outgoing: dict[str, list[etree._Element]] = {}
    incoming: dict[str, int] = {}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        incoming[flow.get("targetRef")] = incoming.get(flow.get("targetRef"), 0) + 1
    for node in nodes:
        kind, nid = _local(node), node.get("id")
        if kind == "subProcess" and node.get("triggeredByEvent") == "true":
            continue  # an event subprocess starts by its event, not by a flow
        out = outgoing.get(nid, [])
        has_in = incoming.get(nid, 0) > 0
        needs_in = kind not in ("startEvent", "boundaryEvent")
        needs_out = kind != "endEvent"
        if not has_in and not out:
            findings.append(
                Finding(file, "is not connected to the flow; connect it or delete it", nid, "disconnected")
            )
        elif needs_in and not has_in:
            findings.append(
                Finding(file, "has no incoming flow, so it can never be reached", nid, "disconnected")
            )
        elif needs_out and not out:
            findings.append(
                Finding(
                    file,
                    "has no outgoing flow, so the routine stops here without an end event",
                    nid,
                    "disconnected",
                )
            )
        if (kind in _TASKS or kind in _EVENTS or kind == "subProcess") and len(out) > 1:
            findings.append(
                Finding(
                    file,
                    f"has {len(out)} outgoing flows and would take all of them; split with a gateway",
                    nid,
                    "implicit_split",
                )
            )
        if kind == "exclusiveGateway" and len(out) > 1:
            default = node.get("default")
            for flow in out:
                if flow.get("id") == default:
                    continue
                condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
                if condition is None or not (condition.text or "").strip():
                    findings.append(
                        Finding(
                            file,
                            "leaves an exclusive gateway without a condition; add one or make it the default flow",
                            flow.get("id"),
                            "condition_missing",
                        )
                    )
        if kind in _TASKS and not (node.get("name") or "").strip():
            findings.append(
                Finding(file, "has no label; name the task as the staff will see it", nid, "label_missing")
            )
        if kind in _GATEWAYS and len(out) > 1 and not (node.get("name") or "").strip():
            findings.append(
                Finding(
                    file,
                    "has no label; a diverging gateway names the question it decides",
                    nid,
                    "label_missing",
                )
            )
    return findings
