"""A unit's opening hours: weekly intervals, per-date exceptions and the region's holiday policy.

Immutable and hashable, so the app layer can build one per unit from the database and cache it. A
public holiday (and, by policy, a de-facto holiday) closes the unit unless an exception opens that date.
OG-9.2 forbids planned temporary closing unless another unit keeps the service open, so an exception
that closes an ordinary weekday, or any day the unit would otherwise be open, must name that unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from app.calendar.swedish_holidays import DEFAULT_POLICY, HolidayPolicy, holiday_name
from app.calendar.zone import MIDNIGHT, require_date

WEEKDAYS = range(7)  # 0 = Monday … 6 = Sunday, as date.weekday()


class ClosureWithoutCoverError(ValueError):
    """A planned closure of a day the unit is normally open, with no covering unit (OG-9.2)."""


class NoOpeningHoursError(ValueError):
    """The unit has no opening hours within the search horizon."""


@dataclass(frozen=True, slots=True)
class Interval:
    """Open from `opens` up to (not including) `closes`, local wall time; closes=time(0) means midnight."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening times are Stockholm wall-clock times: give them without tzinfo")
        if self.closes != MIDNIGHT and self.closes <= self.opens:
            raise ValueError(
                f"an interval must close after it opens (within the day): {self.opens}–{self.closes}"
            )


def _offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _end(interval: Interval) -> timedelta:
    return timedelta(days=1) if interval.closes == MIDNIGHT else _offset(interval.closes)


def normalize_intervals(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sort a day's intervals and refuse overlaps (touching is fine: 08–12 and 12–17)."""
    ordered = tuple(sorted(intervals, key=lambda interval: interval.opens))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if _end(before) > _offset(after.opens):
            raise ValueError(
                f"overlapping opening intervals: {before.opens}–{before.closes} and {after.opens}–{after.closes}"
            )
    return ordered


@dataclass(frozen=True, slots=True)
class DayException:
    """Other opening hours on one local date: shortened, opened, or closed (intervals=()) with a covering unit."""

    day: date
    intervals: tuple[Interval, ...]
    covering_unit_id: int | None = None
    note: str = ""

    def __post_init__(self) -> None:
        require_date(self.day)
        object.__setattr__(self, "intervals", normalize_intervals(self.intervals))
        # Public and de-facto holidays and weekends need no cover; the calendar checks those days again
        # against its own weekly hours and policy.
        ordinary_weekday = self.day.weekday() < 5 and holiday_name(self.day) is None
        if self.closes_day and self.covering_unit_id is None and ordinary_weekday:
            raise ClosureWithoutCoverError(
                f"OG-9.2: closing the unit on the ordinary weekday {self.day.isoformat()} is not allowed "
                "unless another unit keeps the service open: give covering_unit_id"
            )

    @property
    def closes_day(self) -> bool:
        """True when this exception closes the whole day."""
        return not self.intervals


@dataclass(frozen=True)
class UnitCalendar:
    """One unit's opening hours. `weekly` and `exceptions` also accept mappings and are frozen here."""

    unit_id: int
    # Seven entries, Monday first; a mapping weekday → intervals is accepted (missing weekdays are closed).
    weekly: tuple[tuple[Interval, ...], ...]
    # Sorted by day; a mapping date → DayException or any iterable of them is accepted.
    exceptions: tuple[DayException, ...] = ()
    holiday_policy: HolidayPolicy = DEFAULT_POLICY
    _by_day: Mapping[date, DayException] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekly", _freeze_weekly(self.weekly))
        exceptions = _freeze_exceptions(self.exceptions)
        object.__setattr__(self, "exceptions", exceptions)
        object.__setattr__(self, "_by_day", {exception.day: exception for exception in exceptions})
        for exception in exceptions:
            if exception.covering_unit_id == self.unit_id:
                raise ValueError(
                    f"unit {self.unit_id} cannot cover for itself on {exception.day.isoformat()}"
                )
            if (
                exception.closes_day
                and exception.covering_unit_id is None
                and self.regular_intervals(exception.day)
            ):
                # The DayException check spares de-facto holidays and weekends; this one knows whether the
                # unit would have been open then (policy without de-facto holidays, weekend hours).
                raise ClosureWithoutCoverError(
                    f"OG-9.2: unit {self.unit_id} is normally open on {exception.day.isoformat()}; "
                    "closing it needs a covering unit (covering_unit_id)"
                )

    def regular_intervals(self, day: date) -> tuple[Interval, ...]:
        """The hours of `day` without its exception: the weekly hours, or none on a holiday."""
        if holiday_name(day, self.holiday_policy) is not None:
            return ()
        return self.weekly[day.weekday()]

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The local opening intervals of `day`: its exception if any, else the regular hours."""
        exception = self._by_day.get(require_date(day))
        return exception.intervals if exception is not None else self.regular_intervals(day)

    def exception_on(self, day: date) -> DayException | None:
        """The exception recorded for `day`, or None."""
        return self._by_day.get(require_date(day))

    def covering_unit_on(self, day: date) -> int | None:
        """The unit keeping the service open for this one on `day` (OG-9.2), or None."""
        exception = self.exception_on(day)
        return exception.covering_unit_id if exception is not None else None


def _freeze_weekly(
    weekly: Mapping[int, Iterable[Interval]] | Iterable[Iterable[Interval]],
) -> tuple[tuple[Interval, ...], ...]:
    if isinstance(weekly, Mapping):
        unknown = set(weekly) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), got {sorted(unknown)}")
        return tuple(normalize_intervals(weekly.get(weekday, ())) for weekday in WEEKDAYS)
    days = tuple(normalize_intervals(day) for day in weekly)
    if len(days) != 7:
        raise ValueError(f"weekly hours need seven days (Monday first), got {len(days)}")
    return days


def _freeze_exceptions(
    exceptions: Mapping[date, DayException] | Iterable[DayException],
) -> tuple[DayException, ...]:
    if isinstance(exceptions, Mapping):
        for day, exception in exceptions.items():
            if exception.day != day:
                raise ValueError(f"exception for {exception.day.isoformat()} filed under {day}")
        exceptions = exceptions.values()
    ordered = tuple(sorted(exceptions, key=lambda exception: exception.day))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.day == after.day:
            raise ValueError(f"two exceptions for {before.day.isoformat()}")
    return ordered
