"""Sampled log reviews (loggkontroll, HSLF-FS 2016:40 4 kap. 9 §): a stored, reproducible random sample
of access-log rows of one unit and period, and the reviewer's verdict on each row."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.people.models import _enum


class Verdict(StrEnum):
    OK = "ok"
    FOLLOW_UP = "follow_up"  # needs follow-up: the reviewer explains why in the comment


class LogReviewSample(Base):
    """One sample: the unit, the period, the seed and size that reproduce which rows were drawn."""

    __tablename__ = "log_review_sample"
    __table_args__ = (Index("ix_log_review_sample_unit_created", "unit_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)  # exclusive; never after the moment of drawing
    requested_size: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)  # rows in the period the sample was drawn from
    seed: Mapped[int] = mapped_column(BigInteger)
    created_by_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    items: Mapped[list[LogReviewItem]] = relationship(
        back_populates="sample", order_by="LogReviewItem.position"
    )


class LogReviewItem(Base):
    """One drawn access-log row and the verdict on it (None until reviewed)."""

    __tablename__ = "log_review_item"
    __table_args__ = (UniqueConstraint("sample_id", "access_log_id", name="uq_log_review_item_sample_log"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("log_review_sample.id"), index=True)
    access_log_id: Mapped[int] = mapped_column(ForeignKey("access_log.id"))
    position: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[Verdict | None] = mapped_column(_enum(Verdict, "log_review_verdict"))
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    sample: Mapped[LogReviewSample] = relationship(back_populates="items")

    __mapper_args__ = {"version_id_col": version}
