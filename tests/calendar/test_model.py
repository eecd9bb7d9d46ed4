"""Building calendars: intervals, exceptions, the OG-9.2 cover rule, and refusing ambiguous inputs."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from app.calendar import (
    STOCKHOLM,
    ClosureWithoutCoverError,
    DayException,
    HolidayPolicy,
    Interval,
    UnitCalendar,
    add_working_hours,
    first_open_weekday,
    is_open,
    local_date,
    next_opening,
    working_hours_between,
)
from tests.calendar.support import AFTERNOON, COVER, MORNING, OFFICE_DAY, UNIT, hours, local, office


def test_interval_must_close_after_it_opens():
    with pytest.raises(ValueError, match="close after it opens"):
        Interval(time(17), time(8))
    with pytest.raises(ValueError, match="close after it opens"):
        Interval(time(8), time(8))


def test_interval_closing_at_midnight_ends_the_day():
    assert Interval(time(20), time(0)).closes == time(0)


def test_interval_times_are_wall_clock_without_tzinfo():
    with pytest.raises(ValueError, match="wall-clock"):
        Interval(time(8, tzinfo=STOCKHOLM), time(17))


def test_overlapping_intervals_are_refused_touching_ones_are_fine():
    with pytest.raises(ValueError, match="overlapping"):
        UnitCalendar(UNIT, {0: (hours(8, 13), hours(12, 17))})
    touching = UnitCalendar(UNIT, {0: (hours(12, 17), hours(8, 12))})
    assert touching.weekly[0] == (hours(8, 12), hours(12, 17))  # sorted


def test_weekly_mapping_is_frozen_into_seven_days_and_the_calendar_is_hashable():
    calendar = office()
    assert calendar.weekly[4] == OFFICE_DAY and calendar.weekly[5] == ()
    assert hash(calendar) == hash(office())
    assert calendar == office()
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        UnitCalendar(UNIT, {7: OFFICE_DAY})


def test_exceptions_may_be_a_mapping_keyed_by_their_date():
    shortened = DayException(date(2026, 4, 2), (MORNING,), note="Skärtorsdagen")
    weekly = office().weekly
    calendar = UnitCalendar(UNIT, weekly, {date(2026, 4, 2): shortened})
    assert calendar.exception_on(date(2026, 4, 2)) is shortened
    assert calendar == UnitCalendar(UNIT, weekly, [shortened])
    with pytest.raises(ValueError, match="filed under"):
        UnitCalendar(UNIT, weekly, {date(2026, 4, 1): shortened})
    with pytest.raises(ValueError, match="two exceptions"):
        UnitCalendar(UNIT, weekly, [shortened, shortened])


def test_OG_9_2_closed_ordinary_weekday_requires_covering_unit():
    """OG-9.2: planned temporary closing is not allowed unless another unit keeps the service open."""
    with pytest.raises(ClosureWithoutCoverError, match="OG-9.2"):
        DayException(date(2026, 11, 25), (), note="Planeringsdag")


def test_OG_9_2_closed_weekday_with_cover_closes_the_unit_and_names_the_covering_unit():
    """OG-9.2: the covered day is closed in the unit's own calendar; the covering unit is named for routing."""
    wednesday = date(2026, 11, 25)
    calendar = office(DayException(wednesday, (), covering_unit_id=COVER, note="Planeringsdag"))
    assert calendar.covering_unit_on(wednesday) == COVER
    assert not is_open(calendar, local(2026, 11, 25, 10))
    assert working_hours_between(calendar, local(2026, 11, 25), local(2026, 11, 26)) == 0
    assert next_opening(calendar, local(2026, 11, 25, 10)) == local(2026, 11, 26, 8)
    assert first_open_weekday(calendar, wednesday) == date(2026, 11, 26)
    assert calendar.covering_unit_on(date(2026, 11, 26)) is None


def test_OG_9_2_a_unit_cannot_cover_for_itself():
    with pytest.raises(ValueError, match="cover for itself"):
        office(DayException(date(2026, 11, 25), (), covering_unit_id=UNIT))


@pytest.mark.parametrize(
    "day",
    [date(2026, 11, 28), date(2026, 12, 25), date(2026, 12, 24), date(2026, 4, 3)],
    ids=["saturday", "juldagen", "julafton", "langfredagen"],
)
def test_OG_9_2_closing_a_weekend_public_or_de_facto_holiday_needs_no_cover(day):
    """OG-9.2 only concerns days the unit would be open: weekends and holidays close anyway."""
    calendar = office(DayException(day, ()))
    assert calendar.intervals_on(day) == ()


def test_OG_9_2_closing_julafton_needs_cover_where_the_region_works_on_de_facto_holidays():
    """OG-9.2: with de-facto holidays as working days, julafton is an ordinary open weekday for the unit."""
    with pytest.raises(ClosureWithoutCoverError, match="normally open"):
        office(DayException(date(2026, 12, 24), ()), policy=HolidayPolicy(de_facto_non_working=False))


def test_OG_9_2_closing_a_saturday_the_unit_normally_opens_needs_cover():
    """OG-9.2: a unit with Saturday hours may not close a Saturday without cover either."""
    weekly = {**dict.fromkeys(range(5), OFFICE_DAY), 5: (hours(10, 14),)}
    with pytest.raises(ClosureWithoutCoverError):
        office(DayException(date(2026, 11, 28), ()), weekly=weekly)
    covered = office(DayException(date(2026, 11, 28), (), covering_unit_id=COVER), weekly=weekly)
    assert covered.intervals_on(date(2026, 11, 28)) == ()


def test_an_exception_can_shorten_a_day_or_open_a_closed_day():
    shortened = office(DayException(date(2026, 4, 2), (MORNING,), note="Skärtorsdagen"))
    assert shortened.intervals_on(date(2026, 4, 2)) == (MORNING,)
    opened = office(DayException(date(2026, 11, 28), (hours(9, 13),), note="Vaccinationslördag"))
    assert opened.intervals_on(date(2026, 11, 28)) == (hours(9, 13),)


def test_holidays_close_the_unit_unless_an_exception_opens_them():
    day = date(2026, 1, 6)  # trettondedag jul, a Tuesday
    assert office().intervals_on(day) == ()
    assert office(DayException(day, (AFTERNOON,))).intervals_on(day) == (AFTERNOON,)


def test_naive_datetimes_are_refused_with_a_clear_error():
    naive = datetime(2026, 11, 23, 9)
    for call in (
        lambda: is_open(office(), naive),
        lambda: next_opening(office(), naive),
        lambda: add_working_hours(office(), naive, 1),
        lambda: working_hours_between(office(), local(2026, 11, 23), naive),
        lambda: local_date(naive),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_a_datetime_is_refused_where_a_local_date_is_expected():
    with pytest.raises(TypeError, match="local_date"):
        first_open_weekday(office(), local(2026, 11, 23, 9))
    with pytest.raises(TypeError):
        DayException(local(2026, 11, 23), (MORNING,))
