"""Audit events and access-log rows. Both are append-only (database triggers refuse UPDATE, and
DELETE of rows younger than five years: HSLF-FS 2016:40 asks for at least five years)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime

APPEND_ONLY_TABLES = ("audit_event", "access_log", "access_log_patient")


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)  # "subject:action", e.g. "case:closed"
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_label: Mapped[str] = mapped_column(String(160))  # a name, or "system:timer-worker", "cli"
    acting_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AccessLog(Base):
    """One read of patient data: who, acting for which unit, when, what (HSLF-FS 2016:40 4 kap. 9 §)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_label: Mapped[str] = mapped_column(String(160))
    acting_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    action: Mapped[str] = mapped_column(String(80))  # e.g. "case:read", "worklist:list"
    case_id: Mapped[int | None] = mapped_column(index=True)
    context: Mapped[str | None] = mapped_column(String(200))  # page or API path that read the data

    patients: Mapped[list[AccessLogPatient]] = relationship(cascade="save-update")


class AccessLogPatient(Base):
    """Each patient an access-log row shows (a list page names every patient it displayed)."""

    __tablename__ = "access_log_patient"
    __table_args__ = (Index("ix_access_log_patient_patient", "patient_id", "access_log_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    access_log_id: Mapped[int] = mapped_column(ForeignKey("access_log.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
