"""Journal-note drafts (OG-11, HA-doc) and registration records (HA-reg) prepared for the EHR."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.models import Case
from app.db import Base, UTCDateTime
from app.people.models import _enum


class DraftReason(StrEnum):
    CLOSED_UNANSWERED = "closed_unanswered"  # OG-11-e: closed without the patient answering
    HANDOVER = "handover"  # OG-11-e, HA-doc-a: handed to other staff or another unit
    ASSESSMENT = "assessment"  # the clinician's own medical assessment (HA-doc-a)
    FORM = "form"  # a form the patient returned (HA-forms)
    CLOSED = "closed"  # concluded in dialogue


class FormHandling(StrEnum):
    """HA-forms: how a returned form reaches the EHR."""

    COPIED = "copied"  # questions and answers copied into the EHR
    SUMMARISED = "summarised"  # kept in the platform; the EHR notes that it was filled in and what it showed


class JournalDraft(Base):
    """A journal note prepared in the region's EHR template; the clinician copies it and marks it documented."""

    __tablename__ = "journal_draft"
    __table_args__ = (Index("ix_journal_draft_open", "unit_id", "documented_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))  # where the documentation is owed
    template: Mapped[str] = mapped_column(String(40))  # Region.policies["journal_template"]
    reason: Mapped[DraftReason] = mapped_column(_enum(DraftReason, "draft_reason"))
    for_user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id"), index=True
    )  # whose assessment it documents
    form_handling: Mapped[FormHandling | None] = mapped_column(_enum(FormHandling, "form_handling"))
    includes_anamnesis: Mapped[bool] = mapped_column(Boolean, default=False)  # HA-doc-a: the first assessor's
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # care contact, template and keyword entries
    text: Mapped[str] = mapped_column(Text)  # the same, as text to paste into the EHR
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    documented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    documented_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    documented_note: Mapped[str | None] = mapped_column(Text)  # why someone else marked it documented

    case: Mapped[Case] = relationship()


class RegistrationRecord(Base):
    """An unbooked arrival registration prepared for the EHR's cash desk (HA-reg-c), done when registered."""

    __tablename__ = "registration_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("care_case.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    clinician_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))  # the one registered and billed
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # the fields to enter, by their EHR labels
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
