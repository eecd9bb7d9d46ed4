"""The chat and what happens beside the routine: messages, reminders, phone attempts, images, forms,
consents and reopening. Each is rows in the case's tables; the routine hears only what changes its
course (a consent answer, a reply after closing, a reopening)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases import limits, messaging
from app.cases.effects import record_phone_attempt
from app.cases.guards import check_reopen
from app.cases.lookup import case_instance, get_case, get_unit
from app.cases.models import (
    ADMIN_CHAT_STATES,
    OPEN_CASE_STATES,
    AckItem,
    AckKind,
    AttemptKind,
    Case,
    CaseCollaborator,
    CaseImage,
    CaseKind,
    CaseState,
    ChatMessage,
    Consent,
    ConsentAnswer,
    ContactAttempt,
    ImageRequest,
    MessageAuthor,
    PatientForm,
)
from app.cases.patient_forms import form_definition, score
from app.cases.permissions import require_act, require_read, require_resident
from app.engine import ProcessEngine
from app.engine.messages import Message
from app.errors import Conflict, GuardRefused, NotFound, ValidationFailed
from app.instances.persistence import reproject_case
from app.instances.service import deliver_message, validate_form_data
from app.notifications.purposes import NotificationPurpose
from app.people.service import roles_at
from app.people.unit_settings import unit_setting
from app.phrases.defaults import PURPOSES

MAX_MESSAGE = limits.MESSAGE_BODY  # the names the resident pages and the API import
MAX_IMAGE_BYTES = limits.IMAGE_BYTES
_INSERT_ATTEMPT = insert(ContactAttempt.__table__)
IMAGE_TYPES = {"image/jpeg", "image/png", "image/heic", "image/webp"}


# The same text from the same person again within this window is the same message sent twice (a
# double tap, a retried request on a flaky mobile network): it is answered with the first, and counts
# once as a contact attempt (OG-6.1-g/h) and once as an SMS.
REPLAY_WINDOW = timedelta(minutes=2)
REMINDER_REPLAY_WINDOW = timedelta(minutes=10)
# The columns the comparison needs, not the message object: nearly always it is no replay.
_M = ChatMessage.__table__.c
_LATEST_MESSAGE = (
    select(_M.id, _M.body, _M.author_user_id, _M.author_patient_id, _M.sent_at)
    .where(_M.case_id == bindparam("case_id"))
    .order_by(_M.id.desc())
    .limit(1)
)


def _just_sent(
    session: Session,
    case: Case,
    body: str,
    *,
    author_user_id: int | None = None,
    author_patient_id: int | None = None,
) -> ChatMessage | None:
    with session.no_autoflush:
        latest = session.execute(_LATEST_MESSAGE, {"case_id": case.id}).first()
    if (
        latest is not None
        and latest.body == body
        and latest.author_user_id == author_user_id
        and latest.author_patient_id == author_patient_id
        and clock.now() - latest.sent_at < REPLAY_WINDOW
    ):
        return session.get(ChatMessage, latest.id)
    return None


def _body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise ValidationFailed(_l("Skriv ett meddelande."), {"body": ["required"]})
    return limits.check_length(
        body,
        limits.MESSAGE_BODY,
        field="body",
        message=_l("Meddelandet får vara högst %(limit)s tecken.", limit=limits.MESSAGE_BODY),
    )


def _phrase_purpose(purpose: str | None) -> str | None:
    # The page posts it from a hidden field: anything but a known purpose is refused, never stored
    # (the column holds 40 characters, and the day's checks count messages by purpose).
    if purpose is not None and purpose not in PURPOSES:
        raise ValidationFailed(
            _l("Okänd frasmall. Välj frasmallen igen eller skriv meddelandet utan den."),
            {"phrase_purpose": ["unknown purpose"]},
        )
    return purpose


# --- staff ------------------------------------------------------------------------------------


def staff_may_write(case: Case) -> bool:
    """A started case's chat; an administrative case's while it is open (it is never started)."""
    if case.kind == CaseKind.ADMIN:
        return case.state in ADMIN_CHAT_STATES
    return case.state == CaseState.STARTED


def staff_write(
    session: Session, *, actor: Actor, case_id: int, body: str, phrase_purpose: str | None = None
) -> ChatMessage:
    """A staff message in the chat; unanswered, it is a contact attempt (OG-6.1-g)."""
    case = get_case(session, case_id)
    require_act(session, actor, case)
    if not staff_may_write(case):
        raise Conflict(_l("Starta ärendet innan du skriver i chatten."))
    body, phrase_purpose = _body(body), _phrase_purpose(phrase_purpose)
    replay = _just_sent(session, case, body, author_user_id=actor.user_id)
    if replay is not None:
        return replay
    message = messaging.post(
        session, case, body=body, author=MessageAuthor.STAFF, user_id=actor.user_id, purpose=phrase_purpose
    )
    with session.no_autoflush:  # one prepared INSERT; nothing pending needs to go first
        session.execute(
            _INSERT_ATTEMPT,
            {
                "case_id": case.id,
                "kind": AttemptKind.CHAT,
                "made_by": actor.user_id,
                "at": message.sent_at,
                "note": "",
            },
        )
    messaging.sms(
        session, case, NotificationPurpose.NEW_CHAT_MESSAGE, key=f"case:{case.id}:message:{message.id}"
    )
    record(
        session,
        "chat:staff_message",
        actor=actor,
        subject=("case", case.id),
        message_id=message.id,
        phrase=phrase_purpose,
    )
    session.flush()
    reproject_case(session, case)
    return message


def remind(session: Session, *, actor: Actor, case_id: int) -> ContactAttempt:
    """HA-remind: an SMS reminder to a patient who has not answered; it counts as a contact attempt."""
    case = get_case(session, case_id)
    require_act(session, actor, case)
    if case.state != CaseState.STARTED:
        raise Conflict(_l("Påminnelser skickas i ett startat ärende."))
    if case.patient_answered:
        raise GuardRefused(_l("Patienten har redan svarat."), rule="HA-remind")
    with session.no_autoflush:
        last = session.scalar(
            select(func.max(ContactAttempt.at)).where(
                ContactAttempt.case_id == case.id, ContactAttempt.kind == AttemptKind.SMS_REMINDER
            )
        )
    if last is not None and clock.now() - last < REMINDER_REPLAY_WINDOW:
        # A second tap or a retried request, not a second attempt (OG-6.1-g counts attempts hours apart).
        raise Conflict(_l("En påminnelse skickades nyss. Vänta innan du påminner igen."))
    attempt = ContactAttempt(
        case_id=case.id, kind=AttemptKind.SMS_REMINDER, made_by=actor.user_id, at=clock.now()
    )
    session.add(attempt)
    session.flush()
    messaging.sms(
        session,
        case,
        NotificationPurpose.SMS_REMINDER,
        text=messaging.phrase(session, case, "reminder"),  # OG-8.2: the unit's (or region's) words
        key=messaging.reminder_key(case.id, attempt.id),
    )
    record(session, "chat:sms_reminder", actor=actor, subject=("case", case.id))
    return attempt


def phone_attempt(session: Session, *, actor: Actor, case_id: int, reached: bool, note: str = "") -> None:
    """A phone call to the patient: reached is a dialogue, not reached is a contact attempt."""
    case = get_case(session, case_id)
    require_act(session, actor, case)
    record_phone_attempt(session, case, actor, reached=reached, note=note)
    session.flush()
    reproject_case(session, case)


def request_images(session: Session, *, actor: Actor, case_id: int, instructions: str) -> ImageRequest:
    """Ask the patient for images during the chat (OG-11-f)."""
    case = get_case(session, case_id)
    require_act(session, actor, case)
    if not _chat_ongoing(case):
        raise GuardRefused(
            _l("Bilder begärs under en pågående chatt: starta ärendet först.")
            if case.state in OPEN_CASE_STATES
            else _l("Ärendet är inte längre en pågående chatt, så patienten kan inte ombes om bilder i det."),
            rule="OG-11-f",
        )
    instructions = (instructions or "").strip()
    if not instructions:
        raise ValidationFailed(_l("Beskriv vilken bild du behöver."), {"instructions": ["required"]})
    limits.check_length(
        instructions,
        limits.IMAGE_INSTRUCTIONS,
        field="instructions",
        message=_l(
            "Beskrivningen av bilden får vara högst %(limit)s tecken.", limit=limits.IMAGE_INSTRUCTIONS
        ),
    )
    request = ImageRequest(
        case_id=case.id, requested_by=actor.user_id, instructions=instructions, requested_at=clock.now()
    )
    session.add(request)
    session.flush()
    messaging.tell_patient(
        session, case, "image_request", notice=NotificationPurpose.IMAGE_REQUESTED, user_id=actor.user_id
    )
    record(session, "chat:images_requested", actor=actor, subject=("case", case.id), request_id=request.id)
    return request


def send_form(session: Session, *, actor: Actor, case_id: int, form_key: str) -> PatientForm:
    """Send a form or rating scale to the patient (OG-8.1); the definition sent is kept."""
    case = get_case(session, case_id)
    require_act(session, actor, case)
    try:
        definition = form_definition(form_key)
    except KeyError as exc:
        raise NotFound(_l("Formuläret finns inte.")) from exc
    form = PatientForm(
        case_id=case.id,
        form_key=form_key,
        title=definition["title"],
        definition=definition,
        sent_by=actor.user_id,
        sent_at=clock.now(),
    )
    session.add(form)
    session.flush()
    messaging.tell_patient(
        session,
        case,
        "form_sent",
        notice=NotificationPurpose.FORM_SENT,
        user_id=actor.user_id,
        form_name=form.title,
    )
    record(session, "chat:form_sent", actor=actor, subject=("case", case.id), form=form_key, form_id=form.id)
    return form


def document_form(session: Session, *, actor: Actor, form_id: int, how: str) -> PatientForm:
    """HA-forms: the returned form is copied into the EHR, or kept here with a summary note there."""
    from app.documentation.journal_templates import FormSummary
    from app.documentation.models import FormHandling
    from app.documentation.service import create_draft

    # Locked, as answer_form is: two clinicians (or two clicks) documenting the form at once make one
    # journal note; the second waits, then finds it documented.
    form = session.get(PatientForm, form_id, with_for_update=True, populate_existing=True)
    if form is None or form.answered_at is None:
        raise NotFound(_l("Inget besvarat formulär."))
    case = get_case(session, form.case_id)
    require_act(session, actor, case)
    if how not in ("copied", "summarised"):
        raise ValidationFailed(_l("Välj kopierat eller sammanfattat."), {"how": ["copied or summarised"]})
    if form.documentation is not None:
        raise Conflict(
            _l("Formuläret är redan dokumenterat. Journalanteckningen finns under Journalanteckning."),
            rule="HA-forms",
        )
    form.documentation = how
    answers = _answers_in_words(form)
    if form.score is not None:
        answers.append(("Poäng", str(form.score)))
    # What the form showed: its score, or, without one, the answers themselves (not just its name).
    summary = (
        f"{form.title}: poäng {form.score}"
        if form.score is not None
        else f"{form.title}: " + "; ".join(f"{question}: {answer}" for question, answer in answers)
    )
    create_draft(
        session,
        case=case,
        reason="form",
        for_user_id=actor.user_id,
        form_summary=FormSummary(form.title, FormHandling(how), answers, summary),
        actor=actor,
    )
    record(session, "form:documented", actor=actor, subject=("case", case.id), form_id=form.id, how=how)
    return form


def _answers_in_words(form: PatientForm) -> list[tuple[str, str]]:
    """Each question with the answer as the patient chose it ("Flera dagar", not its code 1)."""
    properties = form.definition.get("properties", {})
    result = []
    for key, value in (form.answers or {}).items():
        spec = properties.get(key, {})
        if isinstance(value, bool):
            answer = "Ja" if value else "Nej"
        else:
            answer = str(spec.get("x-labels", {}).get(str(value), value))
        result.append((spec.get("title", key), answer))
    return result


def invite_colleague(session: Session, *, actor: Actor, case_id: int, colleague_id: int) -> CaseCollaborator:
    """Invite a colleague of the unit into the case, as the unit's routine allows (OG-8.5)."""
    from app.people.models import Unit

    case = get_case(session, case_id)
    require_act(session, actor, case)
    if not unit_setting(session.get(Unit, case.unit_id), "invite_colleague"):
        raise GuardRefused(_l("Enhetens rutin tillåter inte att kollegor bjuds in i ärenden."), rule="OG-8.5")
    if not roles_at(session, colleague_id, case.unit_id):
        raise GuardRefused(_l("Kollegan arbetar inte på enheten."), rule="OG-8.5")
    invited = CaseCollaborator(
        case_id=case.id, user_id=colleague_id, invited_by=actor.user_id, invited_at=clock.now()
    )
    session.add(invited)
    session.add(
        AckItem(
            unit_id=case.unit_id,
            case_id=case.id,
            kind=AckKind.INVITATION,
            summary=f"{actor.label} bjuder in dig i ärendet.",
            for_user_id=colleague_id,
            created_at=clock.now(),
        )
    )
    record(
        session, "case:colleague_invited", actor=actor, subject=("case", case.id), colleague_id=colleague_id
    )
    session.flush()
    return invited


