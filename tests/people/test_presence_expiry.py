"""Presence ends by itself when someone just goes: no sign of life within the session idle limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.audit.service import log_access
from app.people import service as people
from app.people.roles import Role
from tests import factories as f


@pytest.fixture
def unit(session):
    u = f.unit(session)
    session.commit()
    return u


def test_OG_8_7_OG_6_1_j_present_users_excludes_someone_silent_since_closing_the_browser(
    session, unit, clock
):
    """A nurse who closed the browser three days ago (no logout, no "Avsluta skift") is not present:
    she gets no new-case SMS (OG-8.7) and her cases count as left on an absent person (OG-6.1-j)."""
    silent = f.user(session, unit, Role.NURSE)
    working = f.user(session, unit, Role.NURSE)
    f.signed_in(session, silent, unit)
    working_actor = f.signed_in(session, working, unit)
    clock.advance(days=3)
    people.mark_idle(session, actor=working_actor, idle=False)  # the colleague is still at it
    session.commit()
    assert [u.id for u in people.present_users(session, unit.id)] == [working.id]
    assert not people.present(session, silent.id, unit.id)
    # ... and she was present at the time she was last seen
    assert people.present(
        session, silent.id, unit.id, at=clock.now() - timedelta(days=3) + timedelta(minutes=5)
    )


def test_OG_8_7_present_until_the_session_idle_limit_after_the_last_sign_of_life(app, session, unit, clock):
    """A user active a minute ago (signed in hours ago) is present; the limit is SESSION_IDLE_MINUTES."""
    nurse = f.user(session, unit, Role.NURSE)
    actor = f.signed_in(session, nurse, unit)
    clock.advance(hours=5)
    people.mark_idle(session, actor=actor, idle=False)
    clock.advance(minutes=1)
    assert people.present(session, nurse.id, unit.id)
    assert [u.id for u in people.present_users(session, unit.id)] == [nurse.id]
    with app.app_context():
        limit = people.presence_expiry()
        assert limit == timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
        clock.advance(limit - timedelta(minutes=1) - timedelta(seconds=1))
        assert people.present(session, nurse.id, unit.id)
        clock.advance(seconds=2)
        assert not people.present(session, nurse.id, unit.id)
        assert people.present_users(session, unit.id) == []


def test_OG_6_1_j_reading_patient_data_is_a_sign_of_life_at_that_unit_only(session, unit, clock):
    """Every page that shows patients writes the access log: working in the lists keeps a user present."""
    other = f.unit(session, "Vårdcentralen Annan")
    nurse = f.user(session, unit, Role.NURSE)
    f.user(session, other, Role.NURSE)  # no role needed at the other unit for the check, only a unit
    actor = f.signed_in(session, nurse, unit)
    clock.advance(hours=2)
    assert not people.present(session, nurse.id, unit.id)
    log_access(session, actor=actor, action="worklist:list", patient_ids=[])
    clock.advance(minutes=1)
    assert people.present(session, nurse.id, unit.id)
    assert not people.present(session, nurse.id, other.id)
    people.sign_out(session, actor=actor)
    clock.advance(seconds=1)
    assert not people.present(session, nurse.id, unit.id), "a read before the logout does not outlast it"
