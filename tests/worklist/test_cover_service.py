"""OG-9.2: on a day another unit keeps the service open for a unit, the routines treat the covered unit
as open while the covering unit is, and the covering unit's staff see the covered unit's cases in their
patient list and their control tower, labelled with the unit."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.audit.service import Actor
from app.calendar.zone import STOCKHOLM
from app.cases.models import CaseState
from app.cases.permissions import can_act
from app.control_tower.checks import ha_day_end_untreated
from app.control_tower.queries import unit_overview
from app.instances.expressions import expression_session, is_open
from app.people.calendars import served_unit_ids, set_exception
from app.worklist.queries import open_tasks_for
from tests.worklist.conftest import rows_of

TUESDAY = date(2026, 11, 24)  # the day after DEFAULT_NOW (Monday 2026-11-23 09:00)
ADMIN = Actor(label="Lokal systemadministratör (test)")


@pytest.fixture
def covered_tuesday(world):
    """Ekdalen (og) closes on Tuesday; Havsbris (ha, open 08–12 and 13–16:30) keeps its service open."""
    og, ha = world.units["og"], world.units["ha"]
    set_exception(
        world.session, actor=ADMIN, unit_id=og.id, day=TUESDAY, covering_unit_id=ha.id, note="Utbildningsdag"
    )
    world.session.commit()
    return og, ha


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def test_OG_9_2_is_open_follows_the_covering_units_hours_on_a_covered_day(world, covered_tuesday):
    og, _ha = covered_tuesday
    with expression_session(world.session):
        assert is_open(og.id, _at(10))  # its own calendar is closed, the cover is open
        assert not is_open(og.id, _at(12, 30))  # the covering unit's lunch
        assert not is_open(og.id, _at(16, 45))  # the covering unit has closed (og would be open until 17)
        assert is_open(og.id, _at(16, 45, TUESDAY + timedelta(days=1)))  # Wednesday: its own hours again


def test_OG_9_2_a_case_submitted_on_a_covered_day_is_not_referred_and_reaches_the_covering_nurses_list(
    world, pages, clock, covered_tuesday
):
    og, ha = covered_tuesday
    clock.set(_at(10))
    case = world.submit("adult", unit="og", high_fever=True)  # priority 2: referred to 1177 when closed
    assert case.priority == 2
    assert (case.state, case.referral) == (CaseState.NEW, None)
    assert world.titles(case) == ["Ta emot ärendet"]

    covering_nurse = world.actor("ha_nurse")
    assert served_unit_ids(world.session, ha.id, TUESDAY) == [ha.id, og.id]
    assert [t.case_id for t in open_tasks_for(world.session, covering_nurse)] == [case.id]
    html = pages.sign_in("ha_nurse").text("/")
    assert rows_of(html) == ["Anna Andersson"]
    assert "Täckning för: Vårdcentralen Ekdalen" in html
    assert can_act(world.session, covering_nurse, case)  # the queue's role at the covering unit

    # The next day Ekdalen serves its own residents again: the case leaves Havsbris's list.
    clock.set(_at(9, 0, TUESDAY + timedelta(days=1)))
    assert open_tasks_for(world.session, world.actor("ha_nurse")) == []
    assert "Anna Andersson" not in pages.sign_in("ha_nurse").text("/")


def test_OG_9_2_after_the_covering_unit_closes_a_case_is_referred_as_after_hours(
    world, clock, covered_tuesday
):
    clock.set(_at(16, 45))  # Havsbris closed at 16:30; Ekdalen's own hours do not apply today
    case = world.submit("adult", unit="og", high_fever=True)
    assert (case.state, case.referral) == (CaseState.REFERRED, "call_1177")


def test_OG_9_2_the_covering_units_control_tower_counts_and_lists_the_covered_units_cases(
    world, pages, clock, covered_tuesday
):
    og, ha = covered_tuesday
    clock.set(_at(10))
    case = world.submit("adult", unit="og", high_fever=True)
    overview = unit_overview(world.session, unit_id=ha.id)
    assert overview.total_open == 1
    [row] = ha_day_end_untreated(world.session, unit_id=ha.id, day=TUESDAY)
    assert (row.case_id, row.covered_unit) == (case.id, "Vårdcentralen Ekdalen")
    clock.advance(minutes=20)  # a priority-2 case nobody has acted on: the urgent check (OG-10.1-h)
    html = pages.sign_in("ha_head").text("/control-tower/checks/urgent")
    assert "Anna Andersson" in html and "Täckning för: Vårdcentralen Ekdalen" in html
