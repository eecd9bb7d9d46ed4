"""Loggkontroll: who opened patient X and what user Y opened in a period (sampled reviews: app.log_review.samples).

Who reviews: the unit's Lokal systemadministratör and its Verksamhetschef (the head of unit answers for
the unit's staff's access; the sysadmin usually runs the checks). Both see the same: the access-log rows
made while acting for their unit, and the rows about the unit's own cases (a covering unit's staff, OG-9.2).

Every search and every sample shown is itself written to the access log (naming the patients it
showed) and the audit trail, so the review of the log can be reviewed too. Searches are paged by
keyset (time, id), over the indexes access_log(at), access_log(user_id, at) and
access_log_patient(patient_id, access_log_id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.audit.models import AccessLog, AccessLogPatient
from app.audit.service import Actor, log_access, record
from app.calendar.zone import STOCKHOLM
from app.cases.models import Case
from app.errors import Forbidden, NotFound, ValidationFailed
from app.patients.models import Patient
from app.people.identity import InvalidIdentityNumber, parse_identity_number
from app.people.models import Membership, Unit, User
from app.people.roles import Role

REVIEWER_ROLES = frozenset({Role.LOCAL_SYSADMIN.value, Role.HEAD_OF_UNIT.value})
PAGE_SIZE = 50
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class PatientShown:
    patient_id: int
    name: str
    masked_number: str


@dataclass(frozen=True)
class AccessEntry:
    log_id: int
    at: datetime
    user_label: str
    unit_name: str
    action: str
    context: str
    case_id: int | None
    patients: tuple[PatientShown, ...]
    user_id: int | None = None


@dataclass(frozen=True)
class SearchPage:
    entries: list[AccessEntry]
    next_cursor: str | None
    found: bool = True  # False: no patient or user matched the search


def require_reviewer(session: Session, *, actor: Actor) -> Unit:
    """The unit whose log the actor reviews: its Lokal systemadministratör or Verksamhetschef only."""
    if actor.user_id is None or actor.unit_id is None or not actor.roles & REVIEWER_ROLES:
        raise Forbidden("log review is for the unit's Lokal systemadministratör or Verksamhetschef")
    unit = session.get(Unit, actor.unit_id)
    if unit is None:
        raise NotFound(f"no unit {actor.unit_id}")
    return unit


def record_refusal(session: Session, *, actor: Actor | None, path: str) -> None:
    """Audit a refused attempt to read the access log (the caller commits it on its own)."""
    if actor is not None:
        record(session, "access_log:search_refused", actor=actor, subject=("unit", actor.unit_id), path=path)


def period(first_day: date | None, last_day: date | None) -> tuple[datetime, datetime]:
    """Local whole days [first 00:00, day after last 00:00) as aware moments; refused when malformed."""
    errors: dict[str, list[str]] = {}
    if first_day is None:
        errors["first_day"] = ["a date"]
    if last_day is None:
        errors["last_day"] = ["a date"]
    elif first_day is not None and last_day < first_day:
        errors["last_day"] = ["on or after the first day"]
    elif first_day is not None and (last_day - first_day).days >= MAX_PERIOD_DAYS:
        errors["last_day"] = [f"a period of at most {MAX_PERIOD_DAYS} days"]
    if errors:
        raise ValidationFailed("the period has errors", errors)
    start = datetime.combine(first_day, time(0), tzinfo=STOCKHOLM)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    return start, end


def mask(identity_number: str) -> str:
    """A personnummer shown without its last four digits: the birth date is enough to tell people apart here."""
    if len(identity_number) == 12 and identity_number.isdigit():
        return f"{identity_number[:8]}-****"
    return identity_number[:4] + "****"


def who_opened_patient(
    session: Session,
    *,
    actor: Actor,
    identity_number: str,
    first_day: date | None,
    last_day: date | None,
    cursor: str | None = None,
) -> SearchPage:
    """Every read of one patient's data at the reviewer's unit in a period, newest first; the search is logged."""
    unit = require_reviewer(session, actor=actor)
    errors = {} if (identity_number or "").strip() else {"identity_number": ["required"]}
    try:
        start, end = period(first_day, last_day)
    except ValidationFailed as error:
        errors.update(error.field_errors)
    if errors:
        raise ValidationFailed("the search has errors", errors)
    patient = _patient(session, identity_number)
    details = {
        "kind": "who_opened_patient",
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "page": cursor,
    }
    if patient is None:
        record(session, "access_log:searched", actor=actor, subject=("unit", unit.id), found=False, **details)
        return SearchPage([], None, found=False)
    query = (
        select(AccessLog)
        .join(AccessLogPatient, AccessLogPatient.access_log_id == AccessLog.id)
        .where(
            AccessLogPatient.patient_id == patient.id,
            AccessLog.at >= start,
            AccessLog.at < end,
            scope(unit.id),
        )
    )
    page = _page(session, query, cursor, only_patient=patient.id)
    log_access(
        session,
        actor=actor,
        action="log_review:who_opened_patient",
        patient_ids=[patient.id],
        context=_context(details),
    )
    record(
        session,
        "access_log:searched",
        actor=actor,
        subject=("patient", patient.id),
        results=len(page.entries),
        **details,
    )
    return page


def what_user_opened(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    first_day: date | None,
    last_day: date | None,
    cursor: str | None = None,
) -> SearchPage:
    """Every read by one user at (or about) the reviewer's unit in a period, newest first; the search is logged."""
    unit = require_reviewer(session, actor=actor)
    start, end = period(first_day, last_day)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    query = select(AccessLog).where(
        AccessLog.user_id == user.id, AccessLog.at >= start, AccessLog.at < end, scope(unit.id)
    )
    page = _page(session, query, cursor)
    shown = [p.patient_id for entry in page.entries for p in entry.patients]
    details = {
        "kind": "what_user_opened",
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "page": cursor,
    }
    log_access(
        session,
        actor=actor,
        action="log_review:what_user_opened",
        patient_ids=shown,
        context=_context(details),
    )
    record(
        session,
        "access_log:searched",
        actor=actor,
        subject=("user", user.id),
        results=len(page.entries),
        **details,
    )
    return page


