"""What the case page shows: one read of the case for a staff member, with its access-log row.

Read-only apart from the access log (every read of a patient's case writes it). Permission is the
case's own (`require_read`); what the page offers to do is the open tasks of the routine and the
actor's right to act on the case (`can_act`), the services deciding again when an action is posted.
The chat is paged from the newest message, so a case with a thousand messages renders as fast as
a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.models import AuditEvent
from app.audit.service import Actor, log_access
from app.cases import chat
from app.cases.effects import region_policy
from app.cases.handling import DEFAULT_HANDOVER_ROLES, earliest_close
from app.cases.lookup import get_case
from app.cases.models import (
    Case,
    CaseCollaborator,
    CaseImage,
    CaseKind,
    CaseState,
    Consent,
    ContactAttempt,
    ImageRequest,
    MessageAuthor,
    PatientForm,
)
from app.cases.patient_forms import CATALOG
from app.cases.permissions import DUTY, can_act, require_read
from app.casework import compose
from app.documentation.models import JournalDraft
from app.engine import ProcessEngine
from app.instances.models import HumanTask, InstanceStatus, ProcessInstance
from app.patients.models import Patient
from app.people.identity import age_at
from app.people.labels import role_label
from app.people.models import Membership, Unit, User
from app.people.roles import CASE_ROLES, Role
from app.people.service import present_users
from app.people.unit_settings import unit_setting
from app.phrases.service import templates_for
from app.process_models.service import load_bundle

PAGE_SIZE = 30  # chat messages per page; older ones come with "Visa tidigare"
HANDLING_FORM = "handling.schema.json"
SPECIAL_FORMS = {"receive.schema.json": "receive", "start.schema.json": "start", HANDLING_FORM: "handling"}
MEETING_FORM_FEES = {"video": "digital_visit", "phone": "phone_visit", "physical": "physical_visit"}


@dataclass
class TaskView:
    """An open task of the case's routine, with its form definition and the routine version it was read at."""

    id: int
    title: str
    element_id: str
    kind: str  # receive, start, handling, or generic (rendered from its schema)
    role: str | None
    owner_user_id: int | None
    version: int  # the instance's version: posted back as expected_version
    actionable: bool
    schema: dict | None = None
    ui: dict | None = None
    rules: tuple[str, ...] = ()
    documentation: str | None = None
    due_at: datetime | None = None
    case_id: int | None = None


@dataclass
class MessageView:
    id: int
    author: str  # patient, guardian, staff, unit
    name: str | None  # the writer: staff name and role, the patient's or guardian's name; None for the unit
    body: str
    sent_at: datetime


@dataclass
class Colleague:
    user_id: int
    name: str
    roles: list[str]
    present: bool


@dataclass
class FormView:
    form: PatientForm
    answers: list[tuple[str, str]]  # (question, answer as the patient chose it)


@dataclass
class DraftView:
    draft: JournalDraft
    for_name: str
    mine: bool


@dataclass
class CasePage:
    case: Case
    patient: Patient
    age: int
    guardian: Patient | None
    unit: Unit
    owner_name: str | None
    may_act: bool
    tasks: list[TaskView]
    messages: list[MessageView]
    earlier_before: int | None  # id to page back from, when older messages exist
    before: int | None  # the page asked for (None: the latest)
    attempts: list[ContactAttempt] = field(default_factory=list)
    earliest_close: datetime | None = None
    close_missing: str | None = None
    urgent_close: bool = False
    image_requests: list[ImageRequest] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)
    forms: list[FormView] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    collaborators: list[str] = field(default_factory=list)
    drafts: list[DraftView] = field(default_factory=list)
    colleagues: list[Colleague] = field(default_factory=list)
    handover_roles: list[str] = field(default_factory=list)
    templates: list[compose.Insertable] = field(default_factory=list)
    fees: dict[str, str] = field(default_factory=dict)
    registration_applies: bool = False
    form_catalog: list[tuple[str, str]] = field(default_factory=list)
    actor_is_doctor: bool = False
    seen_event: int = 0  # the case's latest audit event when rendered: a conflict lists what came after it

    @property
    def handling(self) -> TaskView | None:
        return next((t for t in self.tasks if t.kind == "handling"), None)

    @property
    def chat_open(self) -> bool:
        return chat.staff_may_write(self.case)

    @property
    def contact_tools(self) -> bool:
        """Reminders, phone attempts, images and forms: the clinical contact of a started case, not of
        an administrative one (its staff answer in the chat only)."""
        return self.case.state == CaseState.STARTED and self.case.kind != CaseKind.ADMIN

    @property
    def patient_name(self) -> str:
        return self.patient.display_name


