"""GET /resident/cases: the guardianship age rule decides in the query, and pages follow a keyset cursor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.api.queries import guardianship_cutoff
from app.cases.guards import guardian_may_act
from tests import factories as f
from tests.api.conftest import documented

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _cases(
    world, who: str, count: int, *, start: datetime, step: timedelta = timedelta(minutes=1)
) -> list[int]:
    unit, patient = world.units["og"], world.patients[who]
    ids = [f.case(world.session, unit, patient, submitted_at=start + n * step).id for n in range(count)]
    world.session.commit()
    return ids


def test_OG_6_4_b_a_guardian_sees_a_young_childs_case_behind_100_of_a_13_year_olds(api, world, clock):
    older = clock.now() - timedelta(days=30)
    [own] = _cases(world, "guardian", 1, start=older)
    [childs] = _cases(world, "child", 1, start=older + timedelta(minutes=1))
    _cases(world, "teen", 100, start=older + timedelta(days=1))  # newer, and no longer the guardian's to see
    page = documented(api.get("/resident/cases", "guardian"), "/resident/cases")
    assert [c["id"] for c in page["items"]] == [childs, own]
    assert page["next_cursor"] is None


def test_resident_cases_are_paged_newest_first_with_a_keyset_cursor(api, world, clock):
    start = clock.now() - timedelta(days=2)
    same_moment = _cases(world, "adult", 3, start=start, step=timedelta(0))  # ties broken by id
    later = _cases(world, "adult", 2, start=start + timedelta(hours=1))
    expected = list(reversed(same_moment + later))
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = documented(api.get("/resident/cases", "adult", query_string=query), "/resident/cases")
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        _cases(world, "adult", 1, start=clock.now())  # a case submitted meanwhile does not shift the pages
    assert seen == expected and pages == 3


def test_a_malformed_cursor_is_refused(api, world):
    response = api.get("/resident/cases", "adult", query_string={"cursor": "'; drop table care_case"})
    problem = documented(response, "/resident/cases")
    assert (response.status_code, problem["code"]) == (422, "validation_failed")


def test_OG_6_4_b_the_sql_cutoff_agrees_with_guardian_may_act_around_29_february():
    births = [date(2012, 2, 28), date(2012, 2, 29), date(2012, 3, 1), date(2015, 2, 28), date(2015, 3, 1)]
    days = [date(2025, 2, 27) + timedelta(days=n) for n in range(4)]
    days += [date(2028, 2, 27) + timedelta(days=n) for n in range(4)]
    for today in days:
        moment = datetime.combine(today, datetime.min.time(), STOCKHOLM).replace(hour=0, minute=30)
        for born in births:
            assert (born > guardianship_cutoff(today)) == guardian_may_act(birth_date=born, at=moment), (
                today,
                born,
            )
