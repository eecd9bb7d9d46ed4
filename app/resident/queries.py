"""Read-only queries behind the resident's pages. Each checks the resident's right on the domain
object first (`app.cases.permissions`: the patient, or a guardian while the child is under 13) and
returns plain values for the templates; the routes write the access log of what was shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import calendar, clock
from app.audit.service import Actor
from app.cases import chat
from app.cases.guards import GUARDIAN_AGE_LIMIT, MINIMUM_AGE, guardian_may_act, stockholm_date
from app.cases.lookup import get_case
from app.cases.models import (
    OPEN_CASE_STATES,
    Case,
    CaseImage,
    CaseKind,
    CaseState,
    ChatMessage,
    Consent,
    ConsentAnswer,
    ConsentKind,
    ImageRequest,
    MessageAuthor,
    PatientForm,
)
from app.cases.permissions import require_resident
from app.cases.submission import FUNCTION_FOR_KIND, send_anyway_allowed
from app.errors import NotFound
from app.notifications.service import fill_unit_for_reading
from app.patients.models import Guardianship, Patient
from app.patients.service import children_of
from app.people.calendars import service_is_open, unit_calendar
from app.people.identity import age_on
from app.people.models import Unit, User

MESSAGE_PAGE = 20  # chat messages per page; "show earlier" pages backwards
NEUTRAL_UNIT = _l("din vårdgivare")  # what a protected identity sees instead of the unit (SEC-protected-sms)

STATE_LABELS = {
    CaseState.NEW: _l("Skickat, väntar på att tas emot"),
    CaseState.RECEIVED: _l("Mottaget, handläggningen har börjat"),
    CaseState.STARTED: _l("Pågår"),
    CaseState.HANDED_OVER: _l("Lämnas över"),
    CaseState.CLOSED: _l("Avslutat"),
    CaseState.REFERRED: _l("Hänvisat"),
    CaseState.REFUSED: _l("Hanteras inte här"),
}
KIND_LABELS = {
    CaseKind.ADMIN: _l("Administrativa frågor"),
    CaseKind.NO_TRIAGE: _l("Chatt"),
}


def kind_label(kind: CaseKind) -> str:
    """How the resident's pages name a kind of case. "Sök vård" is the 1177 function's own name: in
    English it reads "Seek care (Sök vård)", in a context of its own since the catalogs are merged and
    the staff's pages translate the same word otherwise."""
    if kind == CaseKind.SOK_VARD:
        return pgettext("resident", "Sök vård")
    return str(KIND_LABELS[kind])


ROLE_LABELS = {
    "Sjuksköterska": _l("sjuksköterska"),
    "Läkare": _l("läkare"),
    "Psykolog": _l("psykolog"),
    "Fysioterapeut": _l("fysioterapeut"),
    "Medicinsk admin": _l("medicinsk sekreterare"),
    "Administrativ kontakt": _l("administratör"),
}
MEETING_FORMS = {
    "video": _l("video"),
    "phone": _l("telefon"),
    "physical": _l("besök på mottagningen"),
    "chat": _l("chatt"),
}


# --- who the resident is and acts for ---------------------------------------------------------


@dataclass(frozen=True)
class Person:
    patient: Patient
    age: int
    is_self: bool
    acts_for: bool  # the resident may read and answer this person's cases now

    @property
    def may_seek_care(self) -> bool:
        """Whether a Sök vård case can be opened here for this person: never under one year (OG-6.4-a).
        The engine's guard still refuses it; the form says so before the choice is made."""
        return self.age >= MINIMUM_AGE

    @property
    def age_rule(self) -> str | None:
        """What the age rules mean for this child, said beside the choice before sending (OG-6.4-a/b)."""
        if self.is_self:
            return None
        if not self.may_seek_care:
            return str(_l("Under 1 år: ring 1177 eller kontakta vårdcentralen."))
        if self.age >= GUARDIAN_AGE_LIMIT:
            return str(_l("Från 13 år söker barnet själv."))
        return None


def _age(patient: Patient) -> int:
    today = stockholm_date(clock.now())
    return age_on(patient.birth_date, today) if patient.birth_date <= today else 0


