"""Presence expires after a silent disconnect: absent owners, the suicide-risk assessor search and the
new-case SMS all see the same answer (OG-6.1-j, HA-suicide-b, HA-suicide-g, OG-8.7)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import handling, shifts
from app.notifications.models import Notification
from app.people.service import mark_idle, present, take_duty


def test_OG_6_1_j_a_case_left_by_a_silent_disconnect_is_listed_and_moved_to_the_role_queue(world, clock):
    """The nurse closed the browser three days ago without logging out or ending her shift: the overall
    responsible sees her case among the absent owners' and may move it to the role queue."""
    case = world.submit("adult")
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    clock.advance(days=3)
    world.back_at_work("nurse2")
    assert not present(world.session, nurse.user_id, case.unit_id)
    absent = shifts.absent_owner_cases(world.session, unit_id=case.unit_id)
    assert [(a.case_id, a.owner_user_id) for a in absent] == [(case.id, nurse.user_id)]
    take_duty(world.session, actor=world.actor("nurse2"))
    shifts.move_to_role_queue(world.session, actor=world.actor("nurse2"), case_id=case.id)
    world.session.commit()
    assert case.owner_user_id is None
    moved = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "case:moved_to_role_queue"))
    assert moved.details["previous_owner"] == nurse.user_id


def test_HA_suicide_b_HA_suicide_g_a_psychologist_and_doctor_gone_silent_do_not_count_the_case_escalates(
    world, clock
):
    """The psychologist and the doctor went home hours ago without logging out: nobody is there to assess,
    so the case escalates to the overall responsible and the on-call service instead of an unwatched queue."""
    clock.advance(hours=3)
    world.back_at_work("nurse", "nurse2")
    take_duty(world.session, actor=world.actor("nurse2"))
    world.session.commit()
    case = world.submit("adult", reason="nedstamdhet")
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(world.session, world.engine, actor=nurse, case_id=case.id, first_message="Hej!")
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    escalated = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "suicide_risk:escalated"))
    assert escalated is not None and escalated.details["owner_user_id"] == world.actor("nurse2").user_id
    assert (
        world.session.scalar(select(AuditEvent).where(AuditEvent.action == "suicide_risk:assessor_found"))
        is None
    )


def test_OG_8_7_no_new_case_sms_to_staff_who_went_home_without_logging_out(world, clock):
    clock.advance(hours=3)
    nurse2 = world.actor("nurse2")
    mark_idle(world.session, actor=nurse2, idle=False)  # activity: the only nurse still at work
    world.session.commit()
    case = world.submit("adult")
    staff_sms = world.session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.user_id.is_not(None))
    ).all()
    assert {n.user_id for n in staff_sms} == {nurse2.user_id}
