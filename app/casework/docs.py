"""Reads and one action for documentation support: the drafts still owed, and ticking one off from its case."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor, log_access
from app.cases.lookup import get_case
from app.cases.models import Case
from app.cases.permissions import require_case_reader, require_read
from app.documentation.models import JournalDraft
from app.documentation.service import mark_documented, undocumented
from app.errors import NotFound
from app.patients.models import Patient
from app.people.models import User
from app.people.roles import CLINICAL_ROLES


@dataclass
class OwedNote:
    draft: JournalDraft
    case: Case
    patient_name: str
    for_name: str
    mine: bool


def default_scope(actor: Actor) -> str:
    """ "mine" for a clinician; the unit's list for someone who owes no notes of their own (the head
    of unit, who settles those of colleagues who are away)."""
    return "mine" if actor.roles & {str(r) for r in CLINICAL_ROLES} else "unit"


def undocumented_for(
    session: Session, *, actor: Actor, whole_unit: bool, context: str | None = None
) -> list[OwedNote]:
    """Notes owed at the acting unit (the actor's own, or all of the unit's), oldest first; the read is logged.

    Only for roles that read the unit's cases: each note names its patient and may carry the anamnesis.
    """
    require_case_reader(actor)
    drafts = undocumented(session, unit_id=actor.unit_id, for_user_id=None if whole_unit else actor.user_id)
    if not drafts:
        return []
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_({d.case_id for d in drafts})))}
    patients = {
        p.id: p
        for p in session.scalars(
            select(Patient).where(Patient.id.in_({c.patient_id for c in cases.values()}))
        )
    }
    users = {
        u.id: u for u in session.scalars(select(User).where(User.id.in_({d.for_user_id for d in drafts})))
    }
    log_access(
        session,
        actor=actor,
        action="journal:undocumented_list",
        patient_ids=[cases[d.case_id].patient_id for d in drafts],
        context=context,
    )
    return [
        OwedNote(
            d,
            cases[d.case_id],
            patients[cases[d.case_id].patient_id].display_name,
            users[d.for_user_id].display_name if d.for_user_id in users else "",
            d.for_user_id == actor.user_id,
        )
        for d in drafts
    ]


def mark_case_draft(
    session: Session, *, actor: Actor, case_id: int, draft_id: int, note: str
) -> JournalDraft:
    """Mark one of the case's drafts documented (mark_documented decides who may)."""
    require_read(session, actor, get_case(session, case_id))
    draft = session.get(JournalDraft, draft_id)
    if draft is None or draft.case_id != case_id:
        raise NotFound("Journalanteckningen finns inte i ärendet.")
    return mark_documented(session, draft_id=draft_id, actor=actor, note=note or None)
