"""Form-schema errors are short Swedish messages that never echo what was submitted.

(Named test_incident_* only for file ownership; it tests app.instances.service.validate_form_data.)
"""

from __future__ import annotations

import json

import pytest

from app.errors import ValidationFailed
from app.instances.service import validate_form_data

SCHEMA = {
    "type": "object",
    "required": ["note"],
    "properties": {
        "note": {"type": "string", "maxLength": 200},
        "name": {"type": "string", "minLength": 2, "pattern": "^[A-Za-zåäöÅÄÖ ]+$"},
        "ladder": {"type": "integer", "minimum": 0, "maximum": 10},
        "choice": {"type": "string", "enum": ["ja", "nej"]},
        "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
    },
    "additionalProperties": False,
}
SECRET = "Patienten berättar om självmordstankar " * 130  # ~5 000 characters of free text


def _errors(data: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as refused:
        validate_form_data(SCHEMA, data)
    return refused.value.field_errors


def test_a_too_long_free_text_is_refused_without_echoing_it():
    errors = _errors({"note": SECRET})
    assert errors == {"note": ["högst 200 tecken"]}
    assert "självmordstankar" not in json.dumps(errors, ensure_ascii=False)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Ö"}, "name", "minst 2 tecken"),
        ({"name": "Hemlig1234"}, "name", "har fel format"),
        ({"ladder": 11}, "ladder", "högst 10"),
        ({"ladder": -3}, "ladder", "minst 0"),
        ({"ladder": "elva hemliga"}, "ladder", "ska vara ett heltal"),
        ({"choice": "kanske hemligt"}, "choice", "inte ett av de tillåtna värdena"),
        ({"tags": ["a", "b", "hemlig"]}, "tags", "högst 2 val"),
    ],
)
def test_each_schema_keyword_has_a_short_message_without_the_value(data, field, message):
    errors = _errors({"note": "ok", **data})
    assert errors == {field: [message]}
    assert "hemlig" not in json.dumps(errors, ensure_ascii=False).lower()


def test_an_unknown_field_is_refused_without_naming_the_submitted_key_or_value():
    errors = _errors({"note": "ok", "hemlig_nyckel": SECRET})
    assert errors == {"": ["innehåller fält som inte hör till formuläret"]}


def test_a_missing_field_is_still_required():
    assert _errors({}) == {"note": ["required"]}
