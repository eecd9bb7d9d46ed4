"""Opening hours and working-hours arithmetic: lunch breaks, nights, weekends, holidays, daylight saving."""

from __future__ import annotations

from datetime import UTC, date, time

import pytest

from app.calendar import (
    DayException,
    HolidayPolicy,
    Interval,
    NoOpeningHoursError,
    UnitCalendar,
    add_working_hours,
    closing_time,
    is_open,
    is_working_day,
    next_opening,
    working_hours_between,
)
from tests.calendar.support import MORNING, UNIT, hours, local, office, open_day, straight, utc

ROUND_THE_CLOCK = UnitCalendar(UNIT, dict.fromkeys(range(7), (Interval(time(0), time(0)),)))


# --- open or closed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (7, 59, False),
        (8, 0, True),
        (11, 59, True),
        (12, 0, False),
        (12, 59, False),
        (13, 0, True),
        (16, 59, True),
        (17, 0, False),
    ],
)
def test_is_open_is_half_open_around_the_lunch_break(hour, minute, expected):
    assert is_open(office(), local(2026, 11, 23, hour, minute)) is expected


def test_OG_3_case_arriving_after_closing_is_taken_care_of_at_the_next_opening():
    """OG-3: after closing the next handling moment is the next opening, Friday evening → Monday 08:00."""
    assert next_opening(office(), local(2026, 11, 23, 17, 0)) == local(2026, 11, 24, 8)
    assert next_opening(office(), local(2026, 11, 27, 19, 30)) == local(2026, 11, 30, 8)


def test_HA_chat_open_staff_answer_a_weekend_chat_at_the_next_weekday_opening():
    """HA-chat-open: residents write any time; staff answer on weekdays within opening hours."""
    assert not is_open(office(), local(2026, 11, 28, 11))
    assert next_opening(office(), local(2026, 11, 28, 11)) == local(2026, 11, 30, 8)


def test_next_opening_is_the_moment_itself_when_open_and_after_lunch_when_at_lunch():
    moment = local(2026, 11, 23, 9, 17)
    assert next_opening(office(), moment) == moment
    assert next_opening(office(), local(2026, 11, 23, 12, 0)) == local(2026, 11, 23, 13)


def test_results_are_in_utc():
    assert next_opening(office(), local(2026, 11, 28, 11)).tzinfo is UTC
    assert add_working_hours(office(), local(2026, 11, 23, 9), 1).tzinfo is UTC
    assert closing_time(office(), date(2026, 11, 23)).tzinfo is UTC


# --- six working hours (OG-6.1-f) ---------------------------------------------------------------------


def test_OG_6_1_f_six_working_hours_from_friday_afternoon_end_on_monday():
    """OG-6.1-f: Friday 14–17 is three hours; the other three run Monday 08–11."""
    assert add_working_hours(office(), local(2026, 11, 20, 14), 6) == local(2026, 11, 23, 11)
    assert add_working_hours(straight(), local(2026, 11, 20, 14), 6) == local(2026, 11, 23, 11)


def test_OG_6_1_f_six_working_hours_skip_the_lunch_break():
    """OG-6.1-f: six hours of opening time, not six hours on the clock: 09:00 + 6 is 16:00 with lunch."""
    assert add_working_hours(office(), local(2026, 11, 23, 9), 6) == local(2026, 11, 23, 16)
    assert add_working_hours(straight(), local(2026, 11, 23, 9), 6) == local(2026, 11, 23, 15)


def test_OG_6_1_f_hours_running_out_exactly_at_closing_time_end_at_closing_time():
    """OG-6.1-f: the earliest moment the hours have passed is 17:00 itself, not the next morning."""
    end = add_working_hours(office(), local(2026, 11, 23, 10), 6)
    assert end == local(2026, 11, 23, 17)
    assert not is_open(office(), end)
    assert add_working_hours(office(), local(2026, 11, 23, 10), 2) == local(2026, 11, 23, 12)  # lunch starts


def test_starting_outside_opening_hours_counts_from_the_next_opening():
    assert add_working_hours(office(), local(2026, 11, 23, 6), 1) == local(2026, 11, 23, 9)
    assert add_working_hours(office(), local(2026, 11, 23, 12, 30), 1) == local(2026, 11, 23, 14)
    assert add_working_hours(office(), local(2026, 11, 23, 17), 1) == local(2026, 11, 24, 9)
    assert add_working_hours(office(), local(2026, 11, 28, 10), 1) == local(2026, 11, 30, 9)


