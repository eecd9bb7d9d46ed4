"""Read-only views of process models for the process owners' pages: versions and running instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.instances.models import InstanceStatus, ProcessInstance
from app.process_models.models import ProcessModel, ProcessVersion, VersionStatus
from app.process_models.service import called_of


@dataclass
class VersionRow:
    number: int
    status: str
    origin: str
    approved_by: str | None
    published_by: str
    published_at: datetime
    change_note: str
    effective_from: datetime | None
    running: int
    in_effect: bool = False  # the version new instances start on now
    upcoming: bool = False  # published, effective later
    instance_ids: list[int] = field(default_factory=list)  # running instances (model page only)


@dataclass
class ModelRow:
    process_id: str
    name: str
    versions: list[VersionRow] = field(default_factory=list)
    draft: VersionRow | None = None
    # (process id, name) of the models whose version in effect calls this one: new cases of theirs
    # run this model's version in effect (a called process is not copied into its callers).
    callers: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # process ids this model's version in effect calls
    # Each caller's version in effect: its running cases move onto this model's newer version by
    # migrating within that version (the migration page, from = to).
    caller_versions: dict[str, int] = field(default_factory=dict)

    @property
    def running(self) -> int:
        return sum(v.running for v in self.versions)

    @property
    def in_effect_number(self) -> int | None:
        return next((v.number for v in self.versions if v.in_effect), None)


INSTANCE_LIST_LIMIT = 200


def model_rows(session: Session, *, process_id: str | None = None) -> list[ModelRow]:
    """Every model (or one, then with its running instance ids) with its versions, newest first."""
    now = clock.now()
    running = dict(
        session.execute(
            select(ProcessInstance.process_version_id, func.count())
            .where(ProcessInstance.status == InstanceStatus.RUNNING)
            .group_by(ProcessInstance.process_version_id)
        ).all()
    )
    query = select(ProcessModel).order_by(ProcessModel.name)
    if process_id is not None:
        query = query.where(ProcessModel.process_id == process_id)
    rows = []
    for model in session.scalars(query):
        row = ModelRow(model.process_id, model.name)
        versions = session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_model_id == model.id)
            .order_by(ProcessVersion.number.desc())
        ).all()
        in_effect = next(
            (
                v.number
                for v in versions
                if v.status == VersionStatus.PUBLISHED and v.effective_from and v.effective_from <= now
            ),
            None,
        )
        for v in versions:
            item = VersionRow(
                v.number, v.status.value, v.origin.value, v.approved_by, v.deployed_by, v.deployed_at, v.change_note, v.effective_from,
                running.get(v.id, 0), in_effect=v.number == in_effect,
                upcoming=v.status == VersionStatus.PUBLISHED and v.effective_from is not None and v.effective_from > now,
            )  # fmt: skip
            if process_id is not None and item.running:
                # Ids only (no patient data): the instance page behind each link logs its own reads.
                item.instance_ids = list(
                    session.scalars(
                        select(ProcessInstance.id)
                        .where(
                            ProcessInstance.process_version_id == v.id,
                            ProcessInstance.status == InstanceStatus.RUNNING,
                        )
                        .order_by(ProcessInstance.id)
                        .limit(INSTANCE_LIST_LIMIT)
                    )
                )
            if v.status == VersionStatus.DRAFT:
                row.draft = item
            elif v.number == in_effect:
                row.calls = sorted(called_of(session, v.bundle_hash))
            if v.status != VersionStatus.DRAFT:
                row.versions.append(item)
        rows.append(row)
    _fill_callers(session, rows, process_id)
    return rows


def _fill_callers(session: Session, rows: list[ModelRow], process_id: str | None) -> None:
    """Each row's callers; on one model's page the other models are read for it (their version in
    effect, whose bundle's called processes are cached by content hash)."""
    calls = {row.process_id: (row.name, row.calls, row.in_effect_number) for row in rows}
    if process_id is not None:
        for other in model_rows(session):
            calls.setdefault(other.process_id, (other.name, other.calls, other.in_effect_number))
    for row in rows:
        callers = [
            (pid, name, number)
            for pid, (name, called, number) in calls.items()
            if row.process_id in called and pid != row.process_id
        ]
        row.callers = sorted(((pid, name) for pid, name, _number in callers), key=lambda caller: caller[1])
        row.caller_versions = {pid: number for pid, _name, number in callers if number is not None}
