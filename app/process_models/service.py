"""Deploying process models: bundles stored once by content hash, versions numbered per model.

After the first deployment the database is the authority. `processes/` is deployed again only
where a file's bundle (the file, what it calls, its decision tables and forms) changed since that
file was last deployed, and never silently over a version published in the product (--force).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.engine import Bundle, BundleInvalid, ProcessEngine, collect_bundle, file_hash, validate_bundle
from app.errors import NotFound
from app.instances.guards import known_guards
from app.people.roles import Role
from app.process_models.models import ProcessModel, ProcessVersion, StoredBundle, VersionOrigin, VersionStatus


@dataclass(frozen=True)
class DeployResult:
    file: str
    status: str  # "deployed", "unchanged" or "refused"
    process_id: str | None = None
    version: int | None = None
    message: str = ""


def store_bundle(session: Session, bundle: Bundle) -> str:
    """Store a bundle once by its content hash; return the hash."""
    content_hash = bundle.content_hash
    if session.get(StoredBundle, content_hash) is None:
        session.add(StoredBundle(content_hash=content_hash, content=bundle.to_json(), created_at=clock.now()))
        session.flush()  # versions reference it by key only (no relationship to order the inserts)
    return content_hash


def load_bundle(session: Session, content_hash: str) -> Bundle:
    stored = session.get(StoredBundle, content_hash)
    if stored is None:
        raise NotFound(f"no bundle {content_hash}")
    return Bundle.from_json(stored.content)


def deploy_file(
    session: Session,
    engine: ProcessEngine,
    *,
    path: Path,
    processes_dir: Path,
    forms_dir: Path,
    actor: Actor,
    change_note: str = "",
    force: bool = False,
) -> DeployResult:
    """Deploy one BPMN file as a new version of its process, if its bundle changed."""
    path = Path(path)
    bundle = collect_bundle(path, processes_dir, forms_dir)  # raises BundleInvalid
    validate_bundle(
        bundle,
        operators=engine.operators.keys(),
        roles=[r.value for r in Role],
        guards=known_guards(),
        functions=engine.function_names(),
    )
    # Locked: a deploy and an owner opening a draft number the next version one after the other.
    model = session.scalar(
        select(ProcessModel)
        .where(ProcessModel.process_id == bundle.process_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    last_from_file = None
    newest_published = None
    if model is not None:
        last_from_file = session.scalar(
            select(ProcessVersion)
            .where(ProcessVersion.process_model_id == model.id, ProcessVersion.origin == VersionOrigin.FILE)
            .order_by(ProcessVersion.number.desc())
            .limit(1)
        )
        newest_published = session.scalar(
            select(ProcessVersion)
            .where(
                ProcessVersion.process_model_id == model.id, ProcessVersion.status == VersionStatus.PUBLISHED
            )
            .order_by(ProcessVersion.number.desc())
            .limit(1)
        )
    if last_from_file is not None and last_from_file.bundle_hash == bundle.content_hash:
        return DeployResult(
            path.name,
            "unchanged",
            bundle.process_id,
            last_from_file.number,
            "unchanged since it was last deployed",
        )
    if newest_published is not None and newest_published.bundle_hash == bundle.content_hash:
        # The file was exported from the product (flask process-models export): nothing new to deploy.
        return DeployResult(
            path.name,
            "unchanged",
            bundle.process_id,
            newest_published.number,
            f"the same as version {newest_published.number}",
        )
    if (
        not force
        and newest_published is not None
        and newest_published.origin == VersionOrigin.PRODUCT
        and (last_from_file is None or newest_published.number > last_from_file.number)
    ):
        return DeployResult(
            path.name,
            "refused",
            bundle.process_id,
            newest_published.number,
            f"version {newest_published.number} was published in the product by {newest_published.deployed_by} "
            f"on {newest_published.deployed_at:%Y-%m-%d %H:%M} UTC; deploying the file would supersede it (use --force)",
        )
    version = _add_version(
        session,
        bundle,
        model=model,
        origin=VersionOrigin.FILE,
        source_file=path.name,
        source_file_hash=file_hash(bundle.entry_text),
        actor=actor,
        change_note=change_note or ("first deployment" if model is None else "deployed from processes/"),
        approved_by=None,
    )
    return DeployResult(path.name, "deployed", bundle.process_id, version.number)


def _add_version(
    session: Session,
    bundle: Bundle,
    *,
    model: ProcessModel | None,
    origin: VersionOrigin,
    source_file: str | None,
    source_file_hash: str | None,
    actor: Actor,
    change_note: str,
    approved_by: str | None,
    effective_from: datetime | None = None,
) -> ProcessVersion:
    now = clock.now()
    if model is None:
        model = ProcessModel(
            process_id=bundle.process_id, name=_process_name(bundle), source_file=source_file, created_at=now
        )
        session.add(model)
        session.flush()
    else:
        model.name = _process_name(bundle)
    number = (
        session.scalar(
            select(func.max(ProcessVersion.number)).where(ProcessVersion.process_model_id == model.id)
        )
        or 0
    ) + 1
    content_hash = store_bundle(session, bundle)
    version = ProcessVersion(
        process_model_id=model.id,
        number=number,
        bundle_hash=content_hash,
        origin=origin,
        status=VersionStatus.PUBLISHED,
        source_file=source_file,
        source_file_hash=source_file_hash,
        deployed_by=actor.label,
        deployed_at=now,
        change_note=change_note,
        approved_by=approved_by,
        effective_from=effective_from or now,
    )
    session.add(version)
    session.flush()
    record(
        session,
        "process:deployed",
        actor=actor,
        subject=("process_version", version.id),
        process_id=bundle.process_id,
        number=number,
        bundle=content_hash,
        origin=origin.value,
        note=change_note,
    )
    return version


def _process_name(bundle: Bundle) -> str:
    from app.engine.bundle import NS
    from app.engine.xml import parse_xml

    root = parse_xml(bundle.entry_text, bundle.entry_file)
    for process in root.iterfind("bpmn:process", NS):
        if process.get("id") == bundle.process_id:
            return process.get("name") or bundle.process_id
    return bundle.process_id


def deploy_directory(
    session: Session,
    engine: ProcessEngine,
    *,
    processes_dir: Path,
    forms_dir: Path,
    actor: Actor,
    force: bool = False,
    only: Path | None = None,
) -> list[DeployResult]:
    """Deploy every routine file in processes/ (or just `only`); files that only hold called processes are skipped."""
    results = []
    paths = [Path(only)] if only else sorted(Path(processes_dir).glob("*.bpmn"))
    for path in paths:
        try:
            results.append(
                deploy_file(
                    session,
                    engine,
                    path=path,
                    processes_dir=processes_dir,
                    forms_dir=forms_dir,
                    actor=actor,
                    force=force,
                )
            )
        except BundleInvalid as exc:
            results.append(
                DeployResult(path.name, "refused", None, None, "\n".join(f"  - {f}" for f in exc.findings))
            )
    return results


# Built once: every new case and every called process asks for it.
_RUNNABLE_VERSION = (
    select(ProcessVersion)
    .join(ProcessModel)
    .where(
        ProcessModel.process_id == bindparam("process_id"),
        ProcessVersion.status == VersionStatus.PUBLISHED,
        ProcessVersion.effective_from <= bindparam("at"),
    )
    .order_by(ProcessVersion.number.desc())
    .limit(1)
)


def runnable_version(session: Session, process_id: str, *, at: datetime | None = None) -> ProcessVersion:
    """The version new instances start on: the newest published one in effect at `at`."""
    version = session.scalar(_RUNNABLE_VERSION, {"process_id": process_id, "at": at or clock.now()})
    if version is None:
        raise NotFound(f"no published version of process '{process_id}' is in effect")
    return version
