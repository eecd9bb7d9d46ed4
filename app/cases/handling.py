"""Staff actions on a case that move its routine, and the task guards that protect those steps.

Each action completes the case's open task with the data the diagram reads (`outcome`, ...); the
guard registered for the task runs on every path that completes it (page, API, generic task form).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases import guards, messaging
from app.cases.effects import keep_step_note, region_policy
from app.cases.lookup import NOT_WAITING, case_instance, get_case, get_unit, open_tasks
from app.cases.models import (
    AttemptKind,
    Case,
    CaseKind,
    CaseState,
    Consent,
    ConsentAnswer,
    ContactAttempt,
)
from app.cases.permissions import require_act
from app.engine import ProcessEngine
from app.engine.messages import Message
from app.errors import Conflict, GuardRefused
from app.instances import service as instances
from app.instances.guards import task_guard
from app.instances.models import ProcessInstance
from app.notifications.models import Notification, NotificationStatus
from app.people.calendars import unit_calendar
from app.people.labels import ROLE_LABELS
from app.people.models import Unit, UnitFunction
from app.people.roles import CLINICAL_ROLES, Role
from app.people.service import roles_at
from app.people.unit_settings import unit_setting

HANDLING_TASKS = ("Handle_",)
DEFAULT_HANDOVER_ROLES = [r.value for r in CLINICAL_ROLES] + [Role.MEDICAL_ADMIN.value]


# --- reading what a guard needs ------------------------------------------------------------------

# A contact attempt counts unless it is an SMS reminder that never reached the patient: its SMS failed
# for good or was never to be sent (OG-6.1-g: "some hours apart" means the patient was contacted).
_UNDELIVERED_REMINDER = (
    select(Notification.id)
    .where(
        Notification.case_id == ContactAttempt.case_id,
        Notification.idempotency_key == messaging.reminder_key_of(ContactAttempt.case_id, ContactAttempt.id),
        Notification.status.in_([NotificationStatus.FAILED, NotificationStatus.SUPPRESSED]),
    )
    .exists()
)
_ATTEMPTS = (
    select(ContactAttempt.kind, ContactAttempt.at)
    .where(ContactAttempt.case_id == bindparam("case_id"), ~_UNDELIVERED_REMINDER)
    .order_by(ContactAttempt.at)
)


def attempts_of(session: Session, case_id: int) -> list[guards.Attempt]:
    rows = session.execute(_ATTEMPTS, {"case_id": case_id})
    return [guards.Attempt(AttemptKind(kind).value, at) for kind, at in rows]


def earliest_close(session: Session, case: Case) -> tuple[datetime | None, str | None]:
    """When the case may be closed unanswered (OG-6.1-f/g), and what is missing; for the case page."""
    if case.started_at is None:
        return None, "ärendet är inte startat"
    unit = get_unit(session, case.unit_id)
    # A case resumed after closing is judged from the resumption (as guards.check_close does).
    started_at = max(case.started_at, case.resumed_at) if case.resumed_at else case.started_at
    counted_from = max(filter(None, (case.last_patient_message_at, case.resumed_at)), default=None)
    attempts = [a for a in attempts_of(session, case.id) if counted_from is None or a.at > counted_from]
    if region_policy(session, unit, "closing", guards.SIX_WORKING_HOURS_POLICY) == guards.STANGNING_POLICY:
        return clock.now(), (None if attempts else "en påminnelse till patienten")
    return guards.earliest_unanswered_close(
        started_at=started_at,
        attempts=attempts,
        now=clock.now(),
        unit_calendar=unit_calendar(session, case.unit_id),
        gap_hours=float(unit_setting(unit, "hours_between_contact_attempts")),
    )


def check_closing(session: Session, case: Case, data: Mapping[str, Any]) -> None:
    """Every closing rule for this case and these form values (refuses with reason and earliest time)."""
    if (
        case.kind == CaseKind.SOK_VARD
        and case.category == "mental_health"
        and case.suicide_risk in (None, "suspected")
    ):
        raise GuardRefused(
            _l(
                "En suicidriskbedömning ingår i varje besök som gäller psykisk hälsa: gör bedömningen innan ärendet avslutas."
            ),
            rule="HA-suicide-a",
        )
    if case.kind != CaseKind.SOK_VARD:
        if not data.get("confirmed"):
            raise GuardRefused(_l("Bekräfta att du vill avsluta ärendet."), rule="HA-close-confirm")
        return
    unit = get_unit(session, case.unit_id)
    guards.check_close(
        priority=case.priority,
        concluded_in_dialogue=bool(data.get("concluded_in_dialogue")),
        confirmed=bool(data.get("confirmed")),
        started_at=case.started_at,
        last_patient_message_at=case.last_patient_message_at,
        attempts=attempts_of(session, case.id),
        now=clock.now(),
        unit_calendar=unit_calendar(session, case.unit_id),
        gap_hours=float(unit_setting(unit, "hours_between_contact_attempts")),
        closing_policy=region_policy(session, unit, "closing", guards.SIX_WORKING_HOURS_POLICY),
        resumed_at=case.resumed_at,
    )


def _case_of(session: Session, instance: ProcessInstance) -> Case:
    return get_case(session, instance.case_id)


# --- task guards (named in the diagrams) ----------------------------------------------------------


@task_guard("receive")
def _guard_receive(
    session: Session, instance: ProcessInstance, data: Mapping[str, Any], actor: Actor
) -> None:
    case = _case_of(session, instance)
    require_act(session, actor, case)
    if data.get("new_priority") is not None and data["new_priority"] != case.priority:
        guards.check_may_reprioritise(actor.roles)
        guards.check_priority(case.kind.value, data["new_priority"])


@task_guard("start")
def _guard_start(session: Session, instance: ProcessInstance, data: Mapping[str, Any], actor: Actor) -> None:
    case = _case_of(session, instance)
    require_act(session, actor, case)
    if case.state != CaseState.RECEIVED:
        raise GuardRefused(_l("Ta emot ärendet innan du startar det."), rule="OG-6.1-b")


@task_guard("handling")
def _guard_handling(
    session: Session, instance: ProcessInstance, data: Mapping[str, Any], actor: Actor
) -> None:
    case = _case_of(session, instance)
    require_act(session, actor, case)
    outcome = data.get("outcome")
    unit = get_unit(session, case.unit_id)
    if outcome == "close":
        check_closing(session, case, data)
    elif outcome == "handover":
        role = data.get("target_role")
        current = case.handling_role or Role.NURSE.value
        allowed = (unit_setting(unit, "handover_roles") or {}).get(current, DEFAULT_HANDOVER_ROLES)
        if role not in allowed:
            # OG-8.6: handover between professional groups follows the unit's local routine.
            raise GuardRefused(
                _l(
                    "Enligt enhetens rutin lämnas ärenden från %(current)s inte över till %(role)s.",
                    current=ROLE_LABELS.get(current, current),
                    role=ROLE_LABELS.get(role, role),
                ),
                rule="OG-8.6",
            )
        target = data.get("target_user_id")
        if target is not None and Role(role) not in roles_at(session, int(target), case.unit_id):
            raise GuardRefused(
                _l("Kollegan har inte rollen %(role)s på enheten.", role=ROLE_LABELS.get(role, role)),
                rule="OG-8.6",
            )
    elif (
        outcome == "meeting_form"
        and data.get("meeting_form") == "video"
        and not unit.has_function(UnitFunction.VIDEO)
    ):
        raise GuardRefused(_l("Enheten erbjuder inte videobesök i tjänsten."), rule="HA-functions")
    elif outcome == "medical_admin" and case.kind != CaseKind.SOK_VARD:
        raise GuardRefused(_l("Bara Sök vård-ärenden läggs över till Medicinsk admin."), rule="OG-7-b")
    elif outcome == "order_tests" and Role.DOCTOR.value not in actor.roles:
        raise GuardRefused(
            _l("Uppföljning av provsvar ligger hos läkaren som ordinerat provtagningen."), rule="OG-6.2"
        )


@task_guard("admin_handling")
def _guard_admin(session: Session, instance: ProcessInstance, data: Mapping[str, Any], actor: Actor) -> None:
    case = _case_of(session, instance)
    require_act(session, actor, case)
    if data.get("outcome") == "close" and not data.get("confirmed"):
        raise GuardRefused(_l("Bekräfta att du vill avsluta ärendet."), rule="HA-close-confirm")
    if data.get("outcome") == "medical_admin" and case.handling_role == Role.MEDICAL_ADMIN.value:
        # One form serves both steps; Medicinsk admin handing the case to itself would only loop.
        raise GuardRefused(_l("Ärendet ligger redan hos Medicinsk admin."), rule="OG-7-b")


@task_guard("suicide_assessment")
def _guard_suicide_assessment(
    session: Session, instance: ProcessInstance, data: Mapping[str, Any], actor: Actor
) -> None:
    case = _case_of(session, instance)
    require_act(session, actor, case)
    risk = data.get("risk")
    if risk in ("none", "low") and data.get("feels_safe_online") is None:
        raise GuardRefused(
            _l("Fråga patienten om det känns tryggt att fortsätta vården online och ange svaret."),
            rule="HA-suicide-d",
        )
    if risk in ("unreachable_low", "unreachable_raised"):
        # "Then try to phone": an unreachable patient is one the assessor has also tried to ring.
        last_answer = case.last_patient_message_at
        phoned = select(ContactAttempt.id).where(
            ContactAttempt.case_id == case.id, ContactAttempt.kind == AttemptKind.PHONE
        )
        if last_answer is not None:
            phoned = phoned.where(ContactAttempt.at > last_answer)
        if session.scalar(phoned.limit(1)) is None:
            raise GuardRefused(
                _l("Försök ringa patienten innan du bedömer att patienten inte går att nå."),
                rule="HA-suicide-f",
            )


@task_guard("message_handling")
def _guard_message(
    session: Session, instance: ProcessInstance, data: Mapping[str, Any], actor: Actor
) -> None:
    case = _case_of(session, instance)
    require_act(session, actor, case)
    if not data.get("confirmed"):
        raise GuardRefused(_l("Bekräfta att du vill avsluta ärendet."), rule="HA-close-confirm")


# --- actions --------------------------------------------------------------------------------------


def _complete(
    session: Session,
    engine: ProcessEngine,
    actor: Actor,
    case_id: int,
    prefixes: tuple[str, ...],
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Case:
    keep_step_note(session, case_id, data.get("note"))  # for the journal note and who takes over
    case = get_case(session, case_id)
    require_act(session, actor, case)
    instances.complete_case_task(
        session,
        engine,
        case_id=case_id,
        element_prefixes=prefixes,
        actor=actor,
        data=data,
        expected_version=expected_version,
        not_waiting=NOT_WAITING,
    )
    # No refresh: the step's effects changed this very object (the session's one copy of the case).
    return case


def receive(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    new_priority: int | None = None,
    priority_reason: str = "",
    expected_version: int | None = None,
) -> Case:
    """'Ta emot' after reading the anamnesis and checking the priority (OG-6.1-b); may change it (HA-prio-b)."""
    return _complete(
        session,
        engine,
        actor,
        case_id,
        ("Receive_",),
        {"priority_checked": True, "new_priority": new_priority, "priority_reason": priority_reason},
        expected_version,
    )


def start(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    first_message: str = "",
    expected_version: int | None = None,
) -> Case:
    """'Starta': the first chat message goes out (OG-6.1-d)."""
    return _complete(
        session, engine, actor, case_id, ("Start_",), {"first_message": first_message}, expected_version
    )


def close(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    concluded_in_dialogue: bool,
    confirmed: bool,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Close the case (guarded: OG-6.1-f/g/h, HA-close-confirm, HA-suicide-a)."""
    case = get_case(session, case_id)
    if case.kind == CaseKind.ADMIN:
        return _complete(
            session,
            engine,
            actor,
            case_id,
            ("Handle_",),
            {"outcome": "close", "confirmed": confirmed, "note": note},
            expected_version,
        )
    if case.kind == CaseKind.NO_TRIAGE:
        return _complete(
            session,
            engine,
            actor,
            case_id,
            ("Answer_",),
            {"concluded_in_dialogue": concluded_in_dialogue, "confirmed": confirmed},
            expected_version,
        )
    return _complete(
        session,
        engine,
        actor,
        case_id,
        HANDLING_TASKS,
        {
            "outcome": "close",
            "concluded_in_dialogue": concluded_in_dialogue,
            "confirmed": confirmed,
            "note": note,
        },
        expected_version,
    )