# --- residents --------------------------------------------------------------------------------


def patient_write(
    session: Session, engine: ProcessEngine, *, actor: Actor, case_id: int, body: str
) -> ChatMessage:
    """The patient (or guardian) writes; after closing, within the window, the case goes back to the role queue."""
    case = get_case(session, case_id)
    require_resident(session, actor, case)
    if case.state in (CaseState.REFERRED, CaseState.REFUSED):
        raise Conflict(_l("Ärendet hanteras inte här. Se hänvisningen i chatten."))
    if case.state == CaseState.CLOSED and (case.reopen_until is None or clock.now() >= case.reopen_until):
        raise GuardRefused(
            _l("Ärendet är avslutat. Skapa ett nytt ärende om du behöver söka vård."), rule="HA-close-plus1"
        )
    body = _body(body)
    replay = _just_sent(session, case, body, author_patient_id=actor.patient_id)
    if replay is not None:
        return replay
    message = messaging.post(
        session, case, body=body, author=MessageAuthor.PATIENT, patient_id=actor.patient_id
    )
    record(session, "chat:patient_message", actor=actor, subject=("case", case.id), message_id=message.id)
    if case.state == CaseState.CLOSED:
        instance = case_instance(session, case.id)
        if instance is not None:
            deliver_message(session, engine, instance_id=instance.id, name=Message.PATIENT_REPLY, actor=actor)
        else:
            _answer_nobody_waits_for(session, case, actor)
    session.flush()
    reproject_case(session, case)
    return message


