"""The demo stand-in for the vendor's triage (`app.cases.triage.DemoTriage`): its questionnaire is the
contract the resident's form and the API validate against; it never answers a safety question itself."""

from __future__ import annotations

import pytest

from app.cases.triage import RED_FLAGS, DemoTriage
from app.errors import ValidationFailed
from app.instances.service import validate_form_data

ANSWERS = {"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3}


def test_every_red_flag_question_is_required_and_has_no_default_answer():
    schema = DemoTriage().questionnaire()
    for name in RED_FLAGS:
        assert schema["properties"][name]["type"] == "boolean"
        assert "default" not in schema["properties"][name], name
        assert name in schema["required"], name


def test_answers_without_the_red_flag_questions_are_refused_not_read_as_no():
    """Validation fills in a schema's defaults: with a default "no", a skipped question came out as no."""
    with pytest.raises(ValidationFailed) as refused:
        validate_form_data(DemoTriage().questionnaire(), {**ANSWERS, "high_fever": False})
    assert refused.value.field_errors == {"breathing": ["required"], "self_harm": ["required"]}


def test_an_explicit_answer_to_each_red_flag_question_sets_the_stand_ins_priority():
    triage = DemoTriage()
    no_flags = {**ANSWERS, **dict.fromkeys(RED_FLAGS, False)}
    assert triage.assess(validate_form_data(triage.questionnaire(), no_flags)).priority == 3
    chest = validate_form_data(triage.questionnaire(), {**no_flags, "breathing": True})
    assert triage.assess(chest).priority == 1