def hand_over(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    role: str,
    user_id: int | None = None,
    note: str = "",
) -> Case:
    """Hand over to a role or a named colleague; the resident is asked for consent first (HA-handover-consent)."""
    return _complete(
        session,
        engine,
        actor,
        case_id,
        HANDLING_TASKS,
        {"outcome": "handover", "target_role": role, "target_user_id": user_id, "note": note},
    )


def suspect_suicide_risk(
    session: Session, engine: ProcessEngine, *, actor: Actor, case_id: int, note: str = ""
) -> Case:
    """Suspected suicide risk: handed over at once to a psychologist or doctor, no consent wait (HA-suicide-b).

    From the handling task the outcome says so; while a handover or meeting-form consent is pending
    (no handling task open) the question is withdrawn, audited, and the routine hears
    `suicide_risk_raised`, which its consent wait catches (HA-handover-consent: never waits)."""
    case = get_case(session, case_id)
    require_act(session, actor, case)
    if any(task.element_id.startswith(HANDLING_TASKS) for task in open_tasks(session, case_id)):
        return _complete(
            session, engine, actor, case_id, HANDLING_TASKS, {"outcome": "suicide_risk", "note": note}
        )
    instance = case_instance(session, case_id)
    if instance is None:
        raise Conflict(NOT_WAITING)
    _withdraw_pending_consents(session, actor, case)
    try:
        instances.deliver_message(
            session, engine, instance_id=instance.id, name=Message.SUICIDE_RISK_RAISED, actor=actor
        )
    except Conflict as exc:  # the routine waits for no consent either: nothing to raise it from now
        raise Conflict(NOT_WAITING) from exc
    return case


