"""A deployable bundle: a routine's BPMN, the processes it calls, its DMN tables and its forms.

A bundle is stored once by content hash and pinned by every instance started on it, so an
instance always runs exactly the diagrams, decision tables and forms it started with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from app.engine.xml import UnsafeXml, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


@dataclass(frozen=True)
class Finding:
    """One problem found in a bundle, tied to a file and (when known) a BPMN/DMN element."""

    file: str
    message: str
    element_id: str | None = None
    code: str = "invalid"
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.element_id}]" if self.element_id else "")
        return f"{where}: {self.message}"


class BundleInvalid(Exception):
    """Deploying was refused; `findings` says what is wrong, with file and element."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__("; ".join(str(f) for f in findings))


@dataclass(frozen=True)
class Bundle:
    process_id: str
    entry_file: str
    documents: Mapping[str, str] = field(default_factory=dict)  # file name -> BPMN/DMN text
    forms: Mapping[str, str] = field(default_factory=dict)  # form file name -> JSON text

    def to_json(self) -> str:
        return json.dumps(
            {
                "process_id": self.process_id,
                "entry_file": self.entry_file,
                "documents": dict(sorted(self.documents.items())),
                "forms": dict(sorted(self.forms.items())),
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Bundle:
        raw = json.loads(text)
        return cls(raw["process_id"], raw["entry_file"], raw["documents"], raw["forms"])

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @property
    def entry_text(self) -> str:
        return self.documents[self.entry_file]


def file_hash(text: str) -> str:
    """The hash of one source file's text (the deploy rule compares it with the last deployment)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def executable_process_ids(root: etree._Element) -> list[str]:
    return [
        p.get("id") for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable", "true") != "false"
    ]


def owner_id(element: etree._Element) -> str | None:
    """The id of the nearest BPMN element around `element` (a task, a process, the definitions).

    Extension data usually sits three levels below its task, but an editor or a hand-written file
    can put it anywhere (directly under a process, say): a finding then names the nearest owner, or
    none, instead of failing."""
    owner = owner_element(element)
    return owner.get("id") if owner is not None else None


def owner_element(element: etree._Element) -> etree._Element | None:
    """The nearest BPMN element with an id around `element`, or None (see `owner_id`)."""
    node = element.getparent()
    while node is not None:
        if isinstance(node.tag, str) and node.tag.startswith(f"{{{BPMN_NS}}}") and node.get("id"):
            return node
        node = node.getparent()
    return None


def _index_directory(processes_dir: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Map process ids and decision ids to file names, and read every file once."""
    process_files: dict[str, str] = {}
    decision_files: dict[str, str] = {}
    texts: dict[str, str] = {}
    for path in sorted(processes_dir.glob("*.bpmn")) + sorted(processes_dir.glob("*.dmn")):
        text = path.read_text(encoding="utf-8")
        texts[path.name] = text
        try:
            root = parse_xml(text, path.name)
        except UnsafeXml:
            continue  # reported when (and if) a bundle needs this file
        if path.suffix == ".bpmn":
            for process in root.iterfind("bpmn:process", NS):
                process_files.setdefault(process.get("id"), path.name)
        else:
            for decision in root.iter("{*}decision"):
                decision_files.setdefault(decision.get("id"), path.name)
    return process_files, decision_files, texts


def collect_bundle(entry_path: Path, processes_dir: Path, forms_dir: Path) -> Bundle:
    """Gather everything the entry file's process needs, or raise BundleInvalid."""
    entry_path = Path(entry_path)
    processes_dir = Path(processes_dir)
    findings: list[Finding] = []
    process_files, decision_files, texts = _index_directory(processes_dir)
    if entry_path.parent.resolve() != processes_dir.resolve():
        texts[entry_path.name] = entry_path.read_text(encoding="utf-8")
    try:
        entry_root = parse_xml(texts[entry_path.name], entry_path.name)
    except UnsafeXml as exc:
        raise BundleInvalid([Finding(entry_path.name, str(exc), code="unsafe_xml")]) from exc
    ids = executable_process_ids(entry_root)
    if len(ids) != 1:
        raise BundleInvalid(
            [
                Finding(
                    entry_path.name, f"a routine file holds exactly one executable process; found {len(ids)}"
                )
            ]
        )
    for process in entry_root.iterfind("bpmn:process", NS):
        process_files[process.get("id")] = entry_path.name

    documents: dict[str, str] = {entry_path.name: texts[entry_path.name]}
    forms: dict[str, str] = {}
    pending = [entry_path.name]
    while pending:
        name = pending.pop()
        try:
            root = parse_xml(documents[name], name)
        except UnsafeXml as exc:
            findings.append(Finding(name, str(exc), code="unsafe_xml"))
            continue
        if name.endswith(".dmn"):
            continue
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            target = call.get("calledElement")
            dependency = process_files.get(target)
            if dependency is None:
                findings.append(
                    Finding(
                        name,
                        f"calls process '{target}', which no file in processes/ defines",
                        call.get("id"),
                        "missing_process",
                    )
                )
            elif dependency not in documents:
                documents[dependency] = texts[dependency]
                pending.append(dependency)
        for rule_task in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
            ref = rule_task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
            decision = ref.text.strip() if ref is not None and ref.text else None
            dependency = decision_files.get(decision) if decision else None
            if dependency is None:
                findings.append(
                    Finding(
                        name,
                        f"uses decision table '{decision}', which no .dmn file in processes/ defines",
                        rule_task.get("id"),
                        "missing_decision",
                    )
                )
            elif dependency not in documents:
                documents[dependency] = texts[dependency]
        for prop in root.iterfind(".//spiffworkflow:property", NS):
            if prop.get("name") not in FORM_PROPERTIES:
                continue
            form_name = prop.get("value", "")
            form_path = Path(forms_dir) / form_name
            if not form_name or "/" in form_name or "\\" in form_name or not form_path.is_file():
                findings.append(
                    Finding(
                        name, f"form '{form_name}' does not exist in forms/", owner_id(prop), "missing_form"
                    )
                )
            else:
                forms[form_name] = form_path.read_text(encoding="utf-8")
    if findings:
        raise BundleInvalid(findings)
    return Bundle(ids[0], entry_path.name, documents, forms)


# --- called processes ----------------------------------------------------------------------------
#
# A process another routine calls (a call activity's calledElement) is a process model of its own,
# published and versioned on its own. A version's bundle therefore holds only the routine's own
# part: its file, the decision tables and the forms that file uses (`own_part`). The bundle an
# instance runs is composed when it starts (`compose`): the own part plus, for each process it
# calls, that model's version in effect then, and so on down. The composed bundle is stored once by
# content hash and pinned on the instance like any bundle, so a running instance keeps what it
# started with (until migrated), while new instances get the called process's current version.
# Older bundles that still carry a copy of a called file are read the same way: the copy is left
# out wherever the called model is found.


def _calls(root: etree._Element) -> set[str]:
    return {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity") if c.get("calledElement")}


def _decisions_used(root: etree._Element) -> set[str]:
    used = set()
    for task in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
        if ref is not None and ref.text:
            used.add(ref.text.strip())
    return used


def _forms_used(root: etree._Element) -> set[str]:
    return {
        prop.get("value", "")
        for prop in root.iterfind(".//spiffworkflow:property", NS)
        if prop.get("name") in FORM_PROPERTIES
    }


def _decision_ids(name: str, text: str) -> set[str]:
    try:
        return {d.get("id") for d in parse_xml(text, name).iter("{*}decision")}
    except UnsafeXml:
        return set()


def called_processes(bundle: Bundle) -> set[str]:
    """The ids of the processes the routine's own file calls and does not itself define."""
    try:
        root = parse_xml(bundle.entry_text, bundle.entry_file)
    except UnsafeXml:
        return set()
    defined = {p.get("id") for p in root.iterfind("bpmn:process", NS)}
    return _calls(root) - defined


def own_part(bundle: Bundle) -> Bundle:
    """The bundle without what belongs to called processes: the entry file, the decision tables it
    uses and the forms it names (a copy of a called file, and what only that copy used, is left out)."""
    try:
        root = parse_xml(bundle.entry_text, bundle.entry_file)
    except UnsafeXml:
        return bundle  # validation reports it; nothing to separate
    decisions, forms = _decisions_used(root), _forms_used(root)
    documents = {bundle.entry_file: bundle.entry_text}
    for name, text in bundle.documents.items():
        if not name.endswith(".dmn"):
            continue
        defined = _decision_ids(name, text)
        if defined & decisions or not defined:
            documents[name] = text
    return Bundle(
        bundle.process_id,
        bundle.entry_file,
        documents,
        {name: text for name, text in bundle.forms.items() if name in forms},
    )


def compose(bundle: Bundle, called: Mapping[str, Bundle]) -> Bundle:
    """The bundle an instance runs: `bundle`'s own part plus the called processes' bundles (by
    process id, each already its model's own part). The caller's files win a name both use (a shared
    decision table or form); a called process missing from `called` keeps the copy `bundle` has."""
    if not called:
        return bundle
    own = own_part(bundle)
    documents, forms = dict(own.documents), dict(own.forms)
    for part in called.values():
        for name, text in part.documents.items():
            documents.setdefault(name, text)
        for name, text in part.forms.items():
            forms.setdefault(name, text)
    # Copies of called files in an older bundle: kept only for processes no model was found for
    # (with the decision tables they use, unless a table of that id is already there).
    decisions = {d for n, t in documents.items() if n.endswith(".dmn") for d in _decision_ids(n, t)}
    for name, text in bundle.documents.items():
        if name in documents:
            continue
        try:
            root = parse_xml(text, name)
        except UnsafeXml:
            continue
        if name.endswith(".dmn"):
            if not _decision_ids(name, text) & decisions:
                documents[name] = text
        elif not {p.get("id") for p in root.iterfind("bpmn:process", NS)} & called.keys():
            documents[name] = text
    for name, text in bundle.forms.items():
        forms.setdefault(name, text)
    return Bundle(bundle.process_id, bundle.entry_file, documents, forms)
