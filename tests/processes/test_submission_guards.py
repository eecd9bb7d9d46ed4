"""Who may be handled (section E) and the unit's functions: every refusal with its reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.cases import chat
from app.cases.models import CaseKind, CaseState
from app.cases.permissions import can_read
from app.errors import Forbidden, GuardRefused

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_OG_6_4_a_no_case_for_a_child_under_one_year(world):
    with pytest.raises(GuardRefused) as refused:
        world.submit("infant", by="guardian")
    assert refused.value.rule == "OG-6.4-a" and "under 1 år" in refused.value.message


def test_OG_6_4_b_a_guardian_acts_for_a_child_under_13_not_for_a_child_of_13_or_more(world):
    case = world.submit("child", by="guardian")
    assert case.state == CaseState.NEW and case.submitted_by_id == world.patients["guardian"].id
    with pytest.raises(GuardRefused) as refused:
        world.submit("teen", by="guardian")
    assert refused.value.rule == "OG-6.4-b"
    own = world.submit("teen")  # from 13 the child represents themself
    assert own.patient_id == world.patients["teen"].id


def test_OG_6_4_b_the_birthday_counts_on_the_stockholm_date_and_29_february(world, clock):
    """The age is judged on the Stockholm date of the submission (23:30 UTC is already the next day there),
    the birthday itself counts, and a child born on 29 February turns 13 on 1 March in a common year."""
    child = world.patients["child"]
    child.birth_date = date(2014, 2, 28)
    world.session.commit()
    clock.set(datetime(2027, 2, 27, 23, 30, tzinfo=ZoneInfo("UTC")))  # 28 Feb 00:30 in Stockholm: 13 today
    with pytest.raises(GuardRefused):
        world.submit("child", by="guardian")
    world.session.rollback()
    child.birth_date = date(2016, 2, 29)
    world.session.commit()
    clock.set(datetime(2029, 2, 28, 12, 0, tzinfo=STOCKHOLM))  # leap-day child: 13 only on 1 March 2029
    assert world.submit("child", by="guardian").state in (CaseState.NEW, CaseState.REFERRED)
    clock.set(datetime(2029, 3, 1, 12, 0, tzinfo=STOCKHOLM))
    with pytest.raises(GuardRefused):
        world.submit("child", by="guardian")


def test_OG_6_4_b_a_child_who_turns_13_mid_case_represents_themself_from_the_birthday(world, clock):
    """The guardian who started the case reads and answers it until the 13th birthday, then no longer."""
    child = world.patients["child"]
    today = clock.now().astimezone(STOCKHOLM).date()
    child.birth_date = today.replace(year=today.year - 13) + timedelta(days=2)
    world.session.commit()
    case = world.submit("child", by="guardian")
    guardian = world.resident("guardian")
    assert can_read(world.session, guardian, case)
    clock.advance(days=2)
    assert not can_read(world.session, guardian, case)
    assert can_read(world.session, world.resident("child"), case)
    with pytest.raises(Forbidden) as refused:
        chat.patient_write(world.session, world.engine, actor=guardian, case_id=case.id, body="Hej")
    # The guardian is told why, with the rule; a stranger only that the case is not theirs.
    assert refused.value.details["rule"] == "OG-6.4-b" and "fyllt 13" in refused.value.message
    with pytest.raises(Forbidden) as stranger:
        chat.patient_write(
            world.session, world.engine, actor=world.resident("other"), case_id=case.id, body="Hej"
        )
    assert "rule" not in stranger.value.details


def test_HA_behalf_the_platform_only_takes_cases_for_yourself_or_your_own_child(world):
    with pytest.raises(Forbidden):
        world.submit("other", by="adult")


def test_HA_functions_a_unit_takes_only_the_kinds_of_case_it_has_enabled(world):
    unit = world.units["og"]
    unit.functions = ["chat_triage"]
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        world.submit("adult", kind=CaseKind.ADMIN)
    assert refused.value.rule == "HA-functions"
    assert world.submit("adult").kind == CaseKind.SOK_VARD


def test_OG_7_d_administrative_cases_never_carry_a_priority(world):
    from app.cases.guards import check_priority

    case = world.submit("adult", kind=CaseKind.ADMIN)
    assert case.priority is None and case.triage_priority is None
    with pytest.raises(GuardRefused) as refused:
        check_priority("admin", 3)
    assert refused.value.rule == "OG-7-d"


def test_HA_chat_open_residents_can_submit_at_any_hour_all_year(world, clock):
    """The chat takes cases around the clock: at 03:00 on Christmas Day a case is either referred or queued, never refused."""
    clock.set(datetime(2026, 12, 25, 3, 0, tzinfo=STOCKHOLM))
    case = world.submit("adult", unit="ha", send_anyway=True)
    assert case.state == CaseState.NEW
    assert world.titles(case) == ["Ta emot ärendet"]


def test_the_same_submission_sent_twice_makes_one_case_and_nobody_else_can_use_its_key(world):
    """A double click or a retried request carries the form's submission key: the case it made is returned."""
    from sqlalchemy import func, select

    from app.cases.models import Case
    from app.errors import Conflict

    key = "k" * 32
    first = world.submit("adult", submission_key=key)
    again = world.submit("adult", submission_key=key)
    assert again.id == first.id
    assert world.session.scalar(select(func.count()).select_from(Case)) == 1
    with pytest.raises(Conflict):
        world.submit("other", submission_key=key)  # another resident's submission cannot reach that case
    world.session.rollback()
    assert world.submit("adult", submission_key="m" * 32).id != first.id  # a new form, a new case


def test_OG_6_4_b_a_submission_sent_again_after_the_child_turned_13_does_not_show_the_guardian_the_case(
    world, clock
):
    """A retried submission returns the case it made only to someone who may still read it: the
    guardian's retry after the child's 13th birthday is refused, not answered with the child's case."""
    child = world.patients["child"]
    today = clock.now().astimezone(STOCKHOLM).date()
    child.birth_date = today.replace(year=today.year - 13) + timedelta(days=1)
    key = "g" * 32
    first = world.submit("child", by="guardian", submission_key=key)
    assert world.submit("child", by="guardian", submission_key=key).id == first.id  # still 12: the same case
    clock.advance(days=2)
    with pytest.raises(Forbidden):
        world.submit("child", by="guardian", submission_key=key)