def people_of(session: Session, *, actor: Actor) -> list[Person]:
    """The resident and their registered children; a guardian acts for a child under 13 only (OG-6.4-b)."""
    me = session.get(Patient, actor.patient_id)
    if me is None:
        raise NotFound("Patienten finns inte.")
    now = clock.now()
    people = [Person(me, _age(me), True, True)]
    for child in sorted(children_of(session, me.id), key=lambda c: c.birth_date):
        people.append(
            Person(child, _age(child), False, guardian_may_act(birth_date=child.birth_date, at=now))
        )
    return people


@dataclass(frozen=True)
class CaseRow:
    case: Case
    patient: Patient
    unit_name: str
    state_label: str
    kind_label: str
    for_child: bool


@dataclass
class Overview:
    people: list[Person]
    cases: list[CaseRow]

    @property
    def patient_ids(self) -> list[int]:
        return [p.patient.id for p in self.people] + [r.patient.id for r in self.cases]


def overview(session: Session, *, actor: Actor) -> Overview:
    """The start page: the resident's own cases and those of the children they still act for."""
    people = people_of(session, actor=actor)
    acting = {p.patient.id: p for p in people if p.acts_for}
    cases = session.scalars(
        select(Case).where(Case.patient_id.in_(acting)).order_by(Case.submitted_at.desc(), Case.id.desc())
    ).all()
    units = _units(session, {c.unit_id for c in cases})
    rows = [
        CaseRow(
            c,
            acting[c.patient_id].patient,
            _unit_name(units[c.unit_id], acting[c.patient_id].patient),
            str(STATE_LABELS[c.state]),
            kind_label(c.kind),
            not acting[c.patient_id].is_self,
        )
        for c in cases
    ]
    return Overview(people, rows)


def demo_patients(session: Session) -> list[tuple[Patient, int, list[str]]]:
    """The development sign-in's list: every patient (the demo seed's in a development database),
    with age and the children they are registered guardian of."""
    patients = session.scalars(
        select(Patient).order_by(Patient.family_name, Patient.given_name).limit(200)
    ).all()
    names = {p.id: p.given_name for p in patients}
    children: dict[int, list[str]] = {}
    for row in session.scalars(select(Guardianship)):
        if row.child_id in names:
            children.setdefault(row.guardian_id, []).append(names[row.child_id])
    return [(p, _age(p), children.get(p.id, [])) for p in patients]


# --- submitting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitChoice:
    unit: Unit
    open_now: bool
    opens_next: datetime | None
    send_anyway: bool  # HA-after-hours: may send a chat anyway when closed


def units_for(session: Session, *, kind: CaseKind) -> list[UnitChoice]:
    """Activated units with the function for this kind of case (HA-functions), open or not right now."""
    now = clock.now()
    wanted = FUNCTION_FOR_KIND[kind]
    choices = []
    for unit in session.scalars(select(Unit).where(Unit.activated.is_(True)).order_by(Unit.name)):
        if not unit.has_function(wanted):
            continue
        cal = unit_calendar(session, unit.id)
        try:
            opens = calendar.next_opening(cal, now)
        except calendar.NoOpeningHoursError:
            opens = None
        # Open by its own hours, or on a covered day by the covering unit's (OG-9.2).
        choices.append(
            UnitChoice(
                unit, service_is_open(session, unit.id, now), opens, send_anyway_allowed(session, unit)
            )
        )
    return choices


# --- a case -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageView:
    id: int
    author: str
    mine: bool
    from_patient: bool
    body: str
    sent_at: datetime


@dataclass(frozen=True)
class ConsentView:
    consent: Consent
    question: str
    cost: str | None
    answered_text: str | None


@dataclass
class CaseView:
    case: Case
    unit: Unit
    patient: Patient
    for_child: bool
    unit_name: str
    state_label: str
    kind_label: str
    messages: list[MessageView]
    earlier_before: int | None  # the id to page back from, when there are earlier messages
    image_requests: list[ImageRequest] = field(default_factory=list)
    images: list[CaseImage] = field(default_factory=list)
    forms_open: list[PatientForm] = field(default_factory=list)
    forms_answered: list[PatientForm] = field(default_factory=list)
    consents_open: list[ConsentView] = field(default_factory=list)
    consents_answered: list[ConsentView] = field(default_factory=list)
    can_write: bool = False
    answer_after_close: bool = False  # closed, but still answerable (OG-6.5, HA-close-plus1)
    can_reopen: bool = False
    reopen_until: datetime | None = None
    referral_text: str | None = None
    anyway_allowed: bool = False
    poll_after: int | None = None  # the chat asks for messages newer than this id (None: it does not)
    opens_next: datetime | None = None  # when a referred case sent anyway would be handled from


