"""Queueing notifications in the caller's transaction: compose, apply the region's policy, write the outbox.

Services flush, never commit: the notification commits (or rolls back) with the action that caused
it, and its idempotency key makes a retried action queue nothing twice.

Protected identity (`Region.policies["protected_identity"]`):
- "refuse_and_redirect" (Region Halland, HA-protected): no message at all to a protected person, in
  any channel (the person is not handled in the platform; the redirect is said in the chat). The row
  is written as 'suppressed' without content, with an audit event; no transport ever sees it.
- "verify_and_follow_routine" (Region Östergötland, OG-6.3), or no policy: messages go, neutral
  (SEC-protected-sms, enforced by the composer for every region).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from app import clock
from app.audit.service import Actor, record
from app.notifications.compose import NEUTRAL_UNIT, Recipient, SenderUnit, compose, slugify
from app.notifications.models import Channel, Notification, NotificationStatus, RecipientKind
from app.notifications.purposes import NotificationPurpose
from app.patients.models import Patient
from app.people.models import Unit, User
from app.people.roles import Role
from app.people.service import present_users

POLICY_KEY = "protected_identity"
REFUSE_AND_REDIRECT = "refuse_and_redirect"  # HA-protected
VERIFY_AND_FOLLOW_ROUTINE = "verify_and_follow_routine"  # OG-6.3
POLICIES = frozenset({REFUSE_AND_REDIRECT, VERIFY_AND_FOLLOW_ROUTINE})
WORKER_CHANNEL = "vardflode_notifications"
STAFF_NEW_CASE_TEXT = "Ett nytt ärende har kommit in till {unit}. Logga in för att läsa det."
SYSTEM = Actor.system("notifications")

_NOTIFY = sql_text(f"SELECT pg_notify('{WORKER_CHANNEL}', '')")


def queue_to_patient(
    session: Session,
    *,
    purpose: NotificationPurpose,
    patient: Patient,
    unit: Unit,
    text: str,
    channel: Channel = Channel.SMS,
    subject: str | None = None,
    links: Sequence[str] = (),
    case_id: int | None = None,
    idempotency_key: str,
    actor: Actor | None = None,
) -> Notification:
    """Queue a message to a patient (or suppress it by policy); the same key returns the same row."""
    recipient = patient_recipient(patient)
    reason = None
    if recipient.protected and protected_identity_policy(unit) == REFUSE_AND_REDIRECT:
        reason = "protected identity: the region's policy sends no message (HA-protected)"
    return _queue(
        session,
        purpose=purpose,
        recipient=recipient,
        unit=unit,
        text=text,
        channel=channel,
        subject=subject,
        links=links,
        case_id=case_id,
        key=idempotency_key,
        actor=actor,
        policy_reason=reason,
    )


def queue_to_staff(
    session: Session,
    *,
    purpose: NotificationPurpose,
    user: User,
    unit: Unit,
    text: str,
    channel: Channel = Channel.SMS,
    subject: str | None = None,
    links: Sequence[str] = (),
    case_id: int | None = None,
    idempotency_key: str,
    actor: Actor | None = None,
) -> Notification:
    """Queue a message to a staff member: SMS to the work phone, e-mail to the work address."""
    recipient = staff_recipient(user)
    return _queue(
        session,
        purpose=purpose,
        recipient=recipient,
        unit=unit,
        text=text,
        channel=channel,
        subject=subject,
        links=links,
        case_id=case_id,
        key=idempotency_key,
        actor=actor,
        policy_reason=None,
    )


def notify_staff_of_new_case(
    session: Session,
    *,
    unit: Unit,
    case_id: int,
    roles: Iterable[Role | str],
    text: str = STAFF_NEW_CASE_TEXT,
    actor: Actor | None = None,
) -> list[Notification]:
    """OG-8.7: SMS only, only to staff present at the unit in one of `roles`, only to work phones."""
    now = clock.now()
    wanted = {Role(role) for role in roles}
    if not wanted:
        return []
    present = [
        user for user in present_users(session, unit.id, now, roles=wanted) if user.active and user.work_phone
    ]
    return [
        queue_to_staff(
            session,
            purpose=NotificationPurpose.STAFF_NEW_CASE,
            user=user,
            unit=unit,
            text=text,
            channel=Channel.SMS,
            case_id=case_id,
            idempotency_key=f"staff-new-case:{case_id}:user:{user.id}",
            actor=actor,
        )
        for user in present
    ]


def protected_identity_policy(unit: Unit) -> str:
    """The unit's region policy for protected identity (no policy: send, neutral)."""
    policy = (unit.region.policies or {}).get(POLICY_KEY, VERIFY_AND_FOLLOW_ROUTINE)
    if policy not in POLICIES:
        raise ValueError(f"unknown protected-identity policy {policy!r} for region {unit.region.code}")
    return policy


