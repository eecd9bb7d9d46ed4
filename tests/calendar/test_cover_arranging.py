"""OG-9.2 on the administration page: planned temporary closing is refused unless another unit keeps
the service open (weekly hours that close days, a shortened day), an arranged cover is never silently
replaced, and a unit closed on a day cannot cover it."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import select

from app.admin import unit_services
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.errors import Conflict, GuardRefused
from app.people.calendars import set_exception, unit_calendar
from app.people.models import OpeningException, OpeningHours, Unit
from tests.admin import conftest as admin_conftest

# The administration pages' fixtures (tests/calendar has no care world of its own).
world, admin_world, pages = admin_conftest.world, admin_conftest.admin_world, admin_conftest.pages

TUESDAY, WEDNESDAY = date(2026, 11, 24), date(2026, 11, 25)  # the days after DEFAULT_NOW
ADMIN = Actor(label="Lokal systemadministratör (test)")


def _refusals(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "unit:closing_refused")))


def _version(pages) -> int:
    html = pages.get("/admin/hours").get_data(as_text=True)
    return int(re.search(r'name="expected_version" value="(\d+)"', html).group(1))


def test_OG_9_2_saving_a_week_without_opening_hours_is_refused_as_closing_and_audited(pages):
    session, unit = pages.world.session, pages.world.units["og"]
    pages.sign_in("sysadmin")
    before = unit_calendar(session, unit.id).weekly
    response = pages.post("/admin/hours", {"expected_version": str(_version(pages))})  # every field empty
    assert response.status_code == 422 and "OG-9.2" in response.get_data(as_text=True)
    session.expire_all()
    assert unit_calendar(session, unit.id).weekly == before
    assert [e.details.get("via") for e in _refusals(session)] == ["hours"]


def test_OG_9_2_weekly_hours_that_close_an_uncovered_weekday_ahead_are_refused(pages):
    session, unit = pages.world.session, pages.world.units["og"]
    pages.sign_in("sysadmin")
    form = {"expected_version": str(_version(pages))}
    for day in range(4):  # Monday–Thursday kept; Friday dropped
        form[f"d{day}_0_opens"], form[f"d{day}_0_closes"] = "08:00", "17:00"
    response = pages.post("/admin/hours", form)
    assert response.status_code == 422 and "OG-9.2" in response.get_data(as_text=True)
    session.expire_all()
    assert unit_calendar(session, unit.id).weekly[4]  # Friday still open
    assert len(_refusals(session)) == 1


def test_OG_9_2_a_shortened_day_ahead_needs_a_unit_that_covers(pages):
    world = pages.world
    og, ha = world.units["og"], world.units["ha"]
    with pytest.raises(GuardRefused) as refused:
        set_exception(world.session, actor=ADMIN, unit_id=og.id, day=TUESDAY, intervals=[(time(8), time(12))])
    assert refused.value.rule == "OG-9.2"
    world.session.rollback()
    assert world.session.scalars(select(OpeningException)).all() == []
    # Longer hours take nothing away; a shortened day with a covering unit is allowed.
    set_exception(world.session, actor=ADMIN, unit_id=og.id, day=TUESDAY, intervals=[(time(7), time(18))])
    set_exception(
        world.session,
        actor=ADMIN,
        unit_id=og.id,
        day=WEDNESDAY,
        intervals=[(time(8), time(12))],
        covering_unit_id=ha.id,
    )
    assert unit_calendar(world.session, og.id).covering_unit_on(WEDNESDAY) == ha.id


def test_OG_9_2_a_cover_needs_the_pages_calendar_version(pages):
    world, session = pages.world, pages.world.session
    ha = world.units["ha"]
    pages.sign_in("sysadmin")
    stale = _version(pages)
    assert pages.post("/admin/hours", {**_week("07:00"), "expected_version": str(stale)}).status_code == 302
    response = pages.post(
        "/admin/cover",
        {"first_day": "2026-11-24", "last_day": "2026-11-24", "covering_unit_id": str(ha.id), "expected_version": str(stale)},
    )  # fmt: skip
    assert response.status_code == 409 and "ändrades av någon annan" in response.get_data(as_text=True)
    assert session.scalars(select(OpeningException)).all() == []


def _week(opens: str) -> dict:
    return {
        f"d{day}_0_{part}": value
        for day in range(5)
        for part, value in (("opens", opens), ("closes", "17:00"))
    }


def _third_unit(session, like: Unit) -> Unit:
    """Another activated unit, open weekdays 08–17."""
    unit = Unit(
        region_id=like.region_id, name="Vårdcentralen Tallbacken", kind=like.kind, activated=True,
        functions=like.functions, vtv_number=like.vtv_number, settings={},
    )  # fmt: skip
    session.add(unit)
    session.flush()
    for weekday in range(5):
        session.add(OpeningHours(unit_id=unit.id, weekday=weekday, opens=time(8), closes=time(17)))
    session.flush()
    return unit


def test_OG_9_2_an_arranged_cover_is_never_silently_replaced_by_another_unit(pages, clock):
    world, session = pages.world, pages.world.session
    og, ha = world.units["og"], world.units["ha"]
    third = _third_unit(session, og)
    session.commit()
    pages.sign_in("sysadmin")
    first = pages.post(
        "/admin/cover",
        {"first_day": "2026-11-24", "last_day": "2026-11-25", "covering_unit_id": str(ha.id), "expected_version": str(_version(pages))},
    )  # fmt: skip
    assert first.status_code == 302
    response = pages.post(
        "/admin/cover",
        {"first_day": "2026-11-25", "last_day": "2026-11-26", "covering_unit_id": str(third.id), "expected_version": str(_version(pages))},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "2026-11-25 (Vårdcentralen Havsbris)" in html
    session.expire_all()
    covers = {e.day: e.covering_unit_id for e in session.scalars(select(OpeningException))}
    assert covers == {TUESDAY: ha.id, WEDNESDAY: ha.id}
    with pytest.raises(Conflict):
        unit_services.arrange_cover(
            session, actor=world.actor("sysadmin"), first_day=WEDNESDAY, last_day=WEDNESDAY,
            covering_unit_id=third.id, expected_version=None,
        )  # fmt: skip
    session.rollback()


def test_OG_9_2_a_unit_closed_that_day_cannot_cover_it(pages):
    world, session = pages.world, pages.world.session
    og, ha = world.units["og"], world.units["ha"]
    # Havsbris is itself covered by Ekdalen on Wednesday: it has no opening hours that day.
    set_exception(session, actor=ADMIN, unit_id=ha.id, day=WEDNESDAY, covering_unit_id=og.id)
    session.commit()
    pages.sign_in("sysadmin")
    response = pages.post(
        "/admin/cover",
        {"first_day": "2026-11-24", "last_day": "2026-11-25", "covering_unit_id": str(ha.id), "expected_version": str(_version(pages))},
    )  # fmt: skip
    assert response.status_code == 422 and "har stängt 2026-11-25" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(OpeningException).where(OpeningException.unit_id == og.id)).all() == []
    # Nor may Ekdalen, which keeps Havsbris's service open that Wednesday, close it by a cover of its own.
    third = _third_unit(session, og)
    with pytest.raises(GuardRefused, match="keeps the service open for") as refused:
        set_exception(session, actor=ADMIN, unit_id=og.id, day=WEDNESDAY, covering_unit_id=third.id)
    assert refused.value.rule == "OG-9.2"
