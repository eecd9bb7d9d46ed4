"""The control tower's checks, one per guideline rule (OG-10.1), over the care world."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.calendar import local_date
from app.cases import handling, shifts
from app.cases.chat import answer_consent, patient_write, phone_attempt, reopen, staff_write
from app.cases.models import Case, Consent
from app.casework import actions as casework
from app.control_tower import actions, checks
from app.errors import Forbidden
from app.instances.models import PendingTimer
from app.people.models import ScheduledShift
from app.people.roles import Role
from tests.control_tower.conftest import absent, on_duty, start, with_priority


def _ids(rows) -> set[int]:
    return {row.case_id for row in rows}


def test_OG_10_1_a_a_gap_in_the_duty_while_open_is_flagged_until_someone_takes_it(world, clock):
    unit = world.units["og"]
    now = checks.og_10_1_a_duty_now(world.session, unit_id=unit.id)
    assert now.open_now and now.holder is None and now.gap_now
    on_duty(world, "doctor")
    now = checks.og_10_1_a_duty_now(world.session, unit_id=unit.id)
    assert now.holder.name == "Doctor OG" and not now.gap_now
    clock.advance(hours=10)  # 19:00: closed, nobody needed
    world.session.expire_all()
    assert not checks.og_10_1_a_duty_now(
        world.session, unit_id=unit.id, at=clock.now() + timedelta(hours=1)
    ).gap_now


def test_HA_chat_staff_opening_hours_without_a_named_chat_responsible_are_listed(world, clock):
    unit = world.units["ha"]
    day = local_date(clock.now())
    assert (
        len(checks.ha_chat_staff_gaps(world.session, unit_id=unit.id, day=day)) == 2
    )  # morning and afternoon
    user, _unit = world.staff["ha_nurse"]
    opens = clock.now() - timedelta(hours=2)  # 07:00, before opening
    world.session.add(
        ScheduledShift(
            user_id=user.id,
            unit_id=unit.id,
            role=Role.NURSE,
            starts_at=opens,
            ends_at=opens + timedelta(hours=5),
            chat_responsible=True,
        )
    )
    world.session.commit()
    gaps = checks.ha_chat_staff_gaps(world.session, unit_id=unit.id, day=day)
    assert len(gaps) == 1 and gaps[0].starts_at.astimezone(clock.now().tzinfo).hour == 13


def test_OG_10_1_b_OG_6_1_j_a_case_owned_by_someone_not_present_is_listed_with_the_owner(world):
    unit = world.units["og"]
    case = world.submit("adult")
    start(world, case, "nurse")
    assert checks.og_10_1_b_absent_owner_cases(world.session, unit_id=unit.id) == []
    absent(world, "nurse")
    rows = checks.og_10_1_b_absent_owner_cases(world.session, unit_id=unit.id)
    assert (
        _ids(rows) == {case.id} and rows[0].detail == "Nurse OG" and rows[0].patient_name == "Anna Andersson"
    )


def test_OG_10_1_e_a_case_in_the_queue_of_a_role_nobody_present_holds_is_listed(world):
    unit = world.units["og"]
    case = world.submit("adult")
    assert checks.og_10_1_e_unheld_role_queue(world.session, unit_id=unit.id) == []
    absent(world, "nurse")
    absent(world, "nurse2")
    rows = checks.og_10_1_e_unheld_role_queue(world.session, unit_id=unit.id)
    assert _ids(rows) == {case.id} and rows[0].role == Role.NURSE.value


def test_OG_10_1_f_a_case_handed_to_another_role_is_listed_until_someone_there_acts(world, engine):
    unit = world.units["og"]
    case = world.submit("adult")
    nurse = start(world, case, "nurse")
    assert checks.og_10_1_f_handed_over_not_taken(world.session, unit_id=unit.id) == []
    handling.hand_over(world.session, engine, actor=nurse, case_id=case.id, role=Role.DOCTOR.value)
    world.session.commit()
    rows = checks.og_10_1_f_handed_over_not_taken(world.session, unit_id=unit.id)
    assert _ids(rows) == {case.id} and rows[0].detail == "consent"  # waiting for the patient's consent
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    answer_consent(world.session, engine, actor=world.resident("adult"), consent_id=consent.id, given=True)
    world.session.commit()
    clock_rows = checks.og_10_1_f_handed_over_not_taken(world.session, unit_id=unit.id)
    assert (
        _ids(clock_rows) == {case.id} and clock_rows[0].detail == Role.DOCTOR.value
    )  # in the doctors' queue, untaken
    staff_write(
        world.session, actor=world.actor("doctor"), case_id=case.id, body="Hej, jag är läkare och tar över."
    )
    world.session.commit()
    assert checks.og_10_1_f_handed_over_not_taken(world.session, unit_id=unit.id) == []


def test_OG_10_1_f_a_colleague_changing_the_priority_of_a_handed_over_case_has_not_taken_it(world, engine):
    """Only an action towards the patient takes a handed-over case: a doctor's priority change is not one."""
    unit = world.units["og"]
    case = world.submit("adult")
    nurse = start(world, case, "nurse")
    handling.hand_over(world.session, engine, actor=nurse, case_id=case.id, role=Role.DOCTOR.value)
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    answer_consent(world.session, engine, actor=world.resident("adult"), consent_id=consent.id, given=True)
    world.session.commit()
    doctor = world.actor("doctor")
    casework.change_priority(
        world.session, actor=doctor, case_id=case.id, priority=2, reason="Hög feber", expected_version=None
    )
    world.session.commit()
    assert _ids(checks.og_10_1_f_handed_over_not_taken(world.session, unit_id=unit.id)) == {case.id}
    phone_attempt(world.session, actor=doctor, case_id=case.id, reached=False)
    world.session.commit()
    assert checks.og_10_1_f_handed_over_not_taken(world.session, unit_id=unit.id) == []


