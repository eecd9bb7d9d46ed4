"""Read-only queries behind the API's reads. Each checks permission on the case itself (through
app.cases.permissions) before it returns anything; the route writes the access log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.cases import chat
from app.cases.guards import GUARDIAN_AGE_LIMIT, stockholm_date
from app.cases.handling import earliest_close
from app.cases.lookup import case_instance, get_case
from app.cases.models import Case, CaseImage, CaseState, ChatMessage, Consent, ImageRequest, PatientForm
from app.cases.permissions import can_read, is_resident_of, require_read, require_resident
from app.cases.submission import send_anyway_allowed
from app.errors import Forbidden, NotFound
from app.instances.models import HumanTask, ProcessInstance
from app.patients.models import Guardianship, Patient
from app.people.models import Unit
from app.process_models.service import load_bundle
from app.worklist.queries import open_tasks_for

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class CaseView:
    case: Case
    patient: Patient
    unit: Unit
    version: int | None
    open_tasks: list[tuple[HumanTask, int | None]]
    messages: list[ChatMessage]
    next_before_id: int | None
    closing: tuple[datetime | None, str | None] | None
    consents: list[Consent]
    forms: list[PatientForm]
    images: list[CaseImage]
    image_requests: list[ImageRequest]


def routine_versions(session: Session, instance_ids) -> dict[int, int]:
    """The version of each routine instance (what `expected_version` is compared with)."""
    ids = set(instance_ids)
    if not ids:
        return {}
    return dict(
        session.execute(
            select(ProcessInstance.id, ProcessInstance.version).where(ProcessInstance.id.in_(ids))
        ).all()
    )


def case_version(session: Session, case_id: int) -> int | None:
    instance = case_instance(session, case_id)
    return instance.version if instance is not None else None


def visible_case_version(session: Session, *, actor: Actor, case_id: int) -> int | None:
    """The case routine's version now, for a conflict answer; None unless the actor may read the case."""
    case = session.get(Case, case_id)
    if case is None or not (can_read(session, actor, case) or is_resident_of(session, actor, case)):
        return None
    return case_version(session, case_id)


def worklist_versions(session: Session, tasks: list[HumanTask]) -> list[tuple[HumanTask, int | None]]:
    versions = routine_versions(session, (t.instance_id for t in tasks))
    return [(t, versions.get(t.instance_id)) for t in tasks]


def worklist(session: Session, *, actor: Actor, limit: int) -> list[tuple[HumanTask, int | None]]:
    """The patient list (the acting unit's open tasks for the actor, in handling order), with versions."""
    return worklist_versions(session, open_tasks_for(session, actor, limit=limit))


def case_of_instance(session: Session, instance: ProcessInstance) -> Case | None:
    return session.get(Case, instance.case_id) if instance.case_id is not None else None


def message_page(
    session: Session, *, actor: Actor, case_id: int, before_id: int | None, limit: int
) -> tuple[list[ChatMessage], int | None]:
    """A page of the chat (newest last) and the cursor for the page before it, if any."""
    rows = chat.messages(session, actor=actor, case_id=case_id, before_id=before_id, limit=limit)
    return rows, (rows[0].id if len(rows) == limit and rows else None)


def staff_case_view(session: Session, *, actor: Actor, case_id: int, message_limit: int = 50) -> CaseView:
    """Everything the case page shows: the case, its open tasks, the latest messages and the rest."""
    case = get_case(session, case_id)
    require_read(session, actor, case)
    messages, before = message_page(
        session, actor=actor, case_id=case.id, before_id=None, limit=message_limit
    )
    tasks = list(
        session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id))
    )
    closing = earliest_close(session, case) if case.state == CaseState.STARTED else None
    return CaseView(
        case=case,
        patient=session.get(Patient, case.patient_id),
        unit=session.get(Unit, case.unit_id),
        version=case_version(session, case.id),
        open_tasks=worklist_versions(session, tasks),
        messages=messages,
        next_before_id=before,
        closing=closing,
        consents=_rows(session, Consent, case.id),
        forms=_rows(session, PatientForm, case.id),
        images=_rows(session, CaseImage, case.id),
        image_requests=_rows(session, ImageRequest, case.id),
    )


def resident_case_view(session: Session, *, actor: Actor, case_id: int, message_limit: int = 50) -> CaseView:
    """The resident's own case (or their child's under 13): what they may see of it."""
    case = get_case(session, case_id)
    require_resident(session, actor, case)
    messages, before = message_page(
        session, actor=actor, case_id=case.id, before_id=None, limit=message_limit
    )
    return CaseView(
        case=case,
        patient=session.get(Patient, case.patient_id),
        unit=session.get(Unit, case.unit_id),
        version=None,
        open_tasks=[],
        messages=messages,
        next_before_id=before,
        closing=None,
        consents=_rows(session, Consent, case.id),
        forms=_rows(session, PatientForm, case.id),
        images=_rows(session, CaseImage, case.id),
        image_requests=_rows(session, ImageRequest, case.id),
    )


