"""Deploying process models: bundles stored once by content hash, versions numbered per model.

After the first deployment the database is the authority. `processes/` is deployed again only
where a file's own part (the file, its decision tables and forms) changed since that file was last
deployed, and never silently over a version published in the product (--force).

A process another routine calls is a model of its own (see app/engine/bundle.py): a version stores
only its own part, and the bundle an instance runs is composed when it starts, with the version of
each called process in effect then (`runnable_bundle_hash`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.engine import Bundle, BundleInvalid, ProcessEngine, collect_bundle, file_hash, validate_bundle
from app.engine.bundle import BPMN_NS, NS, called_processes, compose, own_part
from app.engine.xml import UnsafeXml, parse_xml
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


def store_bundle(session: Session, bundle: Bundle, content_hash: str | None = None) -> str:
    """Store a bundle once by its content hash (pass it if known: hashing reads the whole bundle)."""
    content_hash = content_hash or bundle.content_hash
    # The key alone: a case start asks this every time, and the content is large.
    known = session.scalar(select(StoredBundle.content_hash).where(StoredBundle.content_hash == content_hash))
    if known is None:
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
    _deploying: frozenset[str] = frozenset(),
) -> DeployResult:
    """Deploy one BPMN file as a new version of its process, if its own part changed."""
    path = Path(path)
    bundle = collect_bundle(path, processes_dir, forms_dir)  # raises BundleInvalid
    validate_bundle(
        bundle,
        operators=engine.operators.keys(),
        roles=[r.value for r in Role],
        guards=known_guards(),
        functions=engine.function_names(),
    )
    # Validated with the called files beside it; stored without them (they are models of their
    # own). A called process not deployed yet is deployed first, from its file, so that a case of
    # this routine can start (deploy_directory orders callees first anyway).
    files = {
        process.get("id"): name
        for name, text in bundle.documents.items()
        if name.endswith(".bpmn") and name != path.name
        for process in parse_xml(text, name).iterfind("bpmn:process", NS)
    }
    bundle = own_part(bundle)
    for process_id in sorted(called_processes(bundle)):
        if _model_id(session, process_id) is None and process_id in files and process_id not in _deploying:
            deploy_file(
                session, engine, path=Path(processes_dir) / files[process_id], processes_dir=processes_dir,
                forms_dir=forms_dir, actor=actor, force=force, _deploying=_deploying | {bundle.process_id},
            )  # fmt: skip
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
    if last_from_file is not None and _own_hash(session, last_from_file.bundle_hash) == bundle.content_hash:
        return DeployResult(
            path.name,
            "unchanged",
            bundle.process_id,
            last_from_file.number,
            "unchanged since it was last deployed",
        )
    if (
        newest_published is not None
        and _own_hash(session, newest_published.bundle_hash) == bundle.content_hash
    ):
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
        # Shown to process owners beside their own notes, which are Swedish like every routine text.
        change_note=change_note
        or ("Första versionen, från processes/" if model is None else "Ny version från processes/"),
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


def _own_hash(session: Session, content_hash: str) -> str:
    """The hash of a stored bundle's own part (older versions also carry copies of called files)."""
    return own_part(load_bundle(session, content_hash)).content_hash


def _model_id(session: Session, process_id: str) -> int | None:
    return session.scalar(select(ProcessModel.id).where(ProcessModel.process_id == process_id))


def _callees_first(paths: list[Path]) -> list[Path]:
    """The files in an order where a file another one calls comes before its caller."""
    defines, calls = {}, {}
    for path in paths:
        try:
            root = parse_xml(path.read_text(encoding="utf-8"), path.name)
        except (UnsafeXml, OSError):
            continue  # refused when it is deployed
        for process in root.iterfind("bpmn:process", NS):
            defines.setdefault(process.get("id"), path)
        calls[path] = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")}
    ordered: list[Path] = []

    def visit(path: Path, trail: frozenset) -> None:
        if path in ordered or path in trail:
            return
        for target in sorted(t for t in calls.get(path, ()) if t in defines):
            visit(defines[target], trail | {path})
        ordered.append(path)

    for path in paths:
        visit(path, frozenset())
    return ordered


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
    paths = [Path(only)] if only else _callees_first(sorted(Path(processes_dir).glob("*.bpmn")))
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


