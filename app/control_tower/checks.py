"""The overall responsible's checks (OG-10.1), one function per guideline rule, read-only.

Case lists come from the task projection (`human_task`) and the case rows' own timestamps; nothing
here loads workflow state. Rules that already have a service (absent owners, staffing gaps, the
duty holder, the earliest close) are asked through it, never computed a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import calendar, clock
from app.audit.models import AuditEvent
from app.calendar.zone import start_of_day
from app.cases.day_close import WAITING_STATES
from app.cases.handling import earliest_close
from app.cases.models import OPEN_CASE_STATES, Case, CaseKind, CaseState
from app.cases.shifts import absent_owner_cases
from app.instances.models import HumanTask, PendingTimer, ProcessInstance
from app.people.calendars import served_unit_ids, unit_calendar
from app.people.models import Unit, User
from app.people.roles import CLINICAL_ROLES
from app.people.service import DutyHolder, duty_holder, present_users, roles_at
from app.people.staffing import Gap, chat_staffing_gaps
from app.people.unit_settings import DEFAULTS, unit_setting

# Unit settings ("Verksamheten beslutar om lokal rutin") the tower reads, with their defaults.
URGENT_MINUTES_SETTING = "urgent_no_action_minutes"  # OG-10.1-h
URGENT_MINUTES_DEFAULT = DEFAULTS[URGENT_MINUTES_SETTING]
HIGH_LOAD_SETTING = "high_load_waiting_per_clinician"  # OG-9.1
HIGH_LOAD_DEFAULT = DEFAULTS[HIGH_LOAD_SETTING]
URGENT_PRIORITIES = (1, 2)


@dataclass(frozen=True)
class CaseRow:
    """One case as the tower's lists show it (identifying: a page showing rows writes the access log)."""

    case_id: int
    patient_id: int | None
    patient_name: str
    search_reason: str
    priority: int | None
    state: str
    role: str | None
    owner_user_id: int | None
    waiting_since: datetime
    instance_id: int | None
    detail: str = ""  # what the check found: an owner's name, a due time, minutes without action
    covered_unit: str = ""  # OG-9.2: the unit this one keeps the service open for today, if the case is its


def _day_filter(query, day: date | None):
    """HA-day-end: only cases submitted on the day (the projection's waiting_since is the submission)."""
    if day is None:
        return query
    start = start_of_day(day)
    return query.where(
        HumanTask.waiting_since >= start, HumanTask.waiting_since < start_of_day(day + timedelta(days=1))
    )


def _covered_names(session: Session, unit_id: int) -> dict[int, str]:
    """The unit itself (labelled "") and the units it keeps the service open for today (OG-9.2), by name."""
    served = served_unit_ids(session, unit_id)
    names = (
        dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(served[1:]))).all())
        if served[1:]
        else {}
    )
    return {unit_id: "", **names}


def _rows(session: Session, unit_id: int, *conditions, day: date | None = None) -> list[CaseRow]:
    """Open case tasks of the unit (and of the units it covers for today) from the projection, one row
    per case (its oldest open task)."""
    units = _covered_names(session, unit_id)
    query = select(HumanTask).where(HumanTask.unit_id.in_(units), HumanTask.case_id.is_not(None), *conditions)
    query = _day_filter(query, day).order_by(HumanTask.priority, HumanTask.waiting_since, HumanTask.id)
    seen: dict[int, CaseRow] = {}
    for task in session.scalars(query):
        if task.case_id in seen:
            continue
        seen[task.case_id] = CaseRow(
            task.case_id, task.patient_id, task.patient_name or "", task.search_reason or "", task.priority,
            task.case_state or "", task.role.value if task.role else None, task.owner_user_id, task.waiting_since, task.instance_id,
            covered_unit=units.get(task.unit_id, ""),
        )  # fmt: skip
    return list(seen.values())


def _case_rows(session: Session, unit_id: int, *conditions, day: date | None = None) -> list[CaseRow]:
    """Open cases of the unit (and of the units it covers for today) from the case table, for cases
    that may have no open task (a routine waiting for the patient's consent or a timer has none in the
    projection)."""
    units = _covered_names(session, unit_id)
    query = select(Case).where(Case.unit_id.in_(units), Case.state.in_(list(OPEN_CASE_STATES)), *conditions)
    if day is not None:
        query = query.where(
            Case.submitted_at >= start_of_day(day), Case.submitted_at < start_of_day(day + timedelta(days=1))
        )
    cases = list(session.scalars(query.order_by(Case.priority, Case.submitted_at, Case.id)))
    instances = dict(
        session.execute(
            select(ProcessInstance.case_id, func.min(ProcessInstance.id)).where(ProcessInstance.case_id.in_([c.id for c in cases])).group_by(ProcessInstance.case_id)
        ).all()
    ) if cases else {}  # fmt: skip
    return [
        CaseRow(
            c.id,
            c.patient_id,
            c.patient.display_name,
            c.search_reason,
            c.priority,
            c.state.value,
            c.handling_role,
            c.owner_user_id,
            c.submitted_at,
            instances.get(c.id),
            covered_unit=units.get(c.unit_id, ""),
        )
        for c in cases
    ]


