"""Tariffs: the region's patient fee per kind of visit, from the date it takes effect (OG-2-d)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.people.models import _enum


class VisitKind(StrEnum):
    """Visits that carry a fee when a contact leads to them (OG-2-b)."""

    DIGITAL_VISIT = "digital_visit"  # chat or video visit with a clinician
    PHYSICAL_VISIT = "physical_visit"
    PHONE_VISIT = "phone_visit"  # one that replaces a physical visit


class Tariff(Base):
    """One fee in effect from a date until the next tariff of the same region and kind."""

    __tablename__ = "tariff"
    __table_args__ = (
        UniqueConstraint("region_id", "visit_kind", "effective_from", name="uq_tariff_region_kind_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    visit_kind: Mapped[VisitKind] = mapped_column(_enum(VisitKind, "visit_kind"))
    # Whole öre, not a Numeric: exact sums on both databases (SQLite has no decimal type).
    amount_ore: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
