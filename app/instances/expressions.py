"""Functions BPMN expressions may call, beside the sandbox's safe builtins.

The business-calendar functions take a unit id; they read the unit's calendar through the session
of the step that is running (bound with `expression_session`), so a timer expression such as
`iso(add_working_hours(unit_id, now(), 6))` sees exactly what the step's transaction sees.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import wraps

from sqlalchemy.orm import Session

from app import calendar, clock
from app.calendar.zone import start_of_day

_step_session: ContextVar[Session | None] = ContextVar("vardflode_step_session", default=None)


@contextlib.contextmanager
def expression_session(session: Session) -> Iterator[None]:
    """Let calendar functions in expressions read through `session` while a step runs."""
    token = _step_session.set(session)
    try:
        yield
    finally:
        _step_session.reset(token)


def bind_step_session(function):
    """Decorator for service operations whose first argument is the session."""

    @wraps(function)
    def wrapper(session: Session, *args, **kwargs):
        with expression_session(session):
            return function(session, *args, **kwargs)

    return wrapper


def _calendar(unit_id: int) -> calendar.UnitCalendar:
    from app.people.calendars import unit_calendar

    session = _step_session.get()
    if session is None:
        raise RuntimeError("calendar functions are only available while a routine step runs")
    return unit_calendar(session, int(unit_id))


def _moment(value: datetime | str | None) -> datetime:
    if value is None:
        return clock.now()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def now() -> datetime:
    """The current moment (the product clock, UTC)."""
    return clock.now()


def iso(moment: datetime | date) -> str:
    """A moment or date as ISO-8601 text (what timer expressions return)."""
    return moment.isoformat()


def duration_hours(n: float) -> timedelta:
    """A duration of n hours (clock time, not working time)."""
    return timedelta(hours=n)


def duration_days(n: float) -> timedelta:
    """A duration of n calendar days."""
    return timedelta(days=n)


def is_open(unit_id: int, at: datetime | str | None = None) -> bool:
    """Is the unit's service open at the moment (default now)? On a day another unit covers, while that unit is open (OG-9.2)."""
    from app.people.calendars import service_is_open

    _calendar(unit_id)  # the same refusal outside a step, and NotFound for an unknown unit
    return service_is_open(_step_session.get(), int(unit_id), _moment(at))


def next_opening(unit_id: int, at: datetime | str | None = None) -> datetime:
    """The unit's next opening moment on or after `at` (default now)."""
    return calendar.next_opening(_calendar(unit_id), _moment(at))


def add_working_hours(unit_id: int, start: datetime | str | None, working_hours: float) -> datetime:
    """The moment `working_hours` of the unit's opening time after `start` (OG-6.1-f)."""
    return calendar.add_working_hours(_calendar(unit_id), _moment(start), working_hours)


def working_hours_between(unit_id: int, start: datetime | str, end: datetime | str | None = None) -> float:
    """Hours of the unit's opening time between two moments (end default now)."""
    return calendar.working_hours_between(_calendar(unit_id), _moment(start), _moment(end))


def first_open_weekday(unit_id: int, day: date | str) -> date:
    """The first weekday on or after `day` that is no holiday and on which the unit is open."""
    return calendar.first_open_weekday(_calendar(unit_id), _day(day))


def next_open_weekday(unit_id: int, day: date | str) -> date:
    """The first open weekday after `day` ("nästkommande vardag", OG-6.1-e)."""
    return calendar.next_open_weekday(_calendar(unit_id), _day(day))


def next_weekday_opening(unit_id: int, at: datetime | str | None = None) -> datetime:
    """When the unit opens on the first open weekday after `at`'s date (default now): "nästa dag"."""
    cal = _calendar(unit_id)
    day = calendar.next_open_weekday(cal, calendar.local_date(_moment(at)))
    return calendar.next_opening(cal, start_of_day(day))


def add_business_days(unit_id: int, day: date | str, n: int) -> date:
    """The date n weekdays that are not holidays after `day`."""
    return calendar.add_business_days(_calendar(unit_id), _day(day), n)


def closing_time(unit_id: int, day: date | str | None = None) -> datetime | None:
    """When the unit closes on `day` (default today), or None if it is closed that day."""
    return calendar.closing_time(
        _calendar(unit_id), _day(day) if day is not None else calendar.local_date(clock.now())
    )


def ticket_valid_until(unit_id: int, sent_at: datetime | str | None = None) -> datetime:
    """When a ticket to the receiving unit stops being valid (OG-10.2-f)."""
    return calendar.ticket_valid_until(_calendar(unit_id), _moment(sent_at))


def local_date(at: datetime | str | None = None) -> date:
    """The Stockholm date of a moment (default now)."""
    return calendar.local_date(_moment(at))


def outage_contact(at: datetime | str | None = None) -> dict:
    """Whom to contact on an outage at the moment (OG-12-a): service desk or Inera, with number."""
    contact = calendar.outage_contact(_moment(at))
    return {
        "channel": contact.channel.value,
        "name": contact.name,
        "phone": contact.phone,
        "menu_choice": contact.menu_choice,
        "period": contact.period.value,
        "holiday": contact.holiday,
        "within_guideline_hours": contact.within_guideline_hours,
    }


EXPRESSION_GLOBALS = {
    function.__name__: function
    for function in (
        now,
        iso,
        duration_hours,
        duration_days,
        is_open,
        next_opening,
        add_working_hours,
        working_hours_between,
        first_open_weekday,
        next_open_weekday,
        next_weekday_opening,
        add_business_days,
        closing_time,
        ticket_valid_until,
        local_date,
        outage_contact,
    )
}
