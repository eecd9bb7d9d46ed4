"""Trial runs of a bundle's scripts and expressions in the sandbox, with no task data.

Static checks cannot see an endless loop (`while True: pass`) or a value that would outgrow the
sandbox's budgets. Run each piece once under a short time budget: a budget error then is a property
of the source itself, so it is reported; any other error (a name the task data would supply) is not.
"""

from __future__ import annotations

from lxml import etree

from app.engine.bundle import BPMN_NS, NS, Bundle, Finding
from app.engine.sandbox import BudgetExceeded, SandboxEnvironment, SandboxViolation, check_source
from app.engine.xml import UnsafeXml, parse_xml

TRIAL_BUDGET_S = 0.2
_EVAL_TAGS = (
    "conditionExpression",
    "timeDuration",
    "timeDate",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
)


def _owner(node: etree._Element) -> str | None:
    while node is not None:
        if node.get("id") and node.tag.startswith(f"{{{BPMN_NS}}}"):
            return node.get("id")
        node = node.getparent()
    return None


def _sources(root: etree._Element):
    for tag in _EVAL_TAGS:
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            yield node.text, "eval", _owner(node)
    for node in root.iter(f"{{{BPMN_NS}}}script"):
        yield node.text, "exec", _owner(node)
    for tag in ("preScript", "postScript"):
        for node in root.iterfind(f".//spiffworkflow:{tag}", NS):
            yield node.text, "exec", _owner(node)
    for node in root.iterfind(".//spiffworkflow:parameter", NS):
        yield node.get("value"), "eval", _owner(node)


def trial_findings(bundle: Bundle, *, time_budget_s: float = TRIAL_BUDGET_S) -> list[Finding]:
    """Findings for scripts and expressions that exceed the sandbox's limits on their own."""
    environment = SandboxEnvironment(time_budget_s=time_budget_s)
    findings: list[Finding] = []
    for name, text in bundle.documents.items():
        if not name.endswith(".bpmn"):
            continue
        try:
            root = parse_xml(text, name)
        except UnsafeXml:
            continue  # reported by the deploy checks
        for source, mode, element_id in _sources(root):
            if not source or not source.strip() or check_source(source.strip(), mode):
                continue  # empty, or refused statically already
            try:
                if mode == "eval":
                    environment.evaluate(source.strip(), {})
                else:
                    environment.execute(source, {})
            except BudgetExceeded as exc:
                code = "endless_loop" if exc.code == "time_budget" else "budget"
                findings.append(
                    Finding(
                        name,
                        f"exceeds the sandbox's limits even before it sees any data: {exc}",
                        element_id,
                        code,
                    )
                )
            except SandboxViolation:
                continue
            except Exception:  # errors that depend on task data are not findings here
                continue
    return findings
