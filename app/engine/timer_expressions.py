"""Timer expressions checked before deploy with the parsers SpiffWorkflow uses when a timer starts.

A timer's timeDuration/timeDate/timeCycle is a Python expression whose value SpiffWorkflow parses
as ISO 8601 only when an instance reaches the timer. A value it cannot parse fails every instance
there, so what can be known before deploy is checked here: an expression that reads no names is
evaluated in the sandbox (with no task data) and its value parsed; an expression that needs task
data or the product's calendar functions is not guessed at, except for one typo: an unquoted
duration (`PT2H`), which Python reads as a variable name.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.bundle import BPMN_NS, Finding
from app.engine.clock import reaches_past_the_calendar
from app.engine.sandbox import SandboxEnvironment, SandboxViolation, check_source

TIMER_TAGS = ("timeDuration", "timeDate", "timeCycle")
TRIAL_BUDGET_S = 0.2

# A Python name that is an ISO 8601 duration: P1D, PT2H, P1DT12H, P2W, PT30M ...
_DURATION_NAME = re.compile(r"P(?=[0-9T])(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")
# Text made only of ISO 8601 characters (R3/PT1H, 2026-01-01T08:00): quoted whole in the hint.
_ISO_TEXT = re.compile(r"[0-9A-Z:/+.\-]+")
_EXAMPLES = {
    "timeDuration": "an ISO 8601 duration such as 'PT2H' or 'P1D'",
    "timeDate": "an ISO 8601 date and time such as '2026-01-01T08:00:00+01:00'",
    "timeCycle": "an ISO 8601 repetition such as 'R3/PT1H'",
}


def timer_findings(root: etree._Element, file: str, functions: frozenset[str] | None = None) -> list[Finding]:
    """Findings for timer expressions whose value SpiffWorkflow would refuse in every instance, or that
    call a function process scripts do not have (`functions`, when given: a misspelt helper fails every
    instance that reaches the timer)."""
    findings = []
    environment = SandboxEnvironment(time_budget_s=TRIAL_BUDGET_S)
    for tag in TIMER_TAGS:
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            source = (node.text or "").strip()
            if not source or check_source(source, "eval"):
                continue  # empty, or refused by the compile check already
            problem = _unknown_call(source, functions) or _problem(tag, source, environment)
            if problem:
                findings.append(
                    Finding(file, f"{tag} '{source[:60]}': {problem}", _owner_id(node), "timer_expression")
                )
    return findings


def _unknown_call(source: str, functions: frozenset[str] | None) -> str | None:
    if functions is None:
        return None
    for node in ast.walk(ast.parse(source, mode="eval")):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in functions:
            return f"calls {node.func.id}(), which process scripts do not have (a misspelling?)"
    return None


def _problem(tag: str, source: str, environment: SandboxEnvironment) -> str | None:
    names = [node.id for node in ast.walk(ast.parse(source, mode="eval")) if isinstance(node, ast.Name)]
    unquoted = next((name for name in names if _DURATION_NAME.fullmatch(name)), None)
    if unquoted is not None:
        hint = source if _ISO_TEXT.fullmatch(source.replace(" ", "")) else unquoted
        return f"quote the ISO 8601 duration: '{hint.replace(' ', '')}' (unquoted, Python reads {unquoted} as a variable name)"
    if names:
        return None  # the value depends on task data or on functions the product provides
    try:
        value = environment.evaluate(source, {})
    except SandboxViolation:
        return None  # a budget or policy problem: reported by the trial runs
    except Exception as exc:
        return f"cannot be evaluated: {type(exc).__name__}: {exc}"
    return value_problem(tag, value)


def value_problem(tag: str, value: object) -> str | None:
    """Why SpiffWorkflow would refuse `value` as the value of a timer of kind `tag`, or None."""
    expected = _EXAMPLES[tag]
    if not isinstance(value, str):
        return f"gives {type(value).__name__} {str(value)[:60]!r}, not {expected} (quote it)"
    if _too_long(value):
        # SpiffWorkflow counts such a duration out month by month, and no date is that far away.
        return f"gives '{value[:60]}', which reaches past the year {datetime.max.year}"
    try:
        if tag == "timeDuration":
            parsed = TimerEventDefinition.parse_iso_duration(value)
            datetime.now(UTC) + TimerEventDefinition.get_timedelta_from_start(parsed)
        elif tag == "timeDate":
            if not isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime):
                return (
                    f"gives the duration '{value[:60]}', not {expected} (a duration belongs in timeDuration)"
                )
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:  # SpiffWorkflow raises bare Exception, ValueError, AttributeError, OverflowError ...
        return f"gives '{value[:60]}', which is not {expected}"
    return None


def _too_long(value: str) -> bool:
    for part in value.upper().replace("--", "/").split("/"):
        if not part.startswith("P"):
            continue
        try:
            parsed = TimerEventDefinition.parse_iso_duration(part)
        except Exception:  # refused by the parser below with its own message
            continue
        if reaches_past_the_calendar(parsed, datetime.now(UTC)):
            return True
    return False


def _owner_id(node: etree._Element) -> str | None:
    while node is not None:
        if (
            node.get("id")
            and node.tag.startswith(f"{{{BPMN_NS}}}")
            and not node.tag.endswith(("Definition", "Expression"))
        ):
            return node.get("id")
        node = node.getparent()
    return None
