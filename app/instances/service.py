"""The one place that changes a running routine: start, complete a task, deliver a message,
cancel, fire timers and retry incidents. Each call works inside the caller's transaction and
writes the instance state, the task projection, the timer index and the audit record together.

Failures split two ways. A task that fails (script, expression, service) leaves a consistent
state: it is saved with the task in error and an incident. Anything else raises RoutineFailed: the
caller rolls back and records the incident in a fresh transaction (see `perform`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.audit.service import Actor, record
from app.cases.models import Case
from app.cases.permissions import serves_unit
from app.db import Database, insert_now, transaction_store
from app.engine import (
    EngineFailure,
    EngineRefused,
    InstanceTooLarge,
    ProcessEngine,
    StepIncident,
    WorkflowHandle,
)
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.instances.deadlines import cancel_deadline, due_deadlines, schedule_deadline
from app.instances.expressions import bind_step_session
from app.instances.guards import run_guard
from app.instances.incidents import (
    RETRYABLE,
    RoutineFailed,
    close_open_incidents,
    count_retry,
    open_incident,
    record_failure,
    resolve,
)
from app.instances.models import HumanTask, Incident, IncidentStatus, InstanceStatus, ProcessInstance
from app.instances.persistence import CaseRef, Snapshot, save, snapshot, stored_snapshot, task_case_fields
from app.people.labels import ROLE_LABELS
from app.people.roles import DUTY
from app.process_models.service import load_bundle, runnable_bundle_hash, runnable_version

T = TypeVar("T")

# The task row (as plain columns) with its instance (as an object, locked): one statement.
_TASK_WITH_INSTANCE = (
    select(ProcessInstance, *HumanTask.__table__.c)
    .join_from(HumanTask.__table__, ProcessInstance, ProcessInstance.id == HumanTask.__table__.c.instance_id)
    .where(HumanTask.__table__.c.id == bindparam("task_id"))
    .with_for_update(of=ProcessInstance)
    .execution_options(populate_existing=True)
)

# The same for a case's open tasks (in task order): an action on a case names its step, not a task id.
_CASE_TASKS_WITH_INSTANCE = (
    select(ProcessInstance, *HumanTask.__table__.c)
    .join_from(HumanTask.__table__, ProcessInstance, ProcessInstance.id == HumanTask.__table__.c.instance_id)
    .where(HumanTask.__table__.c.case_id == bindparam("case_id"))
    .order_by(HumanTask.__table__.c.id)
    .with_for_update(of=ProcessInstance)
    .execution_options(populate_existing=True)
)

__all__ = [
    "RoutineFailed",
    "cancel_instance",
    "claim_instance",
    "complete_case_task",
    "complete_task",
    "deliver_message",
    "fire_timers",
    "perform",
    "retry_incident",
    "start_instance",
    "validate_form_data",
]


@dataclass
class InstanceContext:
    """The ServiceContext service tasks receive (tasks.context)."""

    session: Session
    instance: ProcessInstance
    actor: Actor
    engine: ProcessEngine | None = None
    _case_effects: Any = None

    @property
    def actor_user_id(self) -> int | None:
        return self.actor.user_id

    @property
    def case(self):
        """The case-level effects (app.cases.effects), when this routine runs for a case."""
        if self._case_effects is None and self.instance.case_id is not None:
            from app.cases.effects import CaseEffectsImpl

            case = self.session.get(Case, self.instance.case_id)
            self._case_effects = CaseEffectsImpl(self.session, case, self.actor, engine=self.engine)
        return self._case_effects

    def send_day_close_messages(self) -> dict:
        from app.cases.day_close import send_day_close_messages

        return send_day_close_messages(self.session, unit_id=self.instance.unit_id, actor=self.actor)

    def day_close_assignee(self) -> int | None:
        from app.people.service import duty_holder

        holder = duty_holder(self.session, self.instance.unit_id)
        return holder.user_id if holder else None

    def start_next_day_close(self) -> int:
        from app.cases.day_close import start_day_close

        return start_day_close(
            self.session, self.engine, unit_id=self.instance.unit_id, actor=self.actor, after=clock.now()
        ).id

    @property
    def instance_id(self) -> int:
        return self.instance.id

    @property
    def case_id(self) -> int | None:
        return self.instance.case_id

    @property
    def unit_id(self) -> int | None:
        return self.instance.unit_id

    def now(self) -> datetime:
        return clock.now()

    def audit(self, action: str, **details: Any) -> None:
        record(
            self.session, action, actor=self.actor, subject=("process_instance", self.instance.id), **details
        )

    def schedule_deadline(
        self,
        name: str,
        message_name: str,
        working_hours: float,
        *,
        start: datetime | None = None,
        unit_id: int | None = None,
    ) -> datetime:
        """A deadline `working_hours` of the unit's opening time from `start` (default now)."""
        row = schedule_deadline(
            self.session,
            instance_id=self.instance.id,
            name=name,
            message_name=message_name,
            unit_id=unit_id or self.instance.unit_id,
            start=start or clock.now(),
            working_hours=working_hours,
        )
        return row.due_at

    def cancel_deadline(self, name: str) -> None:
        cancel_deadline(self.session, instance_id=self.instance.id, name=name)


