"""Patients and guardianship as they come from the population registry."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.people.models import _enum


class IdentityKind(StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"
    RESERVNUMMER = "reservnummer"


class Protection(StrEnum):
    """Protected identity (skyddade personuppgifter) as claimed by the resident or verified by staff.

    SEC-protected-sms holds while it is CLAIMED or CONFIRMED, until staff record CLEARED.
    """

    NONE = "none"
    CLAIMED = "claimed"
    CONFIRMED = "confirmed"
    CLEARED = "cleared"


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_number: Mapped[str] = mapped_column(String(20), unique=True)  # normalised, 12 digits
    identity_kind: Mapped[IdentityKind] = mapped_column(_enum(IdentityKind, "identity_kind"))
    birth_date: Mapped[date] = mapped_column(Date)
    given_name: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(80))
    mobile: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    protection: Mapped[Protection] = mapped_column(_enum(Protection, "protection"), default=Protection.NONE)
    protection_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    protection_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registry_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def identity_formatted(self) -> str:
        """As clinicians read it: ``YYYYMMDD-NNNN``; a reservnummer as the region wrote it."""
        if self.identity_kind is IdentityKind.RESERVNUMMER:
            return self.identity_number
        return f"{self.identity_number[:8]}-{self.identity_number[8:]}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_protected(self) -> bool:
        """Claimed or confirmed protected identity: never name or locate the unit to this person."""
        return self.protection in (Protection.CLAIMED, Protection.CONFIRMED)


class Guardianship(Base):
    """Guardian (vårdnadshavare) of a child, as registered in the population registry."""

    __tablename__ = "guardianship"
    __table_args__ = (UniqueConstraint("guardian_id", "child_id", name="uq_guardianship_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    source: Mapped[str] = mapped_column(String(40), default="registry")
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)
