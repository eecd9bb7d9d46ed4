"""Identity numbers, birth dates and ages (app.people.identity) and demo identities.

The age tests prove the arithmetic that OG-6.4-a (no case for a child under 1 year), OG-6.4-b
(from 13 the child represents themself) and HA-video-child-a/b (under 13 booked with a proxy,
13 or older like an adult) rely on.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from stdnum import luhn
from stdnum.se import personnummer as stdnum_personnummer

from app.people.demo_identities import (
    PUBLISHED_TEST_NUMBERS,
    demo_infant_birth_date,
    pick_published_number,
)
from app.people.identity import (
    STOCKHOLM,
    IdentityKind,
    IdentityNumber,
    InvalidIdentityNumber,
    InvalidReason,
    age_at,
    age_on,
    parse_identity_number,
    stockholm_date,
)

TODAY = date(2026, 11, 22)
RESERV_PATTERN = r"RES-\d{6}"  # a made-up regional format; real ones come from configuration


def with_check_digit(nine_digits: str) -> str:
    """YYMMDDNNN plus its Luhn check digit: builds numbers for the edge cases below."""
    return nine_digits + luhn.calc_check_digit(nine_digits)


def refused(text: str, **kwargs) -> InvalidIdentityNumber:
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse_identity_number(text, **kwargs)
    return caught.value


# --- personnummer: forms and normalisation ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "19920301-2381",
        "199203012381",
        " 19920301-2381 ",
        "1992 0301 - 2381",
        "19920301\u20132381",  # en dash pasted from a document
    ],
)
def test_twelve_digit_forms_normalise_to_twelve_digits(text):
    number = parse_identity_number(text)
    assert number.value == "199203012381"
    assert number.kind is IdentityKind.PERSONNUMMER
    assert number.birth_date == date(1992, 3, 1)
    assert number.formatted == "19920301-2381"
    assert str(number) == "19920301-2381"


@pytest.mark.parametrize("text", ["920301-2381", "9203012381", "920301 2381"])
def test_ten_digit_forms_with_dash_or_no_separator_are_under_100(text):
    number = parse_identity_number(text, today=TODAY)
    assert number.value == "199203012381"
    assert number.birth_date == date(1992, 3, 1)


def test_plus_separator_means_100_or_older():
    # The same ten digits: '+' puts the birth a century earlier.
    assert parse_identity_number("120211+9986", today=TODAY).birth_date == date(1912, 2, 11)
    assert parse_identity_number("120211+9986", today=TODAY).value == "191202119986"
    assert parse_identity_number("120211-9986", today=TODAY).birth_date == date(2012, 2, 11)


def test_plus_sign_applies_from_1_january_of_the_year_the_holder_turns_100():
    """Folkbokföringslagen 18 §: the sign changes by calendar year, not on the 100th birthday."""
    ten = with_check_digit("261231998")  # born 31 December, 1926 or 2026
    new_year = date(2026, 1, 1)
    assert parse_identity_number(ten[:6] + "+" + ten[6:], today=new_year).birth_date == date(1926, 12, 31)
    # With '-' in 2026 it would be a birth later this year: refused, not silently 1926.
    assert refused(ten[:6] + "-" + ten[6:], today=new_year).reason is InvalidReason.FUTURE_BIRTH_DATE
    # On New Year's Eve 2025 the holder is still written with '-'.
    assert parse_identity_number(ten[:6] + "-" + ten[6:], today=date(2025, 12, 31)).birth_date == date(
        1926, 12, 31
    )


def test_ten_digit_birth_this_year_resolves_to_this_year():
    ten = with_check_digit("260101238")
    assert parse_identity_number(ten, today=TODAY).birth_date == date(2026, 1, 1)


def test_century_resolution_round_trips_for_two_centuries_of_birth_dates():
    """For every sampled birth date, the 10-digit form with the right sign gives back the 12 digits."""
    for today in (date(2026, 1, 1), TODAY, date(2026, 12, 31), date(2000, 2, 29), date(2099, 7, 1)):
        birth = today - timedelta(days=199 * 365)
        while birth <= today:
            nine = f"{birth:%y%m%d}238"
            ten = with_check_digit(nine)
            sign = "+" if today.year - birth.year >= 100 else "-"
            parsed = parse_identity_number(f"{ten[:6]}{sign}{ten[6:]}", today=today)
            assert parsed.birth_date == birth, (today, birth)
            assert parsed.value == f"{birth.year:04d}{ten[2:]}"
            assert parse_identity_number(parsed.formatted, today=today) == parsed
            birth += timedelta(days=37)


def test_ten_digit_form_needs_a_date_to_resolve_the_century():
    error = refused("920301-2381")
    assert error.reason is InvalidReason.CENTURY_NEEDED
    assert "century" in str(error)


# --- checksum ---------------------------------------------------------------------------------


def test_wrong_check_digit_is_refused_with_a_clear_message():
    error = refused("19920301-2382")
    assert error.reason is InvalidReason.CHECKSUM
    assert "check digit" in str(error)
    assert "2382" not in str(error)  # the number itself is personal data: never in messages


def test_checksum_covers_the_ten_digit_form_only():
    # The century digits are not part of the Luhn sum (Skatteverket); 12 and 10 digits agree.
    assert (
        parse_identity_number("19920301-2381").value
        == parse_identity_number("920301-2381", today=TODAY).value
    )
    assert refused("920301-2380", today=TODAY).reason is InvalidReason.CHECKSUM


def test_checksum_agrees_with_python_stdnum_for_personnummer():
    for number in PUBLISHED_TEST_NUMBERS:
        assert stdnum_personnummer.is_valid(number)
        assert parse_identity_number(number).value == number
    assert not stdnum_personnummer.is_valid("199203012382")


# --- samordningsnummer ------------------------------------------------------------------------


def test_samordningsnummer_has_day_plus_60_and_keeps_it_in_the_value():
    twelve = "1992" + with_check_digit("920361238")[2:]
    number = parse_identity_number(twelve)
    assert number.kind is IdentityKind.SAMORDNINGSNUMMER
    assert number.birth_date == date(1992, 3, 1)
    assert number.value == twelve
    assert number.formatted == f"{twelve[:8]}-{twelve[8:]}"
    assert parse_identity_number(number.formatted[2:], today=TODAY) == number


def test_samordningsnummer_checksum_and_date_are_validated():
    good = with_check_digit("920361238")
    bad_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert refused(bad_check, today=TODAY).reason is InvalidReason.CHECKSUM
    # 2016 is a leap year: day 89 (29 + 60) exists; day 90 (30 February) does not.
    assert parse_identity_number(with_check_digit("160289238"), today=TODAY).birth_date == date(2016, 2, 29)
    error = refused(with_check_digit("160290238"), today=TODAY)
    assert error.reason is InvalidReason.DATE
    assert "samordningsnummer" in str(error)
    assert refused("1993" + with_check_digit("930289238")[2:]).reason is InvalidReason.DATE


def test_days_32_to_60_are_neither_personnummer_nor_samordningsnummer():
    for day in (32, 45, 60):
        assert refused("1992" + with_check_digit(f"9203{day}238")[2:]).reason is InvalidReason.DATE


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["19920229-2380", "20080229-2383", "20160229-2383"])
def test_29_february_is_valid_in_leap_years(text):
    number = parse_identity_number(text)
    assert (number.birth_date.month, number.birth_date.day) == (2, 29)


def test_29_february_1993_is_not_a_date():
    error = refused("1993" + with_check_digit("930229238")[2:])
    assert error.reason is InvalidReason.DATE
    assert "leap" in str(error)


def test_1900_was_not_a_leap_year_but_2000_was():
    assert refused("1900" + with_check_digit("000229238")[2:]).reason is InvalidReason.DATE
    assert parse_identity_number("2000" + with_check_digit("000229238")[2:]).birth_date == date(2000, 2, 29)


@pytest.mark.parametrize("nine", ["921301238", "920001238", "920431238", "920100238"])
def test_impossible_months_and_days_are_refused(nine):
    assert refused("19" + with_check_digit(nine)).reason is InvalidReason.DATE


def test_birth_date_after_today_is_refused_when_today_is_known():
    twelve = "2026" + with_check_digit("261225238")[2:]
    assert refused(twelve, today=TODAY).reason is InvalidReason.FUTURE_BIRTH_DATE
    assert parse_identity_number(twelve, today=date(2026, 12, 25)).birth_date == date(2026, 12, 25)


# --- format -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "19920301-238", "1992030123811", "19920301/2381", "19920301-238X", "1992-03-01-2381"],
)
def test_malformed_text_is_refused_as_format(text):
    error = refused(text, today=TODAY)
    assert error.reason is InvalidReason.FORMAT
    assert "YYYYMMDD-NNNC" in str(error)


def test_plus_separator_with_twelve_digits_is_refused():
    error = refused("19920301+2381")
    assert error.reason is InvalidReason.FORMAT
    assert "10-digit" in str(error)


def test_invalid_identity_number_is_a_value_error():
    assert issubclass(InvalidIdentityNumber, ValueError)


def test_identity_number_is_frozen_and_guards_its_invariants():
    number = parse_identity_number("19920301-2381")
    with pytest.raises(dataclasses.FrozenInstanceError):
        number.value = "199204012380"  # type: ignore[misc]
    with pytest.raises(ValueError):
        IdentityNumber(value="1992", kind=IdentityKind.PERSONNUMMER, birth_date=date(1992, 3, 1))


# --- reservnummer -----------------------------------------------------------------------------


def test_reservnummer_is_accepted_when_allowed_and_matching_the_pattern():
    number = parse_identity_number(
        " RES-123456 ", allow_reservnummer=True, reservnummer_pattern=RESERV_PATTERN
    )
    assert number.kind is IdentityKind.RESERVNUMMER
    assert number.value == "RES-123456"
    assert number.formatted == "RES-123456"
    assert number.birth_date is None
    # The birth date comes from elsewhere (the region's record), never from the number.
    dated = number.with_birth_date(date(2026, 6, 22))
    assert dated.birth_date == date(2026, 6, 22)
    assert dated.kind is IdentityKind.RESERVNUMMER


def test_reservnummer_is_refused_when_not_allowed():
    error = refused("RES-123456", reservnummer_pattern=RESERV_PATTERN)
    assert error.reason is InvalidReason.RESERVNUMMER_NOT_ALLOWED
    assert "Reservnummer are not accepted" in str(error)
    # Without a configured pattern it cannot be recognised: a plain format error.
    assert refused("RES-123456").reason is InvalidReason.FORMAT


def test_text_matching_neither_form_is_refused_and_the_message_mentions_reservnummer():
    error = refused("XYZ-1", allow_reservnummer=True, reservnummer_pattern=RESERV_PATTERN)
    assert error.reason is InvalidReason.FORMAT
    assert "reservnummer" in str(error)


def test_pattern_must_match_the_whole_text():
    assert (
        refused("RES-1234567", allow_reservnummer=True, reservnummer_pattern=RESERV_PATTERN).reason
        is InvalidReason.FORMAT
    )


def test_a_valid_personnummer_wins_over_a_loose_reservnummer_pattern():
    loose = r"\d{12}"
    number = parse_identity_number("199203012381", allow_reservnummer=True, reservnummer_pattern=loose)
    assert number.kind is IdentityKind.PERSONNUMMER
    # Only what fails as personnummer/samordningsnummer falls through to the regional pattern.
    assert (
        parse_identity_number("199203012382", allow_reservnummer=True, reservnummer_pattern=loose).kind
        is IdentityKind.RESERVNUMMER
    )


def test_allowing_reservnummer_without_a_pattern_is_a_configuration_error():
    with pytest.raises(ValueError) as caught:
        parse_identity_number("RES-123456", allow_reservnummer=True)
    assert not isinstance(caught.value, InvalidIdentityNumber)


def test_birth_date_of_a_personnummer_cannot_be_overridden():
    number = parse_identity_number("19920301-2381")
    assert number.with_birth_date(date(1992, 3, 1)) is number
    with pytest.raises(ValueError):
        number.with_birth_date(date(1992, 3, 2))


# --- ages -------------------------------------------------------------------------------------


def test_age_before_on_and_after_the_birthday():
    born = date(1992, 11, 22)
    assert age_on(born, date(2026, 11, 21)) == 33
    assert age_on(born, date(2026, 11, 22)) == 34
    assert age_on(born, date(2026, 11, 23)) == 34
    assert age_on(born, born) == 0
    assert age_on(born, date(1993, 11, 21)) == 0


def test_age_before_birth_is_refused():
    with pytest.raises(ValueError):
        age_on(date(2026, 6, 22), date(2026, 6, 21))


def test_born_29_february_turns_a_year_older_on_1_march_in_common_years():
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17  # common year: not yet 18 on 28 February
    assert age_on(born, date(2026, 3, 1)) == 18
    assert age_on(born, date(2027, 2, 28)) == 18
    assert age_on(born, date(2027, 3, 1)) == 19


def test_born_29_february_turns_a_year_older_on_29_february_in_leap_years():
    born = date(2008, 2, 29)
    assert age_on(born, date(2028, 2, 28)) == 19
    assert age_on(born, date(2028, 2, 29)) == 20
    assert age_on(born, date(2028, 3, 1)) == 20
    # 2100 is not a leap year.
    assert age_on(born, date(2100, 2, 28)) == 91
    assert age_on(born, date(2100, 3, 1)) == 92


def test_born_28_february_or_1_march_is_unaffected_by_leap_years():
    assert age_on(date(2012, 2, 28), date(2026, 2, 28)) == 14
    assert age_on(date(2012, 3, 1), date(2028, 2, 29)) == 15
    assert age_on(date(2012, 3, 1), date(2028, 3, 1)) == 16


# --- the Stockholm date -----------------------------------------------------------------------


def test_stockholm_date_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        stockholm_date(datetime(2026, 3, 1, 23, 30))


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Winter (CET, UTC+1): the Stockholm day starts at 23:00 UTC.
        (datetime(2026, 3, 1, 22, 59, tzinfo=UTC), date(2026, 3, 1)),
        (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), date(2026, 3, 2)),
        (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), date(2026, 3, 2)),
        # Summer time starts 29 March 2026 at 01:00 UTC (CEST, UTC+2): the day starts at 22:00 UTC.
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), date(2026, 3, 30)),
        # Summer time ends 25 October 2026 at 01:00 UTC.
        (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 22, 30, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), date(2026, 10, 26)),
    ],
)
def test_stockholm_date_of_late_utc_evenings(utc, expected):
    assert stockholm_date(utc) == expected


def test_stockholm_date_accepts_any_aware_timezone():
    assert stockholm_date(datetime(2026, 11, 22, 5, 0, tzinfo=timezone(timedelta(hours=9)))) == date(
        2026, 11, 21
    )
    assert stockholm_date(datetime(2026, 11, 22, 0, 0, tzinfo=STOCKHOLM)) == date(2026, 11, 22)


def test_OG_6_4_a_age_under_one_is_computed_on_the_stockholm_date():
    """OG-6.4-a: a case submitted at 2026-03-01 23:30 UTC is on 2 March in Stockholm: the child is 1."""
    born = date(2025, 3, 2)
    submitted = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert age_on(born, submitted.date()) == 0  # the UTC date would wrongly say "under one"
    assert age_at(born, submitted) == 1
    # Half an hour earlier it is still 1 March in Stockholm: under one, no case may be opened.
    assert age_at(born, submitted - timedelta(hours=1)) == 0


def test_OG_6_4_a_infant_born_29_february_is_under_one_until_1_march():
    """OG-6.4-a with a leap-day birth: in the common year 2025 the first birthday is 1 March."""
    born = date(2024, 2, 29)
    assert age_at(born, datetime(2025, 2, 28, 22, 59, tzinfo=UTC)) == 0
    assert age_at(born, datetime(2025, 2, 28, 23, 0, tzinfo=UTC)) == 1  # 00:00 on 1 March in Stockholm


def test_OG_6_4_b_child_turns_thirteen_on_the_birthday():
    """OG-6.4-b: the guardian acts up to 13; from the 13th birthday (Stockholm date) the child acts."""
    born = parse_identity_number("20130215-2382").birth_date
    assert age_on(born, date(2026, 2, 14)) == 12
    assert age_on(born, date(2026, 2, 15)) == 13
    assert age_at(born, datetime(2026, 2, 14, 22, 59, 59, tzinfo=UTC)) == 12
    assert age_at(born, datetime(2026, 2, 14, 23, 0, tzinfo=UTC)) == 13


def test_HA_video_child_a_b_thirteen_boundary_for_booking():
    """HA-video-child-a/b: under 13 booked with the guardian as proxy, 13 or older like an adult.

    A child born 29 February 2012 is still 12 on 28 February 2025 and 13 from 1 March 2025.
    """
    born = date(2012, 2, 29)
    assert age_at(born, datetime(2025, 2, 28, 12, 0, tzinfo=STOCKHOLM)) == 12
    assert age_at(born, datetime(2025, 3, 1, 0, 0, tzinfo=STOCKHOLM)) == 13


# --- demo identities --------------------------------------------------------------------------


def test_every_published_test_number_is_a_valid_personnummer():
    assert len(PUBLISHED_TEST_NUMBERS) == 33
    assert len(set(PUBLISHED_TEST_NUMBERS)) == len(PUBLISHED_TEST_NUMBERS)
    for number in PUBLISHED_TEST_NUMBERS:
        parsed = parse_identity_number(number, today=TODAY)
        assert parsed.value == number
        assert parsed.kind is IdentityKind.PERSONNUMMER
        assert parsed.birth_date.year <= 2019  # the published list ends with births in 2019


def test_no_published_number_belongs_to_an_infant():
    with pytest.raises(LookupError):
        pick_published_number(0, TODAY, set())


def test_demo_infant_is_about_five_months_old():
    born = demo_infant_birth_date(TODAY)
    assert born == date(2026, 6, 22)
    assert age_on(born, TODAY) == 0
    assert demo_infant_birth_date(date(2026, 7, 31)) == date(2026, 2, 28)
    assert demo_infant_birth_date(date(2028, 7, 31)) == date(2028, 2, 29)
    assert demo_infant_birth_date(date(2027, 3, 15)) == date(2026, 10, 15)


@pytest.mark.parametrize(("target_age", "expected"), [(10, "201601012394"), (14, "201203092398")])
def test_pick_published_number_for_a_10_and_a_14_year_old(target_age, expected):
    number = pick_published_number(target_age, TODAY, set())
    assert number == expected
    assert age_on(parse_identity_number(number).birth_date, TODAY) == target_age


def test_pick_published_number_skips_excluded_numbers():
    assert pick_published_number(10, TODAY, {"201601012394"}) == "201602292383"
    assert pick_published_number(10, TODAY, {"20160101-2394", "201602292383"}) == "201605102399"
    everyone_ten = {"201601012394", "201602292383", "201605102399", "201609142383"}
    with pytest.raises(LookupError):
        pick_published_number(10, TODAY, everyone_ten)


def test_pick_published_number_follows_the_clock():
    # A year on, the 2016 births are 11 except the one born 31 December.
    assert pick_published_number(10, date(2027, 11, 22), set()) == "201612312387"
    assert pick_published_number(14, date(2027, 11, 22), set()) == "201301012397"
    with pytest.raises(LookupError):
        pick_published_number(200, TODAY, set())
