"""Who is scheduled and present, and opening hours without a named chat responsible (OG-5, HA-chat-staff)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import calendar, clock
from app.audit.service import Actor, record
from app.people.calendars import unit_calendar
from app.people.models import Membership, ScheduledShift, User
from app.people.roles import Role
from app.people.service import present


@dataclass(frozen=True)
class OnShift:
    user_id: int
    name: str
    role: Role
    starts_at: datetime
    ends_at: datetime
    present: bool
    chat_responsible: bool


def on_shift(session: Session, *, unit_id: int, at: datetime) -> list[OnShift]:
    """OG-5: who is scheduled at the unit at a moment, in which role, and whether they are present."""
    rows = session.execute(
        select(ScheduledShift, User)
        .join(User, User.id == ScheduledShift.user_id)
        .where(ScheduledShift.unit_id == unit_id, ScheduledShift.starts_at <= at, ScheduledShift.ends_at > at)
        .order_by(User.family_name)
    )
    return [
        OnShift(
            user.id,
            user.display_name,
            Role(shift.role),
            shift.starts_at,
            shift.ends_at,
            present(session, user.id, unit_id, at),
            shift.chat_responsible,
        )
        for shift, user in rows
    ]


@dataclass(frozen=True)
class Gap:
    starts_at: datetime
    ends_at: datetime


def chat_staffing_gaps(session: Session, *, unit_id: int, day: date) -> list[Gap]:
    """HA-chat-staff: parts of the day's opening hours with no scheduled, named chat responsible."""
    opening = calendar.day_spans(unit_calendar(session, unit_id), day)
    # Only a shift someone can still work counts: an active user holding the shift's role at the unit
    # when it starts (an ended employment's schedule covers nothing).
    held_role = (
        select(Membership.id)
        .where(
            Membership.user_id == ScheduledShift.user_id,
            Membership.unit_id == unit_id,
            Membership.role == ScheduledShift.role,
            Membership.valid_from <= ScheduledShift.starts_at,
            or_(Membership.valid_until.is_(None), Membership.valid_until > ScheduledShift.starts_at),
        )
        .exists()
    )
    covered = sorted(
        (shift.starts_at, shift.ends_at)
        for shift in session.scalars(
            select(ScheduledShift)
            .join(User, User.id == ScheduledShift.user_id)
            .where(
                ScheduledShift.unit_id == unit_id,
                ScheduledShift.chat_responsible.is_(True),
                User.active.is_(True),
                held_role,
            )
        )
    )
    gaps: list[Gap] = []
    for start, end in opening:
        cursor = start
        for covered_start, covered_end in covered:
            if covered_end <= cursor or covered_start >= end:
                continue
            if covered_start > cursor:
                gaps.append(Gap(cursor, covered_start))
            cursor = max(cursor, covered_end)
            if cursor >= end:
                break
        if cursor < end:
            gaps.append(Gap(cursor, end))
    return gaps


def warn_staffing_gaps(session: Session, *, unit_id: int, day: date) -> list[Gap]:
    """HA-chat-staff: tell the head of unit and the overall responsible about uncovered opening hours."""
    from app.notifications.purposes import NotificationPurpose
    from app.notifications.service import Channel, queue_to_staff
    from app.people.models import Unit
    from app.people.service import duty_holder

    gaps = chat_staffing_gaps(session, unit_id=unit_id, day=day)
    if not gaps:
        return gaps
    unit = session.get(Unit, unit_id)
    heads = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.unit_id == unit_id,
                Membership.role == Role.HEAD_OF_UNIT,
                or_(Membership.valid_until.is_(None), Membership.valid_until > gaps[0].starts_at),
            )
        )
    )
    holder = duty_holder(session, unit_id)
    if holder is not None:
        heads.add(holder.user_id)
    periods = ", ".join(
        f"{calendar.local_date(g.starts_at)} {g.starts_at.astimezone(calendar.STOCKHOLM):%H:%M}–{g.ends_at.astimezone(calendar.STOCKHOLM):%H:%M}"
        for g in gaps
    )
    for user_id in sorted(heads):
        user = session.get(User, user_id)
        if user is None or not user.email:
            # Nobody to e-mail: the warning is not silently lost, the audit trail says who missed it.
            record(
                session,
                "staffing_gap:not_sent",
                actor=Actor.system("staffing"),
                subject=("user", user_id),
                unit_id=unit_id,
                periods=periods,
                reason="no e-mail address",
            )
            continue
        queue_to_staff(
            session,
            purpose=NotificationPurpose.STAFFING_GAP,
            user=user,
            unit=unit,
            text=f"Ingen schemalagd chattansvarig under öppettid: {periods}.",
            channel=Channel.EMAIL,
            subject="Chatten saknar ansvarig",
            # One warning per distinct set of gaps: a changed schedule that leaves other gaps warns again.
            idempotency_key=f"staffing-gap:{unit_id}:{day.isoformat()}:{user_id}:{_digest(periods)}",
        )
    return gaps


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


WARNING_HORIZON_DAYS = 7


def warn_upcoming_staffing_gaps(session: Session) -> int:
    """HA-chat-staff, run periodically: warn about uncovered opening hours today and the coming week at
    every chat unit whose region asks for it. Returns how many unit-days have gaps."""
    from app.people.models import Region, Unit

    today = calendar.local_date(clock.now())
    units = session.scalars(
        select(Unit)
        .join(Region, Region.id == Unit.region_id)
        .where(Unit.activated.is_(True))
        .order_by(Unit.id)
    )
    found = 0
    for unit in units:
        region = session.get(Region, unit.region_id)
        if not (region.policies or {}).get("warn_chat_staffing_gaps") or not _takes_chats(unit):
            continue
        for offset in range(WARNING_HORIZON_DAYS):
            found += bool(warn_staffing_gaps(session, unit_id=unit.id, day=today + timedelta(days=offset)))
    return found


def _takes_chats(unit) -> bool:
    return bool({"chat_triage", "chat_no_triage"} & set(unit.functions or ()))
