"""Whole days: first open weekday, the next weekday, business days and ticket validity (OG-10.2-f)."""

from __future__ import annotations

from datetime import date

import pytest

from app.calendar import (
    DayException,
    HolidayPolicy,
    add_business_days,
    first_open_weekday,
    next_open_weekday,
    ticket_valid_until,
    ticket_validity_days,
)
from tests.calendar.support import COVER, OFFICE_DAY, hours, local, office, open_day, utc

# --- first open weekday -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 23), date(2026, 11, 23)),  # an ordinary Monday
        (date(2026, 11, 28), date(2026, 11, 30)),  # Saturday → Monday
        (date(2026, 4, 3), date(2026, 4, 7)),  # långfredagen → the Tuesday after annandag påsk
        (date(2026, 5, 14), date(2026, 5, 15)),  # Kristi himmelsfärdsdag → the klämdag
        (date(2026, 6, 19), date(2026, 6, 22)),  # midsommarafton → Monday
        (date(2026, 12, 24), date(2026, 12, 28)),  # julafton → Monday after annandag jul
        (date(2026, 12, 31), date(2027, 1, 4)),  # nyårsafton → Monday after nyårsdagen
        (date(2027, 1, 6), date(2027, 1, 7)),  # trettondedag jul
    ],
)
def test_first_open_weekday_skips_weekends_and_holidays(day, expected):
    assert first_open_weekday(office(), day) == expected


def test_first_open_weekday_skips_the_units_own_closed_weekdays():
    part_time = office(weekly={1: OFFICE_DAY, 2: OFFICE_DAY})  # Tuesday and Wednesday only
    assert first_open_weekday(part_time, date(2026, 11, 26)) == date(2026, 12, 1)
    covered = office(DayException(date(2026, 11, 23), (), covering_unit_id=COVER))
    assert first_open_weekday(covered, date(2026, 11, 23)) == date(2026, 11, 24)


def test_first_open_weekday_is_never_a_weekend_or_holiday_even_if_an_exception_opens_it():
    calendar = office(open_day(date(2026, 11, 28), hours(9, 13)), open_day(date(2026, 12, 24), hours(9, 12)))
    assert first_open_weekday(calendar, date(2026, 11, 28)) == date(2026, 11, 30)
    assert first_open_weekday(calendar, date(2026, 12, 24)) == date(2026, 12, 28)


def test_first_open_weekday_includes_de_facto_holidays_where_the_region_works_on_them():
    working = office(policy=HolidayPolicy(de_facto_non_working=False))
    assert first_open_weekday(working, date(2026, 12, 24)) == date(2026, 12, 24)


def test_OG_6_1_e_a_case_not_handled_today_is_handled_the_next_weekday():
    """OG-6.1-e: "nästkommande vardag" is the unit's next open weekday: Friday → Monday, Easter → Tuesday."""
    assert next_open_weekday(office(), date(2026, 11, 27)) == date(2026, 11, 30)
    assert next_open_weekday(office(), date(2026, 4, 2)) == date(2026, 4, 7)
    assert next_open_weekday(office(), date(2026, 12, 23)) == date(2026, 12, 28)


# --- business days ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 11, 27), 1, date(2026, 11, 30)),
        (date(2026, 11, 23), 5, date(2026, 11, 30)),
        (date(2026, 4, 2), 1, date(2026, 4, 7)),
        (date(2026, 4, 7), -1, date(2026, 4, 2)),
        (date(2026, 12, 23), 1, date(2026, 12, 28)),
        (date(2026, 12, 30), 1, date(2027, 1, 4)),
        (date(2027, 1, 5), 1, date(2027, 1, 7)),
        (date(2026, 11, 28), 0, date(2026, 11, 28)),  # 0 is the day itself, business day or not
        (date(2026, 11, 28), 1, date(2026, 11, 30)),
    ],
)
def test_add_business_days(day, n, expected):
    assert add_business_days(office(), day, n) == expected
    assert add_business_days(HolidayPolicy(), day, n) == expected


def test_add_business_days_ignores_the_units_own_covered_closures():
    """OG-9.2 keeps the service open on a covered day, so it is still a business day."""
    covered = office(DayException(date(2026, 11, 24), (), covering_unit_id=COVER))
    assert add_business_days(covered, date(2026, 11, 23), 1) == date(2026, 11, 24)


def test_add_business_days_follows_the_regions_de_facto_policy():
    assert add_business_days(HolidayPolicy(de_facto_non_working=False), date(2026, 12, 23), 1) == date(
        2026, 12, 24
    )


# --- ticket validity (OG-10.2-f) ----------------------------------------------------------------------


