"""Scheduling a unit's staff (OG-5): add, change and remove scheduled shifts, copy a week, read a week.

Who may schedule is the unit's local routine ("Varje verksamhet beslutar om lokal rutin för vem som
lägger schema", OG-5): the unit setting `schedulers` names the roles, by default the head of unit. It
is checked here against the scheduler's memberships at the unit and the shift's own unit, never by URL.

A shift is entered as a Stockholm local date and wall-clock times (`ShiftEntry`) and stored as UTC
moments; across a daylight-saving change its length is the real one (22:00–07:00 is 10 hours on the
last Sunday of October). A wall time the clock skips (02:00–03:00 on the last Sunday of March) is
refused; in the repeated hour of October the first occurrence is meant (app.calendar.zone).

Rules, each refusal with a reason the scheduler can act on: the person holds the shift's role at the
unit for the whole shift; the shift ends after it starts, lasts at most 24 hours and has not already
ended; the same person has no overlapping shift at the unit. A shift that has ended is history (the
record behind HA-chat-staff warnings and OG-5's "who was on shift") and is not changed.

Concurrency: a change or removal names the version the page showed; another change since is a
Conflict, never an overwrite (and `version_id_col` catches the race at flush). Changes to one
person's shifts lock the person's row, so two schedulers cannot both add overlapping shifts. Every
change is audited in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.calendar.zone import STOCKHOLM, local_date, wall_to_utc
from app.errors import Conflict, Forbidden, Message, NotFound, ValidationFailed
from app.people.labels import ROLE_LABELS
from app.people.models import Membership, ScheduledShift, Unit, User
from app.people.roles import Role
from app.people.service import roles_at
from app.people.staffing import Gap, chat_staffing_gaps
from app.people.unit_settings import unit_setting

SCHEDULERS = "schedulers"  # the unit setting: roles that may schedule (OG-5)
MAX_SHIFT = timedelta(hours=24)
WEEK = timedelta(days=7)

ACTION_ADDED = "scheduled_shift:added"
ACTION_CHANGED = "scheduled_shift:changed"
ACTION_REMOVED = "scheduled_shift:removed"
ACTION_WEEK_COPIED = "schedule:week_copied"
ACTION_REFUSED = "schedule:refused"

CHAT_FUNCTIONS = frozenset({"chat_triage", "chat_no_triage"})


@dataclass(frozen=True)
class ShiftEntry:
    """What a scheduler enters: a person, a role, a Stockholm local date and wall-clock times."""

    user_id: int
    role: str
    day: date
    starts: time
    ends: time
    ends_next_day: bool = False  # a night shift: `ends` is on the day after `day`
    chat_responsible: bool = False  # the named person for the chat inflow (HA-chat-staff)


# --- permissions (OG-5) ------------------------------------------------------------------------


def scheduler_roles(unit: Unit) -> frozenset[str]:
    """OG-5: the roles that may schedule at this unit (the unit's routine, else the head of unit)."""
    return frozenset(unit_setting(unit, SCHEDULERS))


def may_schedule(session: Session, *, actor: Actor, unit: Unit) -> bool:
    """True when the actor, acting for this unit, holds one of the unit's scheduler roles now."""
    if actor.user_id is None or actor.unit_id != unit.id:
        return False
    held = {role.value for role in roles_at(session, actor.user_id, unit.id, clock.now())}
    return bool(held & scheduler_roles(unit))


def _acting_unit(session: Session, actor: Actor) -> Unit:
    if actor.user_id is None or actor.unit_id is None:
        raise Forbidden(_l("Schemat är till för enhetens personal."), rule="OG-5")
    unit = session.get(Unit, actor.unit_id)
    if unit is None:
        raise NotFound(f"no unit {actor.unit_id}")
    return unit


def _require_reader(session: Session, actor: Actor) -> Unit:
    unit = _acting_unit(session, actor)
    if not roles_at(session, actor.user_id, unit.id, clock.now()):
        raise Forbidden(_l("Schemat är till för enhetens personal."), rule="OG-5")
    return unit


def _require_scheduler(session: Session, actor: Actor) -> Unit:
    unit = _acting_unit(session, actor)
    if not may_schedule(session, actor=actor, unit=unit):
        raise Forbidden(
            _l("Enhetens rutin säger vem som lägger schema, och du har inte någon av de rollerna."),
            rule="OG-5",
            allowed=sorted(scheduler_roles(unit)),
        )
    return unit


def record_refusal(session: Session, *, actor: Actor | None, path: str, reason: Message) -> None:
    """Audit a refused scheduling attempt (the caller commits it on its own)."""
    if actor is None:
        return
    record(session, ACTION_REFUSED, actor=actor, subject=("unit", actor.unit_id), path=path, reason=reason)


# --- parsing what was typed --------------------------------------------------------------------


def entry_from_form(form: Mapping[str, Any]) -> ShiftEntry:
    """A ShiftEntry from a submitted form; what cannot be read is refused beside its field."""
    errors: dict[str, list[Any]] = {}
    user_id = _int(form.get("user_id"))
    if user_id is None:
        errors["user_id"] = [_l("Välj en person.")]
    role = (form.get("role") or "").strip()
    if role not in {r.value for r in Role}:
        errors["role"] = [_l("Välj en roll.")]
    day = _date(form.get("day"))
    if day is None:
        errors["day"] = [_l("Skriv datumet som ÅÅÅÅ-MM-DD.")]
    starts, ends = _time(form.get("starts")), _time(form.get("ends"))
    if starts is None:
        errors["starts"] = [_l("Skriv starttiden som TT:MM, till exempel 08:00.")]
    if ends is None:
        errors["ends"] = [_l("Skriv sluttiden som TT:MM, till exempel 17:00.")]
    if errors:
        raise ValidationFailed(_l("Rätta fälten som är markerade."), errors)
    return ShiftEntry(
        user_id=user_id,
        role=role,
        day=day,
        starts=starts,
        ends=ends,
        ends_next_day=bool(form.get("ends_next_day")),
        chat_responsible=bool(form.get("chat_responsible")),
    )


def _int(raw: Any) -> int | None:
    try:
        value = int(str(raw or "").strip())
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


def _date(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        return None


def _time(raw: Any) -> time | None:
    text = str(raw or "").strip().replace(".", ":")
    if len(text) == 4 and text[1] == ":":
        text = "0" + text  # 8:00
    try:
        value = time.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(second=0, microsecond=0) if len(text) == 5 else None


# --- the rules ---------------------------------------------------------------------------------


def _refuse(field: str, message, **details) -> ValidationFailed:
    """A refusal naming the field to correct (the page shows it beside the field)."""
    return ValidationFailed(_l("Rätta fälten som är markerade."), {field: [message]}, **details)


def _moment(day: date, wall: time, field: str) -> datetime:
    """The UTC moment of a Stockholm wall time; a time the clock skips (spring DST change) is refused."""
    moment = wall_to_utc(day, wall)
    if moment.astimezone(STOCKHOLM).time() != wall:
        raise _refuse(
            field,
            _l(
                "Klockan %(time)s finns inte den %(day)s: klockan ställs fram en timme till sommartid. Välj en annan tid.",
                time=wall.strftime("%H:%M"),
                day=day.isoformat(),
            ),
        )
    return moment


def _span(entry: ShiftEntry) -> tuple[datetime, datetime]:
    starts_at = _moment(entry.day, entry.starts, "starts")
    ends_at = _moment(entry.day + timedelta(days=1 if entry.ends_next_day else 0), entry.ends, "ends")
    if ends_at <= starts_at:
        raise _refuse(
            "ends",
            _l(
                "Passet ska sluta efter att det börjar. Slutar det efter midnatt: kryssa i att det slutar nästa dag."
            ),
        )
    if ends_at - starts_at > MAX_SHIFT:
        raise _refuse("ends", _l("Ett pass får vara högst 24 timmar."))
    if ends_at <= clock.now():
        raise _refuse("ends", _l("Passet har redan slutat. Schemat gäller pass som pågår eller kommer."))
    return starts_at, ends_at


def _locked_person(session: Session, user_id: int) -> User | None:
    # The person's row lock (PostgreSQL; SQLite begins IMMEDIATE) makes "no overlap" check-then-write
    # one step: two schedulers adding overlapping shifts for one person cannot both pass the check.
    return session.execute(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _check(
    session: Session,
    *,
    unit: Unit,
    entry: ShiftEntry,
    starts_at: datetime,
    ends_at: datetime,
    ignore_shift_id: int | None = None,
) -> User:
    """The person holds the role at the unit for the whole shift and has no overlapping shift there."""
    person = _locked_person(session, entry.user_id)
    if person is None or not person.active:
        raise _refuse("user_id", _l("Personen finns inte eller har inget aktivt konto."))
    # One membership per person, unit and role (a unique key): its period must cover the shift.
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == person.id, Membership.unit_id == unit.id, Membership.role == entry.role
        )
    )
    role = Role(entry.role)
    if membership is None:
        raise _refuse(
            "role",
            # A name is data, never inside a lazy text (Jinja takes one as safe HTML): read now, plain text.
            str(
                _l(
                    "%(name)s har inte rollen %(role)s på enheten.",
                    name=person.display_name,
                    role=ROLE_LABELS[role.value],  # in the reader's language
                )
            ),
        )
    if membership.valid_from > starts_at or (
        membership.valid_until is not None and membership.valid_until < ends_at
    ):
        raise _refuse(
            "role",
            str(
                _l(
                    "%(name)s har rollen %(role)s på enheten %(period)s, inte under hela passet.",
                    name=person.display_name,
                    role=ROLE_LABELS[role.value],  # in the reader's language
                    period=_validity(membership),
                )
            ),
        )
    overlapping = session.scalars(
        select(ScheduledShift)
        .where(
            ScheduledShift.user_id == person.id,
            ScheduledShift.unit_id == unit.id,
            ScheduledShift.starts_at < ends_at,
            ScheduledShift.ends_at > starts_at,
            *([ScheduledShift.id != ignore_shift_id] if ignore_shift_id is not None else []),
        )
        .order_by(ScheduledShift.starts_at)
    ).first()
    if overlapping is not None:
        raise _refuse(
            "starts",
            str(
                _l(
                    "%(name)s har redan ett pass som överlappar: %(shift)s.",
                    name=person.display_name,
                    shift=describe(overlapping),
                )
            ),
            overlapping_shift_id=overlapping.id,
        )
    return person


def _validity(membership: Membership) -> str:
    start = local_date(membership.valid_from).isoformat()
    if membership.valid_until is None:
        return str(_l("från %(start)s", start=start))
    end = membership.valid_until.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    return str(_l("från %(start)s till %(end)s", start=start, end=end))


def describe(shift: ScheduledShift) -> str:
    """A shift as a scheduler reads it: "2026-11-23 08:00–17:00" in Stockholm time."""
    starts, ends = shift.starts_at.astimezone(STOCKHOLM), shift.ends_at.astimezone(STOCKHOLM)
    end = ends.strftime("%H:%M") if ends.date() == starts.date() else ends.strftime("%Y-%m-%d %H:%M")
    return f"{starts:%Y-%m-%d %H:%M}–{end}"


def _facts(shift: ScheduledShift) -> dict[str, Any]:
    return {
        "user_id": shift.user_id,
        "role": Role(shift.role).value,
        "starts_at": shift.starts_at.astimezone(UTC).isoformat(),
        "ends_at": shift.ends_at.astimezone(UTC).isoformat(),
        "chat_responsible": bool(shift.chat_responsible),
    }


def _shift_of_unit(
    session: Session, unit: Unit, shift_id: int, expected_version: int | None
) -> ScheduledShift:
    shift = session.execute(
        select(ScheduledShift)
        .where(ScheduledShift.id == shift_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if shift is None:
        raise Conflict(_l("Passet finns inte längre: någon annan har tagit bort det."), gone=True)
    if shift.unit_id != unit.id:
        raise Forbidden(_l("Passet hör till en annan enhets schema."), rule="OG-5")
    if expected_version is None or shift.version != expected_version:
        raise Conflict(
            _l("Passet ändrades av någon annan medan du redigerade. Inget skrevs över."),
            current_version=shift.version,
        )
    if shift.ends_at <= clock.now():
        raise ValidationFailed(
            _l("Passet har redan slutat och ändras inte."),
            {"ends": [_l("Passet har redan slutat. Schemat gäller pass som pågår eller kommer.")]},
        )
    return shift


# --- changes -----------------------------------------------------------------------------------


def add_shift(session: Session, *, actor: Actor, entry: ShiftEntry) -> ScheduledShift:
    """OG-5: schedule a person at the scheduler's unit, in a role they hold there for the whole shift."""
    unit = _require_scheduler(session, actor)
    starts_at, ends_at = _span(entry)
    _check(session, unit=unit, entry=entry, starts_at=starts_at, ends_at=ends_at)
    shift = ScheduledShift(
        user_id=entry.user_id,
        unit_id=unit.id,
        role=Role(entry.role),
        starts_at=starts_at,
        ends_at=ends_at,
        chat_responsible=entry.chat_responsible,
    )
    session.add(shift)
    session.flush()
    record(session, ACTION_ADDED, actor=actor, subject=("scheduled_shift", shift.id), **_facts(shift))
    return shift


def change_shift(
    session: Session, *, actor: Actor, shift_id: int, expected_version: int | None, entry: ShiftEntry
) -> ScheduledShift:
    """OG-5: change a shift that has not ended; a change made meanwhile by someone else is a Conflict."""
    unit = _require_scheduler(session, actor)
    shift = _shift_of_unit(session, unit, shift_id, expected_version)
    starts_at, ends_at = _span(entry)
    _check(session, unit=unit, entry=entry, starts_at=starts_at, ends_at=ends_at, ignore_shift_id=shift.id)
    old = _facts(shift)
    shift.user_id, shift.role = entry.user_id, Role(entry.role)
    shift.starts_at, shift.ends_at = starts_at, ends_at
    shift.chat_responsible = entry.chat_responsible
    new = _facts(shift)
    if new == old:
        return shift
    session.flush()  # the version check: a concurrent change fails here (StaleDataError), not later
    changes = {key: {"old": old[key], "new": new[key]} for key in new if old[key] != new[key]}
    record(
        session, ACTION_CHANGED, actor=actor, subject=("scheduled_shift", shift.id), changes=changes, **new
    )
    return shift


def remove_shift(session: Session, *, actor: Actor, shift_id: int, expected_version: int | None) -> None:
    """OG-5: remove a shift that has not ended, as the page showed it (else a Conflict)."""
    unit = _require_scheduler(session, actor)
    shift = _shift_of_unit(session, unit, shift_id, expected_version)
    facts = _facts(shift)
    session.delete(shift)
    session.flush()
    record(session, ACTION_REMOVED, actor=actor, subject=("scheduled_shift", shift_id), **facts)


@dataclass(frozen=True)
class Skipped:
    shift: str  # the source shift as described
    name: str
    reason: str


@dataclass(frozen=True)
class CopyResult:
    copied: int
    skipped: list[Skipped]


def copy_week(session: Session, *, actor: Actor, week_start: date) -> CopyResult:
    """OG-5: copy the week's shifts to the next week at the same local times (DST-safe).

    Each copy passes the same rules as a new shift; one that does not (already there, overlapping,
    role ended, already over) is skipped with its reason, so copying again changes nothing."""
    unit = _require_scheduler(session, actor)
    monday = week_monday(week_start)
    source = session.execute(
        select(ScheduledShift, User)
        .join(User, User.id == ScheduledShift.user_id)
        .where(
            ScheduledShift.unit_id == unit.id,
            ScheduledShift.starts_at >= wall_to_utc(monday, time(0)),
            ScheduledShift.starts_at < wall_to_utc(monday + WEEK, time(0)),
        )
        .order_by(ScheduledShift.starts_at, ScheduledShift.id)
    ).all()
    copied, skipped = [], []
    for shift, person in source:
        starts, ends = shift.starts_at.astimezone(STOCKHOLM), shift.ends_at.astimezone(STOCKHOLM)
        entry = ShiftEntry(
            user_id=shift.user_id,
            role=Role(shift.role).value,
            day=starts.date() + WEEK,
            starts=starts.time(),
            ends=ends.time(),
            ends_next_day=ends.date() > starts.date(),
            chat_responsible=shift.chat_responsible,
        )
        try:  # every check runs before anything is written: a refused copy leaves nothing behind
            copied.append(add_shift(session, actor=actor, entry=entry))
        except ValidationFailed as refused:
            reasons = [str(m) for messages in refused.field_errors.values() for m in messages]
            skipped.append(
                Skipped(describe(shift), person.display_name, " ".join(reasons) or refused.message)
            )
    record(
        session,
        ACTION_WEEK_COPIED,
        actor=actor,
        subject=("unit", unit.id),
        week=monday.isoformat(),
        copied=[s.id for s in copied],
        skipped=len(skipped),
    )
    return CopyResult(len(copied), skipped)


# --- reading a week ----------------------------------------------------------------------------


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class ShiftCell:
    shift_id: int
    version: int
    role: str
    starts: str  # "08:00"
    ends: str  # "17:00", or "07:00 (+1)" for a night shift
    chat_responsible: bool
    editable: bool  # not ended yet (and the reader may schedule)
    label: str  # "2026-11-23 08:00–17:00"


@dataclass(frozen=True)
class PersonRow:
    user_id: int
    name: str
    roles: tuple[str, ...]  # the roles they hold at the unit during the week
    days: tuple[tuple[ShiftCell, ...], ...]  # seven days, Monday first


@dataclass(frozen=True)
class DayGaps:
    day: date
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class WeekSchedule:
    unit_id: int
    unit_name: str
    monday: date
    days: tuple[date, ...]
    people: tuple[PersonRow, ...]
    takes_chats: bool
    gaps: tuple[DayGaps, ...]  # HA-chat-staff: per day, opening hours without a named chat responsible
    gaps_warned: bool  # the region warns the head of unit and the duty about such gaps (HA-chat-staff)
    can_schedule: bool
    schedulable: tuple[tuple[int, str, tuple[str, ...]], ...]  # (user id, name, roles) for the forms


def week_schedule(session: Session, *, actor: Actor, week_start: date) -> WeekSchedule:
    """OG-5, HA-chat-staff: the unit's week (days × people, role, chat responsible) and its chat gaps."""
    unit = _require_reader(session, actor)
    monday = week_monday(week_start)
    days = tuple(monday + timedelta(days=i) for i in range(7))
    week_from, week_until = wall_to_utc(monday, time(0)), wall_to_utc(monday + WEEK, time(0))
    now = clock.now()
    can_schedule = may_schedule(session, actor=actor, unit=unit)

    memberships = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.unit_id == unit.id,
            Membership.valid_from < week_until,
            or_(Membership.valid_until.is_(None), Membership.valid_until > week_from),
        )
    ).all()
    shifts = session.execute(
        select(ScheduledShift, User)
        .join(User, User.id == ScheduledShift.user_id)
        .where(
            ScheduledShift.unit_id == unit.id,
            ScheduledShift.starts_at >= week_from,
            ScheduledShift.starts_at < week_until,
        )
        .order_by(ScheduledShift.starts_at, ScheduledShift.id)
    ).all()
    people: dict[int, User] = {user.id: user for _m, user in memberships}
    people.update({user.id: user for _s, user in shifts})
    roles: dict[int, set[str]] = {}
    for membership, user in memberships:
        roles.setdefault(user.id, set()).add(Role(membership.role).value)
    cells: dict[int, list[list[ShiftCell]]] = {uid: [[] for _ in days] for uid in people}
    for shift, user in shifts:
        starts, ends = shift.starts_at.astimezone(STOCKHOLM), shift.ends_at.astimezone(STOCKHOLM)
        extra = (ends.date() - starts.date()).days
        cells[user.id][(starts.date() - monday).days].append(
            ShiftCell(
                shift_id=shift.id,
                version=shift.version,
                role=Role(shift.role).value,
                starts=f"{starts:%H:%M}",
                ends=f"{ends:%H:%M}" + (f" (+{extra})" if extra else ""),
                chat_responsible=bool(shift.chat_responsible),
                editable=can_schedule and shift.ends_at > now,
                label=describe(shift),
            )
        )
    ordered = sorted(people.values(), key=lambda u: (u.family_name, u.given_name, u.id))
    rows = tuple(
        PersonRow(
            user_id=user.id,
            name=user.display_name,
            roles=tuple(sorted(roles.get(user.id, ()))),
            days=tuple(tuple(day) for day in cells[user.id]),
        )
        for user in ordered
    )
    takes_chats = bool(CHAT_FUNCTIONS & set(unit.functions or ()))
    gaps = (
        tuple(DayGaps(day, tuple(chat_staffing_gaps(session, unit_id=unit.id, day=day))) for day in days)
        if takes_chats
        else ()
    )
    schedulable = tuple(
        (row.user_id, row.name, row.roles)
        for row, user in zip(rows, ordered, strict=True)
        if row.roles and user.active
    )
    return WeekSchedule(
        unit_id=unit.id,
        unit_name=unit.name,
        monday=monday,
        days=days,
        people=rows,
        takes_chats=takes_chats,
        gaps=gaps,
        gaps_warned=bool((unit.region.policies or {}).get("warn_chat_staffing_gaps")),
        can_schedule=can_schedule,
        schedulable=schedulable,
    )


@dataclass(frozen=True)
class EditableShift:
    shift_id: int
    version: int
    user_id: int
    name: str
    role: str
    day: date
    starts: str
    ends: str
    ends_next_day: bool
    chat_responsible: bool
    label: str


def shift_for_edit(session: Session, *, actor: Actor, shift_id: int) -> EditableShift:
    """A shift of the scheduler's unit as the change form shows it (Stockholm local date and times)."""
    unit = _require_scheduler(session, actor)
    shift = session.get(ScheduledShift, shift_id)
    if shift is None:
        raise NotFound(_l("Passet finns inte längre."))
    if shift.unit_id != unit.id:
        raise Forbidden(_l("Passet hör till en annan enhets schema."), rule="OG-5")
    person = session.get(User, shift.user_id)
    starts, ends = shift.starts_at.astimezone(STOCKHOLM), shift.ends_at.astimezone(STOCKHOLM)
    return EditableShift(
        shift_id=shift.id,
        version=shift.version,
        user_id=shift.user_id,
        name=person.display_name,
        role=Role(shift.role).value,
        day=starts.date(),
        starts=f"{starts:%H:%M}",
        ends=f"{ends:%H:%M}",
        ends_next_day=ends.date() > starts.date(),
        chat_responsible=bool(shift.chat_responsible),
        label=describe(shift),
    )
