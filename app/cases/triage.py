"""Triage is an input. In the real service it is the vendor's certified medical-device triage; here it
comes through this adapter interface. `DemoTriage` is a clearly labelled stand-in questionnaire for
development and tests, not clinical triage: its priorities mean nothing medically.

The stand-in's questions are interface text, translated into the resident's language when asked for
(`x-lang` says which); what it makes of the answers (search reason, anamnesis) is stored, in Swedish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flask_babel import get_locale
from flask_babel import gettext as _

CATEGORIES = ("general", "mental_health", "rehab", "prescription", "administrative")
# The stand-in's yes/no questions that raise the priority: the resident must answer each one.
RED_FLAGS = ("breathing", "self_harm", "high_fever")


@dataclass(frozen=True)
class TriageResult:
    priority: int  # 1 (highest) .. 5
    search_reason: str
    category: str
    anamnesis: str  # the self-reported anamnesis as the triage summarised it
    images_requested: bool = False
    source: str = "unknown"


class TriageAdapter(Protocol):
    name: str

    def questionnaire(self) -> dict:
        """The questions shown to the resident, as a JSON Schema with UI hints. A question the resident
        must answer (every red-flag question) is in `required` and has no `default`: the form never
        answers it for them, and an answer left out is refused, not read as "no". Its texts are Swedish
        unless `x-lang` names their language (a questionnaire translated into the request's)."""
        ...

    def assess(self, answers: dict[str, Any]) -> TriageResult:
        """Priority, search reason, category and anamnesis from the resident's answers."""
        ...


REASONS = {
    "halsont": ("Halsont", "general"),
    "feber": ("Feber", "general"),
    "utslag": ("Hudutslag", "general"),
    "rygg": ("Ont i ryggen", "rehab"),
    "nedstamdhet": ("Nedstämdhet eller ångest", "mental_health"),
    "recept": ("Förnya recept", "prescription"),
    "annat": ("Annat", "general"),
}


def _reason_labels() -> dict[str, str]:
    """The reasons as the resident reads them (REASONS: as stored, in Swedish)."""
    return {
        "halsont": _("Halsont"),
        "feber": _("Feber"),
        "utslag": _("Hudutslag"),
        "rygg": _("Ont i ryggen"),
        "nedstamdhet": _("Nedstämdhet eller ångest"),
        "recept": _("Förnya recept"),
        "annat": _("Annat"),
    }


class DemoTriage:
    """DEMO STAND-IN, NOT MEDICAL TRIAGE: a few questions mapped to a priority so the routines can run."""

    name = "demo-stand-in"

    def questionnaire(self) -> dict:
        """The questions in the language of the request (Swedish outside one), as plain JSON."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "x-lang": str(get_locale() or "sv"),
            "title": _("Demo: frågor i stället för triagering (inte medicinsk triagering)"),
            "type": "object",
            # The red-flag questions are required and have no default: a skipped question is refused,
            # never taken as "no" (that would triage a patient with chest pain as without red flags).
            "required": ["reason", "description", *RED_FLAGS],
            "properties": {
                "reason": {
                    "type": "string",
                    "title": _("Vad söker du för?"),
                    "enum": list(REASONS),
                    "x-labels": _reason_labels(),
                },
                "description": {
                    "type": "string",
                    "title": _("Beskriv dina besvär"),
                    "minLength": 3,
                    "maxLength": 4000,
                },
                "breathing": {"type": "boolean", "title": _("Har du svårt att andas eller ont i bröstet?")},
                "self_harm": {"type": "boolean", "title": _("Har du tankar på att skada dig själv?")},
                "high_fever": {"type": "boolean", "title": _("Har du över 39 graders feber?")},
                "days": {
                    "type": "integer",
                    "title": _("Hur många dagar har du haft besvären?"),
                    "minimum": 0,
                    "maximum": 365,
                    "default": 1,
                },
            },
        }

    def assess(self, answers: dict[str, Any]) -> TriageResult:
        reason_key = answers.get("reason", "annat")
        reason, category = REASONS.get(reason_key, REASONS["annat"])
        if answers.get("breathing") or answers.get("self_harm"):
            priority = 1
        elif answers.get("high_fever"):
            priority = 2
        elif category == "prescription":
            priority = 5
        elif int(answers.get("days") or 0) > 14 or category == "rehab":
            priority = 4
        else:
            priority = 3
        if answers.get("self_harm"):
            category = "mental_health"
        lines = [
            f"Sökorsak: {reason}",
            f"Besvär: {answers.get('description', '').strip()}",
            f"Antal dagar: {answers.get('days', '?')}",
        ]
        for key, label in (
            ("breathing", "Andningsbesvär/bröstsmärta"),
            ("self_harm", "Tankar på att skada sig själv"),
            ("high_fever", "Feber över 39"),
        ):
            if answers.get(key):
                lines.append(f"{label}: ja")
        return TriageResult(
            priority,
            reason,
            category,
            "\n".join(lines),
            images_requested=reason_key == "utslag",
            source=self.name,
        )
