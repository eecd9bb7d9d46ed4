"""Filling placeholders, and the region's default texts (HA-tone, OG-6.1-e, OG-6.1-g, HA-protected)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.phrases import service as phrases
from app.phrases.defaults import DEFAULTS, PURPOSES
from app.phrases.rendering import PLACEHOLDERS, UNIT_PLACEHOLDERS, PlaceholderError, placeholders_in, render
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SAMPLE = {
    "patient_first_name": "Anna",
    "staff_first_name": "Sara",
    "staff_role": "sjuksköterska",
    "handed_to": "en läkare",
    "date": date(2026, 11, 24),
    "time": time(8, 0),
    "earliest": datetime(2026, 11, 24, 8, 0, tzinfo=STOCKHOLM),
    "cost": Decimal("200"),
    "meeting_form": "video",
    "form_name": "Hälsodeklaration",
    "reopen_until": date(2026, 11, 26),
}


def test_SEC_protected_sms_render_leaves_the_unit_placeholders_for_the_composer():
    """{unit}, {unit_phone} and {unit_address} pass through: only the composer fills them (never for protected)."""
    text = "Hej {patient_first_name}, välkommen till {unit}. Ring {unit_phone} eller kom till {unit_address}."
    assert (
        render(text, patient_first_name="Anna")
        == "Hej Anna, välkommen till {unit}. Ring {unit_phone} eller kom till {unit_address}."
    )
    with pytest.raises(PlaceholderError, match="composer"):
        render(text, patient_first_name="Anna", unit="Vårdcentralen Ekdalen")


def test_unknown_placeholders_missing_values_and_formatting_raise():
    with pytest.raises(PlaceholderError, match="unknown placeholder"):
        render("Hej {patient_name}.", patient_first_name="Anna")
    with pytest.raises(PlaceholderError, match="unknown placeholder"):
        render("Hej.", patient_name="Anna")
    with pytest.raises(PlaceholderError, match="no value"):
        render("Vi hörs {date}.")
    with pytest.raises(PlaceholderError, match="formatting"):
        render("Vi hörs {date:%Y}.", date=date(2026, 1, 1))
    with pytest.raises(PlaceholderError, match="unknown placeholder"):
        render("Hej {patient.given_name}.")
    with pytest.raises(PlaceholderError, match="brace"):
        render("Hej {{patient_first_name}}.")
    with pytest.raises(PlaceholderError, match="brace"):
        render("Hej {patient_first_name.")
    with pytest.raises(PlaceholderError, match="braces"):
        render("Hej {patient_first_name}.", patient_first_name="{unit_address}")


def test_values_are_written_the_swedish_way():
    summer = datetime(2026, 7, 1, 12, 30, tzinfo=ZoneInfo("UTC"))
    text = "{date} {time} {earliest} {cost} {reopen_until}"
    rendered = render(
        text,
        date=date(2026, 11, 23),
        time=time(9, 5),
        earliest=summer,
        cost=Decimal("1250.5"),
        reopen_until=1200,
    )
    assert rendered == "måndag 23 november 09.05 onsdag 1 juli klockan 14.30 1\u00a0250,50 1\u00a0200"
    with pytest.raises(PlaceholderError, match="naive"):
        render("{earliest}", earliest=datetime(2026, 1, 1, 8, 0))
    with pytest.raises(PlaceholderError):
        render("{cost}", cost=1.5)


def test_seeded_defaults_cover_every_purpose_and_seeding_twice_adds_nothing(session, clock):
    unit = f.unit(session)
    created = phrases.seed_regional_defaults(session, region=unit.region)
    assert {t.purpose for t in created} == set(PURPOSES) == set(DEFAULTS)
    for purpose in PURPOSES:
        assert phrases.text_for(session, unit_id=unit.id, purpose=purpose) == DEFAULTS[purpose][1]
    assert phrases.seed_regional_defaults(session, region=unit.region) == []


@pytest.mark.parametrize("purpose", sorted(DEFAULTS))
def test_HA_tone_default_texts_have_no_capitals_only_words_exclamation_marks_or_abbreviations(purpose):
    title, text = DEFAULTS[purpose]
    for part in (title, text):
        assert "!" not in part
        assert not re.search(r"\b[A-ZÅÄÖ]{2,}\b", part), part
        assert not re.search(r"(?<!\w)(t\.ex|bl\.a|kl|ca|obs|osv|dvs|pga)\.?(?!\w)", part, re.IGNORECASE), (
            part
        )
        assert phrases.tone_findings(part) == []


@pytest.mark.parametrize("purpose", sorted(DEFAULTS))
def test_every_default_text_renders_with_known_placeholders(purpose):
    text = DEFAULTS[purpose][1]
    names = placeholders_in(text)
    assert names <= set(PLACEHOLDERS)
    rendered = render(text, **{name: SAMPLE[name] for name in names})
    assert "{" not in rendered


def test_tone_findings_names_what_breaks_the_tone():
    assert phrases.tone_findings("OBS, ring kl. 8 t.ex. i morgon!") == [
        "capitals: OBS",
        "exclamation mark",
        "abbreviation: OBS",
        "abbreviation: kl.",
        "abbreviation: t.ex.",
    ]


def test_OG_6_1_g_closing_texts_advise_to_seek_care_if_needed():
    for purpose in ("closing", "closing_unanswered"):
        text = DEFAULTS[purpose][1]
        assert "söka vård" in text and "1177" in text and "112" in text


def test_OG_6_1_e_next_weekday_text_says_when_and_advises_to_seek_care():
    text = DEFAULTS["next_weekday"][1]
    assert "nästa vardag" in text and "{earliest}" in text
    assert "behöver vård" in text and "1177" in text


def test_HA_protected_redirect_names_no_unit_and_points_to_1177_se_or_the_clinic():
    text = DEFAULTS["protected_redirect"][1]
    assert not placeholders_in(text) & set(UNIT_PLACEHOLDERS)
    assert "1177.se" in text and "besök din mottagning" in text
    assert "Ekdalen" not in text and "vårdcentralen" not in text.lower()


def test_HA_close_day_stangning_keeps_the_case_answerable():
    text = DEFAULTS["stangning"][1]
    assert "stänger nu för i dag" in text and "fortfarande svara" in text
