"""Stockholm local time: the one place that turns wall-clock times into moments and back.

Moments are timezone-aware datetimes and leave this package in UTC; dates are Stockholm local dates.
Wall times are resolved the way a Stockholm clock shows them: in the autumn repeated hour (02:00–03:00
on the last Sunday of October) the first occurrence is meant; a wall time inside the spring gap
(02:00–03:00 on the last Sunday of March never shows) means the switch itself, the first moment the
clock reads that time or later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ONE_DAY = timedelta(days=1)
MIDNIGHT = time(0)


def require_aware(moment: datetime, name: str = "moment") -> datetime:
    """Return `moment` in UTC; refuse naive datetimes and non-datetimes."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a timezone-aware datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware (e.g. tzinfo=ZoneInfo('Europe/Stockholm') or UTC), got naive {moment.isoformat()}"
        )
    return moment.astimezone(UTC)


def require_date(day: date, name: str = "day") -> date:
    """Return `day`; refuse datetimes, whose local date would be ambiguous."""
    # datetime is a subclass of date: without this check a UTC moment would silently count as its UTC date.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(
            f"{name} must be a date (a Stockholm local date), got {type(day).__name__}; use local_date(moment)"
        )
    return day


def local_date(at: datetime) -> date:
    """The Stockholm local date of a moment."""
    return require_aware(at, "at").astimezone(STOCKHOLM).date()


def wall_to_utc(day: date, wall: time) -> datetime:
    """The UTC moment when a Stockholm clock on local `day` reads `wall` (see the module notes on DST)."""
    moment = datetime.combine(day, wall, tzinfo=STOCKHOLM).astimezone(UTC)
    if moment.astimezone(STOCKHOLM).time() != wall:
        # In the spring gap (02:00–03:00) zoneinfo reads the time with the winter offset, one hour late
        # by the distance into the gap; the gap starts on the hour, so step back to the switch itself.
        moment -= timedelta(minutes=wall.minute, seconds=wall.second, microseconds=wall.microsecond)
    return moment


def start_of_day(day: date) -> datetime:
    """The UTC moment of local midnight at the start of `day`."""
    return wall_to_utc(day, MIDNIGHT)