def test_zero_hours_is_the_start_itself_and_fractions_are_exact():
    saturday = local(2026, 11, 28, 10)
    assert add_working_hours(office(), saturday, 0) == saturday
    assert add_working_hours(office(), local(2026, 11, 23, 11, 45), 0.5) == local(2026, 11, 23, 13, 15)
    assert add_working_hours(office(), local(2026, 11, 23, 8), 1 / 60) == local(2026, 11, 23, 8, 1)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "6", True])
def test_hours_must_be_a_finite_non_negative_number(bad):
    with pytest.raises(ValueError, match="hours"):
        add_working_hours(office(), local(2026, 11, 23, 9), bad)


def test_a_unit_without_any_opening_hours_fails_loudly_instead_of_looping():
    closed = UnitCalendar(UNIT, {})
    with pytest.raises(NoOpeningHoursError):
        add_working_hours(closed, local(2026, 11, 23, 9), 1)
    with pytest.raises(NoOpeningHoursError):
        next_opening(closed, local(2026, 11, 23, 9))


# --- working hours between ----------------------------------------------------------------------------


def test_working_hours_between_counts_only_opening_time_across_nights_and_weekends():
    assert working_hours_between(office(), local(2026, 11, 27, 16), local(2026, 11, 30, 9)) == 2
    assert working_hours_between(office(), local(2026, 11, 23), local(2026, 11, 30)) == 40
    assert working_hours_between(office(), local(2026, 11, 23, 11), local(2026, 11, 23, 14)) == 2
    assert working_hours_between(office(), local(2026, 11, 28, 0), local(2026, 11, 29, 23)) == 0


def test_working_hours_between_is_signed_and_zero_for_an_empty_range():
    start, end = local(2026, 11, 27, 16), local(2026, 11, 30, 9)
    assert working_hours_between(office(), end, start) == -2
    assert working_hours_between(office(), start, start) == 0


def test_working_hours_between_three_weeks_over_christmas_and_new_year():
    """Open: 21–23 Dec, 28–30 Dec, 4–5 Jan, 7–8 Jan (julafton, nyårsafton and trettondedag jul closed)."""
    assert working_hours_between(office(), local(2026, 12, 21), local(2027, 1, 11)) == 10 * 8


# --- holidays ------------------------------------------------------------------------------------------


def test_OG_6_1_f_six_working_hours_over_easter_skip_langfredagen_and_annandag_pask():
    """OG-6.1-f over Easter 2026: Thursday 14–17, then nothing until Tuesday 7 April."""
    assert add_working_hours(office(), local(2026, 4, 2, 14), 6) == local(2026, 4, 7, 11)


def test_OG_6_1_f_six_working_hours_from_a_shortened_skartorsdag():
    """OG-6.1-f: Skärtorsdagen shortened to 08–12 gives two hours from 10:00; Tuesday's morning the rest."""
    calendar = office(DayException(date(2026, 4, 2), (MORNING,), note="Skärtorsdagen"))
    assert add_working_hours(calendar, local(2026, 4, 2, 10), 6) == local(2026, 4, 7, 12)
    assert closing_time(calendar, date(2026, 4, 2)) == local(2026, 4, 2, 12)


def test_ascension_day_is_closed_and_the_klamdag_after_it_is_a_working_day():
    """Kristi himmelsfärdsdag 2026-05-14 is closed; Friday 15 May is an ordinary working day."""
    assert not is_working_day(office(), date(2026, 5, 14))
    assert is_working_day(office(), date(2026, 5, 15))
    assert add_working_hours(office(), local(2026, 5, 13, 15), 6) == local(2026, 5, 15, 12)


def test_midsommarafton_is_closed_by_default_and_open_where_the_region_works_on_it():
    assert add_working_hours(office(), local(2026, 6, 18, 14), 6) == local(2026, 6, 22, 11)
    working = office(policy=HolidayPolicy(de_facto_non_working=False))
    assert add_working_hours(working, local(2026, 6, 18, 14), 6) == local(2026, 6, 19, 11)
    assert not is_working_day(working, date(2026, 6, 20))  # midsommardagen is a public holiday anyway


def test_christmas_julafton_juldagen_and_annandag_jul_are_closed():
    assert add_working_hours(office(), local(2026, 12, 23, 16), 6) == local(2026, 12, 28, 14)
    for day in (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)):
        assert not is_working_day(office(), day)


def test_new_year_nyarsafton_and_nyarsdagen_are_closed():
    assert add_working_hours(office(), local(2026, 12, 30, 15, 30), 6) == local(2027, 1, 4, 13, 30)


