"""Read-only queries behind the clinician's own pages: the inbox, the duty, the end of a shift, phrases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.cases import shifts
from app.cases.ack import inbox
from app.cases.models import AckItem, Case
from app.patients.models import Patient
from app.people.roles import CLINICAL_ROLES
from app.people.service import DutyHolder, duty_holder, present_users, roles_at
from app.phrases.defaults import PURPOSES
from app.phrases.models import PhraseLevel, PhraseStatus, PhraseTemplate
from app.phrases.service import InsertableTemplate, templates_for, tone_findings


@dataclass(frozen=True)
class InboxRow:
    item: AckItem
    patient_id: int | None
    patient_name: str | None
    search_reason: str | None
    for_me: bool


def inbox_rows(session: Session, *, actor: Actor) -> list[InboxRow]:
    """The acknowledgement inbox (vidimering) of the acting unit for the actor, with each case's patient."""
    items = inbox(session, actor=actor)
    case_ids = {item.case_id for item in items if item.case_id is not None}
    cases = {}
    if case_ids:
        cases = {
            cid: (pid, f"{given} {family}", reason)
            for cid, pid, given, family, reason in session.execute(
                select(Case.id, Patient.id, Patient.given_name, Patient.family_name, Case.search_reason)
                .join(Patient, Case.patient_id == Patient.id)
                .where(Case.id.in_(case_ids))
            )
        }
    rows = []
    for item in items:
        pid, name, reason = cases.get(item.case_id, (None, None, None))
        rows.append(InboxRow(item, pid, name, reason, item.for_user_id == actor.user_id))
    return rows


@dataclass(frozen=True)
class Colleague:
    user_id: int
    name: str


@dataclass(frozen=True)
class DutyOverview:
    holder: DutyHolder | None
    i_hold: bool
    may_hold: bool  # a clinician of the unit (OG-10.1-a)
    colleagues: list[Colleague]  # present clinicians the duty may be passed to
    absent_cases: list[shifts.OwnedCase]  # shown to the holder only (OG-6.1-j)
    patient_ids: list[int]  # the patients those cases show, for the access log


def duty_overview(session: Session, *, actor: Actor, at: datetime | None = None) -> DutyOverview:
    """Who holds the overall-responsible duty, to whom it may pass, and (for the holder) cases left on absent people."""
    holder = duty_holder(session, actor.unit_id, at)
    i_hold = holder is not None and holder.user_id == actor.user_id
    may_hold = bool(roles_at(session, actor.user_id, actor.unit_id, at) & CLINICAL_ROLES)
    colleagues = []
    if i_hold:
        colleagues = [
            Colleague(user.id, user.display_name)
            for user in present_users(session, actor.unit_id, at)
            if user.id != actor.user_id and roles_at(session, user.id, actor.unit_id, at) & CLINICAL_ROLES
        ]
    absent = shifts.absent_owner_cases(session, unit_id=actor.unit_id, at=at) if i_hold else []
    return DutyOverview(
        holder, i_hold, may_hold, colleagues, absent, _patients_of(session, [c.case_id for c in absent])
    )


@dataclass(frozen=True)
class ShiftEnd:
    cases: list[shifts.OwnedCase]  # the user's own ongoing cases: they go to the role queue (OG-6.1-i)
    holds_duty: bool
    patient_ids: list[int]


def shift_end_overview(session: Session, *, actor: Actor) -> ShiftEnd:
    """What ending the shift would leave behind (HA-shift): own ongoing cases and the duty, if held."""
    cases = shifts.my_ongoing_cases(session, actor=actor)
    holder = duty_holder(session, actor.unit_id)
    return ShiftEnd(
        cases,
        holder is not None and holder.user_id == actor.user_id,
        _patients_of(session, [c.case_id for c in cases]),
    )


def _patients_of(session: Session, case_ids: list[int]) -> list[int]:
    if not case_ids:
        return []
    return list(session.scalars(select(Case.patient_id).where(Case.id.in_(case_ids))))


@dataclass(frozen=True)
class PersonalTemplate:
    template: PhraseTemplate
    purpose_title: str
    tone: list[str]


@dataclass(frozen=True)
class PhraseOverview:
    personal: list[PersonalTemplate]
    shared: list[InsertableTemplate]  # the unit's local and the region's templates, read-only here


def phrase_overview(session: Session, *, actor: Actor) -> PhraseOverview:
    """The actor's own personal templates in use (with tone hints, HA-tone) beside the published shared ones (OG-8.2)."""
    own = session.scalars(
        select(PhraseTemplate)
        .where(
            PhraseTemplate.level == PhraseLevel.PERSONAL,
            PhraseTemplate.owner_user_id == actor.user_id,
            PhraseTemplate.status == PhraseStatus.PUBLISHED,
        )
        .order_by(PhraseTemplate.purpose, PhraseTemplate.title, PhraseTemplate.id)
    ).all()
    personal = [PersonalTemplate(t, PURPOSES.get(t.purpose, t.purpose), tone_findings(t.text)) for t in own]
    shared = [t for t in templates_for(session, actor=actor) if t.level is not PhraseLevel.PERSONAL]
    return PhraseOverview(personal, shared)
