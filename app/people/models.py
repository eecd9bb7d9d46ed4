"""Users, regions, units, memberships, schedules, presence and the overall-responsible duty."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.people.roles import Role


def _enum(enum_cls, name: str) -> Enum:
    # Store the enum's value (Swedish role names, lowercase codes): readable in SQL and stable.
    return Enum(
        enum_cls, name=name, values_callable=lambda cls: [m.value for m in cls], native_enum=False, length=40
    )


class UnitKind(StrEnum):
    CARE_CENTRE = "care_centre"
    REHAB = "rehab"
    PRIVATE = "private"
    PSYCHIATRY = "psychiatry"


class UnitFunction(StrEnum):
    """Functions a unit may have enabled in the service (HA-functions)."""

    CHAT_TRIAGE = "chat_triage"
    CHAT_NO_TRIAGE = "chat_no_triage"
    ADMIN_CASES = "admin_cases"
    VIDEO = "video"
    TICKETS = "tickets"


class Region(Base):
    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # "OG" Östergötland, "HA" Halland
    name: Mapped[str] = mapped_column(String(120))
    # Region policies where the guideline documents differ (protected identity, journal template, ...).
    policies: Mapped[dict] = mapped_column(JSON, default=dict)


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind, "unit_kind"))
    activated: Mapped[bool] = mapped_column(Boolean, default=True)  # activated in the 1177 direkt service
    vtv_number: Mapped[str | None] = mapped_column(String(40))  # vård-till-vård: direct line for care units
    functions: Mapped[list] = mapped_column(JSON, default=list)
    # Local routines ("Verksamheten beslutar om lokal rutin"): reopen window, hours between attempts, ...
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # A new random token on every change of opening hours or exceptions: cached calendars key on it
    # (random, not a counter, so a rolled-back change can never alias a later one).
    calendar_version: Mapped[int] = mapped_column(
        BigInteger, default=lambda: secrets.randbits(62), server_default="1"
    )

    region: Mapped[Region] = relationship()
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        order_by="OpeningHours.weekday, OpeningHours.opens", cascade="all, delete-orphan"
    )

    def has_function(self, function: UnitFunction) -> bool:
        return function.value in (self.functions or [])


class OpeningHours(Base):
    """One opening interval on a weekday (0 = Monday); several per day allow a lunch break."""

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class OpeningException(Base):
    """Other hours on one date: shortened, opened, or closed with the unit that covers (OG-9.2)."""

    __tablename__ = "opening_exception"
    __table_args__ = (UniqueConstraint("unit_id", "day", name="uq_opening_exception_unit_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    intervals: Mapped[list] = mapped_column(JSON, default=list)  # [["08:00", "12:00"], ...]; [] = closed
    covering_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    given_name: Mapped[str] = mapped_column(String(80))  # legal name: not changeable by the user (OG-4-b)
    family_name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str | None] = mapped_column(String(120))  # displayed title: the user may change it
    email: Mapped[str | None] = mapped_column(String(200))
    work_phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    employment_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Membership(Base):
    """User × unit × role: what the user may do at that unit."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role", name="uq_membership_user_unit_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship()


class ScheduledShift(Base):
    """A planned shift: who is expected, in which role, at which unit (OG-5, HA-chat-staff)."""

    __tablename__ = "scheduled_shift"
    __table_args__ = (Index("ix_scheduled_shift_unit_time", "unit_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chat_responsible: Mapped[bool] = mapped_column(Boolean, default=False)  # named person for the chat inflow
    # Optimistic lock: two schedulers changing one shift at once is a conflict, never an overwrite.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Shift(Base):
    """A worked shift: started at login to a unit, ended by "Avsluta skift"."""

    __tablename__ = "shift"
    __table_args__ = (Index("ix_shift_user_unit", "user_id", "unit_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SessionEventKind(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    IDLE = "idle"
    ACTIVE = "active"


class SessionEvent(Base):
    """Login, logout, idle and back: kept in the database because web workers are stateless."""

    __tablename__ = "session_event"
    __table_args__ = (Index("ix_session_event_user_unit_at", "user_id", "unit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[SessionEventKind] = mapped_column(_enum(SessionEventKind, "session_event_kind"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class OverallResponsibleDuty(Base):
    """Who holds "Övergripande ansvarig" at a unit, from when to when (OG-10.1-a).

    A duty, not a role: one clinician on shift holds it at a time; the partial unique index makes
    "one open holder per unit" a database fact, not only a service check.
    """

    __tablename__ = "overall_responsible_duty"
    __table_args__ = (
        Index(
            "uq_duty_one_open_holder_per_unit",
            "unit_id",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    passed_to_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
