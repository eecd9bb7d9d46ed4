"""Bearer tokens for the JSON API: per user, per service account, or per resident.

Only a hash of each token is stored; the token itself is shown once, when it is created. Every use
is checked here (revoked, expired) and marks the token's last use.

Beside them, what an `Idempotency-Key` was first sent with (`ApiSubmission`), so that the key sent
again with another request is refused instead of answered with a case the request did not ask for.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.people.models import _enum


class TokenKind(StrEnum):
    USER = "user"  # a staff member's own token: acts with the roles their memberships give at the unit
    SERVICE = "service"  # a service account: acts for one unit with the roles named on the token
    RESIDENT = "resident"  # a patient or guardian: the resident endpoints only


class ApiToken(Base):
    __tablename__ = "api_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
        # Staff tokens name a user and a unit; resident tokens a patient; never both.
        CheckConstraint(
            "(kind = 'resident' AND patient_id IS NOT NULL AND user_id IS NULL AND unit_id IS NULL)"
            " OR (kind <> 'resident' AND patient_id IS NULL AND user_id IS NOT NULL AND unit_id IS NOT NULL)",
            name="principal",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TokenKind] = mapped_column(_enum(TokenKind, "api_token_kind"))
    name: Mapped[str] = mapped_column(String(120))  # what the token is for, as its creator put it
    token_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the token
    hint: Mapped[str] = mapped_column(String(16))  # the token's first characters, to recognise it in lists
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    roles: Mapped[list | None] = mapped_column(JSON)  # service accounts: the roles it acts with
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(160))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(160))


class ApiSubmission(Base):
    """A case submitted through the API with an Idempotency-Key: a hash of the request it came with.

    The key itself, namespaced by the resident, is the case's `submission_key` (unique there)."""

    __tablename__ = "api_submission"

    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id", ondelete="CASCADE"), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the request's canonical JSON
