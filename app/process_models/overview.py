"""Read-only views of process models for the process owners' pages: versions and running instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.instances.models import InstanceStatus, ProcessInstance
from app.process_models.models import ProcessModel, ProcessVersion, VersionStatus


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

    @property
    def running(self) -> int:
        return sum(v.running for v in self.versions)


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
            else:
                row.versions.append(item)
        rows.append(row)
    return rows
