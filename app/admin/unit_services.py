"""The local system administrator's unit settings: opening hours, cover by another unit (OG-9.2), and
the regional and local phrase templates they publish (OG-8.2).

The rules themselves live where they belong (app.people.calendars, app.calendar, app.phrases.service);
this module checks that the actor administers the unit and prepares what the pages show.

OG-9.2: a unit is never closed in the service. A closed day needs another unit that keeps the service
open; the cover must be arranged before its first day, so the covering unit's staff already have
access (app.cases.permissions) when the day begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.admin.services import require_sysadmin
from app.audit.service import Actor, record
from app.calendar import Interval, UnitCalendar
from app.calendar.zone import STOCKHOLM
from app.errors import Conflict, GuardRefused, ValidationFailed
from app.people.calendars import (
    ClosureRefused,
    lock_unit,
    removed_days,
    set_exception,
    set_weekly_hours,
    unit_calendar,
)
from app.people.models import Membership, OpeningException, Unit, User
from app.people.roles import Role
from app.phrases import service as phrases
from app.phrases.models import PhraseLevel, PhraseStatus, PhraseTemplate

MAX_COVER_DAYS = 62  # a longer absence is a change of the unit's set-up, not a cover
CLOSING_REFUSED = (
    "OG-9.2: a unit cannot be closed in the service; another unit keeps it open for you (arrange cover)"
)


@dataclass(frozen=True)
class CoverDay:
    day: date
    covering_unit: str
    note: str


@dataclass(frozen=True)
class UnitSettings:
    """What the unit page shows: weekly hours as text, version for conflicts, covers to come."""

    unit_id: int
    unit_name: str
    calendar_version: int
    weekly: dict[int, list[tuple[str, str]]]
    covers: list[CoverDay]
    other_units: list[tuple[int, str]]


def unit_settings(session: Session, *, actor: Actor) -> UnitSettings:
    """The unit's weekly hours, the covers arranged from today on, and the units that may cover."""
    unit = require_sysadmin(session, actor=actor)
    calendar = unit_calendar(session, unit.id)
    weekly = {
        day: [(s.opens.isoformat("minutes"), s.closes.isoformat("minutes")) for s in calendar.weekly[day]]
        for day in range(7)
    }
    today = clock.now().astimezone(STOCKHOLM).date()
    units = session.execute(select(Unit.id, Unit.name, Unit.activated).order_by(Unit.name)).all()
    names = {uid: name for uid, name, _active in units}
    rows = session.scalars(
        select(OpeningException)
        .where(
            OpeningException.unit_id == unit.id,
            OpeningException.day >= today,
            OpeningException.covering_unit_id.is_not(None),
        )
        .order_by(OpeningException.day)
    )
    covers = [CoverDay(r.day, names.get(r.covering_unit_id, "?"), r.note) for r in rows]
    others = [(uid, name) for uid, name, active in units if uid != unit.id and active]
    return UnitSettings(unit.id, unit.name, unit.calendar_version, weekly, covers, others)


def set_opening_hours(
    session: Session,
    *,
    actor: Actor,
    weekly: dict[int, list[tuple[time, time]]],
    expected_version: int | None,
) -> None:
    """Replace the unit's weekly opening hours; refused (409) when someone changed them since the form
    was read, and refused (OG-9.2) when they would close the unit, or close whole days ahead that no
    other unit covers."""
    unit = lock_unit(session, require_sysadmin(session, actor=actor).id)
    if expected_version is not None and expected_version != unit.calendar_version:
        raise Conflict(
            "the opening hours were changed by someone else since you opened the page; reload and try again"
        )
    if not any(weekly.values()):
        raise ClosureRefused("OG-9.2: a week without opening hours closes the unit")
    current = unit_calendar(session, unit.id)
    try:
        candidate = UnitCalendar(
            unit.id,
            {day: [Interval(o, c) for o, c in spans] for day, spans in weekly.items()},
            current.exceptions,
            current.holiday_policy,
        )
    except ValueError:
        candidate = None  # set_weekly_hours refuses it with the reason
    if candidate is not None:
        today = clock.now().astimezone(STOCKHOLM).date()
        ahead = [today + timedelta(days=n) for n in range(MAX_COVER_DAYS + 1)]
        closed = removed_days(current, candidate, ahead, whole=True)
        if closed:
            raise ClosureRefused(
                "OG-9.2: the new hours close days ahead that no other unit covers: "
                + ", ".join(d.isoformat() for d in closed[:5]),
                days=[d.isoformat() for d in closed],
            )
    set_weekly_hours(session, actor=actor, unit_id=unit.id, weekly=weekly)


