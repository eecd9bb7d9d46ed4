"""PostgreSQL: two local system administrators changing the unit's calendar at the same moment. The
unit's row is locked before the calendar_version a change was made from is compared, so the second
of two saves from one version waits for the first, then sees the new version and is refused (409):
the week holds the hours one of them entered, never a merge of both."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from app.admin import unit_services
from app.people.models import OpeningException, OpeningHours
from tests.races import Meeting, race

MORNINGS = {day: [(time(8), time(12))] for day in range(5)}
AFTERNOONS = {day: [(time(13), time(17))] for day in range(5)}
ALL_DAY = {day: [(time(8), time(17))] for day in range(5)}
EARLY = {day: [(time(7), time(12))] for day in range(5)}


def _meet_after(monkeypatch, meeting: Meeting, name: str) -> None:
    real = getattr(unit_services, name)

    def meet_then(*args, **kwargs):
        meeting.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(unit_services, name, meet_then)


def _monday(session, unit_id) -> list[tuple[time, time]]:
    rows = session.execute(
        select(OpeningHours.opens, OpeningHours.closes).where(
            OpeningHours.unit_id == unit_id, OpeningHours.weekday == 0
        )
    )
    return sorted(tuple(row) for row in rows)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("first", "second"), [(MORNINGS, AFTERNOONS), (ALL_DAY, EARLY)], ids=["apart", "overlapping"]
)
def test_two_saves_of_opening_hours_from_one_version_at_once_keep_the_first_and_refuse_the_second(
    pg_url, app, admin_world, monkeypatch, first, second
):
    world = admin_world
    database = app.extensions["database"]
    unit = world.units["og"]
    version, actor = unit.calendar_version, world.actor("sysadmin")
    world.session.commit()
    meeting = Meeting(database)
    _meet_after(monkeypatch, meeting, "set_weekly_hours")  # past the calendar_version check

    def saving(weekly):
        return lambda s: unit_services.set_opening_hours(
            s, actor=actor, weekly=weekly, expected_version=version
        )

    results = race(database, meeting, saving(first), saving(second))

    assert results == ["ok", "Conflict"]
    with database.transaction() as s:
        assert _monday(s, unit.id) == first[0]


@pytest.mark.postgres
def test_two_covers_arranged_at_once_are_made_one_after_the_other_not_a_server_error(
    pg_url, app, admin_world, monkeypatch
):
    world = admin_world
    database = app.extensions["database"]
    unit, covering = world.units["og"], world.units["ha"]
    actor = world.actor("sysadmin")
    world.session.commit()
    meeting = Meeting(database)
    _meet_after(monkeypatch, meeting, "set_exception")  # the calendar read, about to write the days
    tuesday, wednesday = date(2026, 11, 24), date(2026, 11, 25)  # the days after DEFAULT_NOW

    def covering_until(last_day, note):
        return lambda s: unit_services.arrange_cover(
            s,
            actor=actor,
            first_day=tuesday,
            last_day=last_day,
            covering_unit_id=covering.id,
            expected_version=None,
            note=note,
        )

    results = race(database, meeting, covering_until(tuesday, "first"), covering_until(wednesday, "second"))

    assert results == ["ok", "ok"]
    with database.transaction() as s:
        days = s.execute(
            select(OpeningException.day, OpeningException.note, func.count())
            .where(OpeningException.unit_id == unit.id)
            .group_by(OpeningException.day, OpeningException.note)
            .order_by(OpeningException.day)
        ).all()
    assert [tuple(row) for row in days] == [(tuesday, "second", 1), (wednesday, "second", 1)]