def case_view(session: Session, *, actor: Actor, case_id: int, before_id: int | None = None) -> CaseView:
    """Everything the resident's case page shows, after checking the resident may see the case."""
    case = get_case(session, case_id)
    require_resident(session, actor, case)
    unit = session.get(Unit, case.unit_id)
    patient = session.get(Patient, case.patient_id)
    messages, earlier = message_page(
        session, actor=actor, case=case, unit=unit, patient=patient, before_id=before_id
    )
    now = clock.now()
    within_window = (
        case.state == CaseState.CLOSED and case.reopen_until is not None and now < case.reopen_until
    )
    consents = session.scalars(select(Consent).where(Consent.case_id == case.id).order_by(Consent.id)).all()
    forms = session.scalars(
        select(PatientForm).where(PatientForm.case_id == case.id).order_by(PatientForm.id)
    ).all()
    referral = None
    if case.state == CaseState.REFERRED:
        referral = session.scalar(
            select(ChatMessage.body)
            .where(ChatMessage.case_id == case.id, ChatMessage.phrase_purpose.like("referral:%"))
            .order_by(ChatMessage.id.desc())
            .limit(1)
        )
    view = CaseView(
        case=case,
        unit=unit,
        patient=patient,
        for_child=patient.id != actor.patient_id,
        unit_name=_unit_name(unit, patient),
        state_label=str(STATE_LABELS[case.state]),
        kind_label=kind_label(case.kind),
        messages=messages,
        earlier_before=earlier,
        image_requests=list(
            session.scalars(
                select(ImageRequest)
                .where(ImageRequest.case_id == case.id, ImageRequest.fulfilled_at.is_(None))
                .order_by(ImageRequest.id)
            )
        )
        if case.is_open
        else [],
        images=list(
            session.scalars(select(CaseImage).where(CaseImage.case_id == case.id).order_by(CaseImage.id))
        ),
        forms_open=[f for f in forms if f.answered_at is None and case.is_open],
        forms_answered=[f for f in forms if f.answered_at is not None],
        consents_open=[_consent_view(session, c) for c in consents if c.answer == ConsentAnswer.PENDING],
        consents_answered=[_consent_view(session, c) for c in consents if c.answer != ConsentAnswer.PENDING],
        can_write=case.state in OPEN_CASE_STATES or within_window,
        answer_after_close=within_window,
        can_reopen=within_window,
        reopen_until=case.reopen_until if within_window else None,
        referral_text=referral,
        anyway_allowed=case.state == CaseState.REFERRED and send_anyway_allowed(session, unit),
    )
    if view.anyway_allowed:
        try:
            view.opens_next = calendar.next_opening(unit_calendar(session, unit.id), now)
        except calendar.NoOpeningHoursError:
            view.opens_next = None
    if view.can_write and before_id is None:
        # Only the latest page follows the chat; a page scrolled back in history stays as it is.
        view.poll_after = messages[-1].id if messages else 0
    return view


def message_page(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    unit: Unit,
    patient: Patient,
    before_id: int | None = None,
) -> tuple[list[MessageView], int | None]:
    """One page of the chat, newest last, and the id to page back from when earlier messages exist."""
    rows = chat.messages(session, actor=actor, case_id=case.id, before_id=before_id, limit=MESSAGE_PAGE + 1)
    earlier = None
    if len(rows) > MESSAGE_PAGE:
        rows = rows[1:]
        earlier = rows[0].id
    return _message_views(session, actor, rows, unit, patient), earlier


def messages_after(
    session: Session, *, actor: Actor, case_id: int, after_id: int
) -> tuple[Case, Patient, list[MessageView]]:
    """Messages newer than the last one the page shows (the chat's quiet poll), after the resident check."""
    case, unit, patient = messages_case(session, actor=actor, case_id=case_id)
    rows = list(
        session.scalars(
            select(ChatMessage)
            .where(ChatMessage.case_id == case.id, ChatMessage.id > after_id)
            .order_by(ChatMessage.id)
            .limit(MESSAGE_PAGE)
        )
    )
    return case, patient, _message_views(session, actor, rows, unit, patient)