def _answer_nobody_waits_for(session: Session, case: Case, actor: Actor) -> None:
    """An answer after closing when no routine of the case waits for it any more (a close path that
    ended its routine, a version that did): it is never left unread. The case is flagged and the
    unit's acknowledgement inbox gets it, as an answer after closing always does (HA-close-plus1)."""
    case.after_close = True
    session.add(
        AckItem(
            unit_id=case.unit_id,
            case_id=case.id,
            kind=AckKind.ANSWER_AFTER_CLOSE,
            summary="Patienten har svarat efter att ärendet stängdes.",
            created_at=clock.now(),
        )
    )
    record(session, "case:answer_after_close_unrouted", actor=actor, subject=("case", case.id))


def upload_image(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    filename: str,
    content_type: str,
    content: bytes,
    request_id: int | None = None,
) -> CaseImage:
    """The patient uploads an image the triage or staff asked for into the case (OG-11-f)."""
    case = get_case(session, case_id)
    require_resident(session, actor, case)
    if content_type not in IMAGE_TYPES:
        raise ValidationFailed(
            _l("Bilden ska vara JPEG, PNG, HEIC eller WebP."), {"file": ["unsupported type"]}
        )
    if not content or len(content) > MAX_IMAGE_BYTES:
        raise ValidationFailed(_l("Bilden får vara högst 10 MB."), {"file": ["empty or too large"]})
    request = _request_answered(session, case, request_id)
    image = CaseImage(
        case_id=case.id,
        request_id=request.id,
        uploaded_by_patient_id=actor.patient_id,
        filename=filename[-200:],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_at=clock.now(),
    )
    session.add(image)
    request.fulfilled_at = image.uploaded_at
    session.flush()
    record(
        session,
        "chat:image_uploaded",
        actor=actor,
        subject=("case", case.id),
        image_id=image.id,
        size=image.size,
    )
    return image


