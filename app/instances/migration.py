"""Moving running instances from one version of a routine to another: a dry run, then one or all.

Each move is its own transaction: the instance state, its task projection and timer index rows and
the audit record together. An instance whose completed or active steps changed stays where it is.
Only process owners (Processägare) move instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.service import Actor, record
from app.db import Database
from app.engine import ProcessEngine
from app.engine.bundle import own_part
from app.engine.migration import VersionDiff, check_migration, diff_bundles, migrate
from app.errors import Conflict, Forbidden, NotFound
from app.instances.models import HumanTask, InstanceStatus, ProcessInstance
from app.instances.persistence import CaseRef, save, stored_snapshot
from app.people.roles import Role
from app.process_models.models import ProcessModel, ProcessVersion, VersionStatus
from app.process_models.service import load_bundle, runnable_bundle_hash

REASONS = {
    "not_running": "the instance is not running",
    "other_version": "the instance is not on the version migrated from",
    "same_version": "the instance is already on that version",
    "changed_completed": "a completed step changed",
    "changed_active": "an active step changed",
    "removed_completed": "a completed step was removed",
    "removed_active": "an active step was removed",
    "removed_subprocess": "a running subprocess was removed",
    "changed_since_dry_run": "the instance changed since the dry run",
    "not_published": "the target version is not published",
}


@dataclass(frozen=True)
class Candidate:
    """One instance in a dry run: whether it can move, and why not (reason code, element id);
    `repairs` are its failed steps (open incidents) that the new version changes."""

    instance_id: int
    case_id: int | None
    version: int
    reasons: list[tuple[str, str | None]] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.reasons


@dataclass
class BatchResult:
    migrated: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def require_process_owner(actor: Actor | None) -> None:
    """Diffs and migrations are for process owners (Processägare)."""
    if actor is None or actor.user_id is None or Role.PROCESS_OWNER.value not in actor.roles:
        raise Forbidden(_l("Bara processägare jämför versioner och flyttar pågående instanser."))


def model_versions(session: Session, *, process_id: str) -> tuple[ProcessModel, list[ProcessVersion]]:
    """The process model and its versions, oldest first."""
    model = session.scalar(select(ProcessModel).where(ProcessModel.process_id == process_id))
    if model is None:
        raise NotFound(f"no process model '{process_id}'")
    versions = list(
        session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_model_id == model.id)
            .order_by(ProcessVersion.number)
        )
    )
    return model, versions


def version_by_number(session: Session, *, process_id: str, number: int) -> ProcessVersion:
    version = session.scalar(
        select(ProcessVersion)
        .join(ProcessModel)
        .where(ProcessModel.process_id == process_id, ProcessVersion.number == number)
    )
    if version is None:
        raise NotFound(f"process '{process_id}' has no version {number}")
    return version


def target_version(session: Session, *, process_id: str, number: int) -> ProcessVersion:
    """The version instances move to: only a published one (a draft was never validated or released,
    and an instance on it would keep the draft from being discarded)."""
    version = version_by_number(session, process_id=process_id, number=number)
    if version.status != VersionStatus.PUBLISHED:
        raise Conflict(
            f"version {number} of '{process_id}' is not published", reasons=[("not_published", None)]
        )
    return version


def published_versions(session: Session, *, process_id: str) -> tuple[ProcessModel, list[ProcessVersion]]:
    """The process model and its published versions (the ones instances may move to), oldest first."""
    model, versions = model_versions(session, process_id=process_id)
    return model, [v for v in versions if v.status == VersionStatus.PUBLISHED]


def version_diff(
    session: Session, *, actor: Actor, process_id: str, from_number: int, to_number: int
) -> VersionDiff:
    """Added, removed and changed elements between two versions of a process."""
    require_process_owner(actor)
    old = version_by_number(session, process_id=process_id, number=from_number)
    new = version_by_number(session, process_id=process_id, number=to_number)
    # The routine's own part: a called process is a model of its own, with its own versions.
    return diff_bundles(
        own_part(load_bundle(session, old.bundle_hash)), own_part(load_bundle(session, new.bundle_hash))
    )


def dry_run(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    process_id: str,
    from_number: int,
    to_number: int,
) -> list[Candidate]:
    """Every running instance of the `from` version, with whether it can move to `to` and why not."""
    require_process_owner(actor)
    old = version_by_number(session, process_id=process_id, number=from_number)
    new = target_version(session, process_id=process_id, number=to_number)
    instances = session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.process_version_id == old.id, ProcessInstance.status == InstanceStatus.RUNNING)
        .order_by(ProcessInstance.id)
    )
    target = runnable_bundle_hash(session, new)
    changed: dict[str, set[str]] = {}
    return [
        Candidate(i.id, i.case_id, i.version, *_reasons(session, engine, i, old, new, target, changed))
        for i in instances
    ]


def migrate_instance(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    instance_id: int,
    from_number: int,
    to_number: int,
    expected_version: int | None = None,
) -> ProcessInstance:
    """Move one instance to another version, with its task and timer rows, audited; else Conflict."""
    require_process_owner(actor)
    instance = session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    if expected_version is not None and instance.version != expected_version:
        raise Conflict(
            "the instance changed since the dry run; run it again",
            current_version=instance.version,
            reasons=[("changed_since_dry_run", None)],
        )
    old = version_by_number(session, process_id=instance.process_id, number=from_number)
    new = target_version(session, process_id=instance.process_id, number=to_number)
    target = runnable_bundle_hash(session, new)
    reasons, repairs = _reasons(session, engine, instance, old, new, target, {})
    if reasons:
        raise Conflict(
            "the instance cannot move: "
            + "; ".join(
                f"{REASONS.get(code, code)} ({element})" if element else REASONS.get(code, code)
                for code, element in reasons
            ),
            reasons=reasons,
        )
    handle = _open(session, engine, instance)
    before = stored_snapshot(session, instance.id)
    moved = migrate(handle, _loaded(session, engine, target))
    set_committed_value(instance, "process_version_id", new.id)
    set_committed_value(instance, "bundle_hash", target)
    # save() checks the row version, writes the state and brings task and timer rows in line.
    save(session, instance, moved, CaseRef(session, instance.case_id), before)
    session.execute(
        update(ProcessInstance.__table__)
        .where(ProcessInstance.__table__.c.id == instance.id)
        .values(process_version_id=new.id, bundle_hash=target)
    )
    tasks = HumanTask.__table__
    for view in moved.ready_user_tasks():
        session.execute(
            update(tasks)
            .where(tasks.c.instance_id == instance.id, tasks.c.spiff_task_id == view.task_id)
            .values(
                process_version_id=new.id,
                title=view.name,
                form_schema=view.form_schema,
                form_ui_schema=view.form_ui_schema,
            )
        )
    record(
        session,
        "instance:migrated",
        actor=actor,
        subject=("process_instance", instance.id),
        process_id=instance.process_id,
        from_version=old.number,
        to_version=new.number,
        case_id=instance.case_id,
        repaired=repairs,  # failed steps the move changed: their incidents' retry runs the fix
    )
    return instance


def migrate_all(
    database: Database,
    engine: ProcessEngine,
    *,
    actor: Actor,
    process_id: str,
    from_number: int,
    to_number: int,
) -> BatchResult:
    """Move every instance the dry run allows, each in its own transaction; report the rest."""
    with database.transaction() as session:
        candidates = dry_run(
            session, engine, actor=actor, process_id=process_id, from_number=from_number, to_number=to_number
        )
    result = BatchResult()
    for candidate in candidates:
        if not candidate.possible:
            result.refused[candidate.instance_id] = ", ".join(
                REASONS.get(code, code) for code, _ in candidate.reasons
            )
            continue
        try:
            with database.transaction() as session:
                migrate_instance(
                    session,
                    engine,
                    actor=actor,
                    instance_id=candidate.instance_id,
                    from_number=from_number,
                    to_number=to_number,
                    expected_version=candidate.version,
                )
            result.migrated.append(candidate.instance_id)
        except Conflict as exc:
            result.refused[candidate.instance_id] = exc.message
    return result


def _changed_elements(session: Session, old_hash: str, new_hash: str) -> set[str]:
    diff = diff_bundles(load_bundle(session, old_hash), load_bundle(session, new_hash))
    return {c.element_id for c in diff.changed} | {c.element_id for c in diff.removed}


def _reasons(
    session,
    engine,
    instance: ProcessInstance,
    old: ProcessVersion,
    new: ProcessVersion,
    target: str,
    changed: dict[str, set[str]],
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Why the instance cannot move (empty: it can), and the failed steps the move repairs.

    `target` is the bundle the instance would run: the new version with the processes it calls in
    their versions in effect now. Moving within one version is how a running instance takes up a
    called process's newer version; `changed` caches the element diff per instance bundle."""
    if instance.status != InstanceStatus.RUNNING:
        return [("not_running", None)], []
    if instance.bundle_hash == target or (instance.process_version_id == new.id and old.id != new.id):
        return [("same_version", None)], []
    if instance.process_version_id != old.id:
        return [("other_version", None)], []
    if instance.bundle_hash not in changed:
        changed[instance.bundle_hash] = _changed_elements(session, instance.bundle_hash, target)
    check = check_migration(
        _open(session, engine, instance), _loaded(session, engine, target), changed[instance.bundle_hash]
    )
    return [(code, element) for element, code in check.reasons], check.repairs


def _loaded(session: Session, engine: ProcessEngine, bundle_hash: str):
    return engine.loaded(bundle_hash, lambda: load_bundle(session, bundle_hash))


def _open(session: Session, engine: ProcessEngine, instance: ProcessInstance):
    return engine.restore(_loaded(session, engine, instance.bundle_hash), instance.state)