# Content-keyed, so nothing here can go stale: a bundle hash's called processes, and the composition
# of a version's bundle with given called bundles.
_CALLED: dict[str, frozenset[str]] = {}
_COMPOSED: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Bundle, str]] = {}
_CACHE_LIMIT = 256


def _called_of(bundle_hash: str, bundle: Callable[[], Bundle]) -> frozenset[str]:
    called = _CALLED.get(bundle_hash)
    if called is None:
        if len(_CALLED) > _CACHE_LIMIT:
            _CALLED.clear()
        called = _CALLED[bundle_hash] = frozenset(called_processes(bundle()))
    return called


def called_of(session: Session, bundle_hash: str) -> frozenset[str]:
    """The processes a stored bundle's routine calls (cached by content hash)."""
    return _called_of(bundle_hash, lambda: load_bundle(session, bundle_hash))


def called_bundles(
    session: Session, bundle: Bundle, *, at: datetime | None = None, strict: bool = True
) -> dict[str, tuple[ProcessVersion, Bundle]]:
    """For every process `bundle` calls (and they call, and so on): the called model's version in
    effect at `at` and its own part. `strict=False` leaves out a process no model publishes (a
    finding says so) instead of raising NotFound."""
    found: dict[str, tuple[ProcessVersion, Bundle]] = {}
    pending = sorted(called_processes(bundle))
    while pending:
        process_id = pending.pop()
        if process_id in found or process_id == bundle.process_id:
            continue
        try:
            version = runnable_version(session, process_id, at=at)
        except NotFound:
            if strict:
                raise
            continue
        part = own_part(load_bundle(session, version.bundle_hash))
        found[process_id] = (version, part)
        pending.extend(sorted(called_processes(part)))
    return found


def called_parts(session: Session, bundle: Bundle) -> dict[str, Bundle]:
    """The processes `bundle` calls, as their models' versions in effect now (for checking a draft)."""
    return {p: part for p, (_, part) in called_bundles(session, bundle, strict=False).items()}


def runnable_bundle_hash(session: Session, version: ProcessVersion, *, at: datetime | None = None) -> str:
    """The bundle an instance of `version` starting at `at` runs (stored once by content hash): the
    version's bundle, composed with the version in effect of every process it calls."""
    if not _called_of(version.bundle_hash, lambda: load_bundle(session, version.bundle_hash)):
        return version.bundle_hash
    # Every case start comes here: find the called versions in effect by their (cached) call lists,
    # one query each, and compose only for a combination not seen before (~15 ms a case otherwise).
    key = (version.bundle_hash, _called_in_effect(session, version.bundle_hash, at))
    cached = _COMPOSED.get(key)
    if cached is None:
        bundle = load_bundle(session, version.bundle_hash)
        called = {p: part for p, (_, part) in called_bundles(session, bundle, at=at).items()}
        composed = compose(bundle, called)
        if len(_COMPOSED) > _CACHE_LIMIT:
            _COMPOSED.clear()
        cached = _COMPOSED[key] = (composed, composed.content_hash)
    # Stored (or found) in this transaction every time: a cached composition whose first store was
    # rolled back must not leave an instance pointing at a bundle no other process can load.
    return store_bundle(session, *cached)


def _called_in_effect(session: Session, bundle_hash: str, at: datetime | None) -> tuple[tuple[str, str], ...]:
    """(process id, bundle hash) of the versions in effect of every process a bundle calls, deeply."""
    found: dict[str, str] = {}
    pending = sorted(_called_of(bundle_hash, lambda: load_bundle(session, bundle_hash)))
    while pending:
        process_id = pending.pop()
        if process_id in found:
            continue
        called_hash = runnable_version(session, process_id, at=at).bundle_hash
        found[process_id] = called_hash
        pending.extend(sorted(_called_of(called_hash, lambda h=called_hash: load_bundle(session, h))))
    return tuple(sorted(found.items()))
