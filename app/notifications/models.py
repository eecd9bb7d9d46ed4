"""The outbox: one row per notification, written in the same transaction as the change that causes it.

A worker delivers pending rows later (`delivery.py`), so a rolled-back action sends nothing and a
committed one is sent even if the SMS gateway is down at that moment.

Suppressed rows (a protected person under Halland policy, no phone number, ...) keep the recipient,
purpose and idempotency key but no composed content: `to_address`, `sender_id`, `body` are NULL and
`last_error` holds the reason. They exist so a retried action stays idempotent and the decision is
visible; no transport ever sees them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.notifications.purposes import NotificationPurpose
from app.people.models import _enum


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class RecipientKind(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for (another) delivery attempt at next_attempt_at
    SENT = "sent"  # a transport accepted it
    FAILED = "failed"  # refused permanently, or out of attempts
    SUPPRESSED = "suppressed"  # never to be sent (policy, no address); last_error says why


class Notification(Base):
    __tablename__ = "notification"
    # The worker's query: pending rows by due time.
    __table_args__ = (Index("ix_notification_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "notification_channel"))
    # Stored as its value in a VARCHAR without a CHECK: a new purpose needs no migration.
    purpose: Mapped[NotificationPurpose] = mapped_column(_enum(NotificationPurpose, "notification_purpose"))
    recipient_kind: Mapped[RecipientKind] = mapped_column(_enum(RecipientKind, "notification_recipient_kind"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    to_address: Mapped[str | None] = mapped_column(String(200))  # E.164 phone or e-mail address
    # The SMS sender ID, or the e-mail From display name (the address is EMAIL_FROM).
    sender_id: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list] = mapped_column(JSON, default=list)
    signature: Mapped[str | None] = mapped_column(String(200))
    # Composed for a protected recipient: names and locates no unit (SEC-protected-sms).
    neutral: Mapped[bool] = mapped_column(Boolean, default=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
