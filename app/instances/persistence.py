"""Saving a step: the instance state, the open-task projection and the timer index, together.

The projection and the timer index always mirror the saved state (they are written in the same
transaction), so the rows a step replaces are known from the state it restored: no read needed.
They are written with Core statements; this runs on every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.cases.models import Case, CaseState
from app.db import on_commit, transaction_store
from app.engine import WorkflowHandle
from app.errors import Conflict
from app.instances.models import HumanTask, InstanceStatus, PendingTimer, ProcessInstance, TimerKind
from app.patients.models import Patient, Protection
from app.people.roles import Role

# PostgreSQL channel a step notifies when it adds or moves a timer: sleeping workers wake at once.
TIMER_CHANNEL = "vardflode_timers"

_TASKS = HumanTask.__table__
_TIMERS = PendingTimer.__table__

# Prepared once: these run on every step, and building statements costs more than running them.
_DELETE_TASKS = delete(_TASKS).where(
    _TASKS.c.instance_id == bindparam("iid"), _TASKS.c.spiff_task_id.in_(bindparam("ids", expanding=True))
)
_DUE_TASK = (
    update(_TASKS)
    .where(_TASKS.c.instance_id == bindparam("iid"), _TASKS.c.spiff_task_id == bindparam("tid"))
    .values(due_at=bindparam("due"))
)
_INSERT_TASKS = insert(_TASKS)
_DELETE_TIMERS = delete(_TIMERS).where(
    _TIMERS.c.instance_id == bindparam("iid"), _TIMERS.c.spiff_task_id.in_(bindparam("ids", expanding=True))
)
_DELETE_ALL_TIMERS = delete(_TIMERS).where(_TIMERS.c.instance_id == bindparam("iid"))
_DUE_TIMER = (
    update(_TIMERS)
    .where(_TIMERS.c.instance_id == bindparam("iid"), _TIMERS.c.spiff_task_id == bindparam("tid"))
    .values(due_at=bindparam("due"))
)
_INSERT_TIMERS = insert(_TIMERS)
_NOTIFY = text(f"SELECT pg_notify('{TIMER_CHANNEL}', '')")
_INSTANCES = ProcessInstance.__table__
_UPDATE_INSTANCE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("iid"), _INSTANCES.c.version == bindparam("expected"))
    .values(
        **{
            name: bindparam(name)
            for name in (
                "state",
                "task_count",
                "tree_depth",
                "updated_at",
                "status",
                "completed_at",
                "version",
            )
        }
    )
)


@dataclass
class Snapshot:
    """What the saved state had open: ready user tasks and pending timers, with their due times."""

    tasks: dict[str, datetime | None] = field(default_factory=dict)
    timers: dict[str, datetime] = field(default_factory=dict)
    timer_elements: dict[str, str] = field(default_factory=dict)  # timer task id -> BPMN element id


def snapshot(handle: WorkflowHandle) -> Snapshot:
    tasks, timers = handle.open_work()
    return Snapshot(
        tasks=tasks,
        timers={t.task_id: t.due_at for t in timers},
        timer_elements={t.task_id: t.element_id for t in timers},
    )


def stored_snapshot(session: Session, instance_id: int) -> Snapshot:
    """The rows as stored (used where the state and the rows may differ, e.g. after a stop)."""
    tasks = dict(
        session.execute(
            select(_TASKS.c.spiff_task_id, _TASKS.c.due_at).where(_TASKS.c.instance_id == instance_id)
        ).all()
    )
    timers = dict(
        session.execute(
            select(_TIMERS.c.spiff_task_id, _TIMERS.c.due_at).where(
                _TIMERS.c.instance_id == instance_id, _TIMERS.c.kind == TimerKind.BPMN.value
            )
        ).all()
    )
    return Snapshot(tasks, timers)


class CaseRef:
    """The task-row copy of an instance's case fields, read only when a step needs it."""

    def __init__(
        self,
        session: Session,
        case_id: int | None,
        fields: dict[str, Any] | None = None,
        *,
        other_rows: bool | None = None,
    ):
        self._session, self._case_id, self._fields = session, case_id, fields
        # Whether the case has open task rows of other instances than the one being saved (None:
        # not known); False lets a step's reprojection skip rows that the save itself replaces.
        self.other_rows = other_rows

    @classmethod
    def of(cls, session: Session, case: Case | None) -> CaseRef:
        return cls(session, case.id if case else None, case_fields(case))

    def fields(self) -> dict[str, Any]:
        if self._case_id is not None:
            # A service task of this step may have changed the case (owner, role...): when the case is
            # loaded in the session, its current values win over what the step started with.
            loaded = self._session.identity_map.get(self._session.identity_key(Case, self._case_id))
            if loaded is not None:
                return case_fields(loaded)
        if self._fields is None:
            self._fields = (
                _case_fields_by_id(self._session, self._case_id)
                if self._case_id is not None
                else case_fields(None)
            )
        return self._fields