def test_OG_10_1_h_an_urgent_case_without_staff_action_past_the_units_minutes_is_listed(world, clock):
    unit = world.units["og"]
    urgent = with_priority(world, world.submit("adult"), 2)
    calm = with_priority(world, world.submit("other"), 4)
    assert checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id) == []
    clock.advance(minutes=checks.URGENT_MINUTES_DEFAULT + 1)
    rows = checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id)
    assert _ids(rows) == {urgent.id} and calm.id not in _ids(rows)
    unit.settings = {**unit.settings, checks.URGENT_MINUTES_SETTING: 60}  # the unit sets its own minutes
    world.session.commit()
    assert checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id) == []
    unit.settings = {**unit.settings, checks.URGENT_MINUTES_SETTING: 5}
    world.session.commit()
    handling.receive(world.session, world.engine, actor=world.actor("nurse"), case_id=urgent.id)
    world.session.commit()
    assert checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id) == []


def test_OG_10_1_h_OG_6_1_i_an_urgent_case_stays_listed_when_its_owner_ends_her_shift(world, clock):
    """Moving the case to the role queue at the end of a shift is no action towards the patient, who still
    waits for an answer; a colleague's message to the patient is one."""
    unit = world.units["og"]
    urgent = with_priority(world, world.submit("adult"), 2)
    nurse = start(world, urgent, "nurse")
    clock.advance(minutes=1)
    patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=urgent.id, body="Febern är kvar."
    )
    world.session.commit()
    clock.advance(minutes=checks.URGENT_MINUTES_DEFAULT + 1)
    assert _ids(checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id)) == {urgent.id}
    assert shifts.end_shift(world.session, actor=nurse, confirmed=True) == [urgent.id]
    world.session.commit()
    assert _ids(checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id)) == {urgent.id}
    staff_write(
        world.session, actor=world.actor("nurse2"), case_id=urgent.id, body="Jag tar över. Hur hög är febern?"
    )
    world.session.commit()
    assert checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id) == []


def test_OG_10_1_h_OG_9_1_the_high_load_message_sent_as_the_unit_is_no_action_on_an_urgent_case(world, clock):
    """The high-load phrase goes to every waiting patient as the unit: the urgent case is still unanswered."""
    unit = world.units["og"]
    urgent = with_priority(world, world.submit("adult"), 1)
    holder = on_duty(world, "nurse2")
    clock.advance(minutes=checks.URGENT_MINUTES_DEFAULT + 1)
    assert actions.tell_high_load(world.session, actor=holder) == 1
    world.session.commit()
    assert _ids(checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id)) == {urgent.id}


