"""Writing to the patient: phrase templates to insert, the tone hint (HA-tone), and no stray placeholders.

A phrase template is inserted as text the clinician edits before sending. Placeholders the page
knows (the patient's first name, the writer's first name and role, today's date, the time) are
filled in when inserted; any other placeholder ({cost}, {unit}, ...) stays visible and must be
replaced before the message goes out: a patient never receives a literal "{cost}".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from app import clock
from app.errors import ValidationFailed
from app.phrases.rendering import PLACEHOLDERS, UNIT_PLACEHOLDERS, format_value
from app.phrases.service import tone_findings

STOCKHOLM = ZoneInfo("Europe/Stockholm")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
KNOWN_NAMES = ("patient_first_name", "staff_first_name", "staff_role", "date", "time")


@dataclass(frozen=True)
class Insertable:
    """A phrase template as the page offers it: its text with what the page knows filled in."""

    id: int
    purpose: str
    title: str
    level: str
    text: str
    not_recommended: bool


def known_fields(*, patient_first_name: str, staff_first_name: str, staff_role: str) -> dict[str, str]:
    now = clock.now()
    return {
        "patient_first_name": patient_first_name,
        "staff_first_name": staff_first_name,
        "staff_role": staff_role,
        "date": format_value(now.astimezone(STOCKHOLM).date()),
        "time": format_value(now.astimezone(STOCKHOLM).time()),
    }


def prefill(text: str, known: dict[str, str]) -> str:
    """The template's text with the known placeholders filled; the rest left for the writer."""
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(1)) or m.group(0), text)


def unfilled(text: str) -> list[str]:
    """Placeholders still in a text ({cost}, {unit}, ...), in order of appearance."""
    names = [m.group(1) for m in _PLACEHOLDER.finditer(text or "")]
    return list(dict.fromkeys(n for n in names if n in PLACEHOLDERS or n in UNIT_PLACEHOLDERS))


def check_message(text: str, *, field: str = "body") -> None:
    """Refuse a message that still holds a template placeholder: it must be replaced with real text."""
    left = unfilled(text)
    if left:
        names = ", ".join("{" + n + "}" for n in left)
        raise ValidationFailed(
            _("Ersätt %(names)s med rätt text innan du skickar.", names=names), {field: ["placeholder"]}
        )


def tone_hints(text: str) -> list[str]:
    """HA-tone findings in the reader's language: capitals, exclamation marks, abbreviations."""
    hints = []
    for finding in tone_findings(text or ""):
        kind, _sep, detail = finding.partition(": ")
        if kind == "capitals":
            hints.append(_("Versaler: %(word)s", word=detail))
        elif kind == "exclamation mark":
            hints.append(_("Utropstecken"))
        elif kind == "abbreviation":
            hints.append(_("Förkortning: %(word)s", word=detail))
        else:
            hints.append(finding)
    return hints
