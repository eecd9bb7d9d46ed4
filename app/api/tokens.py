"""Bearer tokens: issue, authenticate, list and revoke (the service behind the API, the CLI and
`current_actor`). Tokens are 256-bit random strings; only their SHA-256 is stored. A slow password
hash buys nothing for a secret that cannot be guessed, and a fast one keeps every request cheap."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import clock
from app.api.models import ApiToken, TokenKind
from app.audit.service import Actor, record
from app.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from app.patients.models import Patient
from app.people.models import Membership, Unit, User
from app.people.roles import Role
from app.people.service import actor_for, roles_at

PREFIX = "vf_"
DEFAULT_DAYS = 30
MAX_DAYS = 365
# Marking each use would make every API read a write; once a minute says "last used" well enough.
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenRejected(Unauthenticated):
    """The bearer token is unknown, revoked or expired (RFC 6750 `invalid_token`)."""

    code = "invalid_token"

    def __init__(self, message: str, *, reason: str):
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    """What a valid token stands for, as plain values (read in one transaction, used in another)."""

    token_id: int
    kind: TokenKind
    user_id: int | None
    unit_id: int | None
    roles: frozenset[str] | None
    patient_id: int | None


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(
    session: Session,
    *,
    actor: Actor,
    kind: TokenKind,
    name: str,
    user_id: int | None = None,
    unit_id: int | None = None,
    roles: list[str] | None = None,
    patient_id: int | None = None,
    days: int = DEFAULT_DAYS,
    not_after: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the token itself (shown once, never stored).

    `not_after` caps its expiry: a token minted with another token never outlives it."""
    kind = TokenKind(kind)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("Ge token ett namn (högst 120 tecken).", {"name": ["1 to 120 characters"]})
    if not 1 <= int(days) <= MAX_DAYS:
        raise ValidationFailed(f"En token gäller 1–{MAX_DAYS} dagar.", {"days": [f"1 to {MAX_DAYS}"]})
    if kind == TokenKind.RESIDENT:
        if patient_id is None or session.get(Patient, patient_id) is None:
            raise NotFound("Patienten finns inte.")
        user_id = unit_id = None
        roles = None
    else:
        user = session.get(User, user_id) if user_id is not None else None
        if user is None or not user.active:
            raise NotFound("Användaren finns inte eller är inte aktiv.")
        if unit_id is None or session.get(Unit, unit_id) is None:
            raise NotFound("Enheten finns inte.")
        held = {role.value for role in roles_at(session, user.id, unit_id)}
        if not held:
            raise Forbidden("Användaren har ingen roll på enheten.")
        if kind == TokenKind.SERVICE:
            wanted = set(roles or [])
            if not wanted:
                raise ValidationFailed(
                    "Ett tjänstekonto agerar med namngivna roller.", {"roles": ["at least one role"]}
                )
            if not wanted <= held:
                raise Forbidden("En token kan inte ge fler roller än användaren har på enheten.")
            roles = sorted(wanted)
        else:
            roles = None  # follows the user's memberships, checked on every use
        patient_id = None
    raw = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        kind=kind,
        name=name,
        token_hash=hash_token(raw),
        hint=raw[:10],
        user_id=user_id,
        unit_id=unit_id,
        roles=roles,
        patient_id=patient_id,
        created_at=now,
        created_by=actor.label,
        expires_at=min(now + timedelta(days=int(days)), not_after or datetime.max.replace(tzinfo=UTC)),
    )
    session.add(token)
    session.flush()
    record(
        session,
        "api_token:created",
        actor=actor,
        subject=("api_token", token.id),
        kind=kind.value,
        user_id=user_id,
        unit_id=unit_id,
        roles=roles,
        patient_id=patient_id,
        expires_at=token.expires_at.isoformat(),
    )
    return token, raw


