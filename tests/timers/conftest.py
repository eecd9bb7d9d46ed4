"""Fixtures for timer tests: the `test_timed` operator and instances whose timers are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.instances import service as instances
from app.people.roles import Role
from tasks.registry import ServiceOperator
from tests import factories as f


class Calls:
    def __init__(self):
        self.count = 0
        self.fail = False

    def __call__(self, ctx):
        self.count += 1
        if self.fail:
            raise TimeoutError("the journal system did not answer")
        ctx.audit("test:timed_service_called")
        return {"ok": True}


def install_operator(engine) -> Calls:
    calls = Calls()
    engine.operators["test_timed"] = ServiceOperator("test_timed", calls, "test", ())
    return calls


def start_timed_instances(database, engine, count: int) -> list[int]:
    """`count` instances of timed_service waiting on a one-hour timer (due one hour after the clock)."""
    ids = []
    with database.transaction() as session:
        f.deploy_fixture(session, engine, "timed_service.bpmn")
        unit = f.unit(session)
        nurse = f.user(session, unit, Role.NURSE)
        actor = f.signed_in(session, nurse, unit)
        for n in range(count):
            patient = f.patient(session, f"19920301{n:04d}")
            ids.append(
                instances.start_instance(
                    session,
                    engine,
                    process_id="timed_service",
                    actor=actor,
                    case=f.case(session, unit, patient),
                ).id
            )
    return ids


@pytest.fixture
def real_time_past(clock):
    """Run the test clock two hours behind real time, so one-hour timers are due for real workers."""
    clock.set(datetime.now(UTC) - timedelta(hours=2))
    return clock
