"""Units' business calendars from the database: loaded once per change, changed with an audit trail.

A unit's opening hours and exceptions become an `app.calendar.UnitCalendar` (cached per process,
keyed on the unit's `calendar_version`, which every change bumps). Changing them recomputes the
pending deadlines computed from them, in the same transaction.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping
from datetime import date, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.calendar import ClosureWithoutCoverError, DayException, HolidayPolicy, Interval, UnitCalendar
from app.errors import GuardRefused, NotFound, ValidationFailed
from app.people.models import OpeningException, OpeningHours, Region, Unit

_cache: dict[tuple[int, int], UnitCalendar] = {}
_lock = threading.Lock()


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
    try:
        exception = DayException(day, spans, covering_unit_id, note)
        others = [e for e in unit_calendar(session, unit.id).exceptions if e.day != day]
        UnitCalendar(
            unit.id, unit_calendar(session, unit.id).weekly, [*others, exception], holiday_policy(unit.region)
        )
    except ClosureWithoutCoverError as exc:
        raise GuardRefused(str(exc), rule="OG-9.2") from exc
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"intervals": [str(exc)]}) from exc
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
