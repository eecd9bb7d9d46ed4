"""The temporary export store (HA-images): only the exporter reads an export, and only for two hours.

Images, forms and lists leave the product through here on their way to the EHR or the image archive.
Expired exports read as gone at once; `purge_expired` (called by a periodic worker) deletes them.
Every create, read, refused read and purge is audited; exports tied to a case also write the access log.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import PurePosixPath

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, log_access, record
from app.cases.models import Case, CaseImage
from app.errors import Forbidden, NotFound, ValidationFailed
from app.exports.models import Export, ExportKind

LIFETIME = timedelta(hours=2)
MAX_BYTES = 25 * 1024 * 1024  # a phone photo or a long list, not an archive
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")


def create_export(
    session: Session,
    *,
    actor: Actor,
    kind: ExportKind,
    filename: str,
    content_type: str,
    content: bytes,
    case_id: int | None = None,
) -> Export:
    """Put a file in the temporary store for the actor alone, for two hours."""
    kind = ExportKind(kind)
    if actor.user_id is None:
        raise Forbidden("exports belong to a signed-in user; nobody else could read them")
    name = _safe_filename(filename)
    content_type = (content_type or "").strip().lower()
    if not _CONTENT_TYPE.match(content_type):
        raise ValidationFailed("unknown content type", {"content_type": ["expected type/subtype"]})
    if len(content) > MAX_BYTES:
        raise ValidationFailed(
            "the file is too large for the temporary store", {"content": [f"at most {MAX_BYTES} bytes"]}
        )
    case = _case(session, case_id)
    now = clock.now()
    export = Export(
        owner_user_id=actor.user_id,
        kind=kind,
        filename=name,
        content_type=content_type,
        content=bytes(content),
        size=len(content),
        case_id=case_id,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(export)
    session.flush()
    record(
        session,
        "export:created",
        actor=actor,
        subject=("export", export.id),
        kind=kind.value,
        filename=name,
        size=len(content),
        case_id=case_id,
    )
    if case is not None:
        log_access(
            session,
            actor=actor,
            action="export:create",
            patient_ids=[case.patient_id],
            case_id=case.id,
            context=f"export {export.id}",
        )
    return export


def export_case_image(session: Session, *, actor: Actor, case_id: int, image_id: int) -> Export:
    """A patient's image leaves the product for the EHR or the image archive (HA-images, HA-images-b):
    a copy in the temporary store that only the exporter reads, for two hours."""
    from app.cases.permissions import require_read

    case = _case(session, case_id)
    require_read(session, actor, case)
    image = session.get(CaseImage, image_id)
    if image is None or image.case_id != case.id:
        raise NotFound(_l("Bilden finns inte."))
    return create_export(
        session,
        actor=actor,
        kind=ExportKind.IMAGE,
        filename=image.filename,
        content_type=image.content_type,
        content=image.content,
        case_id=case.id,
    )


def read_export(session: Session, *, actor: Actor, export_id: int) -> Export:
    """The export, for its owner only; expired ones are gone.

    A refused read is audited and access-logged in the caller's transaction before `Forbidden` is
    raised; a caller that rolls back on errors calls `record_refused_read` in a fresh transaction.
    """
    export = session.get(Export, export_id)
    if export is None or export.expires_at <= clock.now():
        raise NotFound("the export does not exist or has expired (exports are kept two hours)")
    case = _case(session, export.case_id)
    if actor.user_id is None or actor.user_id != export.owner_user_id:
        record_refused_read(session, actor=actor, export_id=export.id)
        raise Forbidden("only the person who exported a file may read it", rule="HA-images")
    record(session, "export:read", actor=actor, subject=("export", export.id))
    if case is not None:
        log_access(
            session,
            actor=actor,
            action="export:read",
            patient_ids=[case.patient_id],
            case_id=case.id,
            context=f"export {export.id}",
        )
    return export


def record_refused_read(session: Session, *, actor: Actor, export_id: int) -> None:
    """Audit and access-log an attempt to read someone else's export."""
    export = session.get(Export, export_id)
    case_id = export.case_id if export is not None else None
    case = _case(session, case_id)
    record(
        session,
        "export:read_refused",
        actor=actor,
        subject=("export", export_id),
        owner_user_id=export.owner_user_id if export else None,
        case_id=case_id,
    )
    log_access(
        session,
        actor=actor,
        action="export:read_refused",
        patient_ids=[case.patient_id] if case else [],
        case_id=case_id,
        context=f"export {export_id}",
    )


def purge_expired(session: Session) -> int:
    """Delete every expired export; returns how many this call deleted.

    Every timer worker runs this: the ids come back from the DELETE itself, so of two workers purging
    at once each audits only the rows it removed, and the one that found them gone audits nothing."""
    deleted = session.execute(delete(Export).where(Export.expires_at <= clock.now()).returning(Export.id))
    ids = sorted(deleted.scalars())
    if not ids:
        return 0  # nothing to audit: the worker calls this often
    record(session, "export:purged", actor=Actor.system("export-purge"), count=len(ids), export_ids=ids)
    return len(ids)


def _safe_filename(filename: str) -> str:
    # Only the last path part, so a name can never point elsewhere when the file is saved.
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not name or name in (".", "..") or len(name) > 255 or any(ord(ch) < 32 for ch in name):
        raise ValidationFailed("the file needs a plain name", {"filename": ["1 to 255 characters, no path"]})
    return name


def _case(session: Session, case_id: int | None) -> Case | None:
    if case_id is None:
        return None
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case
