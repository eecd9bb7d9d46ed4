"""The instance page's fixtures: the process_changes setup (simple_case, a unit, its staff) reused,
plus the overall-responsible duty taken by the nurse."""

from __future__ import annotations

import pytest

from app.people.roles import Role
from app.people.service import take_duty
from tests import factories as f
from tests.process_changes import conftest as changes

Pages = changes.Pages
setup = changes.setup


@pytest.fixture
def pages(client, setup) -> Pages:
    return Pages(client, setup)


@pytest.fixture
def on_duty(setup, session):
    """The nurse takes the overall-responsible duty; a second nurse of the unit does not hold it."""
    take_duty(session, actor=setup.actors["nurse"])
    setup.actors["nurse2"] = f.signed_in(
        session, f.user(session, setup.unit, Role.NURSE, given="Nurse2"), setup.unit
    )
    other_unit = f.unit(session, "Vårdcentralen Annan")
    setup.actors["other_head"] = f.signed_in(
        session, f.user(session, other_unit, Role.HEAD_OF_UNIT, given="Otherhead"), other_unit
    )
    session.commit()
    return setup
