"""A resident submits a case: the guards of section E, the unit's functions, then the routine starts.

After hours the routine's decision table refers the resident (OG-3); where the region allows it
(HA-after-hours, at a care centre) the resident may send anyway and the case waits for the next
weekday. A claimed protected identity is protected at once (SEC-protected-sms) and the region's
policy decides the rest in the routine (OG-6.3 or HA-protected).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases import guards
from app.cases.effects import region_policy
from app.cases.lookup import get_unit
from app.cases.models import Case, CaseKind, CaseState, ImageRequest
from app.cases.permissions import require_resident
from app.cases.triage import TriageResult
from app.db import insert_now
from app.engine import ProcessEngine
from app.errors import Conflict, Forbidden, GuardRefused, NotFound
from app.instances.persistence import new_case_projected
from app.instances.service import start_instance
from app.patients.models import Guardianship, Patient
from app.patients.service import claim_protection
from app.people.models import Unit, UnitFunction, UnitKind

PROCESS_FOR_KIND = {
    CaseKind.SOK_VARD: "chat_case",
    CaseKind.ADMIN: "admin_case",
    CaseKind.NO_TRIAGE: "chat_no_triage",
}
# The region's after-hours routine (Region.policies["after_hours"]), read by processes/after_hours_referral.dmn.
AFTER_HOURS_POLICY_KEY = "after_hours"
BY_PRIORITY = "by_priority"  # OG-3
REFER_1177_OR_112 = "refer_1177_or_112"  # HA-after-hours
AFTER_HOURS_POLICIES = (BY_PRIORITY, REFER_1177_OR_112)
FUNCTION_FOR_KIND = {
    CaseKind.SOK_VARD: UnitFunction.CHAT_TRIAGE,
    CaseKind.ADMIN: UnitFunction.ADMIN_CASES,
    CaseKind.NO_TRIAGE: UnitFunction.CHAT_NO_TRIAGE,
}


def submit_case(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    patient_id: int,
    unit_id: int,
    kind: CaseKind,
    triage: TriageResult | None = None,
    search_reason: str | None = None,
    message: str = "",
    send_anyway: bool = False,
    claims_protected: bool = False,
    submission_key: str | None = None,
) -> Case:
    """Submit a case for yourself or your child under 13; returns it (referred or refused cases included).

    `submission_key` names one submission (one form shown, one API request): sent again, it returns the
    case the first one made — a double click or a retried request never makes a second case."""
    if actor.patient_id is None:
        raise Forbidden(_l("Bara invånare skickar in ärenden."))
    earlier = _earlier_submission(session, actor, submission_key)
    if earlier is not None:
        return earlier
    patient = session.get(Patient, patient_id)
    unit = get_unit(session, unit_id)
    if patient is None or unit is None:
        raise NotFound(_l("Patienten eller mottagningen finns inte."))
    by_guardian = actor.patient_id != patient.id
    if (
        by_guardian
        and session.scalar(
            select(Guardianship.id).where(
                Guardianship.guardian_id == actor.patient_id, Guardianship.child_id == patient.id
            )
        )
        is None
    ):
        raise Forbidden(_l("Du kan söka vård för dig själv eller för ditt eget barn."), rule="HA-behalf")
    now = clock.now()
    guards.check_submission_age(birth_date=patient.birth_date, submitted_at=now, by_guardian=by_guardian)
    if not unit.activated:
        raise GuardRefused(
            _l(
                "Mottagningen tar inte emot ärenden i 1177 direkt. Ring mottagningen eller använd Kontakta mig på 1177.se."
            ),
            rule="OG-10.3",
        )
    if not unit.has_function(FUNCTION_FOR_KIND[kind]):
        raise GuardRefused(_l("Mottagningen använder inte den här funktionen."), rule="HA-functions")
    if kind == CaseKind.SOK_VARD:
        if triage is None:
            raise GuardRefused(_l("Ett Sök vård-ärende börjar med triageringens frågor."), rule="HA-prio-a")
        guards.check_priority(kind.value, triage.priority)
        priority, reason, category, anamnesis = (
            triage.priority,
            triage.search_reason,
            triage.category,
            triage.anamnesis,
        )
    else:
        # OG-7-d: administrative cases (and chat without triage) carry no priority.
        priority, reason, category = (
            None,
            (search_reason or "Meddelande").strip()[:200],
            "administrative" if kind == CaseKind.ADMIN else "general",
        )
        anamnesis = message.strip()
    if claims_protected:
        claim_protection(session, patient=patient, actor=actor)
    case = Case(
        kind=kind,
        unit_id=unit.id,
        patient_id=patient.id,
        submitted_by_id=actor.patient_id,
        submission_key=submission_key or None,
        priority=priority,
        triage_priority=priority,
        search_reason=reason,
        category=category,
        anamnesis=anamnesis,
        state=CaseState.NEW,
        submitted_at=now,
    )
    if submission_key:
        try:
            with session.begin_nested():
                insert_now(session, case)
        except IntegrityError:
            # PostgreSQL: the same submission arrived twice at once (a double click's two posts, a
            # retried request) and the other one made the case first: its unique key stopped this one.
            earlier = _earlier_submission(session, actor, submission_key)
            if earlier is None:
                raise
            return earlier
    else:
        insert_now(session, case)
    new_case_projected(session, case)
    if triage is not None and triage.images_requested:
        session.add(
            ImageRequest(
                case_id=case.id,
                requested_by=None,
                instructions="Triageringen ber om bilder på besvären.",
                requested_at=now,
            )
        )
    # HA-after-hours: at a care centre the resident may always send anyway, where the region says so.
    anyway_allowed = send_anyway_allowed(session, unit)
    record(
        session,
        "case:submitted",
        actor=actor,
        subject=("case", case.id),
        kind=kind.value,
        by_guardian=by_guardian,
        priority=priority,
        send_anyway=send_anyway and anyway_allowed,
    )
    start_instance(
        session,
        engine,
        process_id=PROCESS_FOR_KIND[kind],
        actor=actor,
        case=case,
        data={
            "priority": priority,
            "category": category,
            "unit_kind": unit.kind.value,
            "protected": patient.is_protected,
            "protected_policy": region_policy(
                session, unit, "protected_identity", "verify_and_follow_routine"
            ),
            "send_anyway": bool(send_anyway and anyway_allowed),
            "after_hours_policy": after_hours_policy(session, unit),
            "search_reason": reason,
        },
    )
    # No refresh: the routine's effects changed this very object (or, if its first steps failed, the
    # savepoint's rollback expired it and it reloads on first use).
    return case


def send_anyway_allowed(session: Session, unit: Unit) -> bool:
    """Whether a resident may send a chat anyway after hours at this unit (HA-after-hours)."""
    return (
        bool(region_policy(session, unit, "after_hours_send_anyway", False))
        and unit.kind == UnitKind.CARE_CENTRE
    )


def after_hours_policy(session: Session, unit: Unit) -> str:
    """How the region refers a case that arrives after closing, for the routine's after-hours table.

    `refer_1177_or_112` (HA-after-hours): every priority to 1177 by phone or to 112 by severity, unless
    sent anyway; `by_priority` (OG-3): 112, 1177, self-care or the next day by priority. A region that has
    not set `after_hours` follows its send-anyway policy, the one other half of Halland's after-hours rule."""
    policy = region_policy(session, unit, AFTER_HOURS_POLICY_KEY, None)
    if policy in AFTER_HOURS_POLICIES:
        return policy
    return (
        REFER_1177_OR_112 if region_policy(session, unit, "after_hours_send_anyway", False) else BY_PRIORITY
    )


def _earlier_submission(session: Session, actor: Actor, submission_key: str | None) -> Case | None:
    """The case an earlier sending of this submission made, if any, for its sender to see again."""
    if not submission_key:
        return None
    earlier = session.scalar(select(Case).where(Case.submission_key == submission_key))
    if earlier is not None:
        if earlier.submitted_by_id != actor.patient_id:
            raise Conflict(_l("Inskickningen har redan använts. Ladda om sidan och försök igen."))
        # The sender may no longer read it (a guardian whose child has turned 13 since).
        require_resident(session, actor, earlier)
    return earlier