def _message_views(
    session: Session, actor: Actor, rows: list[ChatMessage], unit: Unit, patient: Patient
) -> list[MessageView]:
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({m.author_user_id for m in rows if m.author_user_id}))
        )
    }
    writers = {
        p.id: p
        for p in session.scalars(
            select(Patient).where(Patient.id.in_({m.author_patient_id for m in rows if m.author_patient_id}))
        )
    }
    unit_name = _unit_name(unit, patient)
    views = []
    for message in rows:
        if message.author == MessageAuthor.PATIENT:
            mine = message.author_patient_id == actor.patient_id
            writer = writers.get(message.author_patient_id)
            author = str(_l("Du")) if mine else (writer.display_name if writer else str(_l("Patienten")))
        elif message.author == MessageAuthor.STAFF and message.author_user_id in users:
            user = users[message.author_user_id]
            mine, author = False, f"{user.display_name}, {user.title}" if user.title else user.display_name
        else:
            mine, author = False, unit_name
        views.append(
            MessageView(
                message.id,
                author,
                mine,
                message.author == MessageAuthor.PATIENT,
                fill_unit_for_reading(
                    message.body, unit, neutral=patient.is_protected, neutral_name=str(NEUTRAL_UNIT)
                ),
                message.sent_at,
            )
        )
    return views


def messages_case(session: Session, *, actor: Actor, case_id: int) -> tuple[Case, Unit, Patient]:
    """The case, its unit and patient for a chat fragment, after the resident check."""
    case = get_case(session, case_id)
    require_resident(session, actor, case)
    return case, session.get(Unit, case.unit_id), session.get(Patient, case.patient_id)


def patient_form(session: Session, *, actor: Actor, form_id: int) -> tuple[PatientForm, Case]:
    """A form or rating scale sent to the patient (OG-8.1), exactly as stored when it was sent."""
    form = session.get(PatientForm, form_id)
    if form is None:
        raise NotFound("Formuläret finns inte.")
    case = get_case(session, form.case_id)
    require_resident(session, actor, case)
    return form, case


def consent_case(session: Session, *, consent_id: int) -> int | None:
    """The case a consent belongs to (to return to its page); no data of the case is read."""
    return session.scalar(select(Consent.case_id).where(Consent.id == consent_id))


# --- helpers ----------------------------------------------------------------------------------


def _units(session: Session, ids: set[int]) -> dict[int, Unit]:
    return {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))} if ids else {}


def _unit_name(unit: Unit, patient: Patient) -> str:
    # SEC-protected-sms: a claimed or confirmed protected identity is never shown the unit's name
    # by the product, not even on their own pages (a screen can be seen by others too).
    return str(NEUTRAL_UNIT) if patient.is_protected else unit.name


def _consent_view(session: Session, consent: Consent) -> ConsentView:
    details = consent.details or {}
    cost = None
    if consent.kind == ConsentKind.MEETING_FORM:
        form = details.get("form", "")
        cost = str(details.get("cost", "")).strip() or None
        question = str(_l("Vill du att ärendet fortsätter via %(form)s?", form=MEETING_FORMS.get(form, form)))
    else:
        role = details.get("role") or ""
        to = str(ROLE_LABELS.get(role, role.lower() or _l("en kollega")))
        user = session.get(User, int(details["user_id"])) if details.get("user_id") else None
        if user is not None:
            to = f"{to} {user.display_name}"
        question = str(_l("Går det bra att ditt ärende lämnas över till %(to)s?", to=to))
    answered = {
        ConsentAnswer.GIVEN: _l("Du svarade ja."),
        ConsentAnswer.DECLINED: _l("Du svarade nej."),
        ConsentAnswer.EXPIRED: _l("Frågan gick ut utan svar."),
        ConsentAnswer.NOT_ASKED: _l("Ärendet lämnades över direkt, utan att vänta på svar."),
    }.get(consent.answer)
    return ConsentView(consent, question, cost, str(answered) if answered else None)