_UNIT_PLACEHOLDER = re.compile(r"\{(unit|unit_phone|unit_address)\}")


def fill_unit_for_reading(body: str, unit: Unit, *, neutral: bool, neutral_name: str = NEUTRAL_UNIT) -> str:
    """A chat text as its reader sees it. Phrase texts keep the unit's placeholders for the composer;
    in the chat they are filled, or neutral for a protected identity (SEC-protected-sms holds there too;
    `neutral_name` in the reader's language)."""
    if "{" not in body:
        return body
    settings = unit.settings or {}
    if neutral:
        values = {"unit": neutral_name, "unit_phone": "", "unit_address": ""}
    else:
        values = {
            "unit": unit.name,
            "unit_phone": settings.get("phone") or "",
            "unit_address": settings.get("address") or "",
        }
    # A dropped placeholder leaves "Ring  ." behind: tidy the spaces it leaves.
    return re.sub(r"[ \t]{2,}", " ", _UNIT_PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), body))


def sender_unit(unit: Unit) -> SenderUnit:
    """What messages may say about the unit; phone, address, slug and SMS sender come from its settings."""
    settings = unit.settings or {}
    return SenderUnit(
        unit_id=unit.id,
        name=unit.name,
        slug=settings.get("slug") or slugify(unit.name),
        phone=settings.get("phone"),
        vtv_number=unit.vtv_number,
        address=settings.get("address"),
        region_code=unit.region.code,
        region_name=unit.region.name,
        sms_sender=settings.get("sms_sender"),
    )


def patient_recipient(patient: Patient) -> Recipient:
    return Recipient(
        kind=RecipientKind.PATIENT,
        name=patient.display_name,
        phone=normalise_phone(patient.mobile),
        email=patient.email or None,
        protected=patient.is_protected,
        patient_id=patient.id,
    )


def staff_recipient(user: User) -> Recipient:
    # Staff are reached at work only (OG-8.7: the work phone), never on a private number.
    return Recipient(
        kind=RecipientKind.STAFF,
        name=user.display_name,
        phone=normalise_phone(user.work_phone),
        email=user.email or None,
        user_id=user.id,
    )


def normalise_phone(number: str | None) -> str | None:
    """A Swedish or international number in E.164 ("070-123 45 67" -> "+46701234567"); None if unusable."""
    if not number:
        return None
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+"):
        e164 = f"+{digits}"
    elif digits.startswith("00"):
        e164 = f"+{digits[2:]}"
    elif digits.startswith("0"):
        e164 = f"+46{digits[1:]}"
    else:
        return None
    return e164 if 8 <= len(e164) - 1 <= 15 else None


# --- the outbox row ---------------------------------------------------------------------------