# --- public operations ------------------------------------------------------------------------


@bind_step_session
def start_instance(
    session: Session,
    engine: ProcessEngine,
    *,
    process_id: str,
    actor: Actor,
    case: Case | None = None,
    unit_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    business_key: str | None = None,
) -> ProcessInstance:
    """Start the version of `process_id` in effect now, for a case (or another business object)."""
    version = runnable_version(session, process_id)
    # The version's bundle with the processes it calls in their versions in effect now (pinned).
    bundle_hash = runnable_bundle_hash(session, version)
    loaded = _loaded(session, engine, bundle_hash)
    start_data = {
        "case_id": case.id if case else None,
        "unit_id": case.unit_id if case else unit_id,
        **dict(data or {}),
    }
    handle = engine.start(loaded, start_data)
    now = clock.now()
    instance = ProcessInstance(
        process_version_id=version.id,
        process_id=process_id,
        bundle_hash=bundle_hash,
        case_id=case.id if case else None,
        unit_id=case.unit_id if case else unit_id,
        business_key=business_key or (f"case:{case.id}" if case else None),
        status=InstanceStatus.RUNNING,
        state="",  # written by the first steps' save below (or, when they fail, the start state)
        started_by=actor.label,
        created_at=now,
        updated_at=now,
    )
    insert_now(session, instance)
    record(
        session,
        "instance:started",
        actor=actor,
        subject=("process_instance", instance.id),
        process_id=process_id,
        version=version.number,
        case_id=instance.case_id,
    )
    # The instance must exist even when its first steps fail (a resident's submitted case is never
    # lost to a broken routine): the steps run in a savepoint, and a failure leaves the instance at
    # its start with an incident.
    try:
        with session.begin_nested():
            _advance_and_save(session, instance, handle, actor, CaseRef.of(session, case), Snapshot())
    except RoutineFailed as failure:
        # The start state, rebuilt (the handle has run on): serialized only on this rare path.
        start_state = engine.start(loaded, start_data).serialize()
        session.execute(_START_STATE, {"iid": instance.id, "state": start_state})
        set_committed_value(instance, "state", start_state)
        if failure.stop:
            instance.status = InstanceStatus.STOPPED
        open_incident(session, instance.id, failure.element_id, None, failure.error_type, failure.message)
    return instance


