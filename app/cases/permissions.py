"""Who may read and act on a case, checked on the case itself (not on URLs).

Care staff of the case's unit (the roles that work cases, and the head of unit) may read it — not
every role: a local system administrator, a process owner or a deviation coordinator has no reason
to read patients' cases; they act on cases in their role's queue or owned by them; the
overall responsible on duty acts on every case of the unit; staff of a unit covering for it today
(OG-9.2, access arranged beforehand) as its own staff. A resident reads and answers their own cases,
and a guardian their child's while the child is under 13 (OG-6.4-b).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.cases.guards import guardian_may_act, stockholm_date
from app.cases.models import Case, CaseCollaborator
from app.errors import Forbidden
from app.patients.models import Guardianship, Patient
from app.people.models import OpeningException
from app.people.roles import CASE_ROLES, DUTY, Role

CASE_ACTOR_ROLES = frozenset(str(role) for role in CASE_ROLES)  # an unassigned case: anyone who works cases
# Roles that read a unit's cases; the duty is only ever held by a clinician, so it needs no entry.
CASE_READER_ROLES = frozenset(str(role) for role in CASE_ROLES | {Role.HEAD_OF_UNIT})


def reads_cases(actor: Actor) -> bool:
    """Staff whose roles at the acting unit read its cases (where a case's unit is not yet in question)."""
    return actor.user_id is not None and bool(actor.roles & CASE_READER_ROLES)


def require_case_reader(actor: Actor) -> None:
    """Refuse lists and inboxes of the unit's cases to roles that may not read them (a local system
    administrator, a process owner, a deviation coordinator), as the case page itself does."""
    if not reads_cases(actor):
        raise Forbidden(_l("Din roll ger inte tillgång till enhetens ärenden."))


def _staff_of_case_unit(session: Session, actor: Actor, case: Case) -> bool:
    return reads_cases(actor) and serves_unit(session, actor, case.unit_id)


def serves_unit(session: Session, actor: Actor, unit_id: int) -> bool:
    """Does the actor work for `unit_id` now: at the unit itself, or at the unit keeping its service
    open today (OG-9.2), whose staff handle its cases that day."""
    if actor.unit_id == unit_id:
        return True
    if actor.unit_id is None:
        return False
    cover = session.scalar(
        select(OpeningException.id).where(
            OpeningException.unit_id == unit_id,
            OpeningException.day == stockholm_date(clock.now()),
            OpeningException.covering_unit_id == actor.unit_id,
        )
    )
    return cover is not None


def is_resident_of(session: Session, actor: Actor, case: Case) -> bool:
    """The patient, or a guardian who still acts for the child."""
    if actor.patient_id is None:
        return False
    if actor.patient_id == case.patient_id:
        return True
    guardian = session.scalar(
        select(Guardianship.id).where(
            Guardianship.guardian_id == actor.patient_id, Guardianship.child_id == case.patient_id
        )
    )
    if guardian is None:
        return False
    child = session.get(Patient, case.patient_id)
    return guardian_may_act(birth_date=child.birth_date, at=clock.now())


def can_read(session: Session, actor: Actor, case: Case) -> bool:
    return _staff_of_case_unit(session, actor, case) or is_resident_of(session, actor, case)


def can_act(session: Session, actor: Actor, case: Case) -> bool:
    """Staff who may change the case: its owner, its role's queue, or the overall responsible."""
    if not _staff_of_case_unit(session, actor, case):
        return False
    if DUTY in actor.roles:  # its own unit, or the unit covering it today (OG-9.2): checked just above
        return True
    if case.owner_user_id is not None and case.owner_user_id == actor.user_id:
        return True
    if case.owner_user_id is None and (
        case.handling_role in actor.roles or (case.handling_role is None and actor.roles & CASE_ACTOR_ROLES)
    ):
        return True
    # Invited into the case (OG-8.5): asked last, as it is the only check that needs a query.
    return (
        session.scalar(
            select(CaseCollaborator.id).where(
                CaseCollaborator.case_id == case.id, CaseCollaborator.user_id == actor.user_id
            )
        )
        is not None
    )


def require_read(session: Session, actor: Actor, case: Case) -> None:
    if not can_read(session, actor, case):
        raise Forbidden(
            _l("Du har inte behörighet till det här ärendet."), case_id=case.id, patient_id=case.patient_id
        )


def require_act(session: Session, actor: Actor, case: Case) -> None:
    if not can_act(session, actor, case):
        if can_read(session, actor, case):
            raise Forbidden(
                _l("Ärendet ägs av en kollega eller ligger i en annan yrkesrolls kö."),
                case_id=case.id,
                patient_id=case.patient_id,
            )
        raise Forbidden(
            _l("Du har inte behörighet till det här ärendet."), case_id=case.id, patient_id=case.patient_id
        )


def require_resident(session: Session, actor: Actor, case: Case) -> None:
    if is_resident_of(session, actor, case):
        return
    if _guardian_of_grown_child(session, actor, case):
        # Said plainly (OG-6.4-b): the guardian who started the case learns why it closed to them.
        raise Forbidden(
            _l(
                "Barnet har fyllt 13 år och företräder sig självt: barnet loggar in och fortsätter ärendet själv."
            ),
            rule="OG-6.4-b",
            case_id=case.id,
            patient_id=case.patient_id,
        )
    raise Forbidden(
        _l("Du har inte behörighet till det här ärendet."), case_id=case.id, patient_id=case.patient_id
    )


def _guardian_of_grown_child(session: Session, actor: Actor, case: Case) -> bool:
    if actor.patient_id is None or actor.patient_id == case.patient_id:
        return False
    guardian = session.scalar(
        select(Guardianship.id).where(
            Guardianship.guardian_id == actor.patient_id, Guardianship.child_id == case.patient_id
        )
    )
    return guardian is not None