def resident_messages(
    session: Session, *, actor: Actor, case_id: int, before_id: int | None, limit: int
) -> tuple[Case, Patient, Unit, list[ChatMessage], int | None]:
    case = get_case(session, case_id)
    require_resident(session, actor, case)
    rows, before = message_page(session, actor=actor, case_id=case.id, before_id=before_id, limit=limit)
    return case, session.get(Patient, case.patient_id), session.get(Unit, case.unit_id), rows, before


def staff_messages(
    session: Session, *, actor: Actor, case_id: int, before_id: int | None, limit: int
) -> tuple[Case, Unit, list[ChatMessage], int | None]:
    case = get_case(session, case_id)
    require_read(session, actor, case)
    rows, before = message_page(session, actor=actor, case_id=case.id, before_id=before_id, limit=limit)
    return case, session.get(Unit, case.unit_id), rows, before


CURSOR_PATTERN = "^[0-9]{1,16}-[0-9]{1,10}$"  # "<submitted_at, µs since the epoch>-<case id>"


def guardianship_cutoff(today: date) -> date:
    """The latest birth date of a child who is 13 or more on `today` (OG-6.4-b): a guardian acts for
    children born after it. Agrees with `guardian_may_act` (age_on), 29 February included: a child born
    then turns 13 on 1 March in a common year, and on 29 February the cutoff is 28 February."""
    year = today.year - GUARDIAN_AGE_LIMIT
    try:
        return today.replace(year=year)
    except ValueError:  # 29 February in a leap year; `year` (13 years earlier) is a common year
        return date(year, 2, 28)


def case_cursor(case: Case) -> str:
    """The keyset position of a case in the newest-first list (opaque to clients)."""
    moment = case.submitted_at.astimezone(UTC)
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{case.id}"


def _after_cursor(cursor: str):
    micros, _, case_id = cursor.partition("-")
    submitted_at = EPOCH + timedelta(microseconds=int(micros))
    return or_(
        Case.submitted_at < submitted_at,
        and_(Case.submitted_at == submitted_at, Case.id < int(case_id)),
    )


def resident_cases(
    session: Session, *, actor: Actor, limit: int = 100, cursor: str | None = None
) -> tuple[list[tuple[Case, Patient, Unit]], str | None]:
    """A page of the resident's cases and those of the children they still act for (OG-6.4-b), newest
    first, and the cursor of the next page (None: no more). The age rule is in the query, so a page is
    never emptied afterwards by cases the guardian may no longer see."""
    cutoff = guardianship_cutoff(stockholm_date(clock.now()))
    children = (
        select(Guardianship.child_id)
        .join(Patient, Patient.id == Guardianship.child_id)
        .where(Guardianship.guardian_id == actor.patient_id, Patient.birth_date > cutoff)
    )
    query = select(Case).where((Case.patient_id == actor.patient_id) | Case.patient_id.in_(children))
    if cursor is not None:
        query = query.where(_after_cursor(cursor))
    cases = session.scalars(query.order_by(Case.submitted_at.desc(), Case.id.desc()).limit(limit + 1)).all()
    more = len(cases) > limit
    cases = cases[:limit]
    patients = (
        {
            p.id: p
            for p in session.scalars(select(Patient).where(Patient.id.in_({c.patient_id for c in cases})))
        }
        if cases
        else {}
    )
    units = (
        {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_({c.unit_id for c in cases})))}
        if cases
        else {}
    )
    rows = [(c, patients[c.patient_id], units[c.unit_id]) for c in cases]
    return rows, case_cursor(cases[-1]) if more else None


def task_detail(session: Session, *, actor: Actor, task_id: int) -> tuple[HumanTask, int | None, dict | None]:
    """An open task with its routine version and the JSON Schema its data is validated against."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("Uppgiften finns inte eller är redan utförd.")
    if task.case_id is not None:
        require_read(session, actor, get_case(session, task.case_id))
    elif task.unit_id != actor.unit_id:
        raise Forbidden("Uppgiften hör till en annan enhet.")
    instance = session.get(ProcessInstance, task.instance_id)
    schema = None
    if task.form_schema:
        text = load_bundle(session, instance.bundle_hash).forms.get(task.form_schema)
        schema = json.loads(text) if text else None
    return task, instance.version, schema


def submission_units(session: Session) -> list[tuple[Unit, bool]]:
    """Units that take cases in the service, with whether a case may be sent after hours."""
    units = session.scalars(select(Unit).where(Unit.activated.is_(True)).order_by(Unit.name)).all()
    return [(unit, send_anyway_allowed(session, unit)) for unit in units]


def _rows(session: Session, model, case_id: int) -> list:
    return list(session.scalars(select(model).where(model.case_id == case_id).order_by(model.id)))