@bind_step_session
def complete_task(
    session: Session,
    engine: ProcessEngine,
    *,
    task_id: int,
    actor: Actor,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> ProcessInstance:
    """Complete an open human task with form data, validated against the task's JSON Schema."""
    # One read for the task and its instance, the instance locked (PostgreSQL: a concurrent action
    # on the same instance waits here, then finds the task gone and gets a conflict).
    row = session.execute(_TASK_WITH_INSTANCE, {"task_id": task_id}).first()
    if row is None:
        raise Conflict("the task is no longer open: someone else completed it or the case moved on")
    return _complete_task(session, engine, row[0], row, actor, data, expected_version)


@bind_step_session
def complete_case_task(
    session: Session,
    engine: ProcessEngine,
    *,
    case_id: int,
    element_prefixes: tuple[str, ...],
    actor: Actor,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    not_waiting: str = "the case is not waiting for that step",
) -> ProcessInstance:
    """Complete the case's open task whose element id starts with one of `element_prefixes` (found and
    locked with its instance in the same read as `complete_task` does by id); `not_waiting` is the
    conflict's message when there is none."""
    rows = session.execute(_CASE_TASKS_WITH_INSTANCE, {"case_id": case_id}).all()
    for row in rows:
        if row.element_id.startswith(element_prefixes):
            other_rows = any(other.instance_id != row.instance_id for other in rows)
            return _complete_task(
                session, engine, row[0], row, actor, data, expected_version, other_rows=other_rows
            )
    raise Conflict(not_waiting)


def _complete_task(
    session: Session,
    engine: ProcessEngine,
    instance: ProcessInstance,
    task,
    actor: Actor,
    data: Mapping[str, Any],
    expected_version: int | None,
    *,
    other_rows: bool | None = None,
) -> ProcessInstance:
    if expected_version is not None and instance.version != expected_version:
        raise Conflict("someone else changed this case since you opened it", current_version=instance.version)
    meta = _loaded(session, engine, instance.bundle_hash).user_tasks.get(task.element_id)
    _require_may_act(session, actor, task, duty=meta is not None and meta.duty)
    handle = _open(session, engine, instance)
    before = snapshot(handle)
    view = handle.user_task(task.spiff_task_id)
    clean = validate_form_data(handle.loaded.forms.get(view.form_schema) if view.form_schema else None, data)
    run_guard(view.guard, session, instance, clean, actor)
    try:
        handle.complete_user_task(task.spiff_task_id, clean)
    except EngineRefused as exc:
        raise Conflict(str(exc)) from exc
    except EngineFailure as exc:
        raise _routine_failed(instance, exc) from exc
    record(
        session,
        "task:completed",
        actor=actor,
        subject=("process_instance", instance.id),
        element_id=view.element_id,
        task=view.name,
        case_id=instance.case_id,
    )
    _advance_and_save(
        session,
        instance,
        handle,
        actor,
        CaseRef(session, instance.case_id, task_case_fields(task), other_rows=other_rows),
        before,
    )
    return instance


@bind_step_session
def deliver_message(
    session: Session,
    engine: ProcessEngine,
    *,
    instance_id: int,
    name: str,
    actor: Actor,
    payload: Mapping[str, Any] | None = None,
    correlations: Mapping[str, Any] | None = None,
) -> ProcessInstance:
    """Deliver a message event (a patient's reply, a confirmation) to a waiting instance."""
    instance = _lock_instance(session, instance_id)
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"the routine has {instance.status.value}; it takes no more messages")
    handle = _open(session, engine, instance)
    before = snapshot(handle)
    try:
        handle.send_message(name, payload, correlations)
    except EngineRefused as exc:
        raise Conflict(str(exc)) from exc
    except EngineFailure as exc:  # catching the message failed: the sender's action rolls back
        raise _routine_failed(instance, exc) from exc
    record(session, "instance:message", actor=actor, subject=("process_instance", instance.id), message=name)
    _advance_and_save(session, instance, handle, actor, CaseRef(session, instance.case_id), before)
    return instance


@bind_step_session
def cancel_instance(
    session: Session, engine: ProcessEngine, *, instance_id: int, actor: Actor, reason: str
) -> ProcessInstance:
    """Cancel a running instance; its open tasks and timers go with it."""
    instance = _lock_instance(session, instance_id)
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"the routine has already {instance.status.value}")
    handle = _open(session, engine, instance)
    before = snapshot(handle)
    handle.cancel()
    record(
        session, "instance:cancelled", actor=actor, subject=("process_instance", instance.id), reason=reason
    )
    instance.status = InstanceStatus.CANCELLED
    save(session, instance, handle, CaseRef(session, None), before)
    close_open_incidents(session, instance.id, actor, reason="instance cancelled")
    return instance


