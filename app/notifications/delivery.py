"""Delivering the outbox: claim a due row, send it, record the outcome; one transaction per message.

- Claiming is `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of workers share the
  outbox and none sends a row another holds; on SQLite every transaction begins IMMEDIATE, which
  serialises them (and holds the write lock while a message is handed to its transport).
- The row is marked in the transaction that sent it. A worker killed after the hand-over but before
  the commit sends the message again later: delivery is at least once, and the provider receives
  the same idempotency key both times to drop the duplicate.
- A temporary failure is retried after 1, 5, 30 and 120 minutes, then the row is failed; a permanent
  one fails at once. A failed or suppressed row is audited on its case when it has one (the
  clinician sees the patient was not reached), else on the notification.
- Just before sending, the patient's protection is read again: a message composed before the
  patient claimed protected identity is suppressed, never sent (SEC-protected-sms). On PostgreSQL
  the patient row is read FOR SHARE and held until the delivery commits: a claim in flight is
  waited for (then seen), and a claim started later waits until the message has been handed over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.db import Database
from app.notifications.compose import render_text
from app.notifications.models import Channel, Notification, NotificationStatus
from app.notifications.service import (
    REFUSE_AND_REDIRECT,
    SYSTEM,
    WORKER_CHANNEL,
    audit_subject,
    protected_identity_policy,
)
from app.notifications.transports import DeliveryError, OutgoingMessage, Transport
from app.patients.models import Patient
from app.people.models import Unit

log = logging.getLogger("vardflode.notifications")
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(minutes=120))
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.suppressed

    def add(self, other: DeliveryStats) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def deliver_pending(
    database: Database,
    transports: Mapping[Channel, Transport],
    *,
    batch: int = 50,
    actor: Actor | None = None,
) -> DeliveryStats:
    """Send up to `batch` due messages, each in its own transaction; returns what happened to them."""
    stats = DeliveryStats()
    with database.transaction() as session:
        due = _due_ids(session, clock.now(), list(transports), batch)
    for notification_id in due:
        with database.transaction() as session:
            _deliver_one(session, notification_id, transports, stats, actor or SYSTEM)
    return stats


def next_due(session: Session, channels: list[Channel]) -> datetime | None:
    """When the earliest pending message for these channels falls due."""
    return session.scalar(
        select(func.min(Notification.next_attempt_at)).where(
            Notification.status == NotificationStatus.PENDING, Notification.channel.in_(channels)
        )
    )


def _due_ids(session: Session, now: datetime, channels: list[Channel], limit: int) -> list[int]:
    # Only channels with a transport: a channel left unconfigured keeps its rows pending, untouched.
    query = (
        select(Notification.id)
        .where(
            Notification.status == NotificationStatus.PENDING,
            Notification.next_attempt_at <= now,
            Notification.channel.in_(channels),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _claim(session: Session, notification_id: int, now: datetime) -> Notification | None:
    """Lock the row for this transaction if it is still pending and due (another worker may have sent it)."""
    query = select(Notification).where(
        Notification.id == notification_id,
        Notification.status == NotificationStatus.PENDING,
        Notification.next_attempt_at <= now,
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def _deliver_one(
    session: Session,
    notification_id: int,
    transports: Mapping[Channel, Transport],
    stats: DeliveryStats,
    actor: Actor,
) -> None:
    now = clock.now()
    row = _claim(session, notification_id, now)
    if row is None:
        return
    blocked = _protection_blocks(session, row)
    if blocked:
        row.status, row.last_error, row.next_attempt_at = NotificationStatus.SUPPRESSED, blocked, None
        record(
            session,
            "notification:suppressed",
            actor=actor,
            subject=audit_subject(row.id, row.case_id),
            notification_id=row.id,
            channel=row.channel.value,
            purpose=row.purpose.value,
            reason=blocked,
            patient_id=row.patient_id,
            case_id=row.case_id,
        )
        stats.suppressed += 1
        return
    row.attempts += 1
    try:
        if not (row.to_address and row.sender_id and row.body):
            raise _Incomplete("the notification has no address, sender or text")
        transports[row.channel].send(_outgoing(row))
    except (DeliveryError, _Incomplete) as exc:
        _failed_attempt(session, row, str(exc), exc.permanent, now, stats, actor)
    except Exception as exc:  # a transport's bug must not stop the worker: retry like a network error
        log.exception("notification %s: transport failed", row.id)
        _failed_attempt(session, row, f"{type(exc).__name__}: {exc}", False, now, stats, actor)
    else:
        row.status, row.sent_at, row.last_error, row.next_attempt_at = (
            NotificationStatus.SENT,
            now,
            None,
            None,
        )
        stats.sent += 1


class _Incomplete(Exception):
    permanent = True


def _failed_attempt(
    session: Session,
    row: Notification,
    error: str,
    permanent: bool,
    now: datetime,
    stats: DeliveryStats,
    actor: Actor,
) -> None:
    row.last_error = error[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at = NotificationStatus.FAILED, None
        record(
            session,
            "notification:failed",
            actor=actor,
            subject=audit_subject(row.id, row.case_id),
            notification_id=row.id,
            channel=row.channel.value,
            purpose=row.purpose.value,
            error=row.last_error,
            attempts=row.attempts,
            case_id=row.case_id,
        )
        stats.failed += 1
        log.warning("notification %s failed after %d attempt(s): %s", row.id, row.attempts, row.last_error)
    else:
        row.next_attempt_at = now + RETRY_BACKOFF[min(row.attempts, len(RETRY_BACKOFF)) - 1]
        stats.retried += 1


def _protection_blocks(session: Session, row: Notification) -> str | None:
    """Why this row may no longer go to its patient (protection recorded after it was queued), or None."""
    if row.patient_id is None:
        return None
    # Under READ COMMITTED a plain read misses a claim committed between this check and the send.
    query = select(Patient).where(Patient.id == row.patient_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)  # FOR SHARE: conflicts with the claim's UPDATE
    patient = session.scalar(query)
    if patient is None or not patient.is_protected:
        return None
    if not row.neutral:
        return "protected identity recorded after the message was composed: it names the unit (SEC-protected-sms)"
    unit = session.get(Unit, row.unit_id) if row.unit_id is not None else None
    if unit is not None and protected_identity_policy(unit) == REFUSE_AND_REDIRECT:
        return "protected identity: the region's policy sends no message (HA-protected)"
    return None


def _outgoing(row: Notification) -> OutgoingMessage:
    return OutgoingMessage(
        notification_id=row.id,
        channel=row.channel,
        to_address=row.to_address or "",
        sender_id=row.sender_id or "",
        subject=row.subject,
        text=render_text(body=row.body or "", links=row.links or [], signature=row.signature),
        idempotency_key=row.idempotency_key,
    )


class NotificationWorker:
    """The delivery loop: send what is due, sleep until the next due time (woken by NOTIFY on PostgreSQL)."""

    def __init__(
        self,
        database: Database,
        transports: Mapping[Channel, Transport],
        *,
        name: str = "notification-worker",
        batch: int = 50,
        max_idle_s: float = 2.0,
        sync_clock=None,
    ):
        self.database = database
        self.transports = dict(transports)
        self.actor = Actor.system(name)
        self.batch = batch
        self.max_idle_s = max_idle_s
        self.sync_clock = sync_clock  # the shared development clock's sync(), when there is one
        self.stats = DeliveryStats()
        self.stop_event = threading.Event()
        self._listener = None

    def run_once(self) -> DeliveryStats:
        """Deliver everything due now; returns this pass's counts."""
        if self.sync_clock is not None:
            self.sync_clock()
        total = DeliveryStats()
        while not self.stop_event.is_set():
            stats = deliver_pending(self.database, self.transports, batch=self.batch, actor=self.actor)
            total.add(stats)
            if stats.handled == 0:
                break  # nothing due, or all of it held by other workers right now
        self.stats.add(total)
        return total

    def run_forever(self) -> None:
        """Deliver, then wait for the next due time; a failing pass is logged and retried shortly."""
        self._listen()
        try:
            while not self.stop_event.is_set():
                try:
                    self.run_once()
                    self._wait()
                except Exception:  # the database went away, a deploy is migrating...: keep going
                    log.exception("notification worker pass failed; retrying shortly")
                    self.stop_event.wait(self.max_idle_s)
        finally:
            self._unlisten()

    def stop(self) -> None:
        self.stop_event.set()

    def _wait(self) -> None:
        with self.database.transaction() as session:
            upcoming = next_due(session, list(self.transports))
        wait = self.max_idle_s
        if upcoming is not None:
            wait = max(0.0, min(wait, (upcoming - clock.now()).total_seconds() + 0.001))
        if wait <= 0:
            return
        if self._listener is not None:
            try:
                for _ in self._listener.notifies(timeout=wait, stop_after=1):
                    break
            except Exception:  # a dropped listener connection: fall back to polling
                log.warning("notification listener lost; polling")
                self._listener = None
        else:
            self.stop_event.wait(min(wait, 0.25))

    def _listen(self) -> None:
        if self.database.dialect != "postgresql":
            return
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener = psycopg.connect(url, autocommit=True)
        self._listener.execute(f"LISTEN {WORKER_CHANNEL}")

    def _unlisten(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