def load_case_page(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    before_id: int | None = None,
    context: str | None = None,
) -> CasePage:
    """The case as its page shows it; refuses (Forbidden) anyone who may not read it, and logs the read."""
    case = get_case(session, case_id)
    require_read(session, actor, case)
    log_access(
        session,
        actor=actor,
        action="case:view",
        patient_ids=[case.patient_id],
        case_id=case.id,
        context=context,
    )
    patient = case.patient
    unit = session.get(Unit, case.unit_id)
    may_act = can_act(session, actor, case)
    members = _unit_members(session, case.unit_id)
    tasks = case_tasks(session, engine, actor=actor, case=case, may_act=may_act)
    messages, earlier = _messages(session, actor, case, members, before_id)
    page = CasePage(
        case=case,
        patient=patient,
        age=age_at(patient.birth_date, clock.now()),
        guardian=session.get(Patient, case.submitted_by_id)
        if case.submitted_by_id != case.patient_id
        else None,
        unit=unit,
        owner_name=_name(session, members, case.owner_user_id),
        may_act=may_act,
        tasks=tasks,
        messages=messages,
        earlier_before=earlier,
        before=before_id,
        actor_is_doctor=Role.DOCTOR.value in actor.roles,
        seen_event=_latest_event(session, case.id),
    )
    last_answer = case.last_patient_message_at
    attempts = select(ContactAttempt).where(ContactAttempt.case_id == case.id)
    if last_answer is not None:
        attempts = attempts.where(ContactAttempt.at > last_answer)
    page.attempts = list(session.scalars(attempts.order_by(ContactAttempt.at)))
    page.image_requests = list(
        session.scalars(select(ImageRequest).where(ImageRequest.case_id == case.id).order_by(ImageRequest.id))
    )
    # Image metadata only: the bytes are served one by one, each read logged.
    page.images = session.execute(
        select(
            CaseImage.id, CaseImage.filename, CaseImage.content_type, CaseImage.size, CaseImage.uploaded_at
        )
        .where(CaseImage.case_id == case.id)
        .order_by(CaseImage.id)
    ).all()
    page.forms = [
        FormView(f, form_answers(f.definition, f.answers))
        for f in session.scalars(
            select(PatientForm).where(PatientForm.case_id == case.id).order_by(PatientForm.id)
        )
    ]
    page.consents = list(
        session.scalars(select(Consent).where(Consent.case_id == case.id).order_by(Consent.id))
    )
    collaborator_ids = session.scalars(
        select(CaseCollaborator.user_id)
        .where(CaseCollaborator.case_id == case.id)
        .order_by(CaseCollaborator.id)
    )
    page.collaborators = [_name(session, members, uid) or "" for uid in collaborator_ids]
    page.drafts = [
        DraftView(d, _name(session, members, d.for_user_id) or "", d.for_user_id == actor.user_id)
        for d in session.scalars(
            select(JournalDraft).where(JournalDraft.case_id == case.id).order_by(JournalDraft.id)
        )
    ]
    if may_act:
        _action_context(session, actor, page, members)
    return page


def _of_case(case_id: int):
    return AuditEvent.subject_type == "case", AuditEvent.subject_id == str(case_id)


def _latest_event(session: Session, case_id: int) -> int:
    return session.scalar(select(func.max(AuditEvent.id)).where(*_of_case(case_id))) or 0


@dataclass
class Change:
    """Something that happened to the case: when, who, and the audit action ("case:received")."""

    at: datetime
    who: str
    action: str


def changes_since(session: Session, *, case_id: int, after_event_id: int, limit: int = 20) -> list[Change]:
    """What happened to the case after the page the user acted from was rendered (a refused stale action).

    Part of a case read already logged by the page it is shown on; oldest first, at most `limit`."""
    rows = session.scalars(
        select(AuditEvent)
        .where(*_of_case(case_id), AuditEvent.id > after_event_id)
        .order_by(AuditEvent.id)
        .limit(limit)
    )
    return [Change(row.at, row.actor_label, row.action) for row in rows]


