"""The unit's day close (one routine instance per working day): at closing, the overall responsible
is prompted to send, as the unit, "handled next weekday" to cases not handled today (OG-6.1-e) and,
under Halland's policy, "Stängning" to residents who have not answered (HA-close-day)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import calendar, clock
from app.audit.service import Actor, record
from app.calendar.zone import start_of_day
from app.cases.effects import region_policy
from app.cases.guards import STANGNING_POLICY
from app.cases.messaging import tell_patient
from app.cases.models import Case, CaseKind, CaseState
from app.engine import ProcessEngine
from app.instances.models import InstanceStatus, ProcessInstance
from app.people.calendars import unit_calendar
from app.people.models import Unit

PROMPT_BEFORE_CLOSING = timedelta(minutes=15)


def _next_close_day(session: Session, unit_id: int, after: datetime):
    """The unit's next day whose closing prompt is still ahead of `after` (None: no closing within 60 days)."""
    cal = unit_calendar(session, unit_id)
    day = calendar.local_date(after)
    for _ in range(60):
        closes = calendar.closing_time(cal, day)
        if closes is not None and closes - PROMPT_BEFORE_CLOSING > after:
            return day
        day += timedelta(days=1)
    return None


def start_day_close(
    session: Session, engine: ProcessEngine, *, unit_id: int, actor: Actor, after: datetime
) -> ProcessInstance:
    """Start (once) the day-close routine for the unit's next working day whose prompt is still ahead."""
    from app.instances.service import start_instance

    day = _next_close_day(session, unit_id, after)
    if day is None:  # open around the clock or closed for two months: as before, a day 60 days on
        day = calendar.local_date(after) + timedelta(days=60)
    key = f"day_close:{unit_id}:{day.isoformat()}"
    existing = session.scalar(select(ProcessInstance).where(ProcessInstance.business_key == key))
    if existing is not None:
        return existing
    return start_instance(
        session,
        engine,
        process_id="unit_day_close",
        actor=actor,
        unit_id=unit_id,
        data={"day": day.isoformat()},
        business_key=key,
    )


def send_day_close_messages(session: Session, *, unit_id: int, actor: Actor) -> dict:
    """Tell waiting patients what happens next, as the unit; returns how many got which message."""
    unit = session.get(Unit, unit_id)
    now = clock.now()
    next_day = calendar.next_open_weekday(unit_calendar(session, unit_id), calendar.local_date(now))
    cases = session.scalars(
        select(Case).where(
            Case.unit_id == unit_id,
            Case.kind != CaseKind.ADMIN,
            Case.state.in_([CaseState.NEW, CaseState.RECEIVED, CaseState.STARTED, CaseState.HANDED_OVER]),
        )
    )
    stangning_policy = region_policy(session, unit, "closing") == STANGNING_POLICY
    sent = {"next_weekday": 0, "stangning": 0}
    for case in cases:
        if case.state in (CaseState.NEW, CaseState.RECEIVED):
            tell_patient(session, case, "next_weekday", earliest=next_day.isoformat())
            sent["next_weekday"] += 1
        elif stangning_policy:
            # HA-close-day: those who did not answer today, and every case not concluded (answered or
            # waiting on a handover), hear that the chat closes for the day and stays open to them.
            tell_patient(session, case, "stangning", date=next_day.isoformat())
            sent["stangning"] += 1
    record(session, "unit:day_close_sent", actor=actor, subject=("unit", unit_id), as_unit=unit.name, **sent)
    return sent


WAITING_STATES = (CaseState.NEW, CaseState.RECEIVED)


def tell_waiting_patients_of_high_load(session: Session, *, actor: Actor) -> int:
    """OG-9.1, OG-10.1-d: the overall responsible tells every patient still waiting at the unit, with the
    "high load" phrase, that answers may take longer. A patient told once today is not told again."""
    from app.cases.models import ChatMessage
    from app.cases.permissions import DUTY
    from app.errors import Forbidden

    if DUTY not in actor.roles or actor.unit_id is None:
        raise Forbidden(_l("Det är övergripande ansvarig som meddelar patienterna om hög belastning."))
    today_began = start_of_day(calendar.local_date(clock.now()))
    already_told = select(ChatMessage.case_id).where(
        ChatMessage.phrase_purpose == "high_load", ChatMessage.sent_at >= today_began
    )
    waiting = session.scalars(
        select(Case)
        .where(
            Case.unit_id == actor.unit_id,
            Case.kind != CaseKind.ADMIN,
            Case.state.in_(WAITING_STATES),
            Case.id.not_in(already_told),
        )
        .order_by(Case.id)
    ).all()
    for case in waiting:
        tell_patient(session, case, "high_load")
    unit = session.get(Unit, actor.unit_id)
    record(
        session,
        "unit:high_load_told",
        actor=actor,
        subject=("unit", unit.id),
        as_unit=unit.name,
        told=len(waiting),
    )
    return len(waiting)


def ensure_day_close(session: Session, engine: ProcessEngine, *, actor: Actor) -> list[int]:
    """Every activated unit with a closing ahead has its day-close routine running (OG-6.1-e,
    HA-close-day). Each routine starts the next day's, but something must start the first — a new
    unit, a new deployment of the routine, a chain broken by a cancelled instance. A periodic job of
    the timer workers (app/timers/housekeeping.py); returns the ids of the routines it started.

    The unit's row is locked first: two workers running this at once start one routine, not two."""
    from app.errors import NotFound
    from app.process_models.service import runnable_version

    try:
        runnable_version(session, "unit_day_close")
    except NotFound:
        return []  # the routine is not deployed (yet)
    running = set(
        session.scalars(
            select(ProcessInstance.unit_id).where(
                ProcessInstance.process_id == "unit_day_close",
                ProcessInstance.status == InstanceStatus.RUNNING,
            )
        )
    )
    started = []
    now = clock.now()
    for unit_id in session.scalars(select(Unit.id).where(Unit.activated.is_(True)).order_by(Unit.id)):
        if unit_id in running or _next_close_day(session, unit_id, now) is None:
            continue
        session.execute(select(Unit.id).where(Unit.id == unit_id).with_for_update())
        again = session.scalar(
            select(ProcessInstance.id).where(
                ProcessInstance.process_id == "unit_day_close",
                ProcessInstance.unit_id == unit_id,
                ProcessInstance.status == InstanceStatus.RUNNING,
            )
        )
        if again is None:
            started.append(start_day_close(session, engine, unit_id=unit_id, actor=actor, after=now).id)
    return started