def test_an_exception_opening_a_holiday_counts_as_opening_time():
    calendar = office(open_day(date(2026, 12, 24), hours(9, 12), note="Julafton: öppet förmiddag"))
    assert is_working_day(calendar, date(2026, 12, 24))
    assert add_working_hours(calendar, local(2026, 12, 23, 16), 2) == local(2026, 12, 24, 10)


# --- daylight saving ----------------------------------------------------------------------------------


def test_working_hours_across_the_spring_switch_weekend():
    """Friday 27 March 2026 is CET (UTC+1), Monday 30 March CEST (UTC+2): opening stays 08:00 local."""
    end = add_working_hours(office(), local(2026, 3, 27, 16), 2)
    assert end == utc(2026, 3, 30, 7) == local(2026, 3, 30, 9)
    assert working_hours_between(office(), local(2026, 3, 27, 12), local(2026, 3, 30, 12)) == 8


def test_working_hours_across_the_autumn_switch_weekend():
    """Friday 23 October 2026 is CEST, Monday 26 October CET."""
    end = add_working_hours(office(), local(2026, 10, 23, 16), 2)
    assert end == utc(2026, 10, 26, 8) == local(2026, 10, 26, 9)
    assert next_opening(office(), local(2026, 10, 25, 12)) == utc(2026, 10, 26, 7)


def test_a_round_the_clock_unit_has_23_hours_on_the_spring_switch_night_and_25_in_autumn():
    assert working_hours_between(ROUND_THE_CLOCK, local(2026, 3, 28, 12), local(2026, 3, 29, 12)) == 23
    assert working_hours_between(ROUND_THE_CLOCK, local(2026, 10, 24, 12), local(2026, 10, 25, 12)) == 25
    assert add_working_hours(ROUND_THE_CLOCK, local(2026, 3, 28, 22), 4) == local(2026, 3, 29, 3)
    # 22:00 CEST + 4 real hours is 02:00 CEST, the first of the two 02:00s.
    assert add_working_hours(ROUND_THE_CLOCK, local(2026, 10, 24, 22), 4) == utc(2026, 10, 25, 0)
    assert add_working_hours(ROUND_THE_CLOCK, local(2026, 10, 24, 22), 5) == utc(2026, 10, 25, 1)


def test_an_opening_interval_on_the_switch_day_has_its_real_length():
    """01:00–05:00 on the switch Sunday is three real hours in March and five in October."""
    spring = office(open_day(date(2026, 3, 29), hours(1, 5)))
    autumn = office(open_day(date(2026, 10, 25), hours(1, 5)))
    assert working_hours_between(spring, local(2026, 3, 29), local(2026, 3, 30)) == 3
    assert working_hours_between(autumn, local(2026, 10, 25), local(2026, 10, 26)) == 5
    assert add_working_hours(spring, local(2026, 3, 29), 2) == local(2026, 3, 29, 4)
    assert add_working_hours(autumn, local(2026, 10, 25), 2) == utc(2026, 10, 25, 1)  # 02:00 CET, second time


def test_wall_times_in_the_spring_gap_mean_the_switch_itself():
    """02:00–03:00 never shows on 29 March 2026: an interval inside it is empty, one starting in it opens at 03:00."""
    inside = office(open_day(date(2026, 3, 29), Interval(time(2, 0), time(2, 45))))
    assert not is_working_day(inside, date(2026, 3, 29))
    starting = office(open_day(date(2026, 3, 29), Interval(time(2, 30), time(4, 0))))
    assert next_opening(starting, local(2026, 3, 29)) == local(2026, 3, 29, 3) == utc(2026, 3, 29, 1)
    assert working_hours_between(starting, local(2026, 3, 29), local(2026, 3, 30)) == 1


# --- closing time (HA-close-day) ---------------------------------------------------------------------


def test_HA_close_day_closing_time_is_the_last_closing_of_the_day_not_the_lunch_break():
    """HA-close-day: the "Stängning" template goes out when the unit closes for the day."""
    assert closing_time(office(), date(2026, 11, 23)) == local(2026, 11, 23, 17)
    assert closing_time(office(), date(2026, 11, 28)) is None
    assert closing_time(office(), date(2026, 12, 24)) is None


def test_is_working_day_follows_the_units_own_hours_and_exceptions():
    assert is_working_day(office(), date(2026, 11, 23))
    assert not is_working_day(office(), date(2026, 11, 28))
    assert is_working_day(office(open_day(date(2026, 11, 28), hours(9, 13))), date(2026, 11, 28))