def _action_context(session: Session, actor: Actor, page: CasePage, members: dict[int, Colleague]) -> None:
    """What the forms for acting need: colleagues, handover roles, phrase templates, fees, closing times."""
    case, unit = page.case, page.unit
    present = {u.id for u in present_users(session, case.unit_id)}
    for colleague in members.values():
        colleague.present = colleague.user_id in present
    page.colleagues = [
        c
        for c in members.values()
        if c.user_id != actor.user_id and set(c.roles) & {r.value for r in CASE_ROLES}
    ]
    page.form_catalog = [(key, definition["title"]) for key, definition in CATALOG.items()]
    writing = page.chat_open or any(t.kind == "start" for t in page.tasks)
    if writing:
        user = session.get(User, actor.user_id)
        role = next(
            (
                r
                for r in (members[actor.user_id].roles if actor.user_id in members else [])
                if r in {x.value for x in CASE_ROLES}
            ),
            "",
        )
        known = compose.known_fields(
            patient_first_name=page.patient.given_name,
            staff_first_name=user.given_name if user else "",
            staff_role=role.lower() or "vårdpersonal",
        )
        page.templates = [
            compose.Insertable(
                t.id, t.purpose, t.title, t.level.value, compose.prefill(t.text, known), t.not_recommended
            )
            for t in templates_for(session, actor=actor)
        ]
    handling = page.handling
    if handling is None:
        return
    current = case.handling_role or Role.NURSE.value
    page.handover_roles = list(
        (unit_setting(unit, "handover_roles") or {}).get(current, DEFAULT_HANDOVER_ROLES)
    )
    page.registration_applies = region_policy(session, unit, "journal_template") == "ha_besoksanteckning"
    page.fees = _fees(session, unit)
    if case.kind == CaseKind.SOK_VARD and case.started_at is not None:
        page.urgent_close = case.priority is not None and case.priority <= 2
        page.earliest_close, page.close_missing = earliest_close(session, case)


def _fees(session: Session, unit: Unit) -> dict[str, str]:
    """The region's fee for each meeting form today, as kronor text (the cost the patient is told, OG-8.3)."""
    from app.errors import NotFound
    from app.fees.service import fee_for

    fees = {}
    for form, visit_kind in MEETING_FORM_FEES.items():
        try:
            fee = fee_for(session, region_id=unit.region_id, visit_kind=visit_kind, on=clock.now().date())
        except NotFound:
            continue
        amount = fee.amount_sek
        fees[form] = str(int(amount)) if amount == int(amount) else f"{amount:.2f}".replace(".", ",")
    return fees


def case_tasks(
    session: Session, engine: ProcessEngine, *, actor: Actor, case: Case, may_act: bool
) -> list[TaskView]:
    """The case's open tasks, and the follow-up tasks started from it (OG-6.2), with their forms."""
    followups = select(ProcessInstance.id).where(
        ProcessInstance.business_key == f"followup:case:{case.id}",
        ProcessInstance.status == InstanceStatus.RUNNING,
    )
    rows = list(
        session.scalars(
            select(HumanTask)
            .where(or_(HumanTask.case_id == case.id, HumanTask.instance_id.in_(followups)))
            .order_by(HumanTask.id)
        )
    )
    return task_views(session, engine, actor=actor, rows=rows, may_act=may_act)


def task_views(
    session: Session, engine: ProcessEngine, *, actor: Actor, rows: list[HumanTask], may_act: bool
) -> list[TaskView]:
    if not rows:
        return []
    instances = {
        row.id: row
        for row in session.execute(
            select(ProcessInstance.id, ProcessInstance.version, ProcessInstance.bundle_hash).where(
                ProcessInstance.id.in_({t.instance_id for t in rows})
            )
        )
    }
    views = []
    for task in rows:
        instance = instances[task.instance_id]
        loaded = engine.loaded(instance.bundle_hash, lambda h=instance.bundle_hash: load_bundle(session, h))
        meta = loaded.user_tasks.get(task.element_id)
        on_duty = DUTY in actor.roles
        views.append(
            TaskView(
                id=task.id,
                title=task.title,
                element_id=task.element_id,
                kind=SPECIAL_FORMS.get(task.form_schema or "", "generic"),
                role=task.role.value if task.role else None,
                owner_user_id=task.owner_user_id,
                version=instance.version,
                actionable=(may_act or task.case_id is None)
                and (task.role is None or task.role.value in actor.roles or on_duty)
                and (task.owner_user_id in (None, actor.user_id) or on_duty)
                and task.unit_id == actor.unit_id,
                schema=loaded.forms.get(task.form_schema) if task.form_schema else None,
                ui=loaded.forms.get(task.form_ui_schema) if task.form_ui_schema else None,
                rules=meta.rules if meta else (),
                documentation=meta.documentation if meta else None,
                due_at=task.due_at,
                case_id=task.case_id,
            )
        )
    return views


