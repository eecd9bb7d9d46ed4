"""The local system administrator's staff work at their own unit: users, role memberships, start and
end of employment (OG-4-a).

Nothing is ever deleted: a removed role gets `valid_until`, an ended employment ends every membership
at the unit (and deactivates the account when no unit is left), so audit events, authored records and
access-log rows keep pointing at the user and still show their name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app import clock
from app.audit.service import Actor, record
from app.errors import Conflict, Forbidden, GuardRefused, NotFound, ValidationFailed
from app.people.models import Membership, SessionEvent, SessionEventKind, Unit, User
from app.people.roles import CLINICAL_ROLES, Role
from app.people.service import current_duty, open_shift

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


@dataclass(frozen=True)
class StaffRole:
    membership_id: int
    role: str
    valid_from: datetime
    valid_until: datetime | None
    current: bool


@dataclass(frozen=True)
class StaffMember:
    """One user of the unit as the administration page lists them."""

    user_id: int
    name: str
    username: str
    title: str
    account_active: bool
    employed: bool  # holds a current role at this unit
    ended_at: datetime | None  # when the last role at this unit ended (employed=False)
    roles: tuple[StaffRole, ...]
    is_me: bool


def require_sysadmin(session: Session, *, actor: Actor) -> Unit:
    """The unit the actor administers: only a Lokal systemadministratör of the acting unit passes."""
    if actor.user_id is None or actor.unit_id is None or Role.LOCAL_SYSADMIN.value not in actor.roles:
        raise Forbidden("administration is for the unit's Lokal systemadministratör", rule="OG-4-a")
    unit = session.get(Unit, actor.unit_id)
    if unit is None:
        raise NotFound(f"no unit {actor.unit_id}")
    return unit


def record_refusal(session: Session, *, actor: Actor | None, path: str, reason: str) -> None:
    """Audit a refused administration attempt (the caller commits it on its own)."""
    if actor is None:
        return
    record(session, "admin:refused", actor=actor, subject=("unit", actor.unit_id), path=path, reason=reason)


def unit_staff(session: Session, *, actor: Actor) -> list[StaffMember]:
    """Every user who has held a role at the sysadmin's unit: employed first, then ended employments."""
    unit = require_sysadmin(session, actor=actor)
    now = clock.now()
    users = session.scalars(
        select(User)
        .where(User.id.in_(select(Membership.user_id).where(Membership.unit_id == unit.id)))
        .options(selectinload(User.memberships))
        .order_by(User.family_name, User.given_name, User.id)
    ).all()
    staff = []
    for user in users:
        roles = tuple(
            StaffRole(m.id, m.role.value, m.valid_from, m.valid_until, _current(m, now))
            for m in sorted(user.memberships, key=lambda m: (m.role.value, m.id))
            if m.unit_id == unit.id
        )
        employed = any(r.current for r in roles)
        ended = None if employed else max((r.valid_until for r in roles if r.valid_until), default=None)
        staff.append(
            StaffMember(
                user_id=user.id,
                name=user.display_name,
                username=user.username,
                title=user.title or "",
                account_active=user.active,
                employed=employed,
                ended_at=ended,
                roles=roles,
                is_me=user.id == actor.user_id,
            )
        )
    return sorted(staff, key=lambda s: not s.employed)


def add_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    given_name: str,
    family_name: str,
    title: str = "",
    email: str = "",
    role: str,
) -> User:
    """Start an employment: a new user with a first role at the sysadmin's unit."""
    unit = require_sysadmin(session, actor=actor)
    username, given_name, family_name = username.strip().lower(), given_name.strip(), family_name.strip()
    errors: dict[str, list[str]] = {}
    if not _USERNAME.match(username):
        errors["username"] = ["2-80 characters: lower-case letters, digits, dot, dash, underscore"]
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = ["taken"]
    if not given_name or len(given_name) > 80:
        errors["given_name"] = ["1-80 characters"]
    if not family_name or len(family_name) > 80:
        errors["family_name"] = ["1-80 characters"]
    if len(title.strip()) > 120:
        errors["title"] = ["at most 120 characters"]
    if email.strip() and ("@" not in email or len(email.strip()) > 200):
        errors["email"] = ["an e-mail address"]
    parsed_role = _role(role, errors)
    if errors:
        raise ValidationFailed("the new user has errors", errors)
    now = clock.now()
    user = User(
        username=username,
        given_name=given_name,
        family_name=family_name,
        title=title.strip() or None,
        email=email.strip() or None,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, unit_id=unit.id, role=parsed_role, valid_from=now))
    session.flush()
    record(
        session, "user:created", actor=actor, subject=("user", user.id), username=username, unit_id=unit.id
    )
    record(
        session,
        "membership:added",
        actor=actor,
        subject=("user", user.id),
        unit_id=unit.id,
        role=parsed_role.value,
    )
    return user


