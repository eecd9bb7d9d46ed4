"""The patient list and the inbox show the unit's patients, so only the roles that may read its cases get
them: a local system administrator or a process owner acting for the unit is refused (403, audited), as
on the case page itself, and starts in their own area instead."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from app import clock
from app.cases.ack import acknowledge, inbox
from app.cases.models import AckItem, AckKind
from app.errors import Forbidden
from app.people.roles import Role
from app.worklist.filters import ListFilter
from app.worklist.queries import patient_list
from app.worklist.staff_queries import inbox_rows
from tests.worklist.conftest import access_rows, join_unit, refusals, start

NOT_READERS = [(Role.LOCAL_SYSADMIN, "/admin"), (Role.PROCESS_OWNER, "/process-models")]
TODAY = "2026-11-23"  # the test clock's date


def _case_with_an_item_for_the_unit(world):
    """Anna Andersson's ongoing case and an inbox item addressed to anyone of the unit."""
    case = world.submit("adult")
    start(world, case)
    item = AckItem(
        unit_id=case.unit_id,
        case_id=case.id,
        kind=AckKind.ANSWER_AFTER_CLOSE,
        summary="Patienten har svarat efter att ärendet stängdes.",
        created_at=clock.now(),
    )
    world.session.add(item)
    world.session.commit()
    return case, item


@pytest.mark.parametrize(("role", "home"), NOT_READERS, ids=["sysadmin", "process_owner"])
def test_a_role_that_may_not_read_cases_is_refused_the_whole_units_list_and_the_days_list(
    world, pages, role, home
):
    _case_with_an_item_for_the_unit(world)
    user = join_unit(world, "outsider", role)
    pages.sign_in("outsider")
    for path in ("/?scope=unit", f"/?date={TODAY}", "/?scope=roles", "/?fragment=live&scope=unit"):
        response = pages.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 403, path
        assert "Anna Andersson" not in body and "Ont i halsen" not in body and "1992" not in body, path
    assert [(who, kind, path) for who, kind, _id, path in refusals(world.session)] == [
        (user.id, "unit", "/")
    ] * 4
    assert access_rows(world.session, "worklist:list") == []  # nothing was shown, so nothing to log


@pytest.mark.parametrize(("role", "home"), NOT_READERS, ids=["sysadmin", "process_owner"])
def test_a_role_that_may_not_read_cases_is_refused_the_inbox_and_cannot_acknowledge_its_items(
    world, pages, role, home
):
    _case, item = _case_with_an_item_for_the_unit(world)
    user = join_unit(world, "outsider", role)
    pages.sign_in("outsider")
    listing = pages.get("/inbox")
    assert listing.status_code == 403 and "Anna Andersson" not in listing.get_data(as_text=True)
    signed = pages.post(f"/inbox/{item.id}/acknowledge")
    assert signed.status_code == 403 and "Anna Andersson" not in signed.get_data(as_text=True)
    world.session.expire_all()
    assert world.session.get(AckItem, item.id).acknowledged_at is None
    assert [(who, kind, path) for who, kind, _id, path in refusals(world.session)] == [
        (user.id, "unit", "/inbox"),
        (user.id, "ack_item", f"/inbox/{item.id}/acknowledge"),
    ]
    assert access_rows(world.session, "inbox:list") == []


@pytest.mark.parametrize(("role", "home"), NOT_READERS, ids=["sysadmin", "process_owner"])
def test_a_role_without_the_patient_list_lands_in_its_own_area_and_is_not_offered_the_list_or_the_inbox(
    world, pages, role, home
):
    join_unit(world, "outsider", role)
    pages.sign_in("outsider")
    landing = pages.get("/")  # where signing in and the "Vårdflöde" link lead
    assert landing.status_code == 302 and landing.headers["Location"] == home
    html = pages.text("/shift/end")  # every staff member may end a shift; its page has the worklist menu
    assert 'href="/inbox"' not in html and ">Patientliggaren<" not in html
    assert refusals(world.session) == []


@pytest.mark.parametrize("role", [Role.LOCAL_SYSADMIN, Role.PROCESS_OWNER, Role.DEVIATION_COORDINATOR])
def test_the_list_and_inbox_services_refuse_a_role_that_may_not_read_cases(world, role):
    _case, item = _case_with_an_item_for_the_unit(world)
    outsider = replace(world.actor("nurse"), roles=frozenset({str(role)}))
    for read in (
        lambda: patient_list(world.session, actor=outsider, view=ListFilter(scope="unit")),
        lambda: patient_list(world.session, actor=outsider, view=ListFilter()),
        lambda: inbox(world.session, actor=outsider),
        lambda: inbox_rows(world.session, actor=outsider),
        lambda: acknowledge(world.session, actor=outsider, item_id=item.id),
    ):
        with pytest.raises(Forbidden):
            read()
    world.session.rollback()
    assert world.session.scalar(select(AckItem.acknowledged_at).where(AckItem.id == item.id)) is None


@pytest.mark.parametrize("key", ["nurse", "doctor", "medadmin", "head"])
def test_care_staff_and_the_head_of_unit_still_see_the_whole_unit_the_day_and_the_inbox(world, pages, key):
    case, item = _case_with_an_item_for_the_unit(world)
    pages.sign_in(key)
    for path in ("/?scope=unit", f"/?date={TODAY}", "/inbox"):
        assert "Anna Andersson" in pages.text(path), path
    assert 'href="/inbox"' in pages.text("/shift/end")
    response = pages.post(f"/inbox/{item.id}/acknowledge")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    assert refusals(world.session) == []
    user, _unit = world.staff[key]
    assert (user.id, {case.patient_id}) in access_rows(world.session, "worklist:list")
