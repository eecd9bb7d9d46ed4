"""What the routines say to patients: phrase templates into the chat, with an SMS notice beside it.

Every text a routine sends comes from a phrase template (OG-8.2: the unit's local template, else the
region's); every SMS and e-mail goes through the notification composer, which keeps protected
identities from ever seeing the unit's name (SEC-protected-sms).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, cast, func, insert, literal, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from app import clock
from app.cases.lookup import get_unit
from app.cases.models import Case, ChatMessage, MessageAuthor
from app.db import get_held, transaction_store, write_now
from app.notifications.purposes import NotificationPurpose
from app.notifications.service import queue_to_patient
from app.people.models import Membership, User
from app.phrases.rendering import placeholders_in
from app.phrases.service import render, text_for

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UNIT_PLACEHOLDERS = {"unit", "unit_phone", "unit_address"}  # filled by the notification composer only

_INSERT_MESSAGE = insert(ChatMessage.__table__).returning(ChatMessage.__table__.c.id)
_ROLE_AT_UNIT = (
    select(Membership.role)
    .where(Membership.user_id == bindparam("user_id"), Membership.unit_id == bindparam("unit_id"))
    .limit(1)
)
_USER_AND_ROLE_AT_UNIT = select(User, _ROLE_AT_UNIT.scalar_subquery()).where(User.id == bindparam("user_id"))

# The short SMS notice of a new chat message: the content itself stays in the chat, behind the
# resident's e-ID login. The SMS that say something of their own (received, reminder) are phrase
# templates (OG-8.2), rendered by their senders.
NEW_MESSAGE_NOTICE = "Du har fått ett nytt meddelande från {unit} i 1177 direkt. Logga in för att läsa det."


def phrase(session: Session, case: Case, purpose: str, *, user_id: int | None = None, **fields) -> str:
    """The unit's phrase for `purpose`, rendered for this case (unit placeholders stay for the composer)."""
    # Reference reads (templates, the writer's name and role): the case's pending changes need not be
    # flushed for them; they go with the step's next write.
    with session.no_autoflush:
        text = text_for(session, unit_id=case.unit_id, purpose=purpose)
        values = {**_known_fields(session, case, user_id), **fields}
    wanted = placeholders_in(text) - UNIT_PLACEHOLDERS
    return render(text, **{name: values[name] for name in wanted if name in values})


def _known_fields(session: Session, case: Case, user_id: int | None) -> dict:
    now = clock.now().astimezone(STOCKHOLM)
    fields = {
        "patient_first_name": case.patient.given_name if case.patient else "",
        "date": now.date().isoformat(),
        "time": now.strftime("%H:%M"),
    }
    if user_id is not None:
        user, role = _writer(session, user_id, case.unit_id)
        fields.update(
            staff_first_name=user.given_name,
            staff_role=(role.value.lower() if role else (user.title or "vårdpersonal")),
        )
    return fields


def _writer(session: Session, user_id: int, unit_id: int):
    """The writing user (kept for the transaction, like `get_held`) and their role at the unit: one
    statement for both when the user is not held yet."""
    held = transaction_store(session, "held")
    user = held.get((User, user_id))
    if user is not None:
        return user, session.scalar(_ROLE_AT_UNIT, {"user_id": user_id, "unit_id": unit_id})
    row = session.execute(_USER_AND_ROLE_AT_UNIT, {"user_id": user_id, "unit_id": unit_id}).first()
    if row is None:
        return get_held(session, User, user_id), None  # no such user: as before (get_held says None)
    transaction_store(session, "held")[(User, user_id)] = row[0]  # looked up again: the read may begin it
    return row[0], row[1]


def post(
    session: Session,
    case: Case,
    *,
    body: str,
    author: MessageAuthor,
    user_id: int | None = None,
    patient_id: int | None = None,
    purpose: str | None = None,
) -> ChatMessage:
    """Add a message to the case's chat (one row; the routine's task tree does not grow)."""
    now = clock.now()
    values = {
        "case_id": case.id,
        "author": author,
        "author_user_id": user_id,
        "author_patient_id": patient_id,
        "body": body,
        "phrase_purpose": purpose,
        "sent_at": now,
    }
    # One prepared INSERT … RETURNING id instead of a flush: the id is all the caller needs next. The
    # case's pending changes need not go first (the row references the case's id only), so they
    # join the case's next flush instead of costing an UPDATE of their own.
    with session.no_autoflush:
        message = ChatMessage(id=session.execute(_INSERT_MESSAGE, values).scalar_one(), **values)
    make_transient_to_detached(message)  # the row is in the database: attach it without reading it back
    session.add(message)
    if author == MessageAuthor.PATIENT:
        _note_message(session, case, {"last_patient_message_at": now, "patient_answered": True})
    elif author == MessageAuthor.STAFF:
        _note_message(session, case, {"last_staff_message_at": now, "patient_answered": False})
    # A message sent as the unit (a phrase template at day end, a high-load notice) is nobody's reply:
    # the patient's answer, if any, still waits for a clinician.
    return message


def _note_message(session: Session, case: Case, changes: dict) -> None:
    """Record the latest message on the case. A case with other changes pending takes it with them
    (one UPDATE for the step); a chat message alone is written at once."""
    state = instance_state(case)
    alone = state.key is not None and not state.modified
    for name, value in changes.items():
        setattr(case, name, value)
    if alone:
        write_now(session, case)


def sms(
    session: Session,
    case: Case,
    purpose: NotificationPurpose,
    *,
    text: str | None = None,
    key: str | None = None,
) -> None:
    """Queue an SMS to the patient about the case (the composer decides what a protected person may see)."""
    unit = get_unit(session, case.unit_id)
    if key is None:
        key = f"case:{case.id}:{purpose.value}:{_message_count(session, case)}"
    queue_to_patient(
        session,
        purpose=purpose,
        patient=case.patient,
        unit=unit,
        text=text or NEW_MESSAGE_NOTICE,
        case_id=case.id,
        idempotency_key=key,
    )


def reminder_key(case_id: int, attempt_id: int) -> str:
    """The outbox key of an SMS reminder (HA-remind): one per contact attempt."""
    return f"case:{case_id}:reminder:{attempt_id}"


def reminder_key_of(case_id_column, attempt_id_column):
    """`reminder_key` as an SQL expression, to find an attempt's SMS from its row."""
    return (
        literal("case:")
        + cast(case_id_column, String)
        + literal(":reminder:")
        + cast(attempt_id_column, String)
    )


def _message_count(session: Session, case: Case) -> int:
    return session.scalar(select(func.count()).select_from(ChatMessage).where(ChatMessage.case_id == case.id))


def tell_patient(
    session: Session,
    case: Case,
    purpose: str,
    *,
    notice: NotificationPurpose | None = NotificationPurpose.NEW_CHAT_MESSAGE,
    user_id: int | None = None,
    **fields,
) -> ChatMessage:
    """Send a phrase-template message to the patient's chat (as the unit, or as a staff member) and an SMS notice."""
    body = phrase(session, case, purpose, user_id=user_id, **fields)
    message = post(
        session,
        case,
        body=body,
        author=MessageAuthor.STAFF if user_id else MessageAuthor.UNIT,
        user_id=user_id,
        purpose=purpose,
    )
    if notice is not None:
        sms(session, case, notice, key=f"case:{case.id}:{purpose}:{message.id}")
    return message
