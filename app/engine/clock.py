"""Make SpiffWorkflow's timers obey the product clock (app.clock).

SpiffWorkflow's timer event definitions compare against `datetime.now(timezone.utc)`, looked up
as the name `datetime` in their own module. We rebind that module-level name to a datetime
subclass whose `now()` asks app.clock; nothing else in the library reads the wall clock for
behaviour. Naive timer values (an ISO time without offset in a diagram) mean Stockholm local time
to a process owner, so they are read as Europe/Stockholm, not as the server's zone at import time.
"""

from __future__ import annotations

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


_installed = False


def install() -> None:
    """Rebind SpiffWorkflow's timer clock to app.clock (idempotent)."""
    global _installed
    if _installed:
        return
    _spiff_timer.datetime = _ClockedDatetime
    _spiff_timer.TimerEventDefinition.get_datetime = staticmethod(_get_datetime)
    _installed = True
