"""Two nurses take the overall-responsible duty at the same moment (OG-10.1-a, PostgreSQL): one holds
it, the other is told someone just took it (a Conflict, 409) instead of a server error."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.people import service as people
from app.people.models import OverallResponsibleDuty
from app.people.roles import Role
from tests import factories as f
from tests.races import at_once


@pytest.fixture
def nurses(session, clock):
    unit = f.unit(session)
    nurses = [f.user(session, unit, Role.NURSE) for _ in range(3)]
    actors = [f.signed_in(session, nurse, unit) for nurse in nurses]
    clock.advance(minutes=1)
    session.commit()
    return actors


def _at_once(app, monkeypatch, *calls) -> list[str]:
    """Run the calls in two transactions that have both checked who may hold the duty before either acts."""
    database = app.extensions["database"]
    barrier = threading.Barrier(len(calls))
    real = people._require_can_hold_duty

    def together(*args, **kwargs):
        real(*args, **kwargs)
        barrier.wait(timeout=10)

    monkeypatch.setattr(people, "_require_can_hold_duty", together)
    return at_once(database, *calls, describe=lambda error: f"{type(error).__name__.lower()}: {error}")


def _open_holders(session) -> list[int]:
    session.expire_all()
    return list(
        session.scalars(
            select(OverallResponsibleDuty.user_id).where(OverallResponsibleDuty.released_at.is_(None))
        )
    )


@pytest.mark.postgres
def test_OG_10_1_a_two_nurses_taking_the_free_duty_at_once_one_holds_it_the_other_gets_a_conflict(
    pg_url, app, session, nurses, monkeypatch
):
    first, second, _ = nurses
    outcomes = _at_once(
        app,
        monkeypatch,
        lambda s: people.take_duty(s, actor=first),
        lambda s: people.take_duty(s, actor=second),
    )
    assert outcomes == [f"conflict: {people.DUTY_JUST_TAKEN}", "ok"]
    assert len(_open_holders(session)) == 1
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "duty:taken")).all() == [
        "duty:taken"
    ]


@pytest.mark.postgres
def test_OG_10_1_a_a_holder_passing_the_duty_to_two_colleagues_at_once_passes_it_once(
    pg_url, app, session, nurses, monkeypatch
):
    holder, first, second = nurses
    people.take_duty(session, actor=holder)
    session.commit()
    outcomes = _at_once(
        app,
        monkeypatch,
        lambda s: people.pass_duty(s, actor=holder, to_user_id=first.user_id),
        lambda s: people.pass_duty(s, actor=holder, to_user_id=second.user_id),
    )
    assert outcomes == [f"conflict: {people.DUTY_JUST_TAKEN}", "ok"]
    [now_holding] = _open_holders(session)
    assert now_holding in (first.user_id, second.user_id)
