"""Validation before publishing: everything deploy checks, the execution lint rules, and trial runs.

The server is the authority: the editor shows these findings, and publishing refuses a draft with
any finding of severity "error". Each finding names the element to highlight on the canvas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.engine import Bundle, BundleInvalid, Finding, ProcessEngine, UnsafeXml, parse_xml, validate_bundle
from app.engine.bundle import BPMN_NS, NS, compose, executable_process_ids, own_part, owner_id
from app.engine.trial import trial_findings
from app.instances.guards import known_guards
from app.people.roles import Role
from app.process_models.lint import lint_bpmn


@dataclass(frozen=True)
class FindingView:
    """One finding as the editor and the API show it."""

    element_id: str | None
    code: str
    message: str
    severity: str
    file: str

    def as_dict(self) -> dict:
        return {
            "element_id": self.element_id,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "file": self.file,
        }


def _view(finding: Finding) -> FindingView:
    return FindingView(finding.element_id, finding.code, finding.message, finding.severity, finding.file)


def bundle_findings(
    bundle: Bundle, *, engine: ProcessEngine, called: Mapping[str, Bundle] | None = None
) -> list[FindingView]:
    """Every finding for a bundle (deploy checks, lint, references, trial runs), errors first.

    `called` are the processes the routine calls, as their models publish them now: the routine is
    checked together with them, but findings inside them are theirs (each model's own publishing
    checks it) and are not reported here."""
    theirs: set[str] = set()
    if called:
        own = own_part(bundle)
        theirs = {n for part in called.values() for n in [*part.documents, *part.forms]}
        theirs -= {*own.documents, *own.forms}
        bundle = compose(bundle, called)
    found: list[Finding] = []
    found += _reference_findings(bundle)
    parsed_ok = True
    try:
        validate_bundle(
            bundle,
            operators=engine.operators.keys(),
            roles=[r.value for r in Role],
            guards=known_guards(),
            functions=engine.function_names(),
        )
    except BundleInvalid as exc:
        found += exc.findings
        parsed_ok = not any(f.code in ("unsafe_xml", "invalid_bpmn", "unparseable") for f in exc.findings)
    for name, text in bundle.documents.items():
        if not name.endswith(".bpmn") or name in theirs:
            continue
        try:
            root = parse_xml(text, name)
        except UnsafeXml:
            continue
        found += lint_bpmn(root, name)
        if root.find(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram") is None:
            found.append(
                Finding(
                    name,
                    "has no diagram layout (BPMN DI), so the editor cannot show it; lay it out in a modeler",
                    None,
                    "diagram_missing",
                    "warning",
                )
            )
    if parsed_ok:
        found += trial_findings(bundle)
    unique = list(dict.fromkeys(_view(f) for f in found if f.file not in theirs))
    return sorted(unique, key=lambda f: f.severity != "error")


def has_errors(findings: list[FindingView]) -> bool:
    return any(f.severity == "error" for f in findings)


def _reference_findings(bundle: Bundle) -> list[Finding]:
    """What collect_bundle checks for files in processes/, checked inside the draft's own bundle."""
    findings: list[Finding] = []
    try:
        entry = parse_xml(bundle.entry_text, bundle.entry_file)
    except UnsafeXml:
        return findings  # validate_bundle reports it
    ids = executable_process_ids(entry)
    if ids != [bundle.process_id]:
        findings.append(
            Finding(
                bundle.entry_file,
                f"the file must hold exactly one executable process with the id '{bundle.process_id}'; found {', '.join(ids) or 'none'}",
                None,
                "process_id",
            )
        )
    process_ids, decision_ids = set(), set()
    roots = {}
    for name, text in bundle.documents.items():
        try:
            roots[name] = parse_xml(text, name)
        except UnsafeXml:
            continue
        if name.endswith(".dmn"):
            decision_ids |= {d.get("id") for d in roots[name].iter("{*}decision")}
        else:
            process_ids |= {p.get("id") for p in roots[name].iterfind("bpmn:process", NS)}
    for name, root in roots.items():
        if name.endswith(".dmn"):
            continue
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            if call.get("calledElement") not in process_ids:
                findings.append(
                    Finding(
                        name,
                        f"calls process '{call.get('calledElement')}', which neither the routine defines nor a published process model",
                        call.get("id"),
                        "missing_process",
                    )
                )
        for task in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
            ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
            decision = (ref.text or "").strip() if ref is not None else ""
            if decision not in decision_ids:
                findings.append(
                    Finding(
                        name,
                        f"uses decision table '{decision}', which the routine does not contain",
                        task.get("id"),
                        "missing_decision",
                    )
                )
        for prop in root.iterfind(".//spiffworkflow:property", NS):
            if (
                prop.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename")
                and prop.get("value", "") not in bundle.forms
            ):
                findings.append(
                    Finding(
                        name, f"form '{prop.get('value', '')}' does not exist", owner_id(prop), "missing_form"
                    )
                )
    return findings