def _chat_ongoing(case: Case) -> bool:
    """OG-11-f: staff ask for images during an ongoing chat: started, and not closed, referred or refused."""
    return case.started_at is not None and case.state in OPEN_CASE_STATES


def _request_answered(session: Session, case: Case, request_id: int | None) -> ImageRequest:
    """OG-11-f: the open image request (the triage's or staff's) an upload answers; the patient uploads
    what was asked for, into a case still being handled. Without an id, the case's oldest open request.
    Locked: two uploads at once answer a request once; the second finds it answered."""
    if request_id is not None:
        request = session.get(ImageRequest, request_id, with_for_update=True, populate_existing=True)
        if request is None or request.case_id != case.id:
            # Another case's request must not be marked fulfilled by this upload.
            raise ValidationFailed(
                _l("Bildförfrågan finns inte i ärendet."),
                {"request_id": ["no such image request in this case"]},
            )
    else:
        request = session.scalar(
            select(ImageRequest)
            .where(ImageRequest.case_id == case.id, ImageRequest.fulfilled_at.is_(None))
            .order_by(ImageRequest.id)
            .limit(1)
            .with_for_update()
        )
    if case.state not in OPEN_CASE_STATES:
        raise GuardRefused(
            _l(
                "Ärendet hanteras inte längre, så det tar inte emot bilder. Skriv till mottagningen eller skapa ett nytt ärende."
            ),
            rule="OG-11-f",
        )
    if request is None:
        raise GuardRefused(_l("Mottagningen har inte bett om någon bild i ärendet."), rule="OG-11-f")
    if request.fulfilled_at is not None:
        raise GuardRefused(_l("Bilden som mottagningen bad om är redan uppladdad."), rule="OG-11-f")
    return request


