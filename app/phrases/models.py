"""Phrase templates (frasmallar): regional, local or personal texts for a purpose (OG-8.2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.people.models import _enum


class PhraseLevel(StrEnum):
    REGIONAL = "regional"  # published by the local system administrator
    LOCAL = "local"  # decided by the head of unit, published by the local system administrator
    PERSONAL = "personal"  # the owner's own: allowed, not recommended


class PhraseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class PhraseTemplate(Base):
    """One phrase text. At most one is published per purpose for a region (regional) or unit (local):
    that is the text a routine sends, so two published ones would make the choice arbitrary."""

    __tablename__ = "phrase_template"
    __table_args__ = (
        Index(
            "uq_phrase_template_published_regional",
            "region_id",
            "purpose",
            unique=True,
            sqlite_where=text("level = 'regional' AND status = 'published'"),
            postgresql_where=text("level = 'regional' AND status = 'published'"),
        ),
        Index(
            "uq_phrase_template_published_local",
            "unit_id",
            "purpose",
            unique=True,
            sqlite_where=text("level = 'local' AND status = 'published'"),
            postgresql_where=text("level = 'local' AND status = 'published'"),
        ),
        Index("ix_phrase_template_owner", "owner_user_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[PhraseLevel] = mapped_column(_enum(PhraseLevel, "phrase_level"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # local templates
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))  # personal templates
    purpose: Mapped[str] = mapped_column(String(40))  # a key of app.phrases.defaults.PURPOSES
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[PhraseStatus] = mapped_column(
        _enum(PhraseStatus, "phrase_status"), default=PhraseStatus.DRAFT
    )
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))  # head of unit (local)
    published_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id")
    )  # NULL: seeded by the system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
