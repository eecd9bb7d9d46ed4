"""A form's field errors reach the reader in plain words: the server's messages name the limit, never the
value (a patient's free text is not echoed back), and the pages turn them into their own sentences."""

from __future__ import annotations

import pytest

from app.casework.schema_form import fields, friendly_error
from app.errors import ValidationFailed
from app.instances.service import validate_form_data
from app.resident.schema_forms import field_messages

SCHEMA = {
    "type": "object",
    "properties": {
        "note": {"type": "string", "title": "Anteckning", "maxLength": 20},
        "reason": {"type": "string", "title": "Orsak", "minLength": 10},
    },
}


def _errors(data: dict) -> dict:
    with pytest.raises(ValidationFailed) as refused:
        validate_form_data(SCHEMA, data)
    return refused.value.field_errors


def test_HA_forms_a_too_long_or_too_short_answer_is_told_by_its_limit_not_echoed(app):
    long_text = "Ont i halsen sedan i fredags " * 3
    errors = _errors({"note": long_text, "reason": "kort"})
    assert errors == {"note": ["högst 20 tecken"], "reason": ["minst 10 tecken"]}
    with app.test_request_context():
        [note] = [f for f in fields(SCHEMA) if f.name == "note"]
        assert friendly_error(note, errors["note"][0]) == "Högst 20 tecken."
        assert field_messages(SCHEMA, errors) == {
            "note": "Texten får vara högst 20 tecken.",
            "reason": "Skriv minst 10 tecken.",
        }
