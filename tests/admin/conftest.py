"""Fixtures for the administration pages: the care world of tests/processes with a local system
administrator at each unit, and a test client signed in as any of its staff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.people.models import Membership, User
from app.people.roles import Role
from tests.processes import conftest as processes_conftest
from tests.processes.conftest import World
from tests.worklist.conftest import Pages

world = processes_conftest.world  # the routines' care world, shared as a fixture


def add_staff(world: World, key: str, unit_key: str, role: Role, clock) -> User:
    """A user with one role at a world unit, known to the world as `key`."""
    unit = world.units[unit_key]
    user = User(
        username=f"{unit_key}.{key}",
        given_name=key.capitalize(),
        family_name=unit_key.upper(),
        title=role.value,
        created_at=clock.now(),
        active=True,
    )
    world.session.add(user)
    world.session.flush()
    world.session.add(
        Membership(user_id=user.id, unit_id=unit.id, role=role, valid_from=clock.now() - timedelta(days=30))
    )
    world.session.commit()
    world.staff[key if unit_key == "og" else f"{unit_key}_{key}"] = (user, unit)
    return user


@pytest.fixture
def admin_world(world, clock) -> World:
    """The world plus a Lokal systemadministratör at each unit ("sysadmin", "ha_sysadmin")."""
    add_staff(world, "sysadmin", "og", Role.LOCAL_SYSADMIN, clock)
    add_staff(world, "sysadmin", "ha", Role.LOCAL_SYSADMIN, clock)
    return world


@pytest.fixture
def pages(client, admin_world) -> Pages:
    return Pages(client, admin_world)