def answer_form(session: Session, *, actor: Actor, form_id: int, answers: dict[str, Any]) -> PatientForm:
    """The patient fills in a sent form; the result shows in the case and the acknowledgement inbox."""
    # Locked: the same form sent twice at once (two taps, two devices) is answered once; the second waits, then is refused.
    form = session.get(PatientForm, form_id, with_for_update=True, populate_existing=True)
    if form is None:
        raise NotFound(_l("Formuläret finns inte."))
    case = get_case(session, form.case_id)
    require_resident(session, actor, case)
    if form.answered_at is not None:
        raise Conflict(_l("Formuläret är redan besvarat."))
    clean = validate_form_data(form.definition, answers)
    form.answers = clean
    form.score = score(form.definition, clean)
    form.answered_at = clock.now()
    session.add(
        AckItem(
            unit_id=case.unit_id,
            case_id=case.id,
            kind=AckKind.FORM_RETURNED,
            summary=f"{form.title} besvarat" + (f" (poäng {form.score})" if form.score is not None else ""),
            for_user_id=form.sent_by,
            created_at=form.answered_at,
        )
    )
    record(
        session, "form:answered", actor=actor, subject=("case", case.id), form_id=form.id, score=form.score
    )
    return form


def answer_consent(
    session: Session, engine: ProcessEngine, *, actor: Actor, consent_id: int, given: bool
) -> Consent:
    """The resident gives or declines a consent; the routine continues accordingly."""
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound(_l("Samtycket finns inte."))
    case = get_case(session, consent.case_id)
    require_resident(session, actor, case)
    if consent.answer != ConsentAnswer.PENDING:
        raise Conflict(_l("Samtycket är redan besvarat."))
    consent.answer = ConsentAnswer.GIVEN if given else ConsentAnswer.DECLINED
    consent.answered_at = clock.now()
    consent.answered_by_patient_id = actor.patient_id
    record(
        session,
        "consent:answered",
        actor=actor,
        subject=("case", case.id),
        consent_id=consent.id,
        given=given,
        kind=consent.kind.value,
    )
    instance = case_instance(session, case.id)
    if instance is not None:
        deliver_message(
            session,
            engine,
            instance_id=instance.id,
            name=Message.CONSENT_GIVEN if given else Message.CONSENT_DECLINED,
            actor=actor,
            payload={"consent_id": consent.id},
        )
    return consent


