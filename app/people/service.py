"""Presence, shifts and the overall-responsible duty; one query answers "present(user, unit, at)".

Workers are stateless, so presence lives in the database: a user is present at a unit at a moment
when a shift there is open, their latest session event there is a login, activity or idle (idle still
counts: the person is at work; logging out or ending the shift does not), and they showed a sign of
life there within the session idle limit (SESSION_IDLE_MINUTES): a session event, or a read of patient
data in the access log (every page and API read that shows patients writes one). Someone who just
closes the browser records nothing, so without that expiry they would stay "present" for days
(OG-6.1-j, OG-8.7, HA-suicide-g); `record_silent_absences` writes the logout the session log lacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.models import AccessLog
from app.audit.service import Actor, record
from app.errors import Conflict, Forbidden, GuardRefused, NotFound
from app.people.models import (
    Membership,
    OverallResponsibleDuty,
    SessionEvent,
    SessionEventKind,
    Shift,
    Unit,
    User,
)
from app.people.roles import CLINICAL_ROLES, DUTY, Role

PRESENT_KINDS = (SessionEventKind.LOGIN, SessionEventKind.ACTIVE, SessionEventKind.IDLE)
DEFAULT_IDLE_MINUTES = 30  # app.config's SESSION_IDLE_MINUTES default, for use outside an app context


def presence_expiry() -> timedelta:
    """How long a sign of life keeps someone present: the page session's idle limit. A page session
    without a request for that long has ended, so its user is no longer at the screen."""
    from flask import current_app, has_app_context

    minutes = current_app.config.get("SESSION_IDLE_MINUTES") if has_app_context() else None
    return timedelta(minutes=minutes or DEFAULT_IDLE_MINUTES)


def roles_at(session: Session, user_id: int, unit_id: int, at: datetime | None = None) -> frozenset[Role]:
    """The roles a user's memberships grant at a unit at a moment."""
    at = at or clock.now()
    rows = session.scalars(
        select(Membership.role).where(
            Membership.user_id == user_id,
            Membership.unit_id == unit_id,
            Membership.valid_from <= at,
            or_(Membership.valid_until.is_(None), Membership.valid_until > at),
        )
    )
    return frozenset(rows)


def units_of(session: Session, user_id: int, at: datetime | None = None) -> list[Unit]:
    """Units where the user holds any role now (the choice of acting unit at login)."""
    at = at or clock.now()
    unit_ids = select(Membership.unit_id).where(
        Membership.user_id == user_id,
        Membership.valid_from <= at,
        or_(Membership.valid_until.is_(None), Membership.valid_until > at),
    )
    return list(session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name)))


