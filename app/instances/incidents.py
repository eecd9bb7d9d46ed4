"""Incidents: a failure while advancing an instance, visible and retried with backoff."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.errors import DomainError
from app.instances.models import HumanTask, Incident, IncidentStatus, InstanceStatus, ProcessInstance

RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
# An incident is retried only while its instance may still advance; a cancelled or completed
# instance's service tasks must never run again.
RETRYABLE = frozenset({InstanceStatus.RUNNING, InstanceStatus.STOPPED})


class RoutineFailed(DomainError):
    """Advancing failed without a consistent state to keep: the action is rolled back."""

    status = 500
    code = "routine_failed"

    def __init__(
        self, message: str, *, instance_id: int, element_id: str | None, error_type: str, stop: bool = False
    ):
        super().__init__(message, instance_id=instance_id, element_id=element_id)
        self.instance_id = instance_id
        self.element_id = element_id
        self.error_type = error_type
        self.stop = stop  # a guard rail tripped: the instance is stopped, not only failed


def open_incident(
    session: Session,
    instance_id: int,
    element_id: str | None,
    element_name: str | None,
    error_type: str,
    message: str,
) -> Incident:
    """Open an incident for a failed element (or count a retry on the one already open)."""
    existing = session.scalar(
        select(Incident).where(
            Incident.instance_id == instance_id,
            Incident.status == IncidentStatus.OPEN,
            Incident.element_id == element_id,
        )
    )
    if existing is not None:
        count_retry(existing, message)
        return existing
    now = clock.now()
    incident = Incident(
        instance_id=instance_id,
        element_id=element_id,
        element_name=element_name,
        error_type=error_type,
        message=message,
        created_at=now,
        next_retry_at=now + RETRY_BACKOFF[0],
    )
    session.add(incident)
    session.flush()
    record(
        session,
        "incident:opened",
        actor=Actor.system("engine"),
        subject=("incident", incident.id),
        instance_id=instance_id,
        element_id=element_id,
        error=message[:500],
    )
    return incident


def count_retry(incident: Incident, message: str) -> None:
    incident.retries += 1
    incident.message = message
    incident.next_retry_at = clock.now() + RETRY_BACKOFF[min(incident.retries, len(RETRY_BACKOFF) - 1)]


def resolve(session: Session, incident: Incident, actor: Actor, *, reason: str | None = None) -> None:
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = clock.now()
    incident.resolved_by = actor.label
    incident.next_retry_at = None
    details = {"reason": reason} if reason else {}
    record(
        session,
        "incident:resolved",
        actor=actor,
        subject=("incident", incident.id),
        instance_id=incident.instance_id,
        **details,
    )


def close_open_incidents(session: Session, instance_id: int, actor: Actor, *, reason: str) -> None:
    """Close the open incidents of an instance that ended (cancelled or completed): nothing of it
    may be retried any more."""
    for incident in session.scalars(_OPEN_INCIDENTS, {"iid": instance_id}).all():
        resolve(session, incident, actor, reason=reason)


_OPEN_INCIDENTS = select(Incident).where(
    Incident.instance_id == bindparam("iid"), Incident.status == IncidentStatus.OPEN
)


def record_failed_retry(
    session: Session, incident_id: int, error_type: str, message: str, *, stop: bool = False
) -> Incident | None:
    """A retry failed and was rolled back: count it on the incident, which backs off (never left due).
    A guard rail that tripped again keeps (or puts) the instance stopped."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.status != IncidentStatus.OPEN:
        return None
    instance = session.get(ProcessInstance, incident.instance_id)
    if stop and instance is not None and instance.status == InstanceStatus.RUNNING:
        instance.status = InstanceStatus.STOPPED
        session.execute(delete(HumanTask.__table__).where(HumanTask.__table__.c.instance_id == instance.id))
    count_retry(incident, message)
    record(
        session,
        "incident:retry_failed",
        actor=Actor.system("engine"),
        subject=("incident", incident.id),
        error_type=error_type,
        error=message[:500],
    )
    return incident


def record_failure(session: Session, failure: RoutineFailed) -> Incident:
    """Record a RoutineFailed as an incident (after the failed action was rolled back)."""
    instance = session.get(ProcessInstance, failure.instance_id)
    if failure.stop and instance is not None:
        instance.status = InstanceStatus.STOPPED
        session.execute(delete(HumanTask.__table__).where(HumanTask.__table__.c.instance_id == instance.id))
    return open_incident(
        session, failure.instance_id, failure.element_id, None, failure.error_type, failure.message
    )
