"""Process models and their versions; each version pins one bundle, stored once by content hash."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.people.models import _enum


class StoredBundle(Base):
    __tablename__ = "bundle"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessModel(Base):
    __tablename__ = "process_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120), unique=True)  # the BPMN process id
    name: Mapped[str] = mapped_column(String(200))
    source_file: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    versions: Mapped[list[ProcessVersion]] = relationship(
        back_populates="model", order_by="ProcessVersion.number"
    )


class VersionOrigin(StrEnum):
    FILE = "file"  # deployed from processes/ by `flask processes deploy`
    PRODUCT = "product"  # published in the product by a process owner


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ProcessVersion(Base):
    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_model_id", "number", name="uq_process_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_model_id: Mapped[int] = mapped_column(ForeignKey("process_model.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    bundle_hash: Mapped[str] = mapped_column(ForeignKey("bundle.content_hash"))
    origin: Mapped[VersionOrigin] = mapped_column(_enum(VersionOrigin, "version_origin"))
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus, "version_status"))
    source_file: Mapped[str | None] = mapped_column(String(200))
    source_file_hash: Mapped[str | None] = mapped_column(String(64))
    deployed_by: Mapped[str] = mapped_column(String(160))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    change_note: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str | None] = mapped_column(String(160))  # "fastställd av"
    effective_from: Mapped[datetime | None] = mapped_column(UTCDateTime)

    model: Mapped[ProcessModel] = relationship(back_populates="versions")
