"""Finding and claiming due work. A claim is a lock on the instance row for one firing transaction:
on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so any number of workers share the work and none
waits for another; on SQLite every transaction begins IMMEDIATE, which serialises them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.instances import service as instances
from app.instances.models import Incident, IncidentStatus, PendingTimer

# Built once, values bound at execution: the worker runs these on every pass.
_DUE_INSTANCES = (
    select(PendingTimer.instance_id, func.min(PendingTimer.due_at).label("due"))
    .where(PendingTimer.due_at < bindparam("now"))
    .group_by(PendingTimer.instance_id)
    .order_by("due")
    .limit(bindparam("limit"))
)
_INCIDENTS_DUE = (
    select(Incident.id)
    .where(
        Incident.status == IncidentStatus.OPEN,
        Incident.source == "step",
        Incident.next_retry_at < bindparam("now"),
    )
    .order_by(Incident.next_retry_at)
    .limit(bindparam("limit"))
)
_EARLIEST_DUE = select(func.min(PendingTimer.due_at)).where(
    PendingTimer.instance_id == bindparam("iid"), PendingTimer.due_at < bindparam("now")
)


def due_instances(session: Session, now: datetime, limit: int) -> list[int]:
    """Instances with a timer or deadline due before `now`, the most overdue first."""
    return [instance_id for instance_id, _ in session.execute(_DUE_INSTANCES, {"now": now, "limit": limit})]


def incidents_due(session: Session, now: datetime, limit: int) -> list[int]:
    """Open step incidents whose next retry is due."""
    return list(session.scalars(_INCIDENTS_DUE, {"now": now, "limit": limit}))


def claim_instance(session: Session, instance_id: int) -> bool:
    """Lock the instance for this transaction, or return False if another worker holds it (the row
    read is the one the firing then uses: no second read)."""
    return instances.claim_instance(session, instance_id)


def still_due(session: Session, instance_id: int, now: datetime) -> bool:
    """Re-check inside the claim: another worker may have fired it between listing and claiming."""
    return (
        session.scalar(
            select(PendingTimer.id)
            .where(PendingTimer.instance_id == instance_id, PendingTimer.due_at < now)
            .limit(1)
        )
        is not None
    )


def earliest_due(session: Session, instance_id: int, now: datetime) -> datetime | None:
    """The instance's earliest due time before `now`, or None when nothing of it is due any more."""
    return session.scalar(_EARLIEST_DUE, {"iid": instance_id, "now": now})


def next_due(session: Session) -> datetime | None:
    """The earliest pending due time (timers, deadlines and incident retries)."""
    timer = session.scalar(select(func.min(PendingTimer.due_at)))
    retry = session.scalar(
        select(func.min(Incident.next_retry_at)).where(
            Incident.status == IncidentStatus.OPEN, Incident.source == "step"
        )
    )
    candidates = [moment for moment in (timer, retry) if moment is not None]
    return min(candidates) if candidates else None