CASE_COLUMNS = (
    "case_id",
    "case_kind",
    "case_state",
    "priority",
    "search_reason",
    "owner_user_id",
    "patient_answered",
    "case_started",
    "waiting_since",
    "patient_id",
    "patient_name",
    "patient_birth_date",
    "patient_protected",
)


def case_fields(case: Case | None) -> dict[str, Any]:
    """The task-row copy of a case's fields (ownership included: the case is its one source of truth)."""
    if case is None:
        return {"owner_user_id": None}
    patient = case.patient
    return _fields(
        case.id,
        case.kind.value,
        case.state,
        case.priority,
        case.search_reason,
        case.owner_user_id,
        case.patient_answered,
        case.submitted_at,
        patient,
    )


def task_case_fields(task) -> dict[str, Any]:
    """The case fields an existing task row already carries (they are kept in line with the case)."""
    return {name: getattr(task, name) for name in CASE_COLUMNS}


def _fields(case_id, kind, state, priority, reason, owner, answered, submitted_at, patient) -> dict[str, Any]:
    state = CaseState(state)
    fields = {
        "case_id": case_id,
        "case_kind": kind,
        "case_state": state.value,
        "priority": priority,
        "search_reason": reason,
        "owner_user_id": owner,
        "patient_answered": answered,
        "case_started": state in (CaseState.STARTED, CaseState.HANDED_OVER),
        "waiting_since": submitted_at,
    }
    if patient is not None:
        fields.update(
            patient_id=patient.id,
            patient_name=patient.display_name,
            patient_birth_date=patient.birth_date,
            patient_protected=patient.is_protected,
        )
    return fields


def _case_fields_by_id(session: Session, case_id: int) -> dict[str, Any]:
    c, p = Case.__table__.c, Patient.__table__.c
    row = session.execute(
        select(
            c.id,
            c.kind,
            c.state,
            c.priority,
            c.search_reason,
            c.owner_user_id,
            c.patient_answered,
            c.submitted_at,
            p.id,
            p.given_name,
            p.family_name,
            p.birth_date,
            p.protection,
        )
        .join_from(Case.__table__, Patient.__table__, c.patient_id == p.id)
        .where(c.id == case_id)
    ).one()
    fields = _fields(*row[:8], None)
    fields.update(
        patient_id=row[8],
        patient_name=f"{row[9]} {row[10]}",
        patient_birth_date=row[11],
        patient_protected=Protection(row[12]) in (Protection.CLAIMED, Protection.CONFIRMED),
    )
    return fields


def new_case_projected(session: Session, case: Case) -> None:
    """A case created in this transaction has no task rows yet: note that they (vacuously) carry its
    fields, so reprojecting it before a change the worklist shows writes nothing."""
    transaction_store(session, "projected")[case.id] = case_fields(case)


def defer_reprojection(session: Session, case: Case) -> None:
    """`reproject_case` for a change made while a step of the case's routine runs: the step's save
    writes it after replacing the task rows (often there is then nothing left to update)."""
    if transaction_store(session, "projected").get(case.id) == case_fields(case):
        return
    transaction_store(session, "projection_deferred")[case.id] = case


def reproject_case(session: Session, case: Case) -> int:
    """After a case changed (owner, priority, state...), bring its open task rows in line; returns rows
    touched. Skipped when this transaction already wrote exactly these values (a chat message changes
    nothing the worklist shows most of the time)."""
    fields = case_fields(case)
    written = transaction_store(session, "projected")
    if written.get(case.id) == fields:
        return 0
    written[case.id] = fields
    return session.execute(
        _reproject_statement(frozenset(fields)),
        {"where_case_id": case.id, **{f"v_{k}": v for k, v in fields.items()}},
    ).rowcount


_REPROJECT: dict[frozenset, Any] = {}


def _reproject_statement(names: frozenset):
    # Built once per set of fields (in practice one), values bound at execution. The bind names carry
    # a prefix: a bindparam named like a column of the SET clause is reserved by SQLAlchemy.
    statement = _REPROJECT.get(names)
    if statement is None:
        statement = _REPROJECT[names] = (
            update(_TASKS)
            .where(_TASKS.c.case_id == bindparam("where_case_id"))
            .values(**{name: bindparam(f"v_{name}") for name in sorted(names)})
        )
    return statement


