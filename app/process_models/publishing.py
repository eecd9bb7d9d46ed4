"""Publishing a draft: approved ("fastställd av") by a named manager, with a change note and the date
it takes effect for new instances. Instances already running stay on their version."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.engine import ProcessEngine
from app.errors import Conflict, ValidationFailed
from app.people.models import Membership, User
from app.people.roles import Role
from app.process_models.drafts import _require_draft, require_expected_hash, require_process_owner
from app.process_models.findings import bundle_findings, has_errors
from app.process_models.models import ProcessVersion, VersionStatus
from app.process_models.service import called_parts, load_bundle

MAX_NOTE = 2000
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def approvers(session: Session) -> list[User]:
    """The managers who may approve a routine: active heads of unit (verksamhetschefer) now."""
    now = clock.now()
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                User.active.is_(True),
                Membership.role == Role.HEAD_OF_UNIT,
                Membership.valid_from <= now,
                (Membership.valid_until.is_(None)) | (Membership.valid_until > now),
            )
            .distinct()
            .order_by(User.family_name, User.given_name)
        )
    )


def publish_draft(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    process_id: str,
    number: int,
    expected_hash: str | None,
    approver_user_id: int | None,
    change_note: str,
    effective_from: datetime | None,
) -> ProcessVersion:
    """Publish the draft: refused while it has errors, without an approver or note, or if it is stale."""
    require_process_owner(actor=actor)
    require_expected_hash(expected_hash)
    draft = _require_draft(session, process_id=process_id, number=number, expected_hash=expected_hash)
    now = clock.now()
    errors: dict[str, list[str]] = {}
    approver = None
    if approver_user_id is not None:
        approver = next((u for u in approvers(session) if u.id == approver_user_id), None)
    if approver is None:
        errors["approver"] = ["required"]
    note = (change_note or "").strip()
    if not note or len(note) > MAX_NOTE:
        errors["change_note"] = ["required"]
    if (
        effective_from is None
        or effective_from.astimezone(STOCKHOLM).date() < now.astimezone(STOCKHOLM).date()
    ):
        errors["effective_from"] = ["not_past"]
    if errors:
        raise ValidationFailed("Kontrollera fälten.", errors)
    newer = session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_model_id == draft.process_model_id,
            ProcessVersion.status == VersionStatus.PUBLISHED,
            ProcessVersion.number > draft.number,
        )
    )
    if newer is not None:
        raise Conflict(
            f"Version {newer.number} publicerades av {newer.deployed_by} efter att utkastet skapades. Släng utkastet och börja om från den."
        )
    bundle = load_bundle(session, draft.bundle_hash)
    findings = bundle_findings(bundle, engine=engine, called=called_parts(session, bundle))
    if has_errors(findings):
        raise ValidationFailed(
            "Utkastet har fel som måste rättas innan det kan publiceras.",
            {"findings": [f.message for f in findings if f.severity == "error"]},
        )
    draft.status = VersionStatus.PUBLISHED
    draft.approved_by = approver.display_name
    draft.change_note = note
    draft.effective_from = max(effective_from, now)
    draft.deployed_by = actor.label
    draft.deployed_at = now
    session.flush()
    record(
        session, "process:published", actor=actor, subject=("process_version", draft.id), process_id=process_id, number=number,
        bundle=draft.bundle_hash, approved_by=draft.approved_by, approver_user_id=approver.id, note=note, effective_from=draft.effective_from,
    )  # fmt: skip
    return draft