def _withdraw_pending_consents(session: Session, actor: Actor, case: Case) -> None:
    """Close the open consent questions (a late answer is then refused) and record why."""
    pending = session.scalars(
        select(Consent).where(Consent.case_id == case.id, Consent.answer == ConsentAnswer.PENDING)
    ).all()
    for consent in pending:
        consent.answer = ConsentAnswer.EXPIRED
        consent.answered_at = clock.now()
        record(
            session,
            "consent:withdrawn",
            actor=actor,
            subject=("case", case.id),
            consent_id=consent.id,
            kind=consent.kind.value,
            reason="suicide_risk",
        )
    if case.state == CaseState.HANDED_OVER:
        case.state = CaseState.STARTED
    session.flush()


def to_medical_admin(
    session: Session, engine: ProcessEngine, *, actor: Actor, case_id: int, note: str = ""
) -> Case:
    """An administrative matter in the Sök vård flow goes to Medicinsk admin (OG-7-b)."""
    return _complete(
        session, engine, actor, case_id, HANDLING_TASKS, {"outcome": "medical_admin", "note": note}
    )


def wrong_patient(
    session: Session, engine: ProcessEngine, *, actor: Actor, case_id: int, note: str = ""
) -> Case:
    """The resident sought care for someone else (HA-behalf)."""
    return _complete(
        session, engine, actor, case_id, HANDLING_TASKS, {"outcome": "wrong_patient", "note": note}
    )