def _latest_session_event(column, user_id_col, unit_id, at):
    return (
        select(column)
        .where(SessionEvent.user_id == user_id_col, SessionEvent.unit_id == unit_id, SessionEvent.at <= at)
        .order_by(SessionEvent.at.desc(), SessionEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _present_clause(user_id_col, unit_id, at, since):
    """On an open shift, signed in (latest session event login/active/idle), and a sign of life in (since, at]."""
    open_shift = exists().where(
        Shift.user_id == user_id_col,
        Shift.unit_id == unit_id,
        Shift.started_at <= at,
        or_(Shift.ended_at.is_(None), Shift.ended_at > at),
    )
    read_recently = exists().where(  # by the (user_id, at) index of the access log
        AccessLog.user_id == user_id_col,
        AccessLog.at > since,
        AccessLog.at <= at,
        AccessLog.acting_unit_id == unit_id,
    )
    return and_(
        open_shift,
        _latest_session_event(SessionEvent.kind, user_id_col, unit_id, at).in_(
            [k.value for k in PRESENT_KINDS]
        ),
        or_(_latest_session_event(SessionEvent.at, user_id_col, unit_id, at) > since, read_recently),
    )


def present_clause(user_id_col, unit_id: int, at: datetime | None = None):
    """The presence test as a SQL condition on a user-id column (correlated into the caller's query)."""
    at = at or clock.now()
    return _present_clause(user_id_col, unit_id, at, at - presence_expiry())


def present(session: Session, user_id: int, unit_id: int, at: datetime | None = None) -> bool:
    """Is the user on an open shift and signed in at the unit at `at` (default now)?"""
    at = at or clock.now()
    clause = _present_clause(User.id, unit_id, at, at - presence_expiry())
    return bool(session.scalar(select(clause).where(User.id == user_id)))


# Built once (every new case asks who is present to notify them).
_PRESENT_USERS = (
    select(User)
    .where(_present_clause(User.id, bindparam("unit_id"), bindparam("at"), bindparam("since")))
    .order_by(User.family_name, User.given_name, User.id)
)


# The same, only those who hold one of the given roles at the unit at that moment.
_PRESENT_ROLE_HOLDERS = _PRESENT_USERS.where(
    exists().where(
        Membership.user_id == User.id,
        Membership.unit_id == bindparam("unit_id"),
        Membership.role.in_(bindparam("roles", expanding=True)),
        Membership.valid_from <= bindparam("at"),
        or_(Membership.valid_until.is_(None), Membership.valid_until > bindparam("at")),
    )
)


def present_users(
    session: Session, unit_id: int, at: datetime | None = None, *, roles: Iterable[Role] | None = None
) -> list[User]:
    """Everyone present at the unit at `at`; with `roles`, only those holding one of them there then."""
    at = at or clock.now()
    params = {"unit_id": unit_id, "at": at, "since": at - presence_expiry()}
    if roles is None:
        return list(session.scalars(_PRESENT_USERS, params))
    return list(session.scalars(_PRESENT_ROLE_HOLDERS, {**params, "roles": list(roles)}))


def open_shift(session: Session, user_id: int, unit_id: int) -> Shift | None:
    return session.scalar(
        select(Shift).where(Shift.user_id == user_id, Shift.unit_id == unit_id, Shift.ended_at.is_(None))
    )


def sign_in(session: Session, *, user: User, unit_id: int) -> Actor:
    """Record a login at the acting unit; start a shift there when none is open."""
    if not user.active:
        raise Forbidden("this account is no longer active")
    roles = roles_at(session, user.id, unit_id)
    if not roles:
        raise Forbidden("you have no role at that unit")
    now = clock.now()
    actor = _actor(session, user, unit_id, roles)  # read before the new rows: nothing to flush for it
    if open_shift(session, user.id, unit_id) is None:
        session.add(Shift(user_id=user.id, unit_id=unit_id, started_at=now))
    session.add(SessionEvent(user_id=user.id, unit_id=unit_id, kind=SessionEventKind.LOGIN, at=now))
    record(session, "session:login", actor=actor, subject=("user", user.id))
    return actor


def sign_out(session: Session, *, actor: Actor) -> None:
    """Record a logout; the shift stays open (a lunch break is not the end of a shift)."""
    session.add(
        SessionEvent(
            user_id=actor.user_id, unit_id=actor.unit_id, kind=SessionEventKind.LOGOUT, at=clock.now()
        )
    )
    record(session, "session:logout", actor=actor, subject=("user", actor.user_id))


def mark_idle(session: Session, *, actor: Actor, idle: bool) -> None:
    kind = SessionEventKind.IDLE if idle else SessionEventKind.ACTIVE
    session.add(SessionEvent(user_id=actor.user_id, unit_id=actor.unit_id, kind=kind, at=clock.now()))


def end_shift(session: Session, *, actor: Actor) -> Shift:
    """ "Avsluta skift": end the open shift and log out; the duty, if held, is released (a gap shows)."""
    shift = open_shift(session, actor.user_id, actor.unit_id)
    if shift is None:
        raise Conflict("you have no open shift at this unit")
    now = clock.now()
    shift.ended_at = now
    duty = current_duty(session, actor.unit_id)
    if duty is not None and duty.user_id == actor.user_id:
        duty.released_at = now
        duty.note = "released at end of shift"
        record(session, "duty:released", actor=actor, subject=("unit", actor.unit_id), reason="end of shift")
    session.add(
        SessionEvent(user_id=actor.user_id, unit_id=actor.unit_id, kind=SessionEventKind.LOGOUT, at=now)
    )
    record(session, "shift:ended", actor=actor, subject=("user", actor.user_id))
    return shift


def actor_for(session: Session, user: User, unit_id: int) -> Actor:
    """The Actor a signed-in user acts as at a unit, with roles and the duty if held."""
    return _actor(session, user, unit_id, roles_at(session, user.id, unit_id))


def _actor(session: Session, user: User, unit_id: int, held: frozenset[Role]) -> Actor:
    roles = {role.value for role in held}
    duty = current_duty(session, unit_id)
    if duty is not None and duty.user_id == user.id:
        roles.add(DUTY)
    return Actor(label=user.display_name, user_id=user.id, unit_id=unit_id, roles=frozenset(roles))


# --- the overall-responsible duty (OG-10.1-a) ------------------------------------------------


@dataclass(frozen=True)
class DutyHolder:
    user_id: int
    name: str
    since: datetime


def current_duty(session: Session, unit_id: int) -> OverallResponsibleDuty | None:
    return session.scalar(
        select(OverallResponsibleDuty).where(
            OverallResponsibleDuty.unit_id == unit_id, OverallResponsibleDuty.released_at.is_(None)
        )
    )


def duty_holder(session: Session, unit_id: int, at: datetime | None = None) -> DutyHolder | None:
    """Who held the overall-responsible duty at the unit at `at` (default now); None is a gap."""
    at = at or clock.now()
    duty = session.scalar(
        select(OverallResponsibleDuty)
        .where(
            OverallResponsibleDuty.unit_id == unit_id,
            OverallResponsibleDuty.taken_at <= at,
            or_(OverallResponsibleDuty.released_at.is_(None), OverallResponsibleDuty.released_at > at),
        )
        .order_by(OverallResponsibleDuty.taken_at.desc())
        .limit(1)
    )
    if duty is None:
        return None
    return DutyHolder(duty.user_id, duty.user.display_name, duty.taken_at)


DUTY_JUST_TAKEN = _l(
    "Någon annan tog just det övergripande ansvaret. Se vem som har det nu och be hen lämna över det om det behövs."
)


def _duty_for_change(
    session: Session, unit_id: int, *, seen: OverallResponsibleDuty | None
) -> OverallResponsibleDuty | None:
    """The unit's open duty, read again once the unit is locked; a Conflict if it changed since `seen`.

    Two nurses taking (or a holder passing) the duty at one moment: the unit's row lock makes the
    second wait for the first, and the second then finds a different holder than it acted on."""
    session.execute(select(Unit.id).where(Unit.id == unit_id).with_for_update())
    duty = session.scalar(
        select(OverallResponsibleDuty)
        .where(OverallResponsibleDuty.unit_id == unit_id, OverallResponsibleDuty.released_at.is_(None))
        .execution_options(populate_existing=True)
    )
    if (duty.id if duty else None) != (seen.id if seen else None):
        raise Conflict(DUTY_JUST_TAKEN, unit_id=unit_id)
    return duty


def _require_can_hold_duty(session: Session, user_id: int, unit_id: int) -> None:
    if not roles_at(session, user_id, unit_id) & CLINICAL_ROLES:
        raise GuardRefused(
            "the overall-responsible duty is held by a clinician of the unit", rule="OG-10.1-a"
        )
    if not present(session, user_id, unit_id):
        raise GuardRefused(
            "the overall-responsible duty is held by someone on shift at the unit", rule="OG-10.1-a"
        )


def take_duty(session: Session, *, actor: Actor) -> OverallResponsibleDuty:
    """Take the duty at the acting unit; a present holder must pass it on instead."""
    seen = current_duty(session, actor.unit_id)  # what the user acts on, read first (as pass_duty does)
    _require_can_hold_duty(session, actor.user_id, actor.unit_id)
    duty = _duty_for_change(session, actor.unit_id, seen=seen)
    now = clock.now()
    if duty is not None:
        if duty.user_id == actor.user_id:
            return duty
        if present(session, duty.user_id, actor.unit_id):
            raise Conflict(
                f"{duty.user.display_name} holds the duty and is present; ask them to pass it to you"
            )
        duty.released_at = now
        duty.passed_to_user_id = actor.user_id
        duty.note = "taken over: the holder was not present"
        session.flush()
    new = OverallResponsibleDuty(unit_id=actor.unit_id, user_id=actor.user_id, taken_at=now)
    session.add(new)
    session.flush()
    record(
        session,
        "duty:taken",
        actor=actor,
        subject=("unit", actor.unit_id),
        previous_holder=duty.user_id if duty else None,
    )
    return new


def pass_duty(session: Session, *, actor: Actor, to_user_id: int) -> OverallResponsibleDuty:
    """Pass the duty at the acting unit to a present clinician."""
    seen = current_duty(session, actor.unit_id)
    if seen is None or seen.user_id != actor.user_id:
        raise Forbidden("only the holder can pass the overall-responsible duty on")
    if session.get(User, to_user_id) is None:
        raise NotFound("no such user")
    _require_can_hold_duty(session, to_user_id, actor.unit_id)
    duty = _duty_for_change(session, actor.unit_id, seen=seen)
    now = clock.now()
    duty.released_at = now
    duty.passed_to_user_id = to_user_id
    session.flush()
    new = OverallResponsibleDuty(unit_id=actor.unit_id, user_id=to_user_id, taken_at=now)
    session.add(new)
    session.flush()
    record(session, "duty:passed", actor=actor, subject=("unit", actor.unit_id), to_user_id=to_user_id)
    return new
