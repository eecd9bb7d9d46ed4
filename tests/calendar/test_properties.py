"""Properties of the arithmetic over random calendars and moments in 2025–2027 (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar import (
    Interval,
    OutageChannel,
    UnitCalendar,
    add_working_hours,
    first_open_weekday,
    holiday_name,
    is_business_day,
    is_open,
    local_date,
    next_opening,
    outage_contact,
    ticket_valid_until,
    ticket_validity_days,
    working_hours_between,
)
from app.calendar.zone import STOCKHOLM
from tests.calendar.support import UNIT

# No example database: it would leave a .hypothesis/ folder in the checkout. No deadline: no timing asserts.
PROPERTY = settings(database=None, deadline=None, max_examples=150)
MICROSECOND = timedelta(microseconds=1)

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 20), timezones=st.just(UTC)
)


@st.composite
def days_hours(draw) -> tuple[Interval, ...]:
    """0–3 intervals on quarter hours, sometimes running to midnight."""
    quarters = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    if len(quarters) % 2:
        quarters = quarters[:-1]
    bounds = [time(q // 4, q % 4 * 15) if q < 96 else time(0) for q in quarters]
    return tuple(Interval(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2))


@st.composite
def calendars(draw) -> UnitCalendar:
    weekly = [draw(days_hours()) for _ in range(7)]
    monday = draw(st.integers(0, 4))
    if not weekly[monday]:  # at least one weekday open, so nothing searches for a year
        weekly[monday] = (Interval(time(8), time(17)),)
    return UnitCalendar(UNIT, weekly)


hours = st.floats(min_value=0, max_value=120, allow_nan=False, allow_infinity=False)


@PROPERTY
@given(calendars(), moments, hours)
def test_working_hours_between_undoes_add_working_hours(cal, start, h):
    end = add_working_hours(cal, start, h)
    assert end >= start
    assert working_hours_between(cal, start, end) == pytest.approx(h, abs=1e-9)


@PROPERTY
@given(calendars(), moments, st.floats(min_value=1e-3, max_value=120))
def test_the_last_moment_counted_is_open_time(cal, start, h):
    end = add_working_hours(cal, start, h)
    assert is_open(cal, end - MICROSECOND)


@PROPERTY
@given(calendars(), moments, hours, hours)
def test_add_working_hours_is_monotonic_and_composes(cal, start, a, b):
    assert add_working_hours(cal, start, min(a, b)) <= add_working_hours(cal, start, max(a, b))
    in_two_steps = add_working_hours(cal, add_working_hours(cal, start, a), b)
    assert abs(in_two_steps - add_working_hours(cal, start, a + b)) <= 2 * MICROSECOND


@PROPERTY
@given(calendars(), moments, moments, moments)
def test_working_hours_between_is_signed_and_additive(cal, a, b, c):
    ab, bc, ac = (working_hours_between(cal, x, y) for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == pytest.approx(ac, abs=1e-6)
    assert working_hours_between(cal, b, a) == -ab
    assert abs(ab) <= abs(b - a) / timedelta(hours=1) + 1e-9


@PROPERTY
@given(calendars(), moments)
def test_next_opening_is_open_and_nothing_before_it_is(cal, at):
    opening = next_opening(cal, at)
    assert opening >= at and is_open(cal, opening)
    assert working_hours_between(cal, at, opening) == 0
    assert (opening == at) == is_open(cal, at)


@PROPERTY
@given(calendars(), moments)
def test_OG_10_2_f_ticket_is_valid_three_increasing_business_days_from_the_first_open_weekday(cal, sent):
    """OG-10.2-f as a property: day 1 is an open weekday on/after the send date, all three are business days."""
    days = ticket_validity_days(cal, sent)
    assert len(days) == 3 and days[0] < days[1] < days[2]
    assert days[0] >= local_date(sent) and days[0] == first_open_weekday(cal, days[0])
    assert all(is_business_day(cal, day) for day in days)
    assert ticket_valid_until(cal, sent) > sent
    assert ticket_valid_until(cal, sent).astimezone(STOCKHOLM).time() == time(0)


@PROPERTY
@given(moments)
def test_OG_12_a_service_desk_exactly_on_non_holiday_weekdays_08_to_17(at):
    """OG-12-a as a property over any moment."""
    local = at.astimezone(STOCKHOLM)
    desk_hours = (
        local.weekday() < 5 and holiday_name(local.date()) is None and time(8) <= local.time() < time(17)
    )
    assert (outage_contact(at).channel is OutageChannel.SERVICE_DESK) == desk_hours
