"""Moving routines in and out: export a version as .bpmn (also back into processes/ and forms/), and
import a .bpmn from another tool as a draft, whose findings say what keeps it from running."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.engine import Bundle, ProcessEngine
from app.engine.bundle import NS, own_part
from app.errors import Conflict
from app.process_models.drafts import (
    _new_draft,
    current_draft,
    get_model,
    get_version,
    refuse_unsafe,
    require_process_owner,
    save_draft,
)
from app.process_models.findings import FindingView
from app.process_models.models import ProcessVersion, VersionStatus
from app.process_models.service import load_bundle, store_bundle


def export_file(session: Session, *, process_id: str, number: int) -> tuple[str, str]:
    """The version's routine file: (file name, BPMN text)."""
    version = get_version(session, process_id=process_id, number=number)
    bundle = load_bundle(session, version.bundle_hash)
    return bundle.entry_file, bundle.entry_text


def export_to_directories(
    session: Session,
    *,
    actor: Actor,
    process_id: str,
    number: int | None,
    processes_dir: Path,
    forms_dir: Path,
) -> list[Path]:
    """Write a version's diagram, decision tables and forms back into processes/ and forms/."""
    if number is None:
        published = [
            v
            for v in get_model(session, process_id=process_id).versions
            if v.status == VersionStatus.PUBLISHED
        ]
        if not published:
            raise Conflict(f"'{process_id}' has no published version to export")
        version = published[-1]
    else:
        version = get_version(session, process_id=process_id, number=number)
    # Its own part only: a called process is a model of its own and is exported from there (an
    # older bundle's copy of it would overwrite that model's file with a stale text).
    bundle = own_part(load_bundle(session, version.bundle_hash))
    written = []
    for name, text in [
        *((Path(processes_dir) / n, t) for n, t in bundle.documents.items()),
        *((Path(forms_dir) / n, t) for n, t in bundle.forms.items()),
    ]:
        if name.name != Path(name).name or "/" in name.name:
            continue  # names come from our own bundles; never write outside the folders
        name.write_text(text, encoding="utf-8")
        written.append(name)
    record(
        session,
        "process:exported",
        actor=actor,
        subject=("process_version", version.id),
        process_id=process_id,
        number=version.number,
        files=[p.name for p in written],
    )
    return written


def _utf8_text(root: etree._Element, data: bytes) -> str:
    """The uploaded document as text. lxml has read it in the encoding its XML declaration (or byte
    order mark) names; a UTF-8 file is kept as it came, any other is written out again as UTF-8,
    declaration included, so that no å, ä or ö is lost in the bundle or the editor."""
    if (root.getroottree().docinfo.encoding or "").upper() in ("UTF-8", "UTF8"):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass  # UTF-16 by its byte order mark, without a declaration: lxml still says UTF-8
    return etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True).decode("utf-8")


def import_bpmn(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    process_id: str,
    data: bytes,
    forms_dir: Path,
    filename: str = "upload.bpmn",
) -> tuple[ProcessVersion, list[FindingView]]:
    """Store an uploaded .bpmn as the model's draft (refused by size or unsafe XML before parsing)."""
    require_process_owner(actor=actor)
    model = get_model(session, process_id=process_id, for_change=True)  # one new draft at a time
    root = refuse_unsafe(Path(filename).name or "upload.bpmn", data, xml=True)
    text = _utf8_text(root, data)
    draft = current_draft(session, process_id=process_id)
    if draft is not None:
        raise Conflict(
            f"Det finns redan ett utkast (version {draft.number}). Släng det innan du importerar.",
            draft=draft.number,
        )
    base = next((v for v in reversed(model.versions) if v.status == VersionStatus.PUBLISHED), None)
    if base is not None:
        previous = load_bundle(session, base.bundle_hash)
        documents = {n: t for n, t in previous.documents.items() if n.endswith(".dmn")}
        entry_file, forms = previous.entry_file, dict(previous.forms)
    else:
        documents, entry_file, forms = {}, f"{process_id}.bpmn", {}
    documents[entry_file] = text
    # Start from the uploaded text, then let save_draft resolve forms and compute findings.
    draft = _new_draft(
        session,
        actor=actor,
        model=model,
        bundle_hash=store_bundle(session, Bundle(process_id, entry_file, documents, forms)),
        note="importerad .bpmn",
    )
    uploaded_ids = [p.get("id") for p in root.iterfind("bpmn:process", NS)]
    record(
        session,
        "process:imported",
        actor=actor,
        subject=("process_version", draft.id),
        process_id=process_id,
        uploaded_process_ids=uploaded_ids,
    )
    return save_draft(
        session,
        engine,
        actor=actor,
        process_id=process_id,
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=forms_dir,
    )