def test_OG_10_1_h_OG_6_1_h_a_phone_attempt_is_an_action_towards_the_patient_even_unanswered(world, clock):
    unit = world.units["og"]
    urgent = with_priority(world, world.submit("adult"), 2)
    nurse = start(world, urgent, "nurse")
    clock.advance(minutes=1)
    patient_write(world.session, world.engine, actor=world.resident("adult"), case_id=urgent.id, body="Hej.")
    world.session.commit()
    clock.advance(minutes=checks.URGENT_MINUTES_DEFAULT + 1)
    assert _ids(checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id)) == {urgent.id}
    phone_attempt(world.session, actor=nurse, case_id=urgent.id, reached=False)
    world.session.commit()
    assert checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id) == []


def test_OG_10_1_h_OG_6_5_a_reopened_urgent_case_waits_again_from_its_reopening(world, clock):
    """The patient reopens a closed priority-2 case (OG-6.5): it is back in the queue, unanswered, and the
    first handling of the case before closing is no action on the reopened one."""
    unit = world.units["og"]
    urgent = with_priority(world, world.submit("adult"), 2)
    nurse = start(world, urgent, "nurse")
    clock.advance(minutes=1)
    patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=urgent.id, body="Bättre nu."
    )
    handling.close(
        world.session,
        world.engine,
        actor=nurse,
        case_id=urgent.id,
        concluded_in_dialogue=True,
        confirmed=True,
    )
    world.session.commit()
    clock.advance(hours=2)
    reopen(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=urgent.id,
        search_reason=urgent.search_reason,
    )
    world.session.commit()
    assert checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id) == []
    clock.advance(minutes=checks.URGENT_MINUTES_DEFAULT + 1)
    assert _ids(checks.og_10_1_h_urgent_without_action(world.session, unit_id=unit.id)) == {urgent.id}


def test_OG_10_1_b_a_started_case_is_listed_as_closable_once_the_closing_rules_allow_it(world, clock):
    unit = world.units["og"]
    case = world.submit("adult")
    nurse = start(world, case, "nurse")
    staff_write(world.session, actor=nurse, case_id=case.id, body="Hur mår du idag?")
    world.session.commit()
    assert checks.closable_now(world.session, unit_id=unit.id) == []
    clock.advance(hours=2, minutes=5)
    staff_write(world.session, actor=nurse, case_id=case.id, body="Hör av dig om du vill ha mer hjälp.")
    world.session.commit()
    assert checks.closable_now(world.session, unit_id=unit.id) == []  # six working hours not yet gone
    clock.advance(hours=4)
    assert _ids(checks.closable_now(world.session, unit_id=unit.id)) == {case.id}


def test_OG_10_1_b_a_case_whose_routine_timer_is_due_and_unfired_is_listed_as_past_deadline(
    world, engine, clock
):
    unit = world.units["og"]
    case = world.submit("adult")
    nurse = start(world, case, "nurse")
    handling.hand_over(
        world.session, engine, actor=nurse, case_id=case.id, role=Role.DOCTOR.value
    )  # consent asked: one day to answer
    world.session.commit()
    timer = world.session.scalar(select(PendingTimer).order_by(PendingTimer.due_at))
    assert checks.past_deadline(world.session, unit_id=unit.id) == []
    clock.set(timer.due_at + timedelta(minutes=5))  # no timer worker ran: the routine is late
    rows = checks.past_deadline(world.session, unit_id=unit.id)
    assert _ids(rows) == {case.id} and rows[0].detail == timer.due_at.isoformat()


