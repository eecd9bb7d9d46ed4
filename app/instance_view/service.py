"""The instance page: who may see it, what it shows (state on the diagram, history, task data for
those allowed, incidents) and the retry of an incident.

Who may see an instance: the overall responsible on duty at its unit, its unit's head of unit
(Verksamhetschef), and process owners. Task data (which carries a patient's case) only for those
who may read the case by the case page's rules (app.cases.permissions) and work with cases or lead
the unit: a process owner alone sees the routine's state, not the patient. Showing task data of a
patient's case writes the access log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.service import Actor, log_access
from app.cases.models import Case
from app.cases.permissions import DUTY, can_read
from app.db import Database
from app.engine import ProcessEngine
from app.errors import Forbidden, NotFound
from app.instances import service as instances
from app.instances.models import Incident, IncidentStatus, ProcessInstance
from app.people.roles import CASE_ROLES, Role
from app.process_models.models import ProcessModel, ProcessVersion
from app.process_models.service import load_bundle

_DATA_ROLES = {r.value for r in CASE_ROLES} | {Role.HEAD_OF_UNIT.value, DUTY}


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str  # empty when the actor was a resident and the viewer may not see patient data
    action: str
    what: str
    by_resident: bool = False


@dataclass
class InstancePage:
    instance: ProcessInstance
    process_name: str
    version_number: int
    element_states: dict[str, str]
    element_names: dict[str, str]
    history: list[HistoryEntry]
    incidents: list[Incident]
    data: dict[str, Any] | None  # None: not shown to this viewer
    patient_name: str | None
    may_retry: bool
    may_migrate: bool
    diagram_has_layout: bool = True
    open_tasks: list[str] = field(default_factory=list)


def _sees_unit(actor: Actor, instance: ProcessInstance) -> bool:
    return (
        actor.unit_id is not None
        and actor.unit_id == instance.unit_id
        and (DUTY in actor.roles or Role.HEAD_OF_UNIT.value in actor.roles)
    )


def _is_process_owner(actor: Actor) -> bool:
    return Role.PROCESS_OWNER.value in actor.roles


def require_view(session: Session, *, actor: Actor, instance_id: int) -> ProcessInstance:
    """The instance, or Forbidden for anyone who may not see it."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("Instansen finns inte.")
    if actor.user_id is None or not (_sees_unit(actor, instance) or _is_process_owner(actor)):
        raise Forbidden(
            "Instanssidan visas för övergripande ansvarig, verksamhetschefen och processägare.",
            instance_id=instance_id,
            patient_id=None,
        )
    return instance


def may_see_data(session: Session, actor: Actor, instance: ProcessInstance, case: Case | None) -> bool:
    """Task data: for those who may read the case and work with cases or lead the unit."""
    if not (_DATA_ROLES & set(actor.roles)):
        return False
    if case is None:
        return _sees_unit(actor, instance)
    return can_read(session, actor, case)


def _case_of(session: Session, instance: ProcessInstance, data: dict) -> Case | None:
    """The case whose patient the instance's data is about: its own, or the one a routine started for a
    case carries (a test-result follow-up names it in `for_case_id`), so its data is read like the case's."""
    case_id = instance.case_id
    if (
        case_id is None
        and isinstance(data.get("for_case_id"), int)
        and not isinstance(data["for_case_id"], bool)
    ):
        case_id = data["for_case_id"]
    return session.get(Case, case_id) if case_id is not None else None


def instance_page(
    session: Session, engine: ProcessEngine, *, actor: Actor, instance_id: int, context: str
) -> InstancePage:
    """Everything the instance page shows to this viewer (access-logged when it shows a patient's data)."""
    instance = require_view(session, actor=actor, instance_id=instance_id)
    version = session.get(ProcessVersion, instance.process_version_id)
    model = session.get(ProcessModel, version.process_model_id)
    loaded = engine.loaded(instance.bundle_hash, lambda: load_bundle(session, instance.bundle_hash))
    handle = engine.restore(loaded, instance.state)
    incidents = list(
        session.scalars(
            select(Incident).where(Incident.instance_id == instance.id).order_by(Incident.created_at.desc())
        )
    )
    case = _case_of(session, instance, handle.data)
    show_data = may_see_data(session, actor, instance, case)
    data = None
    patient_name = None
    if show_data:
        data = {
            k: v
            for k, v in sorted(handle.data.items())
            if isinstance(v, str | int | float | bool) or v is None
        }
        if case is not None:
            patient_name = case.patient.display_name
            log_access(
                session,
                actor=actor,
                action="instance:view",
                patient_ids=[case.patient_id],
                case_id=case.id,
                context=context,
            )
    return InstancePage(
        instance=instance,
        process_name=model.name,
        version_number=version.number,
        element_states=handle.element_states(),
        element_names=dict(loaded.element_names),
        history=_history(
            session, instance, [i.id for i in incidents], loaded.element_names, patient_data=show_data
        ),
        incidents=incidents,
        data=data,
        patient_name=patient_name,
        may_retry=_sees_unit(actor, instance) or _is_process_owner(actor),
        may_migrate=_is_process_owner(actor),
        # bpmn-js cannot draw a diagram without layout (DI): the page then shows the table only.
        diagram_has_layout="BPMNDiagram" in load_bundle(session, instance.bundle_hash).entry_text,
        open_tasks=[view.name for view in handle.ready_user_tasks()],
    )


def _history(
    session: Session,
    instance: ProcessInstance,
    incident_ids: list[int],
    names: dict[str, str],
    *,
    patient_data: bool,
) -> list[HistoryEntry]:
    """Audit events of the instance and its incidents, oldest first: who did what, when.

    A resident's name (the actor of a submitted case) and free-text reasons are patient data: a
    viewer without access to the case sees "the resident" and no reason."""
    condition = and_(AuditEvent.subject_type == "process_instance", AuditEvent.subject_id == str(instance.id))
    if incident_ids:
        condition = or_(
            condition,
            and_(
                AuditEvent.subject_type == "incident",
                AuditEvent.subject_id.in_([str(i) for i in incident_ids]),
            ),
        )
    events = session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.at, AuditEvent.id))
    entries = []
    for event in events:
        details = event.details or {}
        element = details.get("element_id")
        what = (
            details.get("task")
            or (names.get(element, element) if element else "")
            or details.get("message")
            or (details.get("reason") if patient_data else "")
            or ""
        )
        if event.action == "instance:migrated":
            what = f"{details.get('from_version')} → {details.get('to_version')}"
        resident = event.actor_user_id is None and not event.actor_label.startswith("system:")
        who = event.actor_label if patient_data or not resident else ""
        entries.append(HistoryEntry(event.at, who, event.action, str(what), resident))
    return entries


def diagram_xml(session: Session, *, actor: Actor, instance_id: int) -> str:
    """The BPMN of the version the instance runs on."""
    instance = require_view(session, actor=actor, instance_id=instance_id)
    return load_bundle(session, instance.bundle_hash).entry_text


def retry(
    database: Database, engine: ProcessEngine, *, actor: Actor, instance_id: int, incident_id: int
) -> Incident:
    """Retry an open incident of this instance (its own transaction; a failure is recorded, not lost)."""
    with database.transaction() as session:
        instance = require_view(session, actor=actor, instance_id=instance_id)
        incident = session.get(Incident, incident_id)
        if incident is None or incident.instance_id != instance.id or incident.status != IncidentStatus.OPEN:
            raise NotFound("Det finns ingen öppen incident med det numret för instansen.")
    return instances.perform(
        database, lambda s: instances.retry_incident(s, engine, incident_id=incident_id, actor=actor)
    )