def _with_detail(row: CaseRow, detail: str) -> CaseRow:
    return CaseRow(**{**row.__dict__, "detail": detail})


# --- OG-10.1-a, HA-chat-staff: who holds the duty, and opening hours without a named responsible ---


@dataclass(frozen=True)
class DutyNow:
    holder: DutyHolder | None
    open_now: bool  # within the unit's opening hours now
    gap_now: bool  # open and nobody holds the duty: the rule is broken at this moment


def og_10_1_a_duty_now(session: Session, *, unit_id: int, at: datetime | None = None) -> DutyNow:
    """OG-10.1-a: who holds the overall-responsible duty now; a gap while the unit is open is flagged."""
    at = at or clock.now()
    holder = duty_holder(session, unit_id, at)
    open_now = calendar.is_open(unit_calendar(session, unit_id), at)
    return DutyNow(holder, open_now, open_now and holder is None)


def ha_chat_staff_gaps(session: Session, *, unit_id: int, day: date) -> list[Gap]:
    """HA-chat-staff: the day's opening hours without a scheduled, named chat responsible."""
    return chat_staffing_gaps(session, unit_id=unit_id, day=day)


# --- OG-10.1-b, OG-6.1-j: cases owned by someone not present ---------------------------------------


def og_10_1_b_absent_owner_cases(session: Session, *, unit_id: int, day: date | None = None) -> list[CaseRow]:
    """OG-10.1-b, OG-6.1-j: open cases whose owner is not present at the unit now."""
    absent = {c.case_id: c.owner_name for c in absent_owner_cases(session, unit_id=unit_id)}
    if not absent:
        return []
    return [
        _with_detail(row, absent[row.case_id])
        for row in _rows(session, unit_id, HumanTask.case_id.in_(absent), day=day)
    ]


# --- OG-10.1-e: cases in the queue of a role nobody present holds ----------------------------------


def present_roles(session: Session, *, unit_id: int, at: datetime | None = None) -> set[str]:
    """The roles held at the unit by someone present now."""
    at = at or clock.now()
    held: set[str] = set()
    for user in present_users(session, unit_id, at):
        held |= {role.value for role in roles_at(session, user.id, unit_id, at)}
    return held


def og_10_1_e_unheld_role_queue(session: Session, *, unit_id: int, day: date | None = None) -> list[CaseRow]:
    """OG-10.1-e: cases waiting in a role's queue (no owner) when nobody present holds that role."""
    held = present_roles(session, unit_id=unit_id)
    conditions = [HumanTask.owner_user_id.is_(None), HumanTask.role.is_not(None)]
    if held:
        conditions.append(HumanTask.role.not_in(sorted(held)))
    return [_with_detail(row, row.role or "") for row in _rows(session, unit_id, *conditions, day=day)]


# --- OG-10.1-f: cases handed to another role or person and not yet taken ----------------------------


# What a named staff member does towards the patient: it reaches the patient (taking the case on with
# the SMS that handling has begun, a chat message, a reminder, a call, a form, a request for images or
# consent, closing with the closing phrase) or assesses the patient (the suicide-risk assessment).
# Only these answer OG-10.1-h ("no urgent case left without action") and OG-10.1-f (a handed-over case
# "being handled"). Everything else audited on a case is administration around the patient, not an
# action towards them: moving the case to the role queue (ending a shift, OG-6.1-i/j), a handover (the
# case moves; OG-10.1-f watches whether anyone takes it), a priority change, inviting a colleague,
# routing, documenting, a refused attempt, a suppressed notification; and the phrases a routine sends
# as the unit (`case:told_patient`: "handled next weekday"), which are no one's action.
PATIENT_ACTIONS = (
    "case:received",  # 'Ta emot': the SMS that handling has begun (OG-6.1-b/c)
    "case:started",  # 'Starta': the first chat message (OG-6.1-d)
    "chat:staff_message",  # a chat message to the patient (a contact attempt, OG-6.1-g)
    "chat:sms_reminder",  # HA-remind: a contact attempt
    "case:phone_attempt",  # a call, reached or not (OG-6.1-g/h)
    "chat:form_sent",  # OG-8.1
    "chat:images_requested",  # OG-11-f
    "consent:requested",  # a question to the patient (HA-handover-consent, OG-8.3)
    "case:wrong_patient",  # HA-behalf: explained to the patient
    "case:referred_admin",  # OG-7-c/e: the patient is told where to turn
    "suicide_risk:assessed",  # HA-suicide-c: the psychologist's or doctor's assessment
    "case:closed",  # concluded, with the closing phrase (OG-6.1-g)
)


