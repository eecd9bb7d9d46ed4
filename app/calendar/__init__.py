"""Business calendar: opening hours, Swedish holidays and working-time arithmetic for the routines.

Pure Python (no Flask, no SQLAlchemy): the app layer loads a unit's opening hours into a
`UnitCalendar` and hands the functions in `EXPRESSION_FUNCTIONS` to BPMN expressions; their one-line
docstrings are the function reference process owners see.

Conventions (details in each module's notes):

- Time zone Europe/Stockholm. Moments are timezone-aware datetimes, returned in UTC; naive ones are
  refused with ValueError. Dates are Stockholm local dates; a datetime given as a date is refused.
- Holidays: Swedish public holidays, plus midsommarafton, julafton and nyårsafton unless the region's
  `HolidayPolicy(de_facto_non_working=False)`. A holiday closes a unit unless an exception opens it.
- Opening intervals are half-open: open at 08:00, closed at 17:00. `add_working_hours` ending exactly
  at a closing time returns that closing time. `working_hours_between` is signed.
- OG-9.2: closing a day the unit is normally open needs a covering unit. Such a day is closed in the
  unit's own calendar (no working hours); `UnitCalendar.covering_unit_on(day)` names the unit that keeps
  the service open, whose calendar applies to what it takes over.
- Business days (weekdays that are not holidays) ignore a unit's own closures.
- Ticket validity (OG-10.2-f) and the outage contact (OG-12-a): see `days` and `outage`.
"""

from __future__ import annotations

from app.calendar.days import (
    add_business_days,
    first_open_weekday,
    is_business_day,
    next_open_weekday,
    ticket_valid_until,
    ticket_validity_days,
)
from app.calendar.hours import (
    add_working_hours,
    closing_time,
    day_spans,
    is_open,
    is_working_day,
    next_opening,
    working_hours_between,
)
from app.calendar.model import (
    ClosureWithoutCoverError,
    DayException,
    Interval,
    NoOpeningHoursError,
    UnitCalendar,
)
from app.calendar.outage import OutageChannel, OutageConfig, OutageContact, OutagePeriod, outage_contact
from app.calendar.swedish_holidays import (
    HolidayPolicy,
    de_facto_holidays,
    holiday_name,
    is_de_facto_holiday,
    is_public_holiday,
    public_holidays,
)
from app.calendar.zone import STOCKHOLM, local_date

# What BPMN expressions may call, by name.
EXPRESSION_FUNCTIONS = {
    function.__name__: function
    for function in (
        local_date,
        is_open,
        next_opening,
        add_working_hours,
        working_hours_between,
        closing_time,
        is_working_day,
        first_open_weekday,
        next_open_weekday,
        add_business_days,
        is_business_day,
        holiday_name,
        ticket_validity_days,
        ticket_valid_until,
        outage_contact,
    )
}

__all__ = [
    "EXPRESSION_FUNCTIONS",
    "STOCKHOLM",
    "ClosureWithoutCoverError",
    "DayException",
    "HolidayPolicy",
    "Interval",
    "NoOpeningHoursError",
    "OutageChannel",
    "OutageConfig",
    "OutageContact",
    "OutagePeriod",
    "UnitCalendar",
    "add_business_days",
    "add_working_hours",
    "closing_time",
    "day_spans",
    "de_facto_holidays",
    "first_open_weekday",
    "holiday_name",
    "is_business_day",
    "is_de_facto_holiday",
    "is_open",
    "is_public_holiday",
    "is_working_day",
    "local_date",
    "next_open_weekday",
    "next_opening",
    "outage_contact",
    "public_holidays",
    "ticket_valid_until",
    "ticket_validity_days",
    "working_hours_between",
]
