"""Units' calendars from the database: lunch breaks, exceptions with cover, changes and deadlines."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app import calendar
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.errors import GuardRefused
from app.instances import service as instances
from app.instances.deadlines import schedule_deadline
from app.instances.models import PendingTimer
from app.people.calendars import set_exception, set_weekly_hours, unit_calendar
from app.people.roles import Role
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ADMIN = Actor(label="Karin Sjö (lokal systemadministratör)", user_id=None)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=STOCKHOLM)


def test_weekly_hours_with_a_lunch_break_come_from_the_database(session):
    unit = f.unit(session, hours=((time(8), time(12)), (time(13), time(16, 30))))
    cal = unit_calendar(session, unit.id)
    assert calendar.is_open(cal, local(2026, 11, 23, 11, 59)) and not calendar.is_open(
        cal, local(2026, 11, 23, 12, 30)
    )
    assert calendar.add_working_hours(cal, local(2026, 11, 23, 11, 0), 2) == local(2026, 11, 23, 14, 0)


def test_OG_9_2_closing_an_ordinary_weekday_needs_a_unit_that_covers(session):
    """Planned temporary closing is not allowed unless another unit keeps the service open."""
    unit = f.unit(session, "Vårdcentralen Ekdalen")
    cover = f.unit(session, "Vårdcentralen Havsbris")
    with pytest.raises(GuardRefused) as refused:
        set_exception(session, actor=ADMIN, unit_id=unit.id, day=date(2026, 12, 1), note="kompetensdag")
    assert refused.value.rule == "OG-9.2"
    set_exception(
        session,
        actor=ADMIN,
        unit_id=unit.id,
        day=date(2026, 12, 1),
        covering_unit_id=cover.id,
        note="kompetensdag",
    )
    cal = unit_calendar(session, unit.id)
    assert cal.covering_unit_on(date(2026, 12, 1)) == cover.id
    assert not calendar.is_open(cal, local(2026, 12, 1, 10, 0))
    # Julafton needs no cover: a de-facto holiday is closed anyway.
    set_exception(session, actor=ADMIN, unit_id=unit.id, day=date(2026, 12, 24), note="julafton")
    assert {e.action for e in session.scalars(select(AuditEvent))} >= {"unit:opening_exception_set"}


def test_a_unit_cannot_be_covered_by_itself_or_by_a_unit_outside_the_service(session):
    unit = f.unit(session)
    inactive = f.unit(session, "Vårdcentralen Tallbacken", activated=False)
    for cover in (unit.id, inactive.id):
        with pytest.raises(GuardRefused):
            set_exception(
                session, actor=ADMIN, unit_id=unit.id, day=date(2026, 12, 2), covering_unit_id=cover
            )


def test_OG_6_1_f_changing_opening_hours_recomputes_pending_deadlines_and_audits_it(session, engine, clock):
    """A deadline of six working hours follows the unit's hours when they change."""
    f.deploy_fixture(session, engine, "waits_for_reply.bpmn")
    unit = f.unit(session)
    actor = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
    instance = instances.start_instance(
        session,
        engine,
        process_id="waits_for_reply",
        actor=actor,
        case=f.case(session, unit, f.patient(session)),
    )
    monday_9 = local(2026, 11, 23, 9, 0)
    row = schedule_deadline(
        session,
        instance_id=instance.id,
        name="earliest_close",
        message_name="patient_reply",
        unit_id=unit.id,
        start=monday_9,
        working_hours=6,
    )
    assert row.due_at == local(2026, 11, 23, 15, 0)

    set_weekly_hours(
        session,
        actor=ADMIN,
        unit_id=unit.id,
        weekly={d: [(time(8), time(12)), (time(13), time(17))] for d in range(5)},
    )
    session.flush()
    assert session.scalar(select(PendingTimer.due_at).where(PendingTimer.id == row.id)) == local(
        2026, 11, 23, 16, 0
    )
    moved = session.scalar(select(AuditEvent).where(AuditEvent.action == "deadline:recomputed"))
    assert (moved.details["previous"], moved.details["new"]) == (
        "2026-11-23T14:00:00+00:00",
        "2026-11-23T15:00:00+00:00",
    )


def test_the_cached_calendar_follows_every_change(session):
    unit = f.unit(session)
    first = unit_calendar(session, unit.id)
    assert unit_calendar(session, unit.id) is first
    set_weekly_hours(session, actor=ADMIN, unit_id=unit.id, weekly={0: [(time(10), time(14))]})
    second = unit_calendar(session, unit.id)
    assert second is not first and not calendar.is_open(second, local(2026, 11, 24, 10, 0))
    assert calendar.is_open(second, local(2026, 11, 23, 10, 0))


def test_friday_afternoon_and_a_weekend_in_working_hours(session):
    unit = f.unit(session)
    cal = unit_calendar(session, unit.id)
    friday = local(2026, 11, 27, 14, 0)
    assert calendar.add_working_hours(cal, friday, 6) == local(2026, 11, 30, 11, 0)
    assert calendar.working_hours_between(cal, friday, local(2026, 11, 30, 11, 0)) == pytest.approx(6.0)
    assert calendar.working_hours_between(cal, friday, friday + timedelta(days=2)) == pytest.approx(3.0)
