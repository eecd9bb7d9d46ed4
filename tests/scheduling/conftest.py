"""A small unit to schedule: Vårdcentralen Ekdalen (open 08–17 on weekdays, takes chats) with its head
of unit, two nurses, a doctor, a medical admin and a sysadmin; a second unit with its own head; and a
test client signed in as any of them. The clock stands at Monday 2026-11-23 09:00 (week 48)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

import pytest

from app.audit.service import Actor
from app.people.models import Unit, User
from app.people.roles import Role
from app.people.scheduling import ShiftEntry
from app.people.service import actor_for
from tests import factories
from tests.pages import SignedInPages

MONDAY = date(2026, 11, 23)


@dataclass
class Ward:
    session: object
    unit: Unit
    other_unit: Unit
    people: dict[str, User] = field(default_factory=dict)

    def actor(self, key: str, unit: Unit | None = None) -> Actor:
        return actor_for(self.session, self.people[key], (unit or self.home(key)).id)

    def home(self, key: str) -> Unit:
        return self.other_unit if key.startswith("other_") else self.unit

    def entry(
        self, key: str, role: Role = Role.NURSE, day: date = MONDAY, starts="08:00", ends="17:00", **kw
    ):
        return ShiftEntry(
            user_id=self.people[key].id,
            role=role.value,
            day=day,
            starts=time.fromisoformat(starts),
            ends=time.fromisoformat(ends),
            **kw,
        )


@pytest.fixture
def ward(session, clock) -> Ward:
    unit = factories.unit(session, "Vårdcentralen Ekdalen")
    other = factories.unit(session, "Vårdcentralen Havsbris", region_code="HA")
    w = Ward(session, unit, other)
    for key, role, given, family in (
        ("head", Role.HEAD_OF_UNIT, "Gunilla", "Ahl"),
        ("nurse", Role.NURSE, "Sara", "Lind"),
        ("nurse2", Role.NURSE, "Erik", "Holm"),
        ("doctor", Role.DOCTOR, "Maria", "Berg"),
        ("medadmin", Role.MEDICAL_ADMIN, "Lena", "Ström"),
        ("sysadmin", Role.LOCAL_SYSADMIN, "Karin", "Sjö"),
    ):
        w.people[key] = factories.user(session, unit, role, username=key, given=given, family=family)
    w.people["other_head"] = factories.user(
        session, other, Role.HEAD_OF_UNIT, username="other_head", given="Hanna", family="Wik"
    )
    session.commit()
    return w


class Pages(SignedInPages):
    """A test client signed in as one of the ward's people, with the CSRF token at hand."""

    def __init__(self, client, ward: Ward):
        super().__init__(client, ward.session)
        self.ward = ward

    def _who(self, key: str) -> tuple[int, int]:
        return self.ward.people[key].id, self.ward.home(key).id


@pytest.fixture
def pages(client, ward) -> Pages:
    return Pages(client, ward)
