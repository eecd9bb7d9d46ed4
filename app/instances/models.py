"""Process instances, the projection of open human tasks, incidents and the pending-timer index.

All four are written in the same transaction as the instance state, so the worklist, the timer
worker and the control tower never see a half-advanced instance.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.people.models import _enum
from app.people.roles import Role


class InstanceStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"  # a guard rail stopped it; an incident says why


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(120))  # the BPMN process id, copied: it never changes
    bundle_hash: Mapped[str] = mapped_column(ForeignKey("bundle.content_hash"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    business_key: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[InstanceStatus] = mapped_column(_enum(InstanceStatus, "instance_status"))
    state: Mapped[str] = mapped_column(Text)  # SpiffWorkflow state without the spec
    task_count: Mapped[int] = mapped_column(Integer, default=0)
    tree_depth: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    """An open human task with everything the patient list sorts, filters and shows.

    The worklist reads only this table. Ownership is copied from the case (its one source of
    truth) whenever either changes, in the same transaction.
    """

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "spiff_task_id", name="uq_human_task_instance_task"),
        Index("ix_human_task_queue", "unit_id", "role", "priority", "waiting_since"),
        Index("ix_human_task_owner", "owner_user_id"),
        # Never reuse an id: a form posted for a finished task must not land on a newer one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    spiff_task_id: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[str] = mapped_column(String(120))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    role: Mapped[Role | None] = mapped_column(_enum(Role, "role"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    form_schema: Mapped[str | None] = mapped_column(String(200))
    form_ui_schema: Mapped[str | None] = mapped_column(String(200))
    # Case and patient fields, copied for sorting and display without joins.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"), index=True)
    case_kind: Mapped[str | None] = mapped_column(String(20))
    case_state: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[int | None] = mapped_column(Integer)
    search_reason: Mapped[str | None] = mapped_column(String(200))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    patient_name: Mapped[str | None] = mapped_column(String(170))
    patient_birth_date: Mapped[date | None] = mapped_column(Date)
    patient_protected: Mapped[bool] = mapped_column(Boolean, default=False)
    patient_answered: Mapped[bool] = mapped_column(Boolean, default=False)
    case_started: Mapped[bool] = mapped_column(Boolean, default=False)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Incident(Base):
    """A failure while advancing an instance: visible, retryable, never a silently stuck case."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_status", "status", "next_retry_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(120))
    element_name: Mapped[str | None] = mapped_column(String(200))
    error_type: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[IncidentStatus] = mapped_column(
        _enum(IncidentStatus, "incident_status"), default=IncidentStatus.OPEN
    )
    # "step": a task failed and waits in error (retried by retry_incident); "timer": firing failed
    # and was rolled back (retried by firing again when the pushed-back timer is due).
    source: Mapped[str] = mapped_column(String(20), default="step", server_default="step")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(160))

    instance: Mapped[ProcessInstance] = relationship()


class TimerKind(StrEnum):
    BPMN = "bpmn"  # a waiting SpiffWorkflow timer event
    DEADLINE = "deadline"  # a product deadline (e.g. earliest closing time) computed by a service


class PendingTimer(Base):
    """The due-time index the timer workers claim from (SELECT … FOR UPDATE SKIP LOCKED)."""

    __tablename__ = "pending_timer"
    __table_args__ = (
        UniqueConstraint("instance_id", "spiff_task_id", name="uq_pending_timer_instance_task"),
        Index("ix_pending_timer_due", "due_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    spiff_task_id: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[TimerKind] = mapped_column(_enum(TimerKind, "timer_kind"), default=TimerKind.BPMN)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Product deadlines: the message delivered when due, and how the due time was computed (so a
    # change of the unit's opening hours can recompute it).
    message_name: Mapped[str | None] = mapped_column(String(120))
    recipe: Mapped[dict | None] = mapped_column(JSON)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
