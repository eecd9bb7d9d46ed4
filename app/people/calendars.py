"""Units' business calendars from the database: loaded once per change, changed with an audit trail.

A unit's opening hours and exceptions become an `app.calendar.UnitCalendar` (cached per process,
keyed on the unit's `calendar_version`, which every change bumps). Changing them recomputes the
pending deadlines computed from them, in the same transaction.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import calendar as cal_api
from app import clock
from app.audit.service import Actor, record
from app.calendar import ClosureWithoutCoverError, DayException, HolidayPolicy, Interval, UnitCalendar
from app.errors import GuardRefused, NotFound, ValidationFailed
from app.people.models import OpeningException, OpeningHours, Region, Unit

_cache: dict[tuple[int, int], UnitCalendar] = {}
_lock = threading.Lock()


class ClosureRefused(GuardRefused):
    """OG-9.2: a change would close the unit (or part of a day ahead) with no unit keeping the service open."""

    def __init__(self, message: str, **details) -> None:
        super().__init__(message, rule="OG-9.2", **details)


def holiday_policy(region: Region) -> HolidayPolicy:
    """The region's holiday policy: de-facto holidays (julafton, ...) are non-working unless it says otherwise."""
    return HolidayPolicy(de_facto_non_working=bool((region.policies or {}).get("de_facto_non_working", True)))


def unit_calendar(session: Session, unit_id: int) -> UnitCalendar:
    """The unit's calendar, built from its rows once per calendar version."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    key = (unit.id, unit.calendar_version)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    weekly: dict[int, list[Interval]] = {}
    for row in session.scalars(select(OpeningHours).where(OpeningHours.unit_id == unit.id)):
        weekly.setdefault(row.weekday, []).append(Interval(row.opens, row.closes))
    exceptions = [
        DayException(
            row.day, tuple(_interval(pair) for pair in row.intervals), row.covering_unit_id, row.note
        )
        for row in session.scalars(select(OpeningException).where(OpeningException.unit_id == unit.id))
    ]
    calendar = UnitCalendar(unit.id, weekly, exceptions, holiday_policy(unit.region))
    with _lock:
        _cache[key] = calendar
    return calendar


def _interval(pair: Iterable[str]) -> Interval:
    opens, closes = pair
    return Interval(time.fromisoformat(opens), time.fromisoformat(closes))


def serving_calendars(session: Session, unit_id: int, day: date) -> tuple[UnitCalendar, ...]:
    """The calendars that keep the unit's service open on `day` (OG-9.2): its own, and on a covered
    day also the covering unit's (the covered unit's own hours that day are those it kept, if any)."""
    own = unit_calendar(session, unit_id)
    covering = own.covering_unit_on(day)
    return (own,) if covering is None else (own, unit_calendar(session, covering))


def service_is_open(session: Session, unit_id: int, at: datetime) -> bool:
    """Is the unit's service open at `at`: by its own hours, or on a covered day by the covering unit's (OG-9.2)."""
    day = cal_api.local_date(at)
    return any(cal_api.is_open(cal, at) for cal in serving_calendars(session, unit_id, day))


def served_unit_ids(session: Session, unit_id: int, day: date | None = None) -> list[int]:
    """The unit and the units it keeps the service open for on `day` (default today, OG-9.2): whose
    cases its staff handle that day."""
    day = day if day is not None else cal_api.local_date(clock.now())
    covered = session.scalars(
        select(OpeningException.unit_id)
        .where(OpeningException.day == day, OpeningException.covering_unit_id == unit_id)
        .order_by(OpeningException.unit_id)
    )
    return [unit_id, *(u for u in covered if u != unit_id)]


def removed_days(
    before: UnitCalendar, after: UnitCalendar, days: Iterable[date], *, whole: bool
) -> list[date]:
    """The days on which `after` takes opening time away that `before` had and no cover is arranged
    (OG-9.2); with whole=True only days left with no opening time at all."""
    removed = []
    for day in days:
        if after.covering_unit_on(day) is not None:
            continue
        had, has = cal_api.day_spans(before, day), cal_api.day_spans(after, day)
        if whole:
            if had and not has:
                removed.append(day)
        elif any(not _within(span, has) for span in had):
            removed.append(day)
    return removed


def _within(span: tuple[datetime, datetime], spans: Iterable[tuple[datetime, datetime]]) -> bool:
    """True if every moment of `span` is inside the (sorted, non-overlapping, maybe touching) `spans`."""
    start, end = span
    for opens, closes in spans:
        if opens <= start < closes:
            start = closes
        if start >= end:
            return True
    return start >= end


def set_weekly_hours(
    session: Session, *, actor: Actor, unit_id: int, weekly: Mapping[int, Iterable[tuple[time, time]]]
) -> UnitCalendar:
    """Replace the unit's weekly opening hours (several intervals a day allow a lunch break)."""
    unit = lock_unit(session, unit_id)
    intervals = {day: [Interval(o, c) for o, c in spans] for day, spans in weekly.items()}
    try:
        candidate = UnitCalendar(
            unit.id, intervals, unit_calendar(session, unit.id).exceptions, holiday_policy(unit.region)
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"weekly": [str(exc)]}) from exc
    session.execute(delete(OpeningHours).where(OpeningHours.unit_id == unit.id))
    for day, spans in intervals.items():
        for span in spans:
            session.add(OpeningHours(unit_id=unit.id, weekday=day, opens=span.opens, closes=span.closes))
    _changed(
        session,
        actor,
        unit,
        "unit:opening_hours_changed",
        weekly={
            d: [[s.opens.isoformat("minutes"), s.closes.isoformat("minutes")] for s in v]
            for d, v in intervals.items()
        },
    )
    return candidate


