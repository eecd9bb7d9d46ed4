"""Read-only page data for the diff and migration pages (the services decide who may see them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.engine import ProcessEngine
from app.engine.migration import VersionDiff
from app.instances import migration
from app.instances.models import InstanceStatus, ProcessInstance
from app.process_models.models import ProcessModel, ProcessVersion
from app.process_models.service import load_bundle


@dataclass(frozen=True)
class VersionChoice:
    """Which two versions a page compares; `from_number` is None when the model has one version."""

    model: ProcessModel
    versions: list[ProcessVersion]
    running: dict[int, int]  # version id -> running instances
    from_number: int | None
    to_number: int | None


def choose_versions(
    session: Session,
    *,
    actor: Actor,
    process_id: str,
    from_arg: str | None,
    to_arg: str | None,
    published_only: bool = False,
) -> VersionChoice:
    """The model, its versions and the pair asked for (default: the newest and the one before).
    `published_only` (the migration page): a draft is never offered as a version to move to."""
    migration.require_process_owner(actor)
    if published_only:
        model, versions = migration.published_versions(session, process_id=process_id)
    else:
        model, versions = migration.model_versions(session, process_id=process_id)
    numbers = [v.number for v in versions]
    to_number = _number(to_arg, numbers) or (numbers[-1] if numbers else None)
    from_number = _number(from_arg, numbers) or (numbers[-2] if len(numbers) > 1 else None)
    running = dict(
        session.execute(
            select(ProcessInstance.process_version_id, func.count())
            .where(
                ProcessInstance.process_version_id.in_([v.id for v in versions]),
                ProcessInstance.status == InstanceStatus.RUNNING,
            )
            .group_by(ProcessInstance.process_version_id)
        ).all()
    )
    return VersionChoice(model, versions, running, from_number, to_number)


def _number(raw: str | None, numbers: list[int]) -> int | None:
    try:
        value = int(raw) if raw else None
    except ValueError:
        return None
    return value if value in numbers else None


def diff(session: Session, *, actor: Actor, choice: VersionChoice) -> VersionDiff | None:
    if choice.from_number is None or choice.to_number is None:
        return None
    return migration.version_diff(
        session,
        actor=actor,
        process_id=choice.model.process_id,
        from_number=choice.from_number,
        to_number=choice.to_number,
    )


def dry_run(
    session: Session, engine: ProcessEngine, *, actor: Actor, choice: VersionChoice
) -> list[migration.Candidate]:
    # From = to is a move within the version: its running cases pick up the version now in effect of
    # each process it calls (a fixed called process reaches running cases this way).
    if choice.from_number is None or choice.to_number is None:
        return []
    return migration.dry_run(
        session,
        engine,
        actor=actor,
        process_id=choice.model.process_id,
        from_number=choice.from_number,
        to_number=choice.to_number,
    )


def diagram_xml(session: Session, *, actor: Actor, process_id: str, number: int) -> str:
    """The BPMN of one version (its entry file) for the diagram viewer."""
    migration.require_process_owner(actor)
    version = migration.version_by_number(session, process_id=process_id, number=number)
    return load_bundle(session, version.bundle_hash).entry_text


def has_layout(session: Session, *, process_id: str, number: int | None) -> bool:
    """Whether a version's BPMN carries diagram layout (bpmn-js cannot draw one without it)."""
    if number is None:
        return False
    version = migration.version_by_number(session, process_id=process_id, number=number)
    return "BPMNDiagram" in load_bundle(session, version.bundle_hash).entry_text