@bind_step_session
def fire_timers(
    session: Session, engine: ProcessEngine, *, instance_id: int, actor: Actor
) -> ProcessInstance:
    """Fire what is due on an instance: its product deadlines (as messages) and its BPMN timers."""
    instance = _lock_instance(session, instance_id)
    handle = _open(session, engine, instance)
    if instance.status != InstanceStatus.RUNNING:
        save(session, instance, handle, CaseRef(session, None), stored_snapshot(session, instance.id))
        return instance
    before = snapshot(handle)
    waiting = set(handle.waiting_messages())
    for deadline in due_deadlines(session, instance.id, clock.now()):
        session.delete(deadline)
        if deadline.message_name in waiting:
            try:
                handle.send_message(
                    deadline.message_name,
                    {"deadline": deadline.element_id, "due_at": deadline.due_at.isoformat()},
                )
            except EngineFailure as exc:
                raise _routine_failed(instance, exc) from exc
            waiting = set(handle.waiting_messages())
            record(
                session,
                "deadline:fired",
                actor=actor,
                subject=("process_instance", instance.id),
                deadline=deadline.element_id,
                message=deadline.message_name,
            )
        else:
            record(
                session,
                "deadline:expired_unheard",
                actor=actor,
                subject=("process_instance", instance.id),
                deadline=deadline.element_id,
                message=deadline.message_name,
            )
    record(
        session,
        "instance:timers_fired",
        actor=actor,
        subject=("process_instance", instance.id),
        due=[t.element_id for t in handle.timers() if t.due_at < clock.now()],
    )
    _advance_and_save(session, instance, handle, actor, CaseRef(session, instance.case_id), before)
    return instance


@bind_step_session
def retry_incident(session: Session, engine: ProcessEngine, *, incident_id: int, actor: Actor) -> Incident:
    """Retry the failed step of an open incident; it resolves or counts one more retry."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.status != IncidentStatus.OPEN:
        raise NotFound("no open incident with that id")
    instance = _lock_instance(session, incident.instance_id)
    if instance.status not in RETRYABLE:
        raise Conflict(f"the routine has {instance.status.value}: its incidents are not retried")
    handle = _open(session, engine, instance)
    before = stored_snapshot(session, instance.id)  # a stopped instance's rows were removed
    handle.retry_failed()
    if instance.status == InstanceStatus.STOPPED:
        instance.status = InstanceStatus.RUNNING
    step = _advance_and_save(
        session, instance, handle, actor, CaseRef(session, instance.case_id), before, record_incident=False
    )
    if step is None:
        if incident.status == IncidentStatus.OPEN:  # not already closed by the instance completing
            resolve(session, incident, actor)
    else:
        count_retry(incident, step.message)
        record(
            session,
            "incident:retry_failed",
            actor=actor,
            subject=("incident", incident.id),
            error=step.message,
        )
    return incident


def perform(database: Database, action: Callable[[Session], T]) -> T:
    """Run one unit of work; when the routine fails, roll back and record the incident on its own."""
    try:
        with database.transaction() as session:
            return action(session)
    except RoutineFailed as failure:
        with database.transaction() as session:
            record_failure(session, failure)
        raise


def validate_form_data(schema: dict | None, data: Mapping[str, Any]) -> dict:
    """Validate submitted form data against its JSON Schema; field errors raise ValidationFailed."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("the form data must be an object", {"": ["expected an object"]})
    if schema is None:
        return dict(data)
    # Fields left out take the schema's defaults, so a diagram can read every field of its form.
    data = {
        **{
            k: v["default"]
            for k, v in (schema.get("properties") or {}).items()
            if isinstance(v, dict) and "default" in v
        },
        **dict(data),
    }
    errors: dict[str, list[str]] = {}
    for error in _validator(schema).iter_errors(dict(data)):
        path = "/".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = f"{path}/{missing}".strip("/")
            message = "required"
        else:
            message = _schema_message(error)
        errors.setdefault(path, []).append(message)
    if errors:
        raise ValidationFailed("the form has errors", errors)
    return dict(data)


