"""Working-hours arithmetic on a unit's opening time, exact to the microsecond.

Each local day's intervals become UTC spans (so a daylight-saving switch inside an interval changes its
real length) and the arithmetic walks whole spans, never minutes. Spans are half-open: the unit is open
at its opening moment and closed at its closing moment.

Closing-time edge: `add_working_hours` returns the earliest moment at which the hours have elapsed.
When they run out exactly at a closing time, that is the closing moment itself (e.g. 17:00), not the
next morning's opening; the unit is already closed at that moment (`is_open` is False).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from app.calendar.model import NoOpeningHoursError, UnitCalendar
from app.calendar.zone import MIDNIGHT, ONE_DAY, local_date, require_aware, require_date, wall_to_utc

Span = tuple[datetime, datetime]
ONE_HOUR = timedelta(hours=1)
# A unit closed longer than this (holidays and exceptions included) is treated as a data error.
MAX_CLOSED_DAYS = 366


def day_spans(cal: UnitCalendar, day: date) -> tuple[Span, ...]:
    """The unit's opening spans on local `day` as (opens, closes) UTC moments, in order."""
    spans = []
    for interval in cal.intervals_on(day):
        opens = wall_to_utc(day, interval.opens)
        closes = (
            wall_to_utc(day + ONE_DAY, MIDNIGHT)
            if interval.closes == MIDNIGHT
            else wall_to_utc(day, interval.closes)
        )
        if closes > opens:  # an interval inside the spring gap has no real time
            spans.append((opens, closes))
    return tuple(spans)


def _spans_from(cal: UnitCalendar, at: datetime) -> Iterator[Span]:
    """Spans that end after `at`, in order, without end; fails after MAX_CLOSED_DAYS closed days."""
    day, closed_days = local_date(at), 0
    while closed_days <= MAX_CLOSED_DAYS:
        spans = [span for span in day_spans(cal, day) if span[1] > at]
        closed_days = 0 if spans else closed_days + 1
        yield from spans
        day += ONE_DAY
    raise NoOpeningHoursError(
        f"unit {cal.unit_id} has no opening hours in the {MAX_CLOSED_DAYS} days before {day.isoformat()}"
    )


def is_open(cal: UnitCalendar, at: datetime) -> bool:
    """True if the unit is open at the moment `at` (open at opening time, closed at closing time)."""
    at = require_aware(at, "at")
    return any(opens <= at < closes for opens, closes in day_spans(cal, local_date(at)))


def next_opening(cal: UnitCalendar, at: datetime) -> datetime:
    """The first moment at or after `at` when the unit is open (`at` itself if open), in UTC."""
    at = require_aware(at, "at")
    opens, _ = next(_spans_from(cal, at))
    return max(opens, at)


def add_working_hours(cal: UnitCalendar, start: datetime, hours: float) -> datetime:
    """The moment (UTC) when `hours` of the unit's opening time have passed since `start`."""
    start = require_aware(start, "start")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours) or hours < 0:
        raise ValueError(f"hours must be a finite number >= 0, got {hours!r}")
    remaining = timedelta(hours=hours)
    if not remaining:
        return start
    for opens, closes in _spans_from(cal, start):
        opens = max(opens, start)
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: _spans_from ends by raising")


def working_hours_between(cal: UnitCalendar, start: datetime, end: datetime) -> float:
    """Hours of the unit's opening time in [start, end); negative when end is before start."""
    start, end = require_aware(start, "start"), require_aware(end, "end")
    if end < start:
        # Signed, so that between(a, b) + between(b, c) == between(a, c) in any order.
        return -working_hours_between(cal, end, start)
    total = timedelta(0)
    day, last = local_date(start), local_date(end)
    while day <= last:
        for opens, closes in day_spans(cal, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += ONE_DAY
    return total / ONE_HOUR


def closing_time(cal: UnitCalendar, day: date) -> datetime | None:
    """The moment (UTC) the unit closes for the day on local `day` (its last closing), or None if closed all day."""
    spans = day_spans(cal, require_date(day))
    return spans[-1][1] if spans else None


def is_working_day(cal: UnitCalendar, day: date) -> bool:
    """True if the unit has opening hours on local `day` (any weekday, holidays only when an exception opens them)."""
    return bool(day_spans(cal, require_date(day)))
