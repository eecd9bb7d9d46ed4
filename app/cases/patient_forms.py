"""Forms and rating scales clinicians may send to patients (OG-8.1). The definition sent is stored
with the case, so the clinician's preview, the patient's form and the result all show the same thing.

The scales here are DEMO scales written for the product (plain wording, simple sums), not validated
clinical instruments; a region adds its own licensed ones.
"""

from __future__ import annotations

S = "https://json-schema.org/draft/2020-12/schema"
FOUR_STEP = {
    "type": "integer",
    "enum": [0, 1, 2, 3],
    "x-labels": {
        "0": "Inte alls",
        "1": "Flera dagar",
        "2": "Mer än hälften av dagarna",
        "3": "Nästan varje dag",
    },
}


def _scale(title: str, intro: str, items: list[str]) -> dict:
    return {
        "$schema": S,
        "title": title,
        "description": intro,
        "type": "object",
        "required": [f"q{n}" for n in range(1, len(items) + 1)],
        "additionalProperties": False,
        "properties": {f"q{n}": {**FOUR_STEP, "title": text} for n, text in enumerate(items, start=1)},
        "x-score": "sum",
    }


CATALOG: dict[str, dict] = {
    "demo_mood": _scale(
        "Skattning av stämningsläge (demo)",
        "Hur ofta har du besvärats av följande under de senaste två veckorna?",
        [
            "Lite intresse eller glädje i att göra saker",
            "Känt dig nedstämd eller hopplös",
            "Svårt att sova eller sovit för mycket",
            "Känt dig trött eller energilös",
        ],
    ),
    "demo_worry": _scale(
        "Skattning av oro (demo)",
        "Hur ofta har du besvärats av följande under de senaste två veckorna?",
        [
            "Känt dig nervös eller spänd",
            "Inte kunnat sluta oroa dig",
            "Svårt att slappna av",
            "Blivit lätt irriterad",
        ],
    ),
    "symptom_diary": {
        "$schema": S,
        "title": "Besvärsdagbok",
        "type": "object",
        "required": ["since", "worst"],
        "additionalProperties": False,
        "properties": {
            "since": {"type": "string", "title": "När började besvären?", "maxLength": 200},
            "worst": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10,
                "title": "Hur svåra är besvären som mest (0–10)?",
            },
            "medicines": {"type": "string", "title": "Vilka läkemedel tar du?", "maxLength": 1000},
        },
    },
}


def form_definition(form_key: str) -> dict:
    """The definition a clinician sends and previews, exactly as the patient will see it."""
    if form_key not in CATALOG:
        raise KeyError(form_key)
    return CATALOG[form_key]


def score(definition: dict, answers: dict) -> int | None:
    if definition.get("x-score") == "sum":
        return sum(int(value) for key, value in answers.items() if key.startswith("q"))
    return None
