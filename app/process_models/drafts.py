"""Drafts: a process owner's edited copy of a version, stored like a version but never runnable.

A draft is a ProcessVersion with status DRAFT (runnable_version only picks published ones). Each
save stores a new bundle; the bundle hash the editor loaded is its concurrency token, so two
owners saving the same draft get a 409 instead of overwriting each other. One draft per model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.engine import Bundle, ProcessEngine, UnsafeXml, parse_xml
from app.engine.bundle import NS
from app.engine.xml import MAX_XML_BYTES
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.people.roles import Role
from app.process_models.findings import FindingView, bundle_findings
from app.process_models.models import ProcessModel, ProcessVersion, VersionOrigin, VersionStatus
from app.process_models.service import called_parts, load_bundle, store_bundle

MAX_FORM_BYTES = 256 * 1024
FORM_SUFFIXES = (".schema.json", ".uischema.json")


def require_process_owner(*, actor: Actor) -> None:
    """Only a Processägare edits and publishes routines; anyone else is refused (403)."""
    if actor.user_id is None or Role.PROCESS_OWNER.value not in actor.roles:
        raise Forbidden("Bara en processägare kan ändra och publicera rutiner.")


def require_model_reader(*, actor: Actor) -> None:
    """Process owners and heads of unit see the process models and their versions."""
    if actor.user_id is None or not actor.roles & {Role.PROCESS_OWNER.value, Role.HEAD_OF_UNIT.value}:
        raise Forbidden("Processmodellerna visas för processägare och verksamhetschefer.")


def get_model(session: Session, *, process_id: str, for_change: bool = False) -> ProcessModel:
    """The process model; `for_change` locks its row until the transaction ends (opening a draft)."""
    query = select(ProcessModel).where(ProcessModel.process_id == process_id)
    if for_change:
        query = query.with_for_update().execution_options(populate_existing=True)
    model = session.scalar(query)
    if model is None:
        raise NotFound(f"Processen '{process_id}' finns inte.")
    return model


def get_version(
    session: Session, *, process_id: str, number: int, for_change: bool = False
) -> ProcessVersion:
    """One version of a model; `for_change` locks its row until the transaction ends."""
    model = get_model(session, process_id=process_id)
    query = select(ProcessVersion).where(
        ProcessVersion.process_model_id == model.id, ProcessVersion.number == number
    )
    if for_change:
        query = query.with_for_update().execution_options(populate_existing=True)
    version = session.scalar(query)
    if version is None:
        raise NotFound(f"Version {number} av '{process_id}' finns inte.")
    return version


def current_draft(session: Session, *, process_id: str) -> ProcessVersion | None:
    """The model's open draft, if any."""
    model = get_model(session, process_id=process_id)
    return session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_model_id == model.id, ProcessVersion.status == VersionStatus.DRAFT
        )
    )


def start_draft(session: Session, *, actor: Actor, process_id: str, from_number: int) -> ProcessVersion:
    """Open a draft as a copy of version `from_number`; refused (409) while another draft is open."""
    require_process_owner(actor=actor)
    # The model's row lock (PostgreSQL; SQLite begins IMMEDIATE) makes "no draft yet" and numbering
    # the new one a single step: of two owners opening a draft at once, the second waits for the
    # first and then finds its draft (409) instead of failing on the version number.
    get_model(session, process_id=process_id, for_change=True)
    base = get_version(session, process_id=process_id, number=from_number)
    existing = current_draft(session, process_id=process_id)
    if existing is not None:
        raise Conflict(
            f"Det finns redan ett utkast (version {existing.number}), senast sparat av {existing.deployed_by}. Fortsätt på det eller släng det först.",
            draft=existing.number,
        )
    return _new_draft(
        session,
        actor=actor,
        model=base.model,
        bundle_hash=base.bundle_hash,
        note=f"utkast från version {base.number}",
    )


def _new_draft(
    session: Session, *, actor: Actor, model: ProcessModel, bundle_hash: str, note: str
) -> ProcessVersion:
    highest = (
        session.scalar(
            select(func.max(ProcessVersion.number)).where(ProcessVersion.process_model_id == model.id)
        )
        or 0
    )
    draft = ProcessVersion(
        process_model_id=model.id,
        number=highest + 1,
        bundle_hash=bundle_hash,
        origin=VersionOrigin.PRODUCT,
        status=VersionStatus.DRAFT,
        deployed_by=actor.label,  # for a draft: who saved it last, and when
        deployed_at=clock.now(),
        change_note="",
    )
    session.add(draft)
    session.flush()
    record(
        session,
        "process:draft_started",
        actor=actor,
        subject=("process_version", draft.id),
        process_id=model.process_id,
        number=draft.number,
        note=note,
    )
    return draft


def require_expected_hash(expected_hash: str | None) -> None:
    """Saving or publishing names the bundle the owner looked at: without it a colleague's newer
    draft would be overwritten, or published unseen."""
    if not expected_hash:
        raise ValidationFailed(
            "Utkastets version (expected_hash) saknas. Ladda om sidan och försök igen.",
            {"expected_hash": ["required"]},
        )


def _require_draft(
    session: Session, *, process_id: str, number: int, expected_hash: str | None
) -> ProcessVersion:
    """The open draft, locked for a change, still at the bundle the caller loaded (else 409).

    The row lock (PostgreSQL; SQLite begins IMMEDIATE) makes check-then-write one step: of a save
    and a publish racing from the same bundle, the second waits for the first and then sees its
    result, so a bundle nobody checked is never published."""
    draft = get_version(session, process_id=process_id, number=number, for_change=True)
    if draft.status != VersionStatus.DRAFT:
        raise Conflict(
            f"Version {number} är redan publicerad och kan inte ändras; öppna den som ett nytt utkast."
        )
    if expected_hash is not None and draft.bundle_hash != expected_hash:
        raise Conflict(
            f"Utkastet har sparats av {draft.deployed_by} kl. {draft.deployed_at:%H:%M} UTC sedan du öppnade det. Ladda om för att se deras ändringar.",
            saved_by=draft.deployed_by,
            current_hash=draft.bundle_hash,
        )
    return draft


