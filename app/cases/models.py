"""The care domain: cases and what happens in them. Our own tables, not the token flow: a chat of a
thousand messages is a thousand rows here and the same few tasks in the routine.

Ownership has one source of truth: `Case.owner_user_id` (NULL = the queue of the task's role).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.patients.models import Patient
from app.people.models import _enum


class CaseKind(StrEnum):
    SOK_VARD = "sok_vard"  # "Sök vård": triaged chat case
    ADMIN = "admin"  # "Administrativa frågor"
    NO_TRIAGE = "no_triage"  # chat without triage (HA-no-triage)


class CaseState(StrEnum):
    NEW = "new"  # submitted, not yet received
    RECEIVED = "received"  # "Ta emot": the resident was told handling starts
    STARTED = "started"  # "Starta": the first chat message was sent
    HANDED_OVER = "handed_over"  # waiting for another role or person (consent asked, not yet taken)
    CLOSED = "closed"
    REFERRED = "referred"  # after hours: referred to 112 / 1177 / self-care; not handled here
    REFUSED = "refused"  # not handled in the platform (protected identity under Halland policy)


OPEN_CASE_STATES = frozenset({CaseState.NEW, CaseState.RECEIVED, CaseState.STARTED, CaseState.HANDED_OVER})
HANDLED_STATES = frozenset({CaseState.RECEIVED, CaseState.STARTED, CaseState.HANDED_OVER})
# Staff write in the chat of a started case; an administrative case is never started (no triage, no
# "Starta"), so its staff answer the resident in it as long as it is open (OG-7).
ADMIN_CHAT_STATES = frozenset({CaseState.NEW, CaseState.RECEIVED, CaseState.STARTED})


class Case(Base):
    __tablename__ = "care_case"
    __table_args__ = (Index("ix_care_case_unit_state", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CaseKind] = mapped_column(_enum(CaseKind, "case_kind"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))  # the patient, or a guardian
    # One per submission form shown: the same submission sent twice (a double click, a retried request)
    # finds the case it made instead of making another.
    submission_key: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    priority: Mapped[int | None] = mapped_column(Integer)  # 1 (highest) .. 5; never for admin cases
    triage_priority: Mapped[int | None] = mapped_column(Integer)  # as triage set it (HA-prio-b keeps both)
    search_reason: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(
        String(40), default="general", server_default="general"
    )  # general, mental_health, rehab, prescription, administrative
    anamnesis: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[CaseState] = mapped_column(_enum(CaseState, "case_state"), default=CaseState.NEW)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    handling_role: Mapped[str | None] = mapped_column(String(40))  # the role whose queue has it now
    patient_answered: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # answered after the last staff message
    last_patient_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_staff_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chargeable: Mapped[bool] = mapped_column(Boolean, default=False)  # OG-2-a: free unless it becomes a visit
    meeting_form: Mapped[str] = mapped_column(
        String(20), default="chat", server_default="chat"
    )  # chat, video, phone, physical
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An answer or reopening after closing resumed handling: the closing rules count from here (OG-6.1-f/g).
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(40))
    reopen_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # OG-6.5 / HA-close-plus1
    after_close: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # answered or reopened after closing: flagged
    referral: Mapped[str | None] = mapped_column(String(40))  # after-hours referral given (OG-3)
    suicide_risk: Mapped[str | None] = mapped_column(String(20))  # suspected, none, low, moderate, high
    wrong_patient: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # HA-behalf
    version: Mapped[int] = mapped_column(Integer, default=1)

    patient: Mapped[Patient] = relationship(foreign_keys=[patient_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CASE_STATES


class MessageAuthor(StrEnum):
    PATIENT = "patient"  # the patient or the guardian acting for them
    STAFF = "staff"
    UNIT = "unit"  # sent as the unit (phrase templates at day end, referrals)


class ChatMessage(Base):
    __tablename__ = "chat_message"
    __table_args__ = (Index("ix_chat_message_case_sent", "case_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"))
    author: Mapped[MessageAuthor] = mapped_column(_enum(MessageAuthor, "message_author"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    author_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    body: Mapped[str] = mapped_column(Text)
    phrase_purpose: Mapped[str | None] = mapped_column(String(40))  # when it came from a phrase template
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AttemptKind(StrEnum):
    CHAT = "chat"  # a staff chat message the patient has not answered
    SMS_REMINDER = "sms_reminder"  # HA-remind
    PHONE = "phone"  # a recorded phone attempt


class ContactAttempt(Base):
    """A try to reach a patient who has not answered (OG-6.1-g): counted since their last answer."""

    __tablename__ = "contact_attempt"
    __table_args__ = (Index("ix_contact_attempt_case", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"))
    kind: Mapped[AttemptKind] = mapped_column(_enum(AttemptKind, "attempt_kind"))
    made_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class ImageRequest(Base):
    """Images asked for by triage or by staff in the chat (OG-11-f); the patient uploads into the case."""

    __tablename__ = "image_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))  # None: the triage asked
    instructions: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseImage(Base):
    __tablename__ = "case_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("image_request.id"))
    uploaded_by_patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PatientForm(Base):
    """A form or rating scale sent to the patient (OG-8.1), exactly as shown, with the answers."""

    __tablename__ = "patient_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict] = mapped_column(
        JSON
    )  # the JSON Schema and UI hints as sent (what the patient saw)
    sent_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answers: Mapped[dict | None] = mapped_column(JSON)
    score: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    documentation: Mapped[str | None] = mapped_column(String(20))  # HA-forms: copied / summarised


class ConsentKind(StrEnum):
    MEETING_FORM = "meeting_form"  # OG-8.3: switching chat/video/phone, with the stated cost
    HANDOVER = "handover"  # HA-handover-consent


class ConsentAnswer(StrEnum):
    PENDING = "pending"
    GIVEN = "given"
    DECLINED = "declined"
    NOT_ASKED = "not_asked"  # suicide-risk handover: never waits (HA-suicide-b)
    EXPIRED = "expired"  # no answer within the routine's time: counts as no consent


class Consent(Base):
    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"), index=True)
    kind: Mapped[ConsentKind] = mapped_column(_enum(ConsentKind, "consent_kind"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # target role/person, meeting form, stated cost
    requested_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[ConsentAnswer] = mapped_column(
        _enum(ConsentAnswer, "consent_answer"), default=ConsentAnswer.PENDING
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))


class CaseCollaborator(Base):
    """A colleague invited into a case (OG-8.5): they may act in it beside the owner."""

    __tablename__ = "case_collaborator"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    invited_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AckKind(StrEnum):
    ANSWER_AFTER_CLOSE = "answer_after_close"
    REOPENED = "reopened"
    FORM_RETURNED = "form_returned"
    CONSENT_DECLINED = "consent_declined"
    INVITATION = "invitation"


class AckItem(Base):
    """The acknowledgement inbox (vidimering): things staff must see and sign off."""

    __tablename__ = "ack_item"
    __table_args__ = (Index("ix_ack_item_unit_open", "unit_id", "acknowledged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"))
    kind: Mapped[AckKind] = mapped_column(_enum(AckKind, "ack_kind"))
    summary: Mapped[str] = mapped_column(Text)
    for_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id")
    )  # None: anyone of the unit's staff
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