def _unit_members(session: Session, unit_id: int) -> dict[int, Colleague]:
    """Everyone with a role at the unit now, by user id (names for authors, owners and colleague lists)."""
    now = clock.now()
    rows = session.execute(
        select(User.id, User.given_name, User.family_name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.unit_id == unit_id,
            Membership.valid_from <= now,
            or_(Membership.valid_until.is_(None), Membership.valid_until > now),
            User.active.is_(True),
        )
        .order_by(User.family_name, User.given_name)
    ).all()
    members: dict[int, Colleague] = {}
    for user_id, given, family, role in rows:
        members.setdefault(user_id, Colleague(user_id, f"{given} {family}", [], False)).roles.append(
            role.value
        )
    return members


def _name(session: Session, members: dict[int, Colleague], user_id: int | None) -> str | None:
    if user_id is None:
        return None
    if user_id in members:
        return members[user_id].name
    user = session.get(User, user_id)  # someone who has left the unit since
    return user.display_name if user else None


def _messages(
    session: Session, actor: Actor, case: Case, members: dict[int, Colleague], before_id: int | None
) -> tuple[list[MessageView], int | None]:
    rows = chat.messages(session, actor=actor, case_id=case.id, before_id=before_id, limit=PAGE_SIZE + 1)
    earlier = None
    if len(rows) > PAGE_SIZE:
        rows = rows[1:]
        earlier = rows[0].id
    return [message_view(session, case, members, row) for row in rows], earlier


def message_view(session: Session, case: Case, members: dict[int, Colleague], row) -> MessageView:
    if row.author == MessageAuthor.STAFF:
        member = members.get(row.author_user_id)
        name = (
            f"{member.name}, {role_label(member.roles[0])}"
            if member and member.roles
            else _name(session, members, row.author_user_id)
        )
        return MessageView(row.id, "staff", name, row.body, row.sent_at)
    if row.author == MessageAuthor.PATIENT:
        if row.author_patient_id in (None, case.patient_id):
            return MessageView(row.id, "patient", case.patient.display_name, row.body, row.sent_at)
        guardian = session.get(Patient, row.author_patient_id)
        return MessageView(
            row.id, "guardian", guardian.display_name if guardian else None, row.body, row.sent_at
        )
    return MessageView(row.id, "unit", None, row.body, row.sent_at)


def load_messages(
    session: Session, *, actor: Actor, case_id: int, before_id: int, context: str | None = None
) -> tuple[Case, list[MessageView], int | None]:
    """An older page of the chat ("Visa tidigare"), logged as a read of the case."""
    case = get_case(session, case_id)
    require_read(session, actor, case)
    log_access(
        session,
        actor=actor,
        action="case:messages",
        patient_ids=[case.patient_id],
        case_id=case.id,
        context=context,
    )
    messages, earlier = _messages(session, actor, case, _unit_members(session, case.unit_id), before_id)
    return case, messages, earlier


def form_answers(definition: dict, answers: dict | None) -> list[tuple[str, str]]:
    """The patient's answers as (question, answer) in the form's own words."""
    if not answers:
        return []
    properties = definition.get("properties", {})
    result = []
    for key, spec in properties.items():
        if key not in answers:
            continue
        value = answers[key]
        labels = spec.get("x-labels") or {}
        result.append((spec.get("title", key), str(labels.get(str(value), value))))
    return result


@dataclass
class TaskPage:
    task: TaskView
    case_id: int | None  # the case the task belongs to or follows up (OG-6.2)


def load_task_page(
    session: Session, engine: ProcessEngine, *, actor: Actor, task_id: int, context: str | None = None
) -> TaskPage:
    """A task outside any case page (the unit's day close, a doctor's follow-up) for staff of its unit."""
    from app.errors import Forbidden, NotFound

    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFound("Uppgiften är inte längre öppen.")
    case_id = task.case_id
    if case_id is None:
        key = (
            session.scalar(select(ProcessInstance.business_key).where(ProcessInstance.id == task.instance_id))
            or ""
        )
        case_id = int(key.rsplit(":", 1)[1]) if key.startswith("followup:case:") else None
    if case_id is not None:
        case = get_case(session, case_id)
        require_read(session, actor, case)
        log_access(
            session,
            actor=actor,
            action="case:task_view",
            patient_ids=[case.patient_id],
            case_id=case.id,
            context=context,
        )
    elif task.unit_id != actor.unit_id:
        raise Forbidden("Uppgiften hör till en annan enhet.")
    [view] = task_views(session, engine, actor=actor, rows=[task], may_act=True)
    return TaskPage(view, case_id)