def reopen(
    session: Session, engine: ProcessEngine, *, actor: Actor, case_id: int, search_reason: str
) -> Case:
    """Reopen a closed case within the unit's window, for the same search reason only (OG-6.5)."""
    case = get_case(session, case_id)
    require_resident(session, actor, case)
    if case.state != CaseState.CLOSED:
        raise Conflict(_l("Ärendet är inte avslutat."))
    limits.check_length(
        search_reason,
        limits.SEARCH_REASON,
        field="search_reason",
        message=_l("Sökorsaken får vara högst %(limit)s tecken.", limit=limits.SEARCH_REASON),
    )
    check_reopen(
        reopen_until=_reopen_window_ends(session, case),
        now=clock.now(),
        same_reason=search_reason.strip().casefold() == case.search_reason.strip().casefold(),
    )
    instance = case_instance(session, case.id)
    if instance is None:
        raise GuardRefused(_l("Ärendet kan inte längre återupptas."), rule="OG-6.5")
    record(session, "case:reopen_requested", actor=actor, subject=("case", case.id))
    deliver_message(session, engine, instance_id=instance.id, name=Message.CASE_REOPENED, actor=actor)
    session.refresh(case)
    return case


def _reopen_window_ends(session: Session, case: Case) -> datetime | None:
    """When reopening ends: the unit's own window from the closing (OG-6.5), never beyond how long the
    case stays answerable. HA-close-plus1's extra day is for answering, not reopening: a unit that
    sets no window (0 days) has none."""
    reopen_days = float(unit_setting(get_unit(session, case.unit_id), "reopen_days"))
    if reopen_days <= 0 or case.closed_at is None or case.reopen_until is None:
        return None
    return min(case.reopen_until, case.closed_at + timedelta(days=reopen_days))


# --- reading ----------------------------------------------------------------------------------


def messages(
    session: Session, *, actor: Actor, case_id: int, before_id: int | None = None, limit: int = 50
) -> list[ChatMessage]:
    """The latest chat messages (newest last), paged backwards with `before_id`: equally fast at 1,000."""
    case = get_case(session, case_id)
    require_read(session, actor, case)
    query = select(ChatMessage).where(ChatMessage.case_id == case.id)
    if before_id is not None:
        query = query.where(ChatMessage.id < before_id)
    rows = list(session.scalars(query.order_by(ChatMessage.id.desc()).limit(limit)))
    return rows[::-1]
