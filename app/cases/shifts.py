"""Ending a shift and cases left on absent people (OG-6.1-i, OG-6.1-j, HA-shift)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases.guards import stockholm_date
from app.cases.lookup import get_case
from app.cases.models import OPEN_CASE_STATES, Case
from app.cases.permissions import serves_unit
from app.errors import Forbidden, GuardRefused
from app.instances.persistence import reproject_case
from app.people import service as people
from app.people.calendars import served_unit_ids, unit_calendar
from app.people.models import User
from app.people.roles import DUTY, Role
from app.people.service import present


@dataclass(frozen=True)
class OwnedCase:
    case_id: int
    patient_name: str
    search_reason: str
    state: str
    owner_user_id: int | None = None
    owner_name: str | None = None
    to_duty_holder: bool = False  # ending the shift hands it to the overall responsible (HA-suicide-g)


def _owned(session: Session, unit_id: int, owner_id: int | None = None) -> list[Case]:
    """Open owned cases of the unit and of the units it keeps the service open for today (OG-9.2)."""
    query = select(Case).where(
        Case.unit_id.in_(served_unit_ids(session, unit_id)),
        Case.state.in_(list(OPEN_CASE_STATES)),
        Case.owner_user_id.is_not(None),
    )
    if owner_id is not None:
        query = query.where(Case.owner_user_id == owner_id)
    return list(session.scalars(query.order_by(Case.priority, Case.submitted_at)))


def my_ongoing_cases(session: Session, *, actor: Actor) -> list[OwnedCase]:
    """The actor's own ongoing cases at the acting unit: what ending the shift warns about (HA-shift)."""
    return [
        OwnedCase(
            c.id,
            c.patient.display_name,
            c.search_reason,
            c.state.value,
            to_duty_holder=_duty_holder_for_escalation(session, c, actor) is not None,
        )
        for c in _owned(session, actor.unit_id, actor.user_id)
    ]


def end_shift(session: Session, *, actor: Actor, confirmed: bool) -> list[int]:
    """'Avsluta skift': warn about own ongoing cases; once confirmed, move them to their role's queue (OG-6.1-i)."""
    cases = _owned(session, actor.unit_id, actor.user_id)
    if cases and not confirmed:
        raise GuardRefused(
            _l("Du har 1 pågående ärende. Det läggs över till din yrkesroll när du avslutar skiftet.")
            if len(cases) == 1
            else _l(
                "Du har %(count)s pågående ärenden. De läggs över till din yrkesroll när du avslutar skiftet.",
                count=len(cases),
            ),
            rule="HA-shift",
            cases=[c.id for c in cases],
        )
    for case in cases:
        holder = _duty_holder_for_escalation(session, case, actor)
        if holder is not None:
            _to_duty_holder(session, case, actor, holder)
        else:
            _to_role_queue(session, case, actor, reason="end of shift")
    people.end_shift(session, actor=actor)
    return [c.id for c in cases]


def _duty_holder_for_escalation(session: Session, case: Case, actor: Actor) -> int | None:
    """A suspected suicide risk escalated for want of a psychologist or doctor stays with a named person
    (HA-suicide-g: never left in a queue): the present overall responsible takes it from whoever
    ends their shift. A case already with a psychologist's or doctor's queue follows that queue."""
    if case.suicide_risk != "suspected" or case.handling_role in (Role.PSYCHOLOGIST.value, Role.DOCTOR.value):
        return None
    holder = people.duty_holder(session, case.unit_id)
    if (
        holder is None
        or holder.user_id == actor.user_id
        or not present(session, holder.user_id, case.unit_id)
    ):
        return None
    return holder.user_id


def _to_duty_holder(session: Session, case: Case, actor: Actor, holder_id: int) -> None:
    previous = case.owner_user_id
    case.owner_user_id = holder_id
    session.flush()
    reproject_case(session, case)
    record(
        session,
        "case:moved_to_duty_holder",
        actor=actor,
        subject=("case", case.id),
        previous_owner=previous,
        owner=holder_id,
        reason="end of shift: escalated suicide risk (HA-suicide-g)",
    )


def absent_owner_cases(session: Session, *, unit_id: int, at: datetime | None = None) -> list[OwnedCase]:
    """Open cases owned by someone not present at the unit now (OG-6.1-j, OG-10.1-b)."""
    at = at or clock.now()
    result = []
    for case in _owned(session, unit_id):
        if not _owner_present(session, case, at):
            owner = session.get(User, case.owner_user_id)
            result.append(
                OwnedCase(
                    case.id,
                    case.patient.display_name,
                    case.search_reason,
                    case.state.value,
                    owner.id,
                    owner.display_name,
                )
            )
    return result


def move_to_role_queue(session: Session, *, actor: Actor, case_id: int) -> Case:
    """The overall responsible moves a case off an absent person to its role's queue (OG-6.1-j), audited."""
    case = get_case(session, case_id)
    if not serves_unit(session, actor, case.unit_id) or (
        DUTY not in actor.roles and actor.user_id != case.owner_user_id
    ):
        raise Forbidden(_l("Det är övergripande ansvarig som flyttar ärenden från en frånvarande kollega."))
    if (
        case.owner_user_id is not None
        and case.owner_user_id != actor.user_id
        and _owner_present(session, case, clock.now())
    ):
        raise GuardRefused(_l("Ägaren är på plats: be kollegan lämna över ärendet."), rule="OG-6.1-j")
    _to_role_queue(session, case, actor, reason="owner absent")
    return case


def _owner_present(session: Session, case: Case, at: datetime) -> bool:
    """Is the case's owner at work for it: at its unit, or at the unit covering it today (OG-9.2)."""
    if present(session, case.owner_user_id, case.unit_id, at):
        return True
    covering = unit_calendar(session, case.unit_id).covering_unit_on(stockholm_date(at))
    return covering is not None and present(session, case.owner_user_id, covering, at)


def _to_role_queue(session: Session, case: Case, actor: Actor, *, reason: str) -> None:
    previous = case.owner_user_id
    case.owner_user_id = None
    session.flush()
    reproject_case(session, case)
    record(
        session,
        "case:moved_to_role_queue",
        actor=actor,
        subject=("case", case.id),
        previous_owner=previous,
        role=case.handling_role,
        reason=reason,
    )