def issue_own_token(
    session: Session, *, actor: Actor, via: Principal | None, name: str, days: int = DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """A token for the caller themself: staff at their acting unit, or a resident.

    A service account gets its tokens from an administrator (the CLI), never from itself.
    """
    if via is not None and via.kind == TokenKind.SERVICE:
        raise Forbidden("Ett tjänstekonto skapar inte egna token.")
    # A short-lived token must not extend its own life by minting a longer one.
    not_after = session.get(ApiToken, via.token_id).expires_at if via is not None else None
    if actor.patient_id is not None:
        return issue_token(
            session,
            actor=actor,
            kind=TokenKind.RESIDENT,
            name=name,
            patient_id=actor.patient_id,
            days=days,
            not_after=not_after,
        )
    return issue_token(
        session,
        actor=actor,
        kind=TokenKind.USER,
        name=name,
        user_id=actor.user_id,
        unit_id=actor.unit_id,
        days=days,
        not_after=not_after,
    )


def own_tokens(session: Session, *, actor: Actor) -> list[ApiToken]:
    """The caller's own tokens (revoked and expired ones too), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if actor.patient_id is not None:
        query = query.where(ApiToken.patient_id == actor.patient_id)
    elif actor.user_id is not None:
        query = query.where(ApiToken.user_id == actor.user_id)
    else:
        return []
    return list(session.scalars(query))


def revoke_own_token(session: Session, *, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the caller's own tokens (someone else's reads as not found)."""
    token = session.get(ApiToken, token_id)
    mine = token is not None and (
        (actor.patient_id is not None and token.patient_id == actor.patient_id)
        or (actor.user_id is not None and token.user_id == actor.user_id)
    )
    if not mine:
        raise NotFound("Token finns inte.")
    return revoke_token(session, actor=actor, token=token)


def revoke_token(session: Session, *, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token from now on; revoking twice changes nothing (also twice at once: the row is
    locked and read afresh, so the second waits, finds it revoked and records nothing)."""
    session.refresh(token, with_for_update=True)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.revoked_by = actor.label
        record(session, "api_token:revoked", actor=actor, subject=("api_token", token.id))
    return token


def authenticate(session: Session, raw: str) -> Principal:
    """Check a presented token against the database and mark its use; refuses unknown, revoked, expired."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw))) if raw else None
    if token is None:
        raise TokenRejected("Okänd token.", reason="unknown")
    now = clock.now()
    if token.revoked_at is not None:
        raise TokenRejected("Token är återkallad.", reason="revoked")
    if token.expires_at <= now:
        raise TokenRejected("Token har gått ut.", reason="expired")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        token.last_used_at = now
    roles = frozenset(token.roles) if token.roles is not None else None
    return Principal(token.id, token.kind, token.user_id, token.unit_id, roles, token.patient_id)


def actor_of(session: Session, principal: Principal) -> Actor:
    """The Actor a valid token acts as, from the people it names as they are now."""
    if principal.kind == TokenKind.RESIDENT:
        patient = session.get(Patient, principal.patient_id)
        if patient is None:
            raise TokenRejected("Token gäller inte längre.", reason="unknown")
        return Actor(label=patient.display_name, patient_id=patient.id)
    user = session.get(User, principal.user_id)
    if user is None or not user.active:
        raise TokenRejected("Användaren är inte längre aktiv.", reason="inactive")
    actor = actor_for(session, user, principal.unit_id)
    roles = actor.roles if principal.roles is None else actor.roles & principal.roles
    if not roles:
        raise TokenRejected("Användaren har inte längre någon roll på enheten.", reason="no_roles")
    return Actor(label=actor.label, user_id=actor.user_id, unit_id=actor.unit_id, roles=frozenset(roles))


# --- administration (the CLI) --------------------------------------------------------------------


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def find_unit(session: Session, unit: str) -> Unit:
    """A unit by id or exact name."""
    found = (
        session.get(Unit, int(unit))
        if unit.isdigit()
        else session.scalar(select(Unit).where(Unit.name == unit))
    )
    if found is None:
        raise NotFound(f"no unit {unit!r}")
    return found


def find_patient(session: Session, identity_number: str) -> Patient:
    number = identity_number.replace("-", "").replace("+", "").strip()
    patient = session.scalar(
        select(Patient).where(
            or_(Patient.identity_number == number, Patient.identity_number == identity_number)
        )
    )
    if patient is None:
        raise NotFound(f"no patient {identity_number!r}")
    return patient


def tokens_of(
    session: Session, *, user_id: int | None = None, patient_id: int | None = None
) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if patient_id is not None:
        query = query.where(ApiToken.patient_id == patient_id)
    return list(session.scalars(query))


def create_service_account(
    session: Session, *, actor: Actor, username: str, display_name: str, unit_id: int, roles: list[str]
) -> User:
    """A user row for a system that calls the API, with memberships for the given roles at one unit."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationFailed("Användarnamnet är upptaget.", {"username": ["taken"]})
    wanted = [Role(role) for role in roles]
    if not wanted:
        raise ValidationFailed(
            "Ett tjänstekonto agerar med namngivna roller.", {"roles": ["at least one role"]}
        )
    now = clock.now()
    user = User(
        username=username,
        given_name=display_name,
        family_name="(tjänstekonto)",
        title="Tjänstekonto",
        created_at=now,
        active=True,
    )
    session.add(user)
    session.flush()
    for role in wanted:
        session.add(Membership(user_id=user.id, unit_id=unit_id, role=role, valid_from=now))
    session.flush()
    record(
        session,
        "service_account:created",
        actor=actor,
        subject=("user", user.id),
        unit_id=unit_id,
        roles=[r.value for r in wanted],
    )
    return user
