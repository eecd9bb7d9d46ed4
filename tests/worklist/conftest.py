"""The clinician's pages through the test client, over the care world of tests/processes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.audit.models import AccessLog, AccessLogPatient, AuditEvent
from app.cases import handling
from app.people.models import Membership, User
from app.people.roles import Role
from tests.pages import SignedInPages
from tests.processes import conftest as processes_conftest
from tests.processes.conftest import World

world = processes_conftest.world  # the care world of the routines' walk-throughs, shared as a fixture


class Pages(SignedInPages):
    """A test client signed in as one of the world's staff, with the CSRF token at hand."""

    def __init__(self, client, world: World):
        super().__init__(client, world.session)
        self.world = world

    def _who(self, key: str) -> tuple[int, int]:
        user, unit = self.world.staff[key]
        return user.id, unit.id

    def text(self, path: str, **kw) -> str:
        response = self.get(path, **kw)
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:2000])
        return response.get_data(as_text=True)


@pytest.fixture
def pages(client, world):
    return Pages(client, world)


def start(world: World, case, who: str = "nurse"):
    """Receive and start a case as `who` (it becomes theirs and ongoing)."""
    actor = world.actor(who)
    handling.receive(world.session, world.engine, actor=actor, case_id=case.id)
    handling.start(world.session, world.engine, actor=actor, case_id=case.id)
    world.session.commit()
    return actor


def join_unit(world: World, key: str, role: Role, *, unit: str = "og"):
    """A new member of a unit's staff holding only `role` there (the care world has only care staff and
    heads of unit), kept as world.staff[key]; returns the user."""
    target = world.units[unit]
    user = User(
        username=f"{unit}.{key}", given_name=key.capitalize(), family_name=unit.upper(), title=role.value,
        email=f"{unit}.{key}@example.invalid", created_at=clock.now(), active=True,
    )  # fmt: skip
    world.session.add(user)
    world.session.flush()
    world.session.add(
        Membership(user_id=user.id, unit_id=target.id, role=role, valid_from=clock.now() - timedelta(days=30))
    )
    world.session.commit()
    world.staff[key] = (user, target)
    return user


def rows_of(html: str) -> list[str]:
    """The patient names of the list's rows, top to bottom."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    names = []
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        patient = re.sub(r"<[^>]+>", " ", cells[1])
        names.append(" ".join(patient.split()[:2]))
    return names


def access_rows(session, action: str) -> list[tuple[int, set[int]]]:
    """(user, patients) of every access-log row with this action, oldest first."""
    session.expire_all()
    logs = session.scalars(select(AccessLog).where(AccessLog.action == action).order_by(AccessLog.id)).all()
    out = []
    for log in logs:
        patients = set(
            session.scalars(
                select(AccessLogPatient.patient_id).where(AccessLogPatient.access_log_id == log.id)
            )
        )
        out.append((log.user_id, patients))
    session.commit()
    return out


def refusals(session) -> list[tuple[int | None, str | None, str | None, str]]:
    """(user, subject type, subject id, path) of every "worklist:refused" audit event, oldest first."""
    session.expire_all()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "worklist:refused").order_by(AuditEvent.id)
    ).all()
    out = [(e.actor_user_id, e.subject_type, e.subject_id, e.details["path"]) for e in events]
    session.commit()
    return out