def test_OG_10_2_f_ticket_sent_while_the_receiving_unit_is_open_counts_that_day():
    """OG-10.2-f: sent Monday 10:00 to an open unit: valid Monday–Wednesday, until Thursday 00:00 local."""
    sent = local(2026, 11, 23, 10)
    assert ticket_validity_days(office(), sent) == (
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
    )
    assert ticket_valid_until(office(), sent) == local(2026, 11, 26, 0) == utc(2026, 11, 25, 23)
    # Before opening the day still counts: the unit opens later that day.
    assert ticket_validity_days(office(), local(2026, 11, 23, 7))[0] == date(2026, 11, 23)


@pytest.mark.parametrize(("hour", "minute"), [(17, 0), (21, 30)])
def test_OG_10_2_f_ticket_sent_at_or_after_closing_counts_from_the_next_open_weekday(hour, minute):
    """OG-10.2-f: from closing time the send date is no longer an open day for the receiving unit."""
    sent = local(2026, 11, 23, hour, minute)
    assert ticket_validity_days(office(), sent) == (
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 26),
    )
    assert ticket_valid_until(office(), sent) == local(2026, 11, 27)


def test_OG_10_2_f_ticket_valid_three_non_holiday_weekdays_over_easter():
    """OG-10.2-f: sent after closing on skärtorsdagen: långfredagen to annandag påsk do not count."""
    sent = local(2026, 4, 2, 18)
    assert ticket_validity_days(office(), sent) == (date(2026, 4, 7), date(2026, 4, 8), date(2026, 4, 9))
    assert ticket_valid_until(office(), sent) == local(2026, 4, 10) == utc(2026, 4, 9, 22)


def test_OG_10_2_f_ticket_sent_on_open_skartorsdag_spans_easter():
    """OG-10.2-f: skärtorsdagen is day 1, Easter is skipped, days 2 and 3 are Tuesday and Wednesday."""
    sent = local(2026, 4, 2, 10)
    assert ticket_validity_days(office(), sent) == (date(2026, 4, 2), date(2026, 4, 7), date(2026, 4, 8))


def test_OG_10_2_f_ticket_valid_three_non_holiday_weekdays_over_christmas():
    """OG-10.2-f: julafton (de facto), juldagen and annandag jul do not count."""
    sent = local(2026, 12, 23, 18)
    assert ticket_validity_days(office(), sent) == (
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
    )
    assert ticket_valid_until(office(), sent) == local(2026, 12, 31) == utc(2026, 12, 30, 23)


def test_OG_10_2_f_ticket_valid_three_non_holiday_weekdays_over_new_year_and_epiphany():
    """OG-10.2-f: nyårsafton, nyårsdagen and trettondedag jul 2027 do not count."""
    sent = local(2026, 12, 29, 18)
    assert ticket_validity_days(office(), sent) == (date(2026, 12, 30), date(2027, 1, 4), date(2027, 1, 5))
    assert ticket_valid_until(office(), sent) == utc(2027, 1, 5, 23)


def test_OG_10_2_f_julafton_counts_where_the_region_works_on_de_facto_holidays():
    """OG-10.2-f with HolidayPolicy(de_facto_non_working=False): julafton is an ordinary weekday."""
    working = office(policy=HolidayPolicy(de_facto_non_working=False))
    sent = local(2026, 12, 23, 18)
    assert ticket_validity_days(working, sent) == (date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29))


def test_OG_10_2_f_day_one_is_the_receiving_units_first_open_weekday():
    """OG-10.2-f: the receiving unit opens Tuesday–Wednesday only; day 1 waits for it, days 2–3 do not."""
    part_time = office(weekly={1: OFFICE_DAY, 2: OFFICE_DAY})
    sent = local(2026, 11, 23, 10)  # Monday: the receiving unit is closed
    assert ticket_validity_days(part_time, sent) == (
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 26),
    )
    covered = office(DayException(date(2026, 11, 23), (), covering_unit_id=COVER))
    assert ticket_validity_days(covered, sent)[0] == date(2026, 11, 24)


def test_OG_10_2_f_ticket_sent_on_a_weekend_starts_on_monday():
    """OG-10.2-f: a Saturday opening of the receiving unit is not a weekday."""
    opened_saturday = office(open_day(date(2026, 11, 28), hours(9, 13)))
    sent = local(2026, 11, 28, 10)
    assert ticket_validity_days(opened_saturday, sent) == (
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 2),
    )


def test_OG_10_2_f_ticket_validity_across_the_spring_switch_ends_at_local_midnight():
    """OG-10.2-f: valid Friday 27 March, Monday 30 and Tuesday 31 March 2026; expires 1 April 00:00 CEST."""
    sent = local(2026, 3, 26, 18)
    assert ticket_validity_days(office(), sent) == (date(2026, 3, 27), date(2026, 3, 30), date(2026, 3, 31))
    assert ticket_valid_until(office(), sent) == utc(2026, 3, 31, 22)
