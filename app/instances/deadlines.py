"""Product deadlines on the timer index: "six working hours after the case was started".

A deadline is a pending-timer row of kind DEADLINE with its recipe (unit, start, working hours) and
the message its instance receives when it is due. Because the recipe is kept, a change of the
unit's opening hours recomputes every pending deadline computed from them (audited).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from app import calendar, clock
from app.audit.service import Actor, record
from app.instances.models import PendingTimer, TimerKind
from app.instances.persistence import notify_timer_workers


def _key(name: str) -> str:
    return f"deadline:{name}"


def schedule_deadline(
    session: Session,
    *,
    instance_id: int,
    name: str,
    message_name: str,
    unit_id: int,
    start: datetime,
    working_hours: float,
) -> PendingTimer:
    """Set (or move) the named deadline: `working_hours` of the unit's opening time after `start`."""
    from app.people.calendars import unit_calendar

    due = calendar.add_working_hours(unit_calendar(session, unit_id), start, working_hours)
    row = session.scalar(
        select(PendingTimer).where(
            PendingTimer.instance_id == instance_id, PendingTimer.spiff_task_id == _key(name)
        )
    )
    if row is None:
        row = PendingTimer(
            instance_id=instance_id,
            spiff_task_id=_key(name),
            kind=TimerKind.DEADLINE,
            created_at=clock.now(),
            attempts=0,
        )
        session.add(row)
    row.element_id = name
    row.due_at = due
    row.message_name = message_name
    row.unit_id = unit_id
    row.recipe = {"kind": "working_hours", "start": start.isoformat(), "hours": working_hours}
    session.flush()
    notify_timer_workers(session)
    return row


def cancel_deadline(session: Session, *, instance_id: int, name: str) -> None:
    session.execute(
        delete(PendingTimer).where(
            PendingTimer.instance_id == instance_id, PendingTimer.spiff_task_id == _key(name)
        )
    )


_DUE_DEADLINES = (
    select(PendingTimer)
    .where(
        PendingTimer.instance_id == bindparam("iid"),
        PendingTimer.kind == TimerKind.DEADLINE,
        PendingTimer.due_at < bindparam("now"),
    )
    .order_by(PendingTimer.due_at)
)


def due_deadlines(session: Session, instance_id: int, now: datetime) -> list[PendingTimer]:
    return list(session.scalars(_DUE_DEADLINES, {"iid": instance_id, "now": now}))


def recompute_for_unit(session: Session, *, actor: Actor, unit_id: int) -> int:
    """Recompute every pending deadline computed from the unit's hours; returns how many moved."""
    from app.people.calendars import unit_calendar

    cal = unit_calendar(session, unit_id)
    moved = 0
    rows = session.scalars(
        select(PendingTimer).where(PendingTimer.unit_id == unit_id, PendingTimer.kind == TimerKind.DEADLINE)
    )
    for row in rows:
        recipe = row.recipe or {}
        if recipe.get("kind") != "working_hours":
            continue
        due = calendar.add_working_hours(cal, datetime.fromisoformat(recipe["start"]), float(recipe["hours"]))
        if due != row.due_at:
            record(
                session,
                "deadline:recomputed",
                actor=actor,
                subject=("process_instance", row.instance_id),
                deadline=row.element_id,
                previous=row.due_at.isoformat(),
                new=due.isoformat(),
                unit_id=unit_id,
            )
            row.due_at = due
            moved += 1
    session.flush()
    return moved