# --- internals --------------------------------------------------------------------------------

# Short messages per JSON Schema keyword, built from the schema's own limits only: jsonschema's
# messages quote the submitted value (a patient's free text, megabytes of it) and are in English.
_TYPE_NAMES = {
    "string": "en text",
    "integer": "ett heltal",
    "number": "ett tal",
    "boolean": "ja eller nej",
    "object": "ett objekt",
    "array": "en lista",
    "null": "tomt",
}
_LIMIT_MESSAGES = {
    "maxLength": "högst {} tecken",
    "minLength": "minst {} tecken",
    "maximum": "högst {}",
    "minimum": "minst {}",
    "exclusiveMaximum": "mindre än {}",
    "exclusiveMinimum": "större än {}",
    "maxItems": "högst {} val",
    "minItems": "minst {} val",
    "maxProperties": "högst {} fält",
    "minProperties": "minst {} fält",
    "multipleOf": "ska vara en multipel av {}",
}
_FIXED_MESSAGES = {
    "enum": "inte ett av de tillåtna värdena",
    "const": "inte det tillåtna värdet",
    "pattern": "har fel format",
    "format": "har fel format",
    "uniqueItems": "samma val förekommer flera gånger",
    "additionalProperties": "innehåller fält som inte hör till formuläret",
    "unevaluatedProperties": "innehåller fält som inte hör till formuläret",
    "propertyNames": "innehåller fält som inte hör till formuläret",
    "additionalItems": "innehåller för många värden",
    "unevaluatedItems": "innehåller för många värden",
}


def _schema_message(error) -> str:
    """A field error in plain words, from the failed keyword and the schema's limit; never the value."""
    keyword, limit = error.validator, error.validator_value
    if keyword in _LIMIT_MESSAGES and isinstance(limit, int | float) and not isinstance(limit, bool):
        return _LIMIT_MESSAGES[keyword].format(limit)
    if keyword == "type":
        names = [_TYPE_NAMES.get(t, str(t)) for t in (limit if isinstance(limit, list) else [limit])]
        return "ska vara " + " eller ".join(names)
    return _FIXED_MESSAGES.get(keyword, "ogiltigt värde")


# Validators by schema object: a deployed bundle's forms are parsed once and cached with its spec, so
# the same schema object comes back on every step; building a validator costs more than validating.
_VALIDATORS: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator(schema: dict) -> Draft202012Validator:
    held = _VALIDATORS.get(id(schema))
    if held is not None and held[0] is schema:
        return held[1]
    validator = Draft202012Validator(schema)
    if len(_VALIDATORS) > 512:  # a bound, not an LRU: schemas of retired bundles simply age out
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def _loaded(session: Session, engine: ProcessEngine, bundle_hash: str):
    return engine.loaded(bundle_hash, lambda: load_bundle(session, bundle_hash))


def _open(session: Session, engine: ProcessEngine, instance: ProcessInstance) -> WorkflowHandle:
    # Keyed by the instance: the workflow this process committed last for it is used when the state
    # just read (under the instance's lock) is the one it wrote (see persistence.save).
    return engine.restore(_loaded(session, engine, instance.bundle_hash), instance.state, key=instance.id)