def _queue(
    session: Session,
    *,
    purpose: NotificationPurpose,
    recipient: Recipient,
    unit: Unit,
    text: str,
    channel: Channel,
    subject: str | None,
    links: Sequence[str],
    case_id: int | None,
    key: str,
    actor: Actor | None,
    policy_reason: str | None,
) -> Notification:
    purpose, channel = NotificationPurpose(purpose), Channel(channel)
    now = clock.now()
    values = dict(
        channel=channel,
        purpose=purpose,
        recipient_kind=recipient.kind,
        patient_id=recipient.patient_id,
        user_id=recipient.user_id,
        case_id=case_id,
        unit_id=unit.id,
        idempotency_key=key,
        attempts=0,
        links=[],
        created_at=now,
        to_address=None,
        sender_id=None,
        subject=None,
        body=None,
        signature=None,
        neutral=False,
        status=NotificationStatus.PENDING,
        next_attempt_at=None,
        last_error=None,
        sent_at=None,
    )
    address = recipient.phone if channel is Channel.SMS else recipient.email
    reason = policy_reason or (
        None if address else f"no usable {'mobile number' if channel is Channel.SMS else 'e-mail address'}"
    )
    if reason is None:
        message = compose(
            purpose,
            recipient=recipient,
            unit=sender_unit(unit),
            text=text,
            subject=subject,
            links=links,
            channel=channel,
        )
        values.update(
            to_address=message.to_address,
            sender_id=message.sender_id,
            subject=message.subject,
            body=message.body,
            links=list(message.links),
            signature=message.signature,
            neutral=message.neutral,
            next_attempt_at=now,
        )
    else:
        values.update(status=NotificationStatus.SUPPRESSED, last_error=reason, neutral=recipient.protected)
    row = _insert_once(session, values)
    if row is None:  # the key was queued before, in this transaction or by a concurrent one
        existing = _by_key(session, key)
        _require_same(existing, purpose, channel, recipient)
        return existing
    if reason is not None:
        record(
            session,
            "notification:suppressed",
            actor=actor or SYSTEM,
            subject=audit_subject(row.id, case_id),
            notification_id=row.id,
            purpose=purpose.value,
            channel=channel.value,
            reason=reason,
            patient_id=recipient.patient_id,
            user_id=recipient.user_id,
            case_id=case_id,
            unit_id=unit.id,
        )
    elif session.get_bind().dialect.name == "postgresql":
        with session.no_autoflush:  # a NOTIFY reads nothing: the step's pending changes need not go first
            session.execute(_NOTIFY)  # wakes sleeping workers when this transaction commits
    return row


def audit_subject(notification_id: int, case_id: int | None) -> tuple[str, int]:
    """Whose history a notification's outcome (suppressed, failed) belongs to: its case's, if it has one,
    so the clinician sees on the case that the patient was not reached; otherwise the notification's."""
    return ("case", case_id) if case_id is not None else ("notification", notification_id)


def _insert_once(session: Session, values: dict) -> Notification | None:
    """Insert the row unless its idempotency key exists; one statement on both databases (a concurrent
    insert of the same key waits for the other transaction and then does nothing)."""
    statement = _INSERT_ONCE[session.get_bind().dialect.name]
    # Outbox rows are only ever written here, as Core inserts: no pending row of the session can
    # clash with this one, so the caller's pending changes wait for their own flush.
    with session.no_autoflush:
        new_id = session.execute(statement, values).scalar()
    if new_id is None:
        return None
    row = Notification(id=new_id, **values)
    make_transient_to_detached(row)  # the row is in the database: attach it without reading it back
    session.add(row)
    return row


def _insert_once_statement(insert):
    # Built once, values bound at execution: building `.values(**row)` per call cost more than the insert.
    return (
        insert(Notification.__table__)
        .on_conflict_do_nothing(index_elements=[Notification.__table__.c.idempotency_key])
        .returning(Notification.__table__.c.id)
    )


_INSERT_ONCE = {
    "postgresql": _insert_once_statement(postgresql_insert),
    "sqlite": _insert_once_statement(sqlite_insert),
}


def _by_key(session: Session, key: str) -> Notification | None:
    return session.scalar(select(Notification).where(Notification.idempotency_key == key))


def _require_same(
    row: Notification, purpose: NotificationPurpose, channel: Channel, recipient: Recipient
) -> None:
    # The same key for another message is a caller's bug: returning the old row would drop this one.
    if (row.purpose, row.channel, row.patient_id, row.user_id) != (
        purpose,
        channel,
        recipient.patient_id,
        recipient.user_id,
    ):
        raise ValueError(f"idempotency key {row.idempotency_key!r} already names another notification")