def reviewable_users(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """Everyone who holds or held a role at the unit (ended employments too: their reads are reviewed)."""
    unit = require_reviewer(session, actor=actor)
    users = session.scalars(
        select(User)
        .where(User.id.in_(select(Membership.user_id).where(Membership.unit_id == unit.id)))
        .order_by(User.family_name, User.given_name)
    ).all()
    return [(u.id, f"{u.display_name} ({u.username})") for u in users]


# --- shared with app.log_review.samples, and internals ----------------------------------------


def scope(unit_id: int):
    """Rows made while acting for the unit, or about the unit's own cases."""
    return or_(
        AccessLog.acting_unit_id == unit_id,
        AccessLog.case_id.in_(select(Case.id).where(Case.unit_id == unit_id)),
    )


def _patient(session: Session, identity_number: str) -> Patient | None:
    text = identity_number.strip()
    try:
        number = parse_identity_number(text).value
    except InvalidIdentityNumber:
        number = text  # a reservnummer is stored as given
    return session.scalar(select(Patient).where(Patient.identity_number == number))


def _page(session: Session, query, cursor: str | None, *, only_patient: int | None = None) -> SearchPage:
    if cursor:
        at, log_id = _cursor(cursor)
        query = query.where(or_(AccessLog.at < at, and_(AccessLog.at == at, AccessLog.id < log_id)))
    rows = session.scalars(
        query.order_by(AccessLog.at.desc(), AccessLog.id.desc()).limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    entries = entries_for(session, rows, only_patient=only_patient)
    next_cursor = f"{rows[-1].at.isoformat()}_{rows[-1].id}" if more else None
    return SearchPage(entries, next_cursor)


def _cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at, log_id = cursor.rsplit("_", 1)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, int(log_id)
    except ValueError as exc:
        raise ValidationFailed("a broken page link", {"cursor": ["invalid"]}) from exc


def entries_for(session: Session, rows, *, only_patient: int | None = None) -> list[AccessEntry]:
    ids = [r.id for r in rows]
    shown: dict[int, list[PatientShown]] = {}
    if ids:
        query = (
            select(AccessLogPatient.access_log_id, Patient)
            .join(Patient, Patient.id == AccessLogPatient.patient_id)
            .where(AccessLogPatient.access_log_id.in_(ids))
            .order_by(AccessLogPatient.id)
        )
        if only_patient is not None:
            query = query.where(AccessLogPatient.patient_id == only_patient)
        for log_id, patient in session.execute(query):
            shown.setdefault(log_id, []).append(
                PatientShown(patient.id, patient.display_name, mask(patient.identity_number))
            )
    units = dict(
        session.execute(
            select(Unit.id, Unit.name).where(
                Unit.id.in_({r.acting_unit_id for r in rows if r.acting_unit_id})
            )
        ).all()
    )
    return [
        AccessEntry(
            r.id,
            r.at,
            r.actor_label,
            units.get(r.acting_unit_id, ""),
            r.action,
            r.context or "",
            r.case_id,
            tuple(shown.get(r.id, ())),
            r.user_id,
        )  # fmt: skip
        for r in rows
    ]


def user_names(session: Session, ids: set) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


def _context(details: dict) -> str:
    return f"log review {details['kind']} {details['first_day']}..{details['last_day']}"[:200]
