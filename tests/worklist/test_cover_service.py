"""OG-9.2: on a day another unit keeps the service open for a unit, the routines treat the covered unit
as open while the covering unit is, and the covering unit's staff see the covered unit's cases in their
patient list and their control tower, labelled with the unit."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.audit.service import Actor
from app.calendar.zone import STOCKHOLM
from app.cases import chat, handling, shifts
from app.cases.models import CaseState
from app.cases.permissions import can_act
from app.control_tower.checks import ha_day_end_untreated
from app.control_tower.queries import region_overview, unit_overview
from app.errors import Forbidden
from app.instances.expressions import expression_session, is_open
from app.people.calendars import served_unit_ids, set_exception
from app.people.service import sign_out, take_duty
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


def test_OG_9_2_the_region_view_counts_a_covered_units_cases_once_in_the_covering_units_row(
    world, pages, clock, covered_tuesday
):
    """On a covered day the region view counts each case in the row of the unit whose staff handle it
    (OG-9.2): the covering unit's row has the covered unit's case, absent owner included; the covered
    unit's row only says who covers it (the same case counted in both rows read as two cases)."""
    og, ha = covered_tuesday
    clock.set(_at(10))
    case = world.submit("adult", unit="og", high_fever=True)
    world.received_and_started(case, who="ha_nurse")
    sign_out(world.session, actor=world.actor("ha_nurse"))  # still owns the case, no longer present
    world.session.commit()

    rows = {
        row.name: row
        for region_id in (og.region_id, ha.region_id)
        for row in region_overview(world.session, region_id=region_id)
    }
    covered, covering = rows["Vårdcentralen Ekdalen"], rows["Vårdcentralen Havsbris"]
    assert covered.covered_by == "Vårdcentralen Havsbris"
    assert (covered.open_cases, covered.urgent, covered.absent_owner, covered.unheld_role) == (0, 0, 0, 0)
    assert (covering.open_cases, covering.urgent, covering.absent_owner) == (1, 1, 1)
    assert covering.covered_by is None
    page = pages.sign_in("head").text("/control-tower/region")
    assert "Täcks i dag av Vårdcentralen Havsbris: ärendena räknas på den enheten." in page

    clock.set(_at(10, day=TUESDAY + timedelta(days=1)))  # Wednesday: Ekdalen serves its own cases again
    rows = {row.name: row for row in region_overview(world.session, region_id=og.region_id)}
    assert (rows["Vårdcentralen Ekdalen"].covered_by, rows["Vårdcentralen Ekdalen"].open_cases) == (None, 1)


def test_OG_9_2_the_covering_nurse_receives_starts_and_closes_a_covered_units_case(
    world, clock, covered_tuesday
):
    """The covering unit's staff handle the covered unit's cases (OG-9.2): its routine tasks, not only
    its chat; a nurse of a third unit may not."""
    og, ha = covered_tuesday
    clock.set(_at(10))
    case = world.submit("adult", unit="og", high_fever=True)
    nurse = world.received_and_started(case, who="ha_nurse")  # 'Ta emot' and 'Starta': routine tasks
    assert (case.state, case.owner_user_id) == (CaseState.STARTED, nurse.user_id)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack!"
    )
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED

    clock.set(_at(10, day=TUESDAY + timedelta(days=1)))  # the cover was for Tuesday only
    later = world.submit("other", unit="og")
    with pytest.raises(Forbidden):
        world.received_and_started(later, who="ha_nurse")


def test_OG_9_2_OG_6_1_i_ending_the_shift_moves_the_covered_cases_too(world, clock, covered_tuesday):
    og, ha = covered_tuesday
    clock.set(_at(10))
    case = world.submit("adult", unit="og", high_fever=True)
    nurse = world.received_and_started(case, who="ha_nurse")
    assert [c.case_id for c in shifts.my_ongoing_cases(world.session, actor=nurse)] == [case.id]
    assert shifts.end_shift(world.session, actor=nurse, confirmed=True) == [case.id]
    world.session.commit()
    assert case.owner_user_id is None  # in the role's queue, not left on someone gone home


def test_OG_9_2_OG_6_1_j_the_covering_duty_holder_moves_a_covered_case_off_an_absent_owner(
    world, clock, covered_tuesday
):
    og, ha = covered_tuesday
    clock.set(_at(10))
    case = world.submit("adult", unit="og", high_fever=True)
    world.back_at_work("ha_nurse", "ha_nurse2")
    world.received_and_started(case, who="ha_nurse")
    assert shifts.absent_owner_cases(world.session, unit_id=ha.id) == []  # at work at the covering unit
    sign_out(world.session, actor=world.actor("ha_nurse"))
    take_duty(world.session, actor=world.actor("ha_nurse2"))
    world.session.commit()
    assert [c.case_id for c in shifts.absent_owner_cases(world.session, unit_id=ha.id)] == [case.id]
    shifts.move_to_role_queue(world.session, actor=world.actor("ha_nurse2"), case_id=case.id)
    world.session.commit()
    assert case.owner_user_id is None