def refuse_unsafe(
    name: str, text: str | bytes, *, limit: int = MAX_XML_BYTES, xml: bool | None = None
) -> etree._Element | None:
    """Refuse a too-large or unsafe document before anything is stored (ValidationFailed, 422).

    A BPMN or DMN document (by its name, unless `xml` says) that passes is returned parsed."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > limit:
        raise ValidationFailed(
            f"{name}: filen är {len(raw) // 1024} KB; gränsen är {limit // 1024} KB.", {name: ["too_large"]}
        )
    if xml or (xml is None and name.endswith((".bpmn", ".dmn"))):
        try:
            return parse_xml(raw, name)
        except UnsafeXml as exc:
            raise ValidationFailed(f"Filen vägrades: {exc}", {name: ["unsafe_xml"]}) from exc
    return None


def _form_names(bpmn_text: str) -> set[str]:
    root = parse_xml(bpmn_text)
    names = set()
    for prop in root.iterfind(".//spiffworkflow:property", NS):
        if prop.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename") and prop.get("value"):
            names.add(prop.get("value"))
    return names


def _library_form(forms_dir: Path, name: str) -> str | None:
    if "/" in name or "\\" in name or not name.endswith(FORM_SUFFIXES):
        return None
    path = Path(forms_dir) / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def save_draft(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    process_id: str,
    number: int,
    expected_hash: str | None,
    forms_dir: Path,
    bpmn: str | None = None,
    decisions: Mapping[str, str] | None = None,
    forms: Mapping[str, str] | None = None,
) -> tuple[ProcessVersion, list[FindingView]]:
    """Store the edited BPMN, decision tables and forms as the draft's new bundle; return its findings.

    Unsafe or oversized input is refused before it is parsed or stored; a draft that would not run
    is still saved (that is what drafts are for) and the findings say why.
    """
    require_process_owner(actor=actor)
    require_expected_hash(expected_hash)
    draft = _require_draft(session, process_id=process_id, number=number, expected_hash=expected_hash)
    current = load_bundle(session, draft.bundle_hash)
    documents = dict(current.documents)
    new_forms = dict(current.forms)
    if bpmn is not None:
        refuse_unsafe(current.entry_file, bpmn)
        documents[current.entry_file] = bpmn
    for name, text in (decisions or {}).items():
        if name not in documents or not name.endswith(".dmn"):
            raise ValidationFailed(f"Beslutstabellen {name} hör inte till rutinen.", {name: ["unknown"]})
        refuse_unsafe(name, text)
        documents[name] = text
    for name, text in (forms or {}).items():
        if "/" in name or "\\" in name or not name.endswith(FORM_SUFFIXES):
            raise ValidationFailed(
                f"Formulärets filnamn ska sluta på .schema.json eller .uischema.json: {name}",
                {name: ["name"]},
            )
        refuse_unsafe(name, text, limit=MAX_FORM_BYTES)
        new_forms[name] = text
    # A user task may now use a form from the shared library (forms/): bring it into the bundle,
    # so the draft carries every form it names, versioned with the diagram.
    for name in _form_names(documents[current.entry_file]) - new_forms.keys():
        library = _library_form(forms_dir, name)
        if library is not None:
            new_forms[name] = library
    bundle = Bundle(current.process_id, current.entry_file, documents, new_forms)
    draft.bundle_hash = store_bundle(session, bundle)
    draft.deployed_by = actor.label
    draft.deployed_at = clock.now()
    session.flush()
    findings = bundle_findings(bundle, engine=engine, called=called_parts(session, bundle))
    record(
        session,
        "process:draft_saved",
        actor=actor,
        subject=("process_version", draft.id),
        process_id=process_id,
        number=number,
        bundle=draft.bundle_hash,
        errors=sum(f.severity == "error" for f in findings),
    )
    return draft, findings


def discard_draft(
    session: Session, *, actor: Actor, process_id: str, number: int, expected_hash: str | None
) -> None:
    """Delete the open draft (it never ran, so nothing refers to it), as the owner last saw it: a
    colleague's save since then is a 409, not silently deleted."""
    require_process_owner(actor=actor)
    require_expected_hash(expected_hash)
    draft = _require_draft(session, process_id=process_id, number=number, expected_hash=expected_hash)
    record(
        session,
        "process:draft_discarded",
        actor=actor,
        subject=("process_version", draft.id),
        process_id=process_id,
        number=number,
    )
    session.delete(draft)
    session.flush()


def draft_findings(
    session: Session, engine: ProcessEngine, *, process_id: str, number: int
) -> list[FindingView]:
    """The findings of a stored version's bundle (a draft or a published one)."""
    version = get_version(session, process_id=process_id, number=number)
    bundle = load_bundle(session, version.bundle_hash)
    return bundle_findings(bundle, engine=engine, called=called_parts(session, bundle))


def form_library(forms_dir: Path) -> list[str]:
    """The names of the shared task forms in forms/."""
    return sorted(p.name for p in Path(forms_dir).glob("*.schema.json"))


def parse_form_json(text: str) -> dict:
    """A form's JSON as a dict, or ValidationFailed naming the problem."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"Inte giltig JSON: {exc.msg} (rad {exc.lineno}).", {"schema": ["json"]}
        ) from exc
    if not isinstance(value, dict):
        raise ValidationFailed("Ett formulär är ett JSON-objekt.", {"schema": ["object"]})
    return value
