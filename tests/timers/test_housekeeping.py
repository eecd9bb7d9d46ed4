"""Periodic jobs run by the timer workers: export purge (HA-images) and staffing warnings (HA-chat-staff)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.exports import service as exports
from app.exports.models import Export, ExportKind
from app.notifications.models import Notification
from app.notifications.purposes import NotificationPurpose
from app.people.models import Region
from app.people.roles import Role
from app.people.staffing import warn_upcoming_staffing_gaps
from app.timers.housekeeping import Housekeeping, PeriodicJob
from app.timers.worker import TimerWorker
from tests import factories as f

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_HA_images_the_timer_worker_deletes_exports_two_hours_after_they_were_made(database, engine, clock):
    """HA-images: deleted automatically after two hours, by the timer workers without anyone asking."""
    with database.transaction() as session:
        unit = f.unit(session)
        nurse = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
        export_id = exports.create_export(
            session,
            actor=nurse,
            kind=ExportKind.IMAGE,
            filename="bild.png",
            content_type="image/png",
            content=b"\x89PNG",
        ).id
    worker = TimerWorker(database, engine, name="test", housekeeping=Housekeeping(database))
    worker.run_once()
    clock.advance(hours=2, seconds=1)
    worker.run_once()
    with database.transaction() as session:
        assert session.get(Export, export_id) is None


def test_a_periodic_job_runs_once_per_interval_and_a_failing_job_does_not_stop_the_others(database, clock):
    calls = []

    def failing(session):
        raise RuntimeError("database hiccup")

    housekeeping = Housekeeping(
        database,
        (
            PeriodicJob("fails", timedelta(minutes=1), failing),
            PeriodicJob("counts", timedelta(minutes=5), calls.append),
        ),
    )
    assert housekeeping.run_due() == ["counts"]
    clock.advance(minutes=4)
    assert housekeeping.run_due() == []
    clock.advance(minutes=1)
    assert housekeeping.run_due() == ["counts"] and len(calls) == 2


def _chat_unit(session, code: str, warn: bool):
    unit = f.unit(session, f"Vårdcentralen {code}", region_code=code, functions=["chat_triage"])
    session.get(Region, unit.region_id).policies = {"warn_chat_staffing_gaps": warn}
    head = f.user(session, unit, Role.HEAD_OF_UNIT)
    head.email = f"chef.{code.lower()}@example.invalid"
    return unit, head


def test_HA_chat_staff_the_head_of_unit_is_warned_about_the_coming_week_once_per_set_of_gaps(database, clock):
    """HA-chat-staff: opening hours without a scheduled chat responsible are warned about ahead of time,
    in the regions whose policy asks for it; the same gaps are not warned about twice."""
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=STOCKHOLM))  # Monday morning
    with database.transaction() as session:
        _, halland_head = _chat_unit(session, "HA", warn=True)
        _, other_head = _chat_unit(session, "OG", warn=False)
        heads = (halland_head.id, other_head.id)
    with database.transaction() as session:
        assert (
            warn_upcoming_staffing_gaps(session) == 5
        )  # the five weekdays of the week; no opening at weekends
    with database.transaction() as session:
        warnings = session.scalars(
            select(Notification).where(Notification.purpose == NotificationPurpose.STAFFING_GAP)
        ).all()
        assert {w.user_id for w in warnings} == {heads[0]} and len(warnings) == 5
        assert all(w.channel.value == "email" for w in warnings)
    with database.transaction() as session:
        warn_upcoming_staffing_gaps(session)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 5