def save(
    session: Session, instance: ProcessInstance, handle: WorkflowHandle, case: CaseRef, before: Snapshot
) -> None:
    """Write the instance state with its projection and timer rows; a concurrent change is a Conflict."""
    if instance.id is None:
        session.flush()
    size = handle.size()
    values = {
        "state": handle.serialize(),
        "task_count": size.tasks,
        "tree_depth": size.depth,
        "updated_at": clock.now(),
        "status": instance.status,
        "completed_at": instance.completed_at,
        "version": instance.version + 1,
    }
    running = instance.status == InstanceStatus.RUNNING
    after = snapshot(handle) if running else Snapshot()
    transaction_store(session, "projected").pop(
        instance.case_id, None
    )  # the rows written below carry the case's fields anew
    deferred = (
        transaction_store(session, "projection_deferred").pop(instance.case_id, None)
        if instance.case_id is not None
        else None
    )
    if not running:  # a finished instance keeps no deadlines either
        session.execute(_DELETE_ALL_TIMERS, {"iid": instance.id})
    with session.no_autoflush:  # one flush for the whole save, not one per statement
        _write_tasks(session, instance, handle, case, before.tasks, after.tasks)
        if deferred is not None and (
            case.other_rows is not False or any(task_id in after.tasks for task_id in before.tasks)
        ):
            # Rows this save kept (or other instances' rows) still carry the fields from before the step.
            reproject_case(session, deferred)
        if running:  # (a finished instance's timer rows are all gone already)
            _write_timers(session, instance, before.timers, after)
        # The version check by hand, as a Core UPDATE: the ORM's flush machinery costs more than
        # the statement on this path. A stale version matches no row: a conflict, not an overwrite.
        result = session.execute(
            _UPDATE_INSTANCE, {**values, "iid": instance.id, "expected": instance.version}
        )
        if result.rowcount != 1:
            raise Conflict("someone else changed this case at the same moment; nothing was overwritten")
        for key, value in values.items():
            set_committed_value(instance, key, value)
    # Once committed, the next action on this running instance in this process can skip deserializing
    # the state it just wrote (the engine checks it against the state read then).
    if running:
        instance_id = instance.id
        on_commit(session, ("keep_workflow", instance_id), lambda: handle.engine.keep(instance_id, handle))


def _role(lane: str | None) -> Role | None:
    try:
        return Role(lane) if lane else None
    except ValueError:
        return None


def _write_tasks(session, instance, handle, case: CaseRef, before: dict, after: dict) -> None:
    gone = [task_id for task_id in before if task_id not in after]
    if gone:
        session.execute(_DELETE_TASKS, {"iid": instance.id, "ids": gone})
    new = [task_id for task_id in after if task_id not in before]
    for task_id in after:
        if task_id in before and before[task_id] != after[task_id]:
            session.execute(_DUE_TASK, {"iid": instance.id, "tid": task_id, "due": after[task_id]})
    if not new:
        return
    now = clock.now()
    rows = []
    for task_id in new:
        view = handle.user_task(task_id)
        rows.append(
            {
                "instance_id": instance.id,
                "spiff_task_id": task_id,
                "element_id": view.element_id,
                "title": view.name,
                "process_id": instance.process_id,
                "process_version_id": instance.process_version_id,
                "role": _role(view.lane),
                "unit_id": instance.unit_id,
                "form_schema": view.form_schema,
                "form_ui_schema": view.form_ui_schema,
                "due_at": after[task_id],
                "created_at": now,
                "waiting_since": now,
                **case.fields(),
            }
        )
        if instance.case_id is None and view.data.get("assignee_user_id"):
            # A task of a routine without a case (a follow-up, the day's closing) may name its person.
            rows[-1]["owner_user_id"] = int(view.data["assignee_user_id"])
    session.execute(_INSERT_TASKS, rows)


def _write_timers(session, instance, before: dict, snapshot_after: Snapshot) -> None:
    after, elements = snapshot_after.timers, snapshot_after.timer_elements
    gone = [task_id for task_id in before if task_id not in after]
    if gone:
        session.execute(_DELETE_TIMERS, {"iid": instance.id, "ids": gone})
    now = clock.now()
    rows = []
    moved = False
    for task_id, due in after.items():
        if task_id not in before:
            rows.append(
                {
                    "instance_id": instance.id,
                    "spiff_task_id": task_id,
                    "element_id": elements[task_id],
                    "kind": TimerKind.BPMN.value,
                    "due_at": due,
                    "attempts": 0,
                    "created_at": now,
                }
            )
        elif before[task_id] != due:
            session.execute(_DUE_TIMER, {"iid": instance.id, "tid": task_id, "due": due})
            moved = True
    if rows:
        session.execute(_INSERT_TIMERS, rows)
    if rows or moved:
        notify_timer_workers(session)


def notify_timer_workers(session: Session) -> None:
    """Wake sleeping timer workers when this transaction commits (PostgreSQL; SQLite polls)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY)