def set_exception(
    session: Session,
    *,
    actor: Actor,
    unit_id: int,
    day: date,
    intervals: Iterable[tuple[time, time]] = (),
    covering_unit_id: int | None = None,
    note: str = "",
) -> None:
    """Other hours on one date; closing an ordinary weekday needs the unit that covers (OG-9.2)."""
    unit = lock_unit(session, unit_id)
    spans = tuple(Interval(o, c) for o, c in intervals)
    if covering_unit_id is not None:
        cover = _unit(session, covering_unit_id)
        if cover.id == unit.id or not cover.activated:
            raise GuardRefused(
                "the covering unit must be another unit that is activated in the service", rule="OG-9.2"
            )
        if not cal_api.is_working_day(unit_calendar(session, cover.id), day):
            # A unit closed that day (or itself covered) cannot keep the service open for another one.
            raise GuardRefused(
                f"OG-9.2: {cover.name} has no opening hours on {day.isoformat()} and cannot cover that day",
                rule="OG-9.2",
                covering_unit_id=cover.id,
                day=day.isoformat(),
            )
    current = unit_calendar(session, unit.id)
    try:
        exception = DayException(day, spans, covering_unit_id, note)
        others = [e for e in current.exceptions if e.day != day]
        candidate = UnitCalendar(unit.id, current.weekly, [*others, exception], holiday_policy(unit.region))
    except ClosureWithoutCoverError as exc:
        raise ClosureRefused(str(exc)) from exc
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"intervals": [str(exc)]}) from exc
    if day >= cal_api.local_date(clock.now()):
        _refuse_removed_time(session, unit, current, candidate, day)
    session.execute(
        delete(OpeningException).where(OpeningException.unit_id == unit.id, OpeningException.day == day)
    )
    session.add(
        OpeningException(
            unit_id=unit.id,
            day=day,
            intervals=[
                [s.opens.isoformat("minutes"), s.closes.isoformat("minutes")] for s in exception.intervals
            ],
            covering_unit_id=covering_unit_id,
            note=note,
        )
    )
    _changed(
        session,
        actor,
        unit,
        "unit:opening_exception_set",
        day=day.isoformat(),
        intervals=len(spans),
        covering_unit_id=covering_unit_id,
        note=note,
    )


def _refuse_removed_time(
    session: Session, unit: Unit, current: UnitCalendar, candidate: UnitCalendar, day: date
) -> None:
    """OG-9.2: a day ahead keeps its opening time (and its regular hours) unless another unit covers
    it, and a unit that keeps the service open for another one that day keeps its own hours."""
    regular = UnitCalendar(unit.id, current.weekly, (), current.holiday_policy)
    if removed_days(current, candidate, [day], whole=False) or removed_days(
        regular, candidate, [day], whole=False
    ):
        raise ClosureRefused(
            f"OG-9.2: the unit would lose opening time on {day.isoformat()} without a unit that covers it",
            day=day.isoformat(),
        )
    has = cal_api.day_spans(candidate, day)
    if any(not _within(span, has) for span in cal_api.day_spans(current, day)):
        covered = [u for u in served_unit_ids(session, unit.id, day) if u != unit.id]
        if covered:
            names = ", ".join(_unit(session, u).name for u in covered)
            raise ClosureRefused(
                f"OG-9.2: the unit keeps the service open for {names} on {day.isoformat()} and keeps its hours",
                day=day.isoformat(),
                covers_for=covered,
            )


def lock_unit(session: Session, unit_id: int) -> Unit:
    """The unit, read afresh and locked until the transaction ends: take it before checking the
    calendar_version a change was made from.

    The row lock (PostgreSQL; SQLite begins IMMEDIATE) makes check-then-write one step: of two
    changes made from the same version, the second waits for the first and then sees its new
    version, instead of both deleting and inserting hours into one merged week."""
    unit = session.get(Unit, unit_id, with_for_update=True, populate_existing=True)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    return unit


def _unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    return unit


def _changed(session: Session, actor: Actor, unit: Unit, action: str, **details) -> None:
    from app.instances.deadlines import recompute_for_unit

    unit.calendar_version = secrets.randbits(62)
    session.flush()
    record(session, action, actor=actor, subject=("unit", unit.id), **details)
    recompute_for_unit(session, actor=actor, unit_id=unit.id)
