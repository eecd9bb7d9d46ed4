"""Presence (shift, login, logout, idle) and the overall-responsible duty (OG-10.1-a)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import Conflict, Forbidden, GuardRefused
from app.people import service as people
from app.people.models import OverallResponsibleDuty
from app.people.roles import Role
from tests import factories as f


@pytest.fixture
def unit(session):
    u = f.unit(session)
    session.commit()
    return u


def test_present_needs_an_open_shift_and_a_signed_in_session(session, unit, clock):
    nurse = f.user(session, unit, Role.NURSE)
    before = clock.now()
    assert not people.present(session, nurse.id, unit.id)
    actor = f.signed_in(session, nurse, unit)
    clock.advance(minutes=1)
    assert people.present(session, nurse.id, unit.id)
    people.mark_idle(session, actor=actor, idle=True)
    clock.advance(minutes=1)
    assert people.present(session, nurse.id, unit.id), "idle is still at work"
    people.sign_out(session, actor=actor)
    clock.advance(minutes=1)
    assert not people.present(session, nurse.id, unit.id), "logged out"
    # Presence is answerable for any past moment too.
    assert people.present(session, nurse.id, unit.id, at=before + timedelta(seconds=30))
    assert not people.present(session, nurse.id, unit.id, at=before - timedelta(seconds=1))


def test_ending_the_shift_ends_presence_even_if_the_session_lingers(session, unit, clock):
    """ "Avsluta skift" ends the shift: the person is no longer present, and presence is per unit."""
    nurse = f.user(session, unit, Role.NURSE)
    other = f.unit(session, "Vårdcentralen Annan")
    actor = f.signed_in(session, nurse, unit)
    clock.advance(minutes=5)
    people.end_shift(session, actor=actor)
    clock.advance(minutes=1)
    assert not people.present(session, nurse.id, unit.id)
    assert not people.present(session, nurse.id, other.id)
    assert [u.id for u in people.present_users(session, unit.id)] == []
    assert "shift:ended" in {e.action for e in session.scalars(select(AuditEvent))}


def test_present_users_lists_everyone_on_shift(session, unit, clock):
    a, b, c = (f.user(session, unit, Role.NURSE) for _ in range(3))
    f.signed_in(session, a, unit)
    f.signed_in(session, b, unit)
    clock.advance(minutes=1)
    assert {u.id for u in people.present_users(session, unit.id)} == {a.id, b.id}
    assert c.id not in {u.id for u in people.present_users(session, unit.id)}


def test_OG_10_1_a_one_clinician_on_shift_holds_the_duty_and_who_holds_it_is_always_answerable(
    session, unit, clock
):
    nurse = f.user(session, unit, Role.NURSE)
    doctor = f.user(session, unit, Role.DOCTOR)
    admin = f.user(session, unit, Role.MEDICAL_ADMIN)
    nurse_actor = f.signed_in(session, nurse, unit)
    f.signed_in(session, doctor, unit)
    admin_actor = f.signed_in(session, admin, unit)
    clock.advance(minutes=1)
    assert people.duty_holder(session, unit.id) is None  # a gap, shown as such

    with pytest.raises(GuardRefused) as refused:
        people.take_duty(session, actor=admin_actor)
    assert refused.value.rule == "OG-10.1-a"

    people.take_duty(session, actor=nurse_actor)
    session.commit()
    taken_at = clock.now()
    assert people.duty_holder(session, unit.id).user_id == nurse.id
    doctor_actor = people.actor_for(session, doctor, unit.id)
    with pytest.raises(Conflict, match="pass it"):
        people.take_duty(session, actor=doctor_actor)
    session.rollback()

    clock.advance(hours=3)
    people.mark_idle(
        session, actor=doctor_actor, idle=False
    )  # still at work: presence expires without activity
    people.pass_duty(session, actor=people.actor_for(session, nurse, unit.id), to_user_id=doctor.id)
    session.commit()
    assert people.duty_holder(session, unit.id).user_id == doctor.id
    assert people.duty_holder(session, unit.id, at=taken_at + timedelta(hours=1)).user_id == nurse.id
    assert {"duty:taken", "duty:passed"} <= {e.action for e in session.scalars(select(AuditEvent))}
    assert (
        len(
            session.scalars(
                select(OverallResponsibleDuty).where(OverallResponsibleDuty.released_at.is_(None))
            ).all()
        )
        == 1
    )


def test_OG_10_1_a_only_the_holder_passes_the_duty_and_only_to_a_present_clinician(session, unit, clock):
    nurse, doctor, absent = (f.user(session, unit, role) for role in (Role.NURSE, Role.DOCTOR, Role.NURSE))
    nurse_actor = f.signed_in(session, nurse, unit)
    doctor_actor = f.signed_in(session, doctor, unit)
    clock.advance(minutes=1)
    people.take_duty(session, actor=nurse_actor)
    with pytest.raises(Forbidden):
        people.pass_duty(session, actor=doctor_actor, to_user_id=doctor.id)
    with pytest.raises(GuardRefused):
        people.pass_duty(session, actor=people.actor_for(session, nurse, unit.id), to_user_id=absent.id)


def test_OG_10_1_a_an_absent_holder_can_be_taken_over_and_ending_the_shift_releases_the_duty(
    session, unit, clock
):
    nurse, doctor = f.user(session, unit, Role.NURSE), f.user(session, unit, Role.DOCTOR)
    nurse_actor = f.signed_in(session, nurse, unit)
    clock.advance(minutes=1)
    people.take_duty(session, actor=people.actor_for(session, nurse, unit.id))
    clock.advance(minutes=1)
    people.sign_out(session, actor=nurse_actor)
    doctor_actor = f.signed_in(session, doctor, unit)
    clock.advance(minutes=1)
    people.take_duty(session, actor=doctor_actor)
    assert people.duty_holder(session, unit.id).user_id == doctor.id
    clock.advance(minutes=1)
    people.end_shift(session, actor=people.actor_for(session, doctor, unit.id))
    clock.advance(minutes=1)
    assert people.duty_holder(session, unit.id) is None


def test_a_user_with_several_units_acts_for_the_unit_chosen_at_login(session, unit):
    other = f.unit(session, "Rehab Linnea")
    user = f.user(session, unit, Role.NURSE)
    session.add_all([])
    from app.people.models import Membership

    session.add(
        Membership(
            user_id=user.id,
            unit_id=other.id,
            role=Role.PHYSIOTHERAPIST,
            valid_from=unit and user.created_at - timedelta(days=1),
        )
    )
    session.flush()
    assert {u.id for u in people.units_of(session, user.id)} == {unit.id, other.id}
    actor = f.signed_in(session, user, other)
    assert actor.unit_id == other.id and actor.roles == frozenset({Role.PHYSIOTHERAPIST.value})


def test_a_deactivated_user_cannot_sign_in(session, unit):
    user = f.user(session, unit, Role.NURSE)
    user.active = False
    with pytest.raises(Forbidden):
        people.sign_in(session, user=user, unit_id=unit.id)