def add_role(session: Session, *, actor: Actor, user_id: int, role: str) -> Membership:
    """Give a user of the unit a role there (again); a returning user's account is reactivated."""
    unit = require_sysadmin(session, actor=actor)
    user = _staff_user(session, unit_id=unit.id, user_id=user_id)
    errors: dict[str, list[str]] = {}
    parsed_role = _role(role, errors)
    if errors:
        raise ValidationFailed("unknown role", errors)
    now = clock.now()
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.unit_id == unit.id, Membership.role == parsed_role
        )
    )
    previous = None
    if membership is not None:
        if _current(membership, now):
            raise Conflict(f"{user.display_name} already holds the role {parsed_role.value} at the unit")
        # One row per user, unit and role (a unique constraint): a returning role reopens it; the
        # audit trail keeps the earlier period.
        previous = [
            membership.valid_from.isoformat(),
            membership.valid_until.isoformat() if membership.valid_until else None,
        ]
        membership.valid_from, membership.valid_until = now, None
    else:
        membership = Membership(user_id=user.id, unit_id=unit.id, role=parsed_role, valid_from=now)
        session.add(membership)
    if not user.active:
        user.active, user.employment_ended_at = True, None
        record(session, "user:reactivated", actor=actor, subject=("user", user.id), unit_id=unit.id)
    session.flush()
    record(
        session,
        "membership:added",
        actor=actor,
        subject=("user", user.id),
        unit_id=unit.id,
        role=parsed_role.value,
        previous_period=previous,
    )
    return membership


def remove_role(session: Session, *, actor: Actor, membership_id: int) -> Membership:
    """End one role membership at the unit now; the row stays (who held what, when)."""
    unit = require_sysadmin(session, actor=actor)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.unit_id != unit.id:
        raise NotFound("no such role membership at your unit")
    now = clock.now()
    if not _current(membership, now):
        raise Conflict(
            f"the role {membership.role.value} had already ended for {membership.user.display_name}"
        )
    if membership.user_id == actor.user_id and membership.role is Role.LOCAL_SYSADMIN:
        raise GuardRefused(
            "you cannot remove your own administrator role; ask another administrator", rule="OG-4-a"
        )
    membership.valid_until = now
    session.flush()
    record(
        session,
        "membership:removed",
        actor=actor,
        subject=("user", membership.user_id),
        unit_id=unit.id,
        role=membership.role.value,
    )
    still_clinician = session.scalar(
        select(Membership.id).where(
            Membership.user_id == membership.user_id,
            Membership.unit_id == unit.id,
            Membership.role.in_(CLINICAL_ROLES),
            Membership.valid_from <= now,
            or_(Membership.valid_until.is_(None), Membership.valid_until > now),
        )
    )
    if still_clinician is None:
        _release_duty(session, actor, unit.id, membership.user_id, now, "no clinical role at the unit")
    return membership


def _release_duty(session: Session, actor: Actor, unit_id: int, user_id: int, now, reason: str) -> None:
    """The duty is held by a clinician on shift (OG-10.1-a): whoever stops being one at the unit lets it
    go at once, audited, so the gap shows instead of a holder who cannot act on cases."""
    duty = current_duty(session, unit_id)
    if duty is not None and duty.user_id == user_id:
        duty.released_at, duty.note = now, f"released: {reason}"
        record(
            session, "duty:released", actor=actor, subject=("unit", unit_id), reason=reason, user_id=user_id
        )


def end_employment(session: Session, *, actor: Actor, user_id: int) -> User:
    """End a user's employment at the unit (OG-4-a): every role ends now, an open shift and a held
    duty end with it, and without roles elsewhere the account can no longer sign in. Nothing is deleted."""
    unit = require_sysadmin(session, actor=actor)
    user = _staff_user(session, unit_id=unit.id, user_id=user_id)
    if user.id == actor.user_id:
        raise GuardRefused("you cannot end your own employment; ask another administrator", rule="OG-4-a")
    now = clock.now()
    current = [m for m in user.memberships if m.unit_id == unit.id and _current(m, now)]
    if not current:
        raise Conflict(f"the employment of {user.display_name} at the unit has already ended")
    for membership in current:
        membership.valid_until = now
    shift = open_shift(session, user.id, unit.id)
    if shift is not None:
        shift.ended_at = now
        session.add(SessionEvent(user_id=user.id, unit_id=unit.id, kind=SessionEventKind.LOGOUT, at=now))
    _release_duty(session, actor, unit.id, user.id, now, "employment ended")
    session.flush()
    elsewhere = session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.valid_from <= now,
            or_(Membership.valid_until.is_(None), Membership.valid_until > now),
        )
    )
    if elsewhere is None:
        user.active, user.employment_ended_at = False, now
    session.flush()
    record(
        session,
        "user:employment_ended",
        actor=actor,
        subject=("user", user.id),
        unit_id=unit.id,
        roles=sorted(m.role.value for m in current),
        account_deactivated=not user.active,
    )
    return user


# --- internals --------------------------------------------------------------------------------


def _current(membership: Membership, now: datetime) -> bool:
    return membership.valid_from <= now and (membership.valid_until is None or membership.valid_until > now)


def _role(value: str, errors: dict[str, list[str]]) -> Role:
    try:
        return Role(value)
    except ValueError:
        errors["role"] = ["choose one of the roles"]
        return Role.NURSE  # unused: the caller raises on errors


def _staff_user(session: Session, *, unit_id: int, user_id: int) -> User:
    """A user who has (or had) a role at the unit; others are not this sysadmin's to manage."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if not any(m.unit_id == unit_id for m in user.memberships):
        raise Forbidden("that user is not staff of your unit", rule="OG-4-a")
    return user
