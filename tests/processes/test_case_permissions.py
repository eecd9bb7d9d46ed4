"""Who may read and act on a case, decided on the case itself: the role matters, not only the unit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.cases import handling
from app.cases.permissions import can_act, can_read
from app.errors import Forbidden
from app.people.roles import Role


def _with_role(world, key: str, role: Role):
    """The world's staff member `key`, acting with only `role` at their unit."""
    return replace(world.actor(key), roles=frozenset({str(role)}))


@pytest.mark.parametrize("role", [Role.LOCAL_SYSADMIN, Role.PROCESS_OWNER, Role.DEVIATION_COORDINATOR])
def test_a_role_that_does_not_work_cases_neither_reads_nor_acts_on_the_units_cases(world, role):
    case = world.submit("adult")
    outsider = _with_role(world, "nurse", role)
    assert not can_read(world.session, outsider, case) and not can_act(world.session, outsider, case)
    with pytest.raises(Forbidden):
        handling.receive(world.session, world.engine, actor=outsider, case_id=case.id)


def test_care_staff_and_the_head_of_unit_read_the_units_cases_and_only_the_queues_role_acts(world):
    case = world.submit("adult")  # in the nurses' queue
    assert can_read(world.session, world.actor("doctor"), case) and not can_act(
        world.session, world.actor("doctor"), case
    )
    assert can_read(world.session, world.actor("head"), case)
    assert can_act(world.session, world.actor("nurse"), case)
