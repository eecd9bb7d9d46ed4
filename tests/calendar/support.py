"""Builders shared by the calendar tests: Stockholm moments and a typical care-centre calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from app.calendar import STOCKHOLM, DayException, HolidayPolicy, Interval, UnitCalendar

UNIT, COVER = 10, 20
MORNING = Interval(time(8), time(12))
AFTERNOON = Interval(time(13), time(17))
OFFICE_DAY = (MORNING, AFTERNOON)  # 08–12 and 13–17: eight hours with a lunch break


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Stockholm wall-clock moment (first occurrence in the autumn repeated hour)."""
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(opens: int, closes: int) -> Interval:
    return Interval(time(opens), time(closes % 24))


def office(
    *exceptions: DayException, policy: HolidayPolicy | None = None, weekly: dict | None = None
) -> UnitCalendar:
    """Monday–Friday 08–12 and 13–17, closed on weekends and holidays."""
    return UnitCalendar(
        unit_id=UNIT,
        weekly=weekly if weekly is not None else dict.fromkeys(range(5), OFFICE_DAY),
        exceptions=exceptions,
        holiday_policy=policy or HolidayPolicy(),
    )


def straight(*exceptions: DayException) -> UnitCalendar:
    """Monday–Friday 08–17 without lunch: nine hours a day, for easy sums."""
    return office(*exceptions, weekly=dict.fromkeys(range(5), (hours(8, 17),)))


def open_day(day: date, *intervals: Interval, note: str = "") -> DayException:
    return DayException(day, intervals, note=note)