def test_HA_day_end_todays_untreated_cases_are_listed_by_the_days_filter(world, clock):
    unit = world.units["og"]
    case = world.submit("adult")
    today = local_date(clock.now())
    assert _ids(checks.ha_day_end_untreated(world.session, unit_id=unit.id, day=today)) == {case.id}
    assert checks.ha_day_end_untreated(world.session, unit_id=unit.id, day=today - timedelta(days=1)) == []
    assert (
        checks.og_10_1_e_unheld_role_queue(world.session, unit_id=unit.id, day=today - timedelta(days=1))
        == []
    )
    start(world, case, "nurse")
    assert checks.ha_day_end_untreated(world.session, unit_id=unit.id, day=today) == []


def test_OG_9_1_OG_10_1_d_waiting_patients_above_the_units_limit_per_present_clinician_is_high_load(world):
    unit = world.units["og"]
    world.submit("adult")
    world.submit("other")
    load = checks.og_9_1_load(world.session, unit_id=unit.id)
    assert load.waiting == 2 and load.clinicians_present == 5 and not load.high
    unit.settings = {**unit.settings, checks.HIGH_LOAD_SETTING: 0}
    world.session.commit()
    assert checks.og_9_1_load(world.session, unit_id=unit.id).high


def test_OG_6_1_j_the_overall_responsible_moves_a_case_from_an_absent_owner_audited(world):
    case = world.submit("adult")
    start(world, case, "nurse")
    absent(world, "nurse")
    holder = on_duty(world, "nurse2")
    actions.move_to_role_queue(world.session, actor=holder, case_id=case.id)
    world.session.commit()
    world.session.expire_all()
    assert world.session.get(Case, case.id).owner_user_id is None
    event = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "case:moved_to_role_queue"))
    assert event.actor_user_id == holder.user_id and event.subject_id == str(case.id)


@pytest.mark.parametrize("who", ["head", "doctor"])
def test_OG_10_1_j_only_the_overall_responsible_moves_cases_and_tells_of_high_load(world, who):
    case = world.submit("adult")
    start(world, case, "nurse")
    absent(world, "nurse")
    on_duty(world, "nurse2")
    with pytest.raises(Forbidden):
        actions.move_to_role_queue(world.session, actor=world.actor(who), case_id=case.id)
    world.session.rollback()
    with pytest.raises(Forbidden):
        actions.tell_high_load(world.session, actor=world.actor(who))


def test_OG_9_1_the_overall_responsible_tells_waiting_patients_of_high_load_once_a_day(world):
    world.submit("adult")
    world.submit("other")
    holder = on_duty(world, "nurse2")
    assert actions.tell_high_load(world.session, actor=holder) == 2
    world.session.commit()
    assert checks.og_9_1_load(world.session, unit_id=world.units["og"].id).told_today == 2
    assert actions.tell_high_load(world.session, actor=holder) == 0


def test_HA_chat_staff_the_tower_shows_a_gap_later_in_the_week_not_only_today(world, clock, pages):
    """The schedule warned about a gap on Tuesday while the tower said the opening hours were covered:
    it looked at today only. It now covers the days the schedule warnings cover."""
    unit = world.units["ha"]
    day = local_date(clock.now())
    for offset in range(7):  # every opening hour of the coming week covered ...
        opens = datetime.combine(day + timedelta(days=offset), time(0), tzinfo=clock.now().tzinfo)
        user, _unit = world.staff["ha_nurse"]
        world.session.add(
            ScheduledShift(
                user_id=user.id,
                unit_id=unit.id,
                role=Role.NURSE,
                starts_at=opens,
                ends_at=opens + timedelta(hours=23, minutes=59),
                chat_responsible=True,
            )
        )
    world.session.commit()
    pages.sign_in("ha_head")
    assert "Hela öppettiden i dag och den kommande veckan har en schemalagd chattansvarig." in pages.text(
        "/control-tower"
    )
    tomorrow = world.session.scalars(
        select(ScheduledShift).where(ScheduledShift.unit_id == unit.id).order_by(ScheduledShift.starts_at)
    ).all()[1]
    tomorrow.ends_at = tomorrow.starts_at + timedelta(hours=12)  # ... but tomorrow afternoon
    world.session.commit()
    page = pages.text("/control-tower")
    assert (
        f"{(day + timedelta(days=1)).isoformat()} 13:00–16:30" in page  # after lunch, to closing
        and "har en schemalagd chattansvarig" not in page
    )
