"""Fixtures for the log review: the care world with a sysadmin at each unit, a signed-in test client,
and access-log rows written the way the product writes them."""

from __future__ import annotations

import pytest

from app.audit.service import log_access
from tests.admin import conftest as admin_conftest
from tests.admin.conftest import Pages

world = admin_conftest.world
admin_world = admin_conftest.admin_world


@pytest.fixture
def pages(client, admin_world) -> Pages:
    return Pages(client, admin_world)


@pytest.fixture
def opened(admin_world, clock):
    """`opened(who, patient, case=None, action=...)`: a read of patient data by one of the world's staff."""

    def _open(who: str, patient: str, *, case=None, action: str = "case:read") -> int:
        log_id = log_access(
            admin_world.session,
            actor=admin_world.actor(who),
            action=action,
            patient_ids=[admin_world.patients[patient].id],
            case_id=case.id if case is not None else None,
            context="/test",
        )
        admin_world.session.commit()
        clock.advance(seconds=1)
        return log_id

    return _open