def _latest_patient_action(session: Session, case_ids: list[int]) -> dict[int, datetime]:
    """The last action towards the patient (PATIENT_ACTIONS) by a staff member on each case."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(AuditEvent.subject_id, func.max(AuditEvent.at))
        .where(
            AuditEvent.subject_type == "case",
            AuditEvent.subject_id.in_([str(i) for i in case_ids]),
            AuditEvent.actor_user_id.is_not(None),
            AuditEvent.action.in_(PATIENT_ACTIONS),
        )
        .group_by(AuditEvent.subject_id)
    )
    return {int(subject): at for subject, at in rows}


def og_10_1_f_handed_over_not_taken(
    session: Session, *, unit_id: int, day: date | None = None
) -> list[CaseRow]:
    """OG-10.1-f: cases handed to another role or colleague that nobody else has acted on towards the
    patient since (PATIENT_ACTIONS: moving the case on to a queue is not taking it), and cases waiting
    for the patient's consent to a handover."""
    rows = {row.case_id: row for row in _case_rows(session, unit_id, day=day)}
    if not rows:
        return []
    handovers = session.execute(
        select(AuditEvent.subject_id, AuditEvent.id, AuditEvent.actor_user_id, AuditEvent.details)
        .where(
            AuditEvent.subject_type == "case",
            AuditEvent.action == "case:handed_over",
            AuditEvent.subject_id.in_([str(i) for i in rows]),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    latest: dict[int, tuple[int, int | None, dict]] = {}
    for subject, event_id, by, details in handovers:
        latest[int(subject)] = (event_id, by, details or {})
    found = []
    for case_id, row in rows.items():
        if row.state == CaseState.HANDED_OVER.value:
            found.append(_with_detail(row, "consent"))
            continue
        if case_id not in latest:
            continue
        event_id, by, details = latest[case_id]
        # Later by id, not by time: audit ids follow commit order even within one clock tick.
        later = session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.subject_type == "case", AuditEvent.subject_id == str(case_id), AuditEvent.id > event_id,
                AuditEvent.actor_user_id.is_not(None), AuditEvent.actor_user_id != (by if by is not None else -1),
                AuditEvent.action.in_(PATIENT_ACTIONS),
            )
        )  # fmt: skip
        if not later:
            found.append(_with_detail(row, str(details.get("to_role") or "")))
    return found


# --- OG-10.1-h: urgent cases without staff action within the unit's minutes ------------------------