# The row was inserted by this transaction: nobody else can have changed it, no version check needed.
_START_STATE = (
    update(ProcessInstance.__table__)
    .where(ProcessInstance.__table__.c.id == bindparam("iid"))
    .values(state=bindparam("state"))
)
_LOCK_INSTANCE = (
    select(ProcessInstance)
    .where(ProcessInstance.id == bindparam("iid"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_CLAIM_INSTANCE = (
    select(ProcessInstance)
    .where(ProcessInstance.id == bindparam("iid"))
    .with_for_update(skip_locked=True)
    .execution_options(populate_existing=True)
)


def claim_instance(session: Session, instance_id: int) -> bool:
    """Lock the instance for this transaction unless another one holds it (PostgreSQL: SKIP LOCKED;
    SQLite serialises writers anyway). The row read is the one the next operation on it uses."""
    statement = _CLAIM_INSTANCE if session.get_bind().dialect.name == "postgresql" else _LOCK_INSTANCE
    instance = session.scalar(statement, {"iid": instance_id})
    if instance is None:
        return False
    transaction_store(session, "claimed_instances")[instance_id] = instance
    return True


def _lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    # FOR UPDATE on PostgreSQL: a second concurrent action on the same instance waits, then sees the
    # first one's result instead of overwriting it. SQLite serialises writers (BEGIN IMMEDIATE).
    # A row claimed (locked and read) earlier in this transaction is used once without a second read.
    claimed = transaction_store(session, "claimed_instances").pop(instance_id, None)
    if claimed is not None:
        return claimed
    instance = session.scalar(_LOCK_INSTANCE, {"iid": instance_id})
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    return instance


def _require_may_act(session: Session, actor: Actor, task, *, duty: bool) -> None:
    """May the actor complete `task`: at its unit (or the unit covering it today, OG-9.2), in its lane's
    role and not a colleague's, unless it is a task of the overall-responsible duty (`duty`: marked so
    in the diagram, e.g. Dagens stängning and the suicide-risk escalation; the holder may be a doctor or
    a physiotherapist, the duty is no role, OG-10.1-a) and the actor holds the duty or was assigned it."""
    if not serves_unit(session, actor, task.unit_id):
        raise Forbidden(_l("Uppgiften hör till en annan enhet än den du arbetar för nu."))
    if duty and (DUTY in actor.roles or task.owner_user_id == actor.user_id):
        return  # the duty's task: whatever lane, and whoever the case was on (OG-10.1-a)
    if task.role is not None and task.role.value not in actor.roles:
        raise Forbidden(
            _l(
                "Uppgiften är för yrkesrollen %(role)s, som du inte har på enheten.",
                role=ROLE_LABELS[task.role.value],  # in the reader's language
            ),
            rule="OG-5",
        )
    if task.owner_user_id is not None and task.owner_user_id != actor.user_id and DUTY not in actor.roles:
        raise Forbidden(
            _l(
                "Ärendet ligger på en kollega: be kollegan lämna över det, eller övergripande ansvarig "
                "flytta det till yrkesrollens kö."
            ),
            rule="OG-6.1-j",
        )


def _routine_failed(instance: ProcessInstance, failure: EngineFailure) -> RoutineFailed:
    """The engine failed in the middle of an action on `instance`: the action rolls back and the
    caller records the incident (nothing half-done is kept)."""
    return RoutineFailed(
        str(failure),
        instance_id=instance.id,
        element_id=failure.element_id,
        error_type=failure.error_type or "EngineFailure",
    )


def _advance_and_save(
    session: Session,
    instance: ProcessInstance,
    handle: WorkflowHandle,
    actor: Actor,
    case: CaseRef,
    before: Snapshot,
    *,
    record_incident: bool = True,
) -> StepIncident | None:
    try:
        step = handle.advance(InstanceContext(session, instance, actor, handle.engine))
    except InstanceTooLarge as exc:
        raise RoutineFailed(
            str(exc), instance_id=instance.id, element_id=None, error_type="InstanceTooLarge", stop=True
        ) from exc
    except EngineFailure as exc:
        raise _routine_failed(instance, exc) from exc
    with session.no_autoflush:  # the instance row is written once, by save()
        if handle.completed:
            record(session, "instance:completed", actor=actor, subject=("process_instance", instance.id))
            # Written by save()'s UPDATE: set without marking the object dirty for a later flush.
            set_committed_value(instance, "status", InstanceStatus.COMPLETED)
            set_committed_value(instance, "completed_at", clock.now())
        save(session, instance, handle, case, before)
    if handle.completed:
        close_open_incidents(session, instance.id, actor, reason="instance completed")
    if step is not None and record_incident:
        open_incident(session, instance.id, step.element_id, step.element_name, step.error_type, step.message)
    return step
