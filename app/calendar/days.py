"""Counting whole days: a unit's first open weekday, business days, and ticket validity (OG-10.2-f).

Business days are weekdays (Mon–Fri) that are not public holidays, nor de-facto holidays when the
region's policy says so. They do not depend on a unit's own closures: under OG-9.2 a unit never closes
an ordinary weekday without another unit keeping its service open, so the service day still counts.

Ticket validity (OG-10.2-f, "tre helgfria vardagar från och med första öppna vardag hos mottagande
verksamhet"): day 1 is the receiving unit's first open weekday (a business day on which the unit has
opening hours), counted from the send date if the ticket is sent before the unit's closing time that
day, otherwise from the next day. Days 2 and 3 are the next two business days. The ticket is valid up to
the end of day 3 (local midnight after it), not the unit's closing time: the patient confirms the
ticket in the patient interface, which is open around the clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.calendar.hours import MAX_CLOSED_DAYS, closing_time, is_working_day
from app.calendar.model import NoOpeningHoursError, UnitCalendar
from app.calendar.swedish_holidays import HolidayPolicy, holiday_name
from app.calendar.zone import ONE_DAY, local_date, require_aware, require_date, start_of_day

TICKET_VALID_DAYS = 3


def is_business_day(cal_or_policy: UnitCalendar | HolidayPolicy, day: date) -> bool:
    """True on a weekday (Mon–Fri) that is not a holiday under the calendar's (or given) holiday policy."""
    return require_date(day).weekday() < 5 and holiday_name(day, _policy(cal_or_policy)) is None


def _policy(cal_or_policy: UnitCalendar | HolidayPolicy) -> HolidayPolicy:
    return cal_or_policy.holiday_policy if isinstance(cal_or_policy, UnitCalendar) else cal_or_policy


def first_open_weekday(cal: UnitCalendar, day: date) -> date:
    """The first date on or after `day` that is a business day on which the unit is open."""
    candidate = require_date(day)
    for _ in range(MAX_CLOSED_DAYS + 1):
        if is_business_day(cal, candidate) and is_working_day(cal, candidate):
            return candidate
        candidate += ONE_DAY
    raise NoOpeningHoursError(
        f"unit {cal.unit_id} has no open weekday within {MAX_CLOSED_DAYS} days of {day.isoformat()}"
    )


def next_open_weekday(cal: UnitCalendar, day: date) -> date:
    """The first open weekday of the unit after `day`: "nästkommande vardag" for a case not handled today."""
    return first_open_weekday(cal, require_date(day) + ONE_DAY)


def add_business_days(cal_or_policy: UnitCalendar | HolidayPolicy, day: date, n: int) -> date:
    """The n-th business day after `day` (before it for negative n; `day` itself for 0); unit closures do not count."""
    policy = _policy(cal_or_policy)
    candidate, step = require_date(day), timedelta(days=1 if n >= 0 else -1)
    for _ in range(abs(n)):
        candidate += step
        while not is_business_day(policy, candidate):
            candidate += step
    return candidate


def ticket_validity_days(receiving_cal: UnitCalendar, sent_at: datetime) -> tuple[date, ...]:
    """The three local dates a ticket sent at `sent_at` is valid on (OG-10.2-f)."""
    sent_at = require_aware(sent_at, "sent_at")
    sent_on = local_date(sent_at)
    closes = closing_time(receiving_cal, sent_on)
    # The send date counts only while the receiving unit still has opening time left that day.
    counted_from = sent_on if closes is not None and sent_at < closes else sent_on + ONE_DAY
    days = [first_open_weekday(receiving_cal, counted_from)]
    while len(days) < TICKET_VALID_DAYS:
        days.append(add_business_days(receiving_cal, days[-1], 1))
    return tuple(days)


def ticket_valid_until(receiving_cal: UnitCalendar, sent_at: datetime) -> datetime:
    """When a ticket sent at `sent_at` expires (UTC, exclusive): local midnight after its third valid day (OG-10.2-f)."""
    last_day = ticket_validity_days(receiving_cal, sent_at)[-1]
    return start_of_day(last_day + ONE_DAY)
