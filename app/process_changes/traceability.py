"""Traceability: every guideline rule, the diagram elements that implement it, the tests that prove it.

Rules come from the guideline document (a copy ships in this package); elements from the
`guidelineRules` property on each process's newest published version; tests from test function and
class names and docstrings under tests/ (as ../shared/tools/rule-coverage counts them: the ID as
written, OG-6.1-f, or with every non-alphanumeric run as one underscore, OG_6_1_f). The product
runs from a checkout, so tests/ is read at request time, cached until a test file changes. Where
tests/ is absent (an installed package), the page says so and lists rules and elements only.
"""

from __future__ import annotations

import ast
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.engine import Bundle
from app.engine.bundle import NS, owner_element
from app.engine.specs import RULES_PROPERTY, split_rules
from app.engine.xml import parse_xml
from app.errors import Forbidden
from app.people.roles import Role
from app.process_models.models import ProcessModel, ProcessVersion, VersionStatus
from app.process_models.service import load_bundle

RULES_FILE = Path(__file__).with_name("guideline_rules.md")
DEFAULT_TESTS_DIR = Path(__file__).resolve().parents[2] / "tests"
_ROW = re.compile(r"\| ((?:OG|HA|SEC)-[^ |]+) \|(.*)\| \[(\w+)\] \|\s*$")
_SECTION = re.compile(r"## ([A-Z])\. (.*)")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    section: str
    text: str
    kind: str


@dataclass(frozen=True)
class ElementRef:
    process_id: str
    process_name: str
    version: int
    element_id: str
    name: str


@dataclass
class RuleTrace:
    rule: Rule
    elements: list[ElementRef] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)


@dataclass
class TraceabilityPage:
    sections: list[tuple[str, str, list[RuleTrace]]]
    tests_available: bool
    unknown_on_elements: list[tuple[str, ElementRef]]

    @property
    def totals(self) -> dict[str, int]:
        traces = [t for _, _, ts in self.sections for t in ts]
        return {
            "rules": len(traces),
            "with_elements": sum(1 for t in traces if t.elements),
            "with_tests": sum(1 for t in traces if t.tests),
        }


def read_rules(path: Path = RULES_FILE) -> tuple[list[tuple[str, str]], list[Rule]]:
    """The sections (letter, title) and rules of the guideline document."""
    sections, rules, section = [], [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1)
            sections.append((section, heading.group(2).strip()))
            continue
        row = _ROW.match(line)
        if row:
            rules.append(Rule(row.group(1), section, row.group(2).strip(), row.group(3)))
    return sections, rules


def rule_elements(session: Session) -> list[tuple[str, ElementRef]]:
    """(rule id, element) for every element carrying guideline rules in each model's newest published version."""
    found = []
    for model in session.scalars(select(ProcessModel).order_by(ProcessModel.name)):
        version = session.scalar(
            select(ProcessVersion)
            .where(
                ProcessVersion.process_model_id == model.id, ProcessVersion.status == VersionStatus.PUBLISHED
            )
            .order_by(ProcessVersion.number.desc())
            .limit(1)
        )
        if version is None:
            continue
        found.extend(_elements_of(load_bundle(session, version.bundle_hash), model, version.number))
    return found


def _elements_of(bundle: Bundle, model: ProcessModel, number: int) -> list[tuple[str, ElementRef]]:
    text = bundle.entry_text
    root = parse_xml(text, bundle.entry_file)
    found = []
    for prop in root.iterfind(f".//spiffworkflow:property[@name='{RULES_PROPERTY}']", NS):
        element = owner_element(prop)  # usually property < properties < extensionElements < element
        if element is None:  # a rule reference outside any BPMN element names nothing to trace
            continue
        ref = ElementRef(
            model.process_id,
            model.name,
            number,
            element.get("id") or "",
            element.get("name") or etree.QName(element).localname,
        )
        found.extend((rule_id, ref) for rule_id in split_rules(prop.get("value")))
    return found


class _TestIndex:
    """Tests per rule under a tests folder, recomputed only when a test file or the rules change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._found: dict[str, list[str]] = {}

    def tests_by_rule(self, tests_dir: Path, rules: list[Rule]) -> dict[str, list[str]]:
        files = sorted(tests_dir.rglob("*.py"))
        key = (
            str(tests_dir),
            tuple(r.rule_id for r in rules),
            tuple((str(p), p.stat().st_mtime_ns) for p in files),
        )
        with self._lock:
            if key != self._key:
                self._found = tests_by_rule(
                    rules, [item for path in files for item in _test_texts(path, tests_dir)]
                )
                self._key = key
            return self._found


def _test_texts(path: Path, tests_dir: Path):
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="ignore"))
    except SyntaxError:
        return
    where = path.relative_to(tests_dir.parent).as_posix()
    for node in ast.walk(tree):
        if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")) or (
            isinstance(node, ast.ClassDef) and node.name.startswith("Test")
        ):
            yield f"{where}::{node.name}", node.name + "\n" + (ast.get_docstring(node) or "")


_INDEX = _TestIndex()


def _normal(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).lower()


def tests_by_rule(rules: list[Rule], texts: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Tests naming each rule. Where one ID is a prefix of another (OG-6.1 and OG-6.1-f), a mention
    counts for the longest ID that matches at that place, not for both."""
    by_normal = {_normal(r.rule_id): r.rule_id for r in rules}
    # One alternation, longest IDs first: at each place the regex takes the first (longest) that fits.
    spellings = sorted(
        {form for r in rules for form in (re.escape(r.rule_id), re.escape(_normal(r.rule_id)))},
        key=len,
        reverse=True,
    )
    pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{'|'.join(spellings)})", re.IGNORECASE)
    result: dict[str, list[str]] = {r.rule_id: [] for r in rules}
    for test, text in texts:
        for match in pattern.finditer(text):
            rule_id = by_normal[_normal(match.group(0))]
            if test not in result[rule_id]:
                result[rule_id].append(test)
    return result


def require_may_trace(actor: Actor | None) -> None:
    """The page is for process owners and heads of unit (it shows no patient data)."""
    if (
        actor is None
        or actor.user_id is None
        or not ({Role.PROCESS_OWNER.value, Role.HEAD_OF_UNIT.value} & set(actor.roles))
    ):
        raise Forbidden("Spårbarheten visas för processägare och verksamhetschefer.")


def traceability(
    session: Session, *, actor: Actor, tests_dir: str | Path | None = None, rules_file: Path = RULES_FILE
) -> TraceabilityPage:
    """Every rule by section with its implementing elements and proving tests."""
    require_may_trace(actor)
    sections, rules = read_rules(rules_file)
    folder = Path(tests_dir) if tests_dir else DEFAULT_TESTS_DIR
    available = folder.is_dir()
    tests = _INDEX.tests_by_rule(folder, rules) if available else {}
    traces = {r.rule_id: RuleTrace(r, tests=tests.get(r.rule_id, [])) for r in rules}
    unknown = []
    for rule_id, ref in rule_elements(session):
        if rule_id in traces:
            traces[rule_id].elements.append(ref)
        else:
            unknown.append((rule_id, ref))
    grouped = [
        (letter, title, [t for t in traces.values() if t.rule.section == letter])
        for letter, title in sections
    ]
    return TraceabilityPage([g for g in grouped if g[2]], available, unknown)