def og_10_1_h_urgent_without_action(
    session: Session, *, unit_id: int, day: date | None = None, at: datetime | None = None
) -> list[CaseRow]:
    """OG-10.1-h: priority 1–2 cases whose patient has waited longer than the unit's set minutes
    (unit setting `urgent_no_action_minutes`) since submitting, last answering or reopening the case
    (OG-6.5), with no staff action towards the patient since (PATIENT_ACTIONS). Moving the case to the
    role queue at the end of a shift, a handover or a priority change leaves the patient waiting: the
    case stays listed. So do the unit's own messages (the high-load and next-weekday phrases, sent as
    the unit): they are no one's action."""
    at = at or clock.now()
    unit = session.get(Unit, unit_id)
    limit = timedelta(minutes=int(unit_setting(unit, URGENT_MINUTES_SETTING)))
    rows = _rows(session, unit_id, HumanTask.priority.in_(URGENT_PRIORITIES), day=day)
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_([r.case_id for r in rows])))}
    staff = _latest_patient_action(session, list(cases))
    found = []
    for row in rows:
        case = cases[row.case_id]
        since = case.submitted_at
        if case.patient_answered and case.last_patient_message_at and case.last_patient_message_at > since:
            since = case.last_patient_message_at
        if case.resumed_at is not None and case.resumed_at > since:
            since = case.resumed_at  # reopened by the patient (OG-6.5): the handling before closing is past
        # Not the case's last_staff_message_at: the unit's own messages (high load, next weekday) set it too.
        acted = [t for t in (case.received_at, case.started_at, staff.get(case.id)) if t is not None]
        if any(t >= since for t in acted):
            continue
        if at - since >= limit:
            found.append(_with_detail(row, str(int((at - since).total_seconds() // 60))))
    return found


# --- cases that may now be closed, and cases past a deadline ---------------------------------------


def closable_now(session: Session, *, unit_id: int, day: date | None = None) -> list[CaseRow]:
    """OG-10.1-b (before the day's end): started cases that the closing rules (OG-6.1-f/g) now allow to close."""
    rows = _rows(session, unit_id, HumanTask.case_state == CaseState.STARTED.value, day=day)
    now = clock.now()
    found = []
    for row in rows:
        case = session.get(Case, row.case_id)
        if case.patient_answered:
            continue  # the patient has answered: the case waits for the clinician, not for closing
        when, missing = earliest_close(session, case)
        if when is not None and missing is None and when <= now:
            found.append(row)
    return found


def past_deadline(
    session: Session, *, unit_id: int, day: date | None = None, at: datetime | None = None
) -> list[CaseRow]:
    """Cases past a deadline: an open task past its due time, or a routine's timer or product deadline
    due and not yet fired (the routine has not moved on: the timer workers are late or failing)."""
    at = at or clock.now()
    overdue_timers = (
        select(ProcessInstance.case_id, func.min(PendingTimer.due_at))
        .join(PendingTimer, PendingTimer.instance_id == ProcessInstance.id)
        .where(
            ProcessInstance.unit_id == unit_id, PendingTimer.due_at < at, ProcessInstance.case_id.is_not(None)
        )
        .group_by(ProcessInstance.case_id)
    )
    overdue_tasks = (
        select(HumanTask.case_id, func.min(HumanTask.due_at))
        .where(HumanTask.unit_id == unit_id, HumanTask.due_at < at, HumanTask.case_id.is_not(None))
        .group_by(HumanTask.case_id)
    )
    due: dict[int, datetime] = {}
    for case_id, when in [*session.execute(overdue_timers), *session.execute(overdue_tasks)]:
        due[case_id] = min(when, due.get(case_id, when))
    if not due:
        return []
    return [
        _with_detail(row, due[row.case_id].isoformat())
        for row in _case_rows(session, unit_id, Case.id.in_(due), day=day)
    ]


# --- HA-day-end: not yet treated, today ------------------------------------------------------------


def ha_day_end_untreated(session: Session, *, unit_id: int, day: date) -> list[CaseRow]:
    """HA-day-end: cases submitted on the day that nobody has started treating yet."""
    return _rows(
        session, unit_id, HumanTask.case_state.in_([CaseState.NEW.value, CaseState.RECEIVED.value]), day=day
    )


# --- OG-9.1, OG-10.1-d: load against staffing --------------------------------------------------------


@dataclass(frozen=True)
class Load:
    waiting: int  # patients waiting for handling to begin (not yet started)
    open_cases: int
    clinicians_present: int
    per_clinician_limit: int
    high: bool
    told_today: int  # patients told of high load today


def og_9_1_load(session: Session, *, unit_id: int, at: datetime | None = None) -> Load:
    """OG-9.1, OG-10.1-d: waiting patients against present clinicians; high above the unit's setting
    (`high_load_waiting_per_clinician` waiting patients per present clinician)."""
    from app.cases.models import ChatMessage

    at = at or clock.now()
    unit = session.get(Unit, unit_id)
    limit = int(unit_setting(unit, HIGH_LOAD_SETTING))
    waiting = (
        session.scalar(
            select(func.count(Case.id)).where(
                Case.unit_id == unit_id, Case.kind != CaseKind.ADMIN, Case.state.in_(WAITING_STATES)
            )
        )
        or 0
    )
    open_cases = (
        session.scalar(
            select(func.count(Case.id)).where(Case.unit_id == unit_id, Case.state.in_(list(OPEN_CASE_STATES)))
        )
        or 0
    )
    clinicians = sum(
        1
        for user in present_users(session, unit_id, at)
        if roles_at(session, user.id, unit_id, at) & CLINICAL_ROLES
    )
    today = start_of_day(calendar.local_date(at))
    told = session.scalar(
        select(func.count(func.distinct(ChatMessage.case_id)))
        .join(Case, Case.id == ChatMessage.case_id)
        .where(Case.unit_id == unit_id, ChatMessage.phrase_purpose == "high_load", ChatMessage.sent_at >= today)
    ) or 0  # fmt: skip
    return Load(waiting, open_cases, clinicians, limit, waiting > limit * clinicians, told)


def owner_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Staff display names for the owners shown in a list."""
    if not user_ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
