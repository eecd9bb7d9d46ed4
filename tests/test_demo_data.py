"""The demo world: both regions, the five kinds of unit, every role scheduled today, the patients."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.demo.seed import seed_demo
from app.patients.models import Guardianship, IdentityKind, Patient
from app.patients.service import guardians_of
from app.people.identity import age_at
from app.people.models import Membership, Region, ScheduledShift, Unit, UnitKind, User
from app.people.roles import Role

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_seeding_twice_creates_the_demo_world_once(database, clock):
    with database.transaction() as session:
        seed_demo(session)
    with database.transaction() as session:
        counts = {
            m.__name__: session.scalar(select(func.count()).select_from(m))
            for m in (Region, Unit, User, Patient, Guardianship)
        }
        seed_demo(session)
    with database.transaction() as session:
        assert {
            m.__name__: session.scalar(select(func.count()).select_from(m))
            for m in (Region, Unit, User, Patient, Guardianship)
        } == counts
        assert {r.code for r in session.scalars(select(Region))} == {"OG", "HA"}
        units = session.scalars(select(Unit)).all()
        assert sum(u.kind == UnitKind.CARE_CENTRE and u.activated for u in units) >= 2
        assert {UnitKind.REHAB, UnitKind.PRIVATE} <= {u.kind for u in units}
        assert any(not u.activated for u in units)
        assert {m.role for m in session.scalars(select(Membership))} == set(Role)


def test_clinical_staff_are_scheduled_for_today(database, clock):
    with database.transaction() as session:
        seed_demo(session)
        today = clock.now().astimezone(STOCKHOLM).date()
        shifts = session.scalars(select(ScheduledShift)).all()
        todays = [s for s in shifts if s.starts_at.astimezone(STOCKHOLM).date() == today]
        assert {s.role for s in todays} >= {
            Role.NURSE,
            Role.DOCTOR,
            Role.PSYCHOLOGIST,
            Role.PHYSIOTHERAPIST,
            Role.MEDICAL_ADMIN,
            Role.ADMIN_CONTACT,
        }
        assert any(s.chat_responsible for s in todays)


def test_demo_patients_cover_the_age_rules_and_ages_follow_the_clock(database, clock):
    with database.transaction() as session:
        seed_demo(session)
        now = clock.now()
        patients = {p.given_name: p for p in session.scalars(select(Patient))}
        assert (
            age_at(patients["Ebba"].birth_date, now) == 0
            and patients["Ebba"].identity_kind == IdentityKind.RESERVNUMMER
        )
        assert (
            len(guardians_of(session, patients["Cecilia"].id)) == 2
            and age_at(patients["Cecilia"].birth_date, now) < 13
        )
        assert age_at(patients["David"].birth_date, now) >= 13
        assert patients["Gustav"].is_protected
        adults = [p for p in patients.values() if age_at(p.birth_date, now) >= 18]
        assert len(adults) >= 4
        # Ages are computed from the clock, not stored: a year on, everyone is a year older.
        assert (
            age_at(patients["Cecilia"].birth_date, now + timedelta(days=366))
            == age_at(patients["Cecilia"].birth_date, now) + 1
        )
