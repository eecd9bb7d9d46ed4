"""The control tower over the care world of tests/processes, through services and the test client."""

from __future__ import annotations

import pytest

from app.cases.models import Case
from app.instances.persistence import reproject_case
from app.people.service import sign_out, take_duty
from tests.processes import conftest as processes_conftest
from tests.worklist import conftest as worklist_conftest
from tests.worklist.conftest import Pages, start

world = processes_conftest.world  # the care world of the routines' walk-throughs, shared as a fixture

__all__ = ["world", "pages", "start", "on_duty", "absent", "with_priority", "access_rows"]
access_rows = worklist_conftest.access_rows


@pytest.fixture
def pages(client, world):
    return Pages(client, world)


def on_duty(world, key: str = "nurse2"):
    """`key` takes the overall-responsible duty at its unit; returns the actor holding it."""
    take_duty(world.session, actor=world.actor(key))
    world.session.commit()
    return world.actor(key)


def absent(world, key: str) -> None:
    """`key` logs out without ending the shift: still owning cases, no longer present."""
    sign_out(world.session, actor=world.actor(key))
    world.session.commit()


def with_priority(world, case: Case, priority: int) -> Case:
    """Set a case's priority as a reprioritisation would (the projection follows)."""
    case.priority = priority
    world.session.flush()
    reproject_case(world.session, case)
    world.session.commit()
    return case
