"""Journal-note drafts: prepared on the documentation paths (OG-11-e, HA-doc-a), marked done by their clinician.

The EHR is another system: the product prepares the note in the region's template, the clinician
copies it into the EHR and marks the draft documented. Who documents what (HA-doc-a): the first
assessor documents the anamnesis and their assessment; everyone documents their own assessment,
also when handing over. So a case's first note carries the anamnesis and later notes do not.
"""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases.models import Case, CaseImage
from app.db import insert_now
from app.documentation.journal_templates import BUILDERS, FormSummary, NoteInput
from app.documentation.models import DraftReason, FormHandling, JournalDraft
from app.errors import Conflict, Forbidden, GuardRefused, NotFound, ValidationFailed
from app.people.models import Unit, User
from app.people.roles import Role

# HA-behalf: a case sought for someone else is marked so, and nothing about it goes to the EHR.
WRONG_PATIENT_MARK = "OBS FEL PATIENT"


# Both in one statement: whether the anamnesis is documented already, and how many images the case has.
_ANAMNESIS_DOCUMENTED_AND_IMAGES = select(
    exists().where(JournalDraft.case_id == bindparam("case_id"), JournalDraft.includes_anamnesis.is_(True)),
    select(func.count(CaseImage.id)).where(CaseImage.case_id == bindparam("case_id")).scalar_subquery(),
)


def create_draft(
    session: Session,
    *,
    case: Case,
    reason: DraftReason,
    for_user_id: int,
    actor: Actor,
    assessment: str | None = None,
    form_summary: FormSummary | None = None,
    video: bool | None = None,
) -> JournalDraft:
    """Prepare the journal note a clinician owes for a case, in the region's EHR template. The care
    contact follows the case's meeting form (HA-doc-b: a chat switched to video is a video visit)."""
    reason = DraftReason(reason)
    if video is None:
        video = case.meeting_form == "video"
    if actor.user_id is not None and actor.unit_id != case.unit_id:
        raise Forbidden(_l("Journalanteckningar förbereds av någon som arbetar för ärendets enhet."))
    if session.get(User, for_user_id) is None:
        raise NotFound(f"no user {for_user_id}")
    if WRONG_PATIENT_MARK in (case.anamnesis or ""):
        raise GuardRefused(
            _l("Ärendet söktes för en annan person: inget dokumenteras i journalen."), rule="HA-behalf"
        )
    form_summary = _checked_form(reason, form_summary)
    template_key = _journal_template(session, case.unit_id)
    # HA-doc-a: the anamnesis is documented once, by the first assessor; form notes are additions.
    # HA-doc-a: the images are records to document; a form note is only about its form (nor does it
    # carry the anamnesis).
    includes_anamnesis, images = False, 0
    if reason is not DraftReason.FORM:
        with session.no_autoflush:  # the case's pending change (it is closing, say) is not what this reads
            documented, images = session.execute(_ANAMNESIS_DOCUMENTED_AND_IMAGES, {"case_id": case.id}).one()
        includes_anamnesis = not documented
    note = BUILDERS[template_key](
        NoteInput(
            reason=reason,
            search_reason=case.search_reason,
            anamnesis=case.anamnesis if includes_anamnesis else None,
            assessment=assessment,
            form=form_summary,
            video=video,
            triage_priority=case.triage_priority,
            priority=case.priority,
            images=images or 0,
        )
    )
    fields = note.as_fields()
    if form_summary is not None:
        fields["form"] = {"name": form_summary.name, "handling": form_summary.handling.value}
    draft = JournalDraft(
        case_id=case.id,
        unit_id=case.unit_id,
        template=template_key,
        reason=reason,
        for_user_id=for_user_id,
        form_handling=form_summary.handling if form_summary else None,
        includes_anamnesis=includes_anamnesis,
        fields=fields,
        text=note.as_text(),
        created_at=clock.now(),
    )
    insert_now(session, draft)
    record(
        session,
        "journal_draft:created",
        actor=actor,
        subject=("journal_draft", draft.id),
        case_id=case.id,
        reason=reason.value,
        template=template_key,
        for_user_id=for_user_id,
        form_handling=draft.form_handling,
    )
    return draft


def mark_documented(
    session: Session, *, draft_id: int, actor: Actor, note: str | None = None
) -> JournalDraft:
    """Record that the note is in the EHR: by its clinician, or by the unit's head of unit with a note why.

    Documenting one's own assessment is personal (HA-doc-a), so nobody else ticks it off in passing;
    the head of unit may, for a clinician who is away or has left, saying how it was settled.
    """
    draft = session.get(JournalDraft, draft_id)
    if draft is None:
        raise NotFound(_l("Anteckningen finns inte."), draft_id=draft_id)
    if draft.documented_at is not None:
        raise Conflict(_l("Anteckningen är redan markerad som dokumenterad."))
    on_behalf = actor.user_id != draft.for_user_id
    if on_behalf:
        if actor.user_id is None or Role.HEAD_OF_UNIT not in actor.roles or actor.unit_id != draft.unit_id:
            raise Forbidden(
                _l(
                    "Bara den som anteckningen gäller, eller verksamhetschefen, markerar den som dokumenterad."
                ),
                rule="HA-doc-a",
            )
        if not (note or "").strip():
            raise ValidationFailed(
                _l("Skriv hur dokumentationen har ordnats."),
                {"note": ["required when marking for someone else"]},
            )
    draft.documented_at = clock.now()
    draft.documented_by_user_id = actor.user_id
    draft.documented_note = (note or "").strip() or None
    session.flush()
    record(
        session,
        "journal_draft:documented",
        actor=actor,
        subject=("journal_draft", draft.id),
        case_id=draft.case_id,
        on_behalf_of=draft.for_user_id if on_behalf else None,
        note=draft.documented_note,
    )
    return draft


def undocumented(session: Session, *, unit_id: int, for_user_id: int | None = None) -> list[JournalDraft]:
    """Drafts at the unit not yet marked documented, oldest first (OG-11-e, HA-doc-a)."""
    query = select(JournalDraft).where(JournalDraft.unit_id == unit_id, JournalDraft.documented_at.is_(None))
    if for_user_id is not None:
        query = query.where(JournalDraft.for_user_id == for_user_id)
    return list(session.scalars(query.order_by(JournalDraft.created_at, JournalDraft.id)))


def _journal_template(session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    key = (unit.region.policies or {}).get("journal_template")
    if key not in BUILDERS:
        raise GuardRefused(
            f"region {unit.region.name} names no known journal template (policy journal_template: {key!r})"
        )
    return key


def _checked_form(reason: DraftReason, form: FormSummary | None) -> FormSummary | None:
    if reason is DraftReason.FORM and form is None:
        raise ValidationFailed(
            _l("En formuläranteckning behöver formuläret."), {"form_summary": ["required"]}
        )
    if form is None:
        return None
    form = replace(form, handling=FormHandling(form.handling))
    if form.handling is FormHandling.COPIED and not form.answers:
        raise ValidationFailed(
            _l("Ett formulär kopieras med sina frågor och svar, och det här har inga svar."),
            {"form_summary": ["answers required"]},
            rule="HA-forms",
        )
    if form.handling is FormHandling.SUMMARISED and not form.summary.strip():
        raise ValidationFailed(
            _l("Ett sammanfattat formulär behöver en anteckning om vad det visade."),
            {"form_summary": ["summary required"]},
            rule="HA-forms",
        )
    return form
