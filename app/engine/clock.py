"""Make SpiffWorkflow's timers obey the product clock (app.clock).

SpiffWorkflow's timer event definitions compare against `datetime.now(timezone.utc)`, looked up
as the name `datetime` in their own module. We rebind that module-level name to a datetime
subclass whose `now()` asks app.clock; nothing else in the library reads the wall clock for
behaviour. Durations that reach past the year 9999 are refused before SpiffWorkflow counts them
out month by month. Naive timer values (an ISO time without offset in a diagram) mean Stockholm local time
to a process owner, so they are read as Europe/Stockholm, not as the server's zone at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from app import clock

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: D102 - mirrors datetime.now
        moment = clock.now()
        if tz is None:
            return moment.astimezone(STOCKHOLM).replace(tzinfo=None)
        return moment.astimezone(tz)


def _get_datetime(expression: str) -> datetime:
    moment = datetime.fromisoformat(expression)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment.astimezone(UTC)


def reaches_past_the_calendar(parsed_duration: Mapping[str, float], start: datetime) -> bool:
    """Whether a parsed ISO duration's years and months reach past the last year a date can have."""
    months = parsed_duration.get("years", 0) * 12 + parsed_duration.get("months", 0)
    return months > (datetime.max.year - start.year) * 12


_spiff_timedelta_from_start = _spiff_timer.TimerEventDefinition.get_timedelta_from_start


def _bounded_timedelta_from_start(parsed_duration, start=None):
    # SpiffWorkflow counts years and months out one month at a time: a duration built from task
    # data such as 'P100000000Y' would hold the step for minutes, outside any script's budget.
    if reaches_past_the_calendar(parsed_duration, start or clock.now()):
        raise ValueError("the timer's duration reaches past the year 9999")
    return _spiff_timedelta_from_start(parsed_duration, start)


_installed = False


def install() -> None:
    """Rebind SpiffWorkflow's timer clock to app.clock (idempotent)."""
    global _installed
    if _installed:
        return
    _spiff_timer.datetime = _ClockedDatetime
    _spiff_timer.TimerEventDefinition.get_datetime = staticmethod(_get_datetime)
    _spiff_timer.TimerEventDefinition.get_timedelta_from_start = staticmethod(_bounded_timedelta_from_start)
    _installed = True