def arrange_cover(
    session: Session,
    *,
    actor: Actor,
    first_day: date,
    last_day: date,
    covering_unit_id: int | None,
    expected_version: int | None,
    note: str = "",
) -> list[date]:
    """Close the unit's open days in a period with another unit keeping the service open (OG-9.2).

    Refused without a covering unit (a unit may not close), or when the period has already begun
    (the covering unit's staff get access beforehand), or on a day the covering unit is closed.
    Refused (409) when the calendar changed since the page was read, or when a day of the period
    already has another covering unit: a cover is never silently replaced. Returns the days that got a
    cover.
    """
    # Locked before the calendar is read: two covers arranged at once are made one after the other,
    # the second from the calendar the first left.
    unit = lock_unit(session, require_sysadmin(session, actor=actor).id)
    if expected_version is not None and expected_version != unit.calendar_version:
        raise Conflict(
            "the opening hours or covers were changed by someone else since you opened the page; "
            "reload and try again"
        )
    errors: dict[str, list[str]] = {}
    today = clock.now().astimezone(STOCKHOLM).date()
    if last_day < first_day:
        errors["last_day"] = ["on or after the first day"]
    elif (last_day - first_day).days + 1 > MAX_COVER_DAYS:
        errors["last_day"] = [f"at most {MAX_COVER_DAYS} days"]
    if first_day <= today:
        errors["first_day"] = ["a cover is arranged before it starts: from tomorrow at the earliest"]
    if len(note) > 500:
        errors["note"] = ["at most 500 characters"]
    if errors:
        raise ValidationFailed("the cover has errors", errors)
    if covering_unit_id is None:
        raise GuardRefused(CLOSING_REFUSED, rule="OG-9.2")
    calendar = unit_calendar(session, unit.id)
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    taken = [
        (d, other)
        for d in days
        if (other := calendar.covering_unit_on(d)) is not None and other != covering_unit_id
    ]
    if taken:
        names = dict(
            session.execute(select(Unit.id, Unit.name).where(Unit.id.in_({u for _d, u in taken}))).all()
        )
        raise Conflict(
            "OG-9.2: another unit already covers "
            + ", ".join(f"{d.isoformat()} ({names.get(u, '?')})" for d, u in taken),
            existing=[(d.isoformat(), names.get(u, "?")) for d, u in taken],
        )
    covered = [d for d in days if calendar.regular_intervals(d)]  # days it is closed anyway need no cover
    for day in covered:
        set_exception(
            session,
            actor=actor,
            unit_id=unit.id,
            day=day,
            intervals=(),
            covering_unit_id=covering_unit_id,
            note=note,
        )
    record(
        session,
        "unit:cover_arranged",
        actor=actor,
        subject=("unit", unit.id),
        covering_unit_id=covering_unit_id,
        first_day=first_day.isoformat(),
        last_day=last_day.isoformat(),
        days=[d.isoformat() for d in covered],
    )
    return covered


def close_unit(session: Session, *, actor: Actor) -> None:
    """Always refused (OG-9.2): a unit cannot be closed in the service, only covered by another unit."""
    require_sysadmin(session, actor=actor)
    raise GuardRefused(CLOSING_REFUSED, rule="OG-9.2")


