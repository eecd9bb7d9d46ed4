"""Finding and claiming due work. A claim is a lock on the instance row for one firing transaction:
on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so any number of workers share the work and none
waits for another; on SQLite every transaction begins IMMEDIATE, which serialises them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.instances.models import Incident, IncidentStatus, PendingTimer, ProcessInstance


def due_instances(session: Session, now: datetime, limit: int) -> list[int]:
    """Instances with a timer or deadline due before `now`, the most overdue first."""
    rows = session.execute(
        select(PendingTimer.instance_id, func.min(PendingTimer.due_at).label("due"))
        .where(PendingTimer.due_at < now)
        .group_by(PendingTimer.instance_id)
        .order_by("due")
        .limit(limit)
    )
    return [instance_id for instance_id, _ in rows]


def incidents_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Open step incidents whose next retry is due."""
    return list(
        session.scalars(
            select(Incident.id)
            .where(Incident.status == IncidentStatus.OPEN, Incident.source == "step", Incident.next_retry_at < now)
            .order_by(Incident.next_retry_at)
            .limit(limit)
        )
    )


def claim_instance(session: Session, instance_id: int) -> bool:
    """Lock the instance for this transaction, or return False if another worker holds it."""
    query = select(ProcessInstance.id).where(ProcessInstance.id == instance_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query) is not None


def still_due(session: Session, instance_id: int, now: datetime) -> bool:
    """Re-check inside the claim: another worker may have fired it between listing and claiming."""
    return session.scalar(select(PendingTimer.id).where(PendingTimer.instance_id == instance_id, PendingTimer.due_at < now).limit(1)) is not None


def next_due(session: Session) -> datetime | None:
    """The earliest pending due time (timers, deadlines and incident retries)."""
    timer = session.scalar(select(func.min(PendingTimer.due_at)))
    retry = session.scalar(select(func.min(Incident.next_retry_at)).where(Incident.status == IncidentStatus.OPEN, Incident.source == "step"))
    candidates = [moment for moment in (timer, retry) if moment is not None]
    return min(candidates) if candidates else None
