"""Case-page tests: the care world of the routines' walk-throughs, and signed-in staff clients."""

from __future__ import annotations

import re

import pytest

from tests.processes.conftest import World
from tests.processes.conftest import world as world  # the care world fixture, shared

CSRF = "casework-test-token"


class StaffClient:
    """A test client signed in as one of the world's staff (as the development login leaves the session)."""

    def __init__(self, app, world: World, key: str):
        self.client = app.test_client()
        self.world = world
        user, unit = world.staff[key]
        self.user, self.unit = user, unit
        with self.client.session_transaction() as browser:
            browser["user_id"], browser["unit_id"], browser["csrf_token"] = user.id, unit.id, CSRF

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": CSRF, **(data or {})}, **kwargs)

    def page(self, case_id: int, **kwargs) -> str:
        response = self.get(f"/cases/{case_id}", **kwargs)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)


def version_in(html: str, action: str) -> int:
    """The expected_version a form on the page posts back (the routine's version it was rendered at)."""
    form = re.search(r'<form[^>]+action="[^"]*/' + re.escape(action) + r'"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form for {action}"
    return int(re.search(r'name="expected_version" value="(\d+)"', form.group(1)).group(1))


def seen_in(html: str) -> int:
    """The case's latest audit event the page was rendered at (posted back: a conflict lists what came after)."""
    return int(re.search(r'name="seen_event" value="(\d+)"', html).group(1))


@pytest.fixture
def staff(app, world):
    """`staff("nurse")`: a signed-in client for one of the world's staff."""
    return lambda key="nurse": StaffClient(app, world, key)


def started(world: World, case, who: str = "nurse", first_message: str = "Hej, jag heter Nurse. Hur mår du?"):
    """Receive and start a case through the services; returns the actor."""
    from app.cases import handling

    actor = world.actor(who)
    handling.receive(world.session, world.engine, actor=actor, case_id=case.id)
    handling.start(world.session, world.engine, actor=actor, case_id=case.id, first_message=first_message)
    world.session.commit()
    return actor


def access_log(world: World, action: str) -> list[tuple[int | None, int | None, list[int]]]:
    """Access-log rows of an action: (user, case, patients shown)."""
    from sqlalchemy import select

    from app.audit.models import AccessLog, AccessLogPatient

    rows = world.session.scalars(
        select(AccessLog).where(AccessLog.action == action).order_by(AccessLog.id)
    ).all()
    result = [
        (
            r.user_id,
            r.case_id,
            list(
                world.session.scalars(
                    select(AccessLogPatient.patient_id).where(AccessLogPatient.access_log_id == r.id)
                )
            ),
        )
        for r in rows
    ]
    world.session.commit()  # SQLite: an open transaction holds the write lock the next request needs (commit: no expiry)
    return result


def read(world: World, statement):
    """One value read in a transaction that ends at once (SQLite transactions take the write lock)."""
    value = world.session.scalar(statement)
    world.session.commit()
    return value