def record_closing_refused(session: Session, *, actor: Actor, **details) -> None:
    """Audit a refused attempt to close the unit (the caller commits it after rolling the attempt back)."""
    record(
        session,
        "unit:closing_refused",
        actor=actor,
        subject=("unit", actor.unit_id),
        rule="OG-9.2",
        **details,
    )


# --- phrase templates (OG-8.2) -------------------------------------------------------------------


@dataclass(frozen=True)
class AdminTemplate:
    id: int
    level: str
    purpose: str
    title: str
    text: str
    status: str
    decided_by: str
    changed_at: datetime | None


def phrase_templates(session: Session, *, actor: Actor) -> list[AdminTemplate]:
    """The region's and the unit's regional and local templates (drafts and published first)."""
    unit = require_sysadmin(session, actor=actor)
    rows = session.scalars(
        select(PhraseTemplate).where(
            ((PhraseTemplate.level == PhraseLevel.REGIONAL) & (PhraseTemplate.region_id == unit.region_id))
            | ((PhraseTemplate.level == PhraseLevel.LOCAL) & (PhraseTemplate.unit_id == unit.id))
        )
    ).all()
    names = dict(
        session.execute(
            select(User.id, User.given_name + " " + User.family_name).where(
                User.id.in_({r.decided_by_user_id for r in rows if r.decided_by_user_id})
            )
        ).all()
    )
    order = {PhraseStatus.DRAFT: 0, PhraseStatus.PUBLISHED: 1, PhraseStatus.RETIRED: 2}
    rows = sorted(rows, key=lambda t: (order[t.status], t.purpose, t.level.value, -t.id))
    return [
        AdminTemplate(
            t.id,
            t.level.value,
            t.purpose,
            t.title,
            t.text,
            t.status.value,
            names.get(t.decided_by_user_id, ""),
            t.retired_at or t.published_at or t.created_at,
        )
        for t in rows
    ]


def heads_of_unit(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """Who may decide a local template: the unit's current heads of unit (Verksamhetschef)."""
    unit = require_sysadmin(session, actor=actor)
    now = clock.now()
    users = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.unit_id == unit.id,
            Membership.role == Role.HEAD_OF_UNIT,
            Membership.valid_from <= now,
            (Membership.valid_until.is_(None)) | (Membership.valid_until > now),
        )
        .order_by(User.family_name)
    ).all()
    return [(u.id, u.display_name) for u in users]


def draft_template(
    session: Session,
    *,
    actor: Actor,
    level: str,
    purpose: str,
    title: str,
    text: str,
    decided_by_user_id: int | None,
) -> PhraseTemplate:
    """A regional or local draft written by the sysadmin (a local one names the deciding head of unit)."""
    require_sysadmin(session, actor=actor)
    try:
        parsed = PhraseLevel(level)
    except ValueError:
        parsed = None
    if parsed not in (PhraseLevel.REGIONAL, PhraseLevel.LOCAL):
        raise ValidationFailed("choose regional or local", {"level": ["regional or local"]})
    return phrases.create_template(
        session, actor=actor, level=parsed, purpose=purpose, title=title, text=text,
        decided_by_user_id=decided_by_user_id if parsed is PhraseLevel.LOCAL else None,
    )  # fmt: skip


def publish_template(session: Session, *, actor: Actor, template_id: int) -> PhraseTemplate:
    """Publish a regional or local draft (OG-8.2); it replaces the one published for its purpose."""
    require_sysadmin(session, actor=actor)
    return phrases.publish(session, actor=actor, template_id=template_id)


def retire_template(session: Session, *, actor: Actor, template_id: int) -> PhraseTemplate:
    """Withdraw a regional or local template (OG-8.2)."""
    require_sysadmin(session, actor=actor)
    return phrases.retire(session, actor=actor, template_id=template_id)