def switch_meeting_form(
    session: Session, engine: ProcessEngine, *, actor: Actor, case_id: int, form: str, cost: str
) -> Case:
    """Ask to switch meeting form, stating the cost (OG-8.3)."""
    return _complete(
        session,
        engine,
        actor,
        case_id,
        HANDLING_TASKS,
        {"outcome": "meeting_form", "meeting_form": form, "cost": cost},
    )


def order_tests(session: Session, engine: ProcessEngine, *, actor: Actor, case_id: int, note: str) -> Case:
    """Tests ordered: a follow-up task for the ordering doctor (OG-6.2)."""
    return _complete(
        session, engine, actor, case_id, HANDLING_TASKS, {"outcome": "order_tests", "note": note}
    )


def admin_outcome(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    outcome: str,
    confirmed: bool = False,
    note: str = "",
) -> Case:
    """Handle an administrative case: close, refer to Sök vård (OG-7-c) or to Förnya recept (OG-7-e), or to Medicinsk admin."""
    return _complete(
        session,
        engine,
        actor,
        case_id,
        ("Handle_",),
        {"outcome": outcome, "confirmed": confirmed, "note": note},
    )


def attempt_kinds() -> list[str]:
    return [k.value for k in AttemptKind]


def protected_policy(session: Session, unit: Unit) -> str:
    return region_policy(session, unit, "protected_identity", "verify_and_follow_routine")
