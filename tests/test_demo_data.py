"""The demo world: both regions, the five kinds of unit, every role scheduled today, the patients."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.audit.service import Actor
from app.cases.models import Case, CaseKind, CaseState, ContactAttempt
from app.demo.cases import DemoCasesNotMade, seed_demo_cases
from app.demo.seed import seed_demo
from app.documentation.models import JournalDraft
from app.instances.models import HumanTask, Incident, InstanceStatus, ProcessInstance
from app.patients.models import Guardianship, IdentityKind, Patient
from app.patients.service import guardians_of
from app.people.identity import age_at
from app.people.models import Membership, Region, ScheduledShift, Unit, UnitKind, User
from app.people.roles import Role
from app.process_models.service import deploy_directory
from app.timers.worker import TimerWorker
from tests.conftest import DEFAULT_NOW, ROOT

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


def _demo_cases(database, engine) -> str:
    with database.transaction() as session:
        seed_demo(session)
    return seed_demo_cases(database, engine, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms")


def test_the_demo_has_cases_in_the_states_a_working_morning_leaves_them_once(database, engine, clock):
    """Made through the services on the last open weekday morning (the test clock is a Monday 09:00, so
    the Friday before); a second seeding makes none."""
    summary = _demo_cases(database, engine)
    assert summary.startswith("demo cases: 9 made on Friday 2026-11-20 08:45"), summary
    assert clock.now() == DEFAULT_NOW  # the real clock again
    with database.transaction() as session:
        cases = {c.submission_key.removeprefix("demo:"): c for c in session.scalars(select(Case))}
        assert set(cases) == {
            "waiting",
            "answered",
            "reminded",
            "closed",
            "admin",
            "handed_over",
            "suicide_risk",
            "protected",
            "halland",
        }
        assert (cases["waiting"].state, cases["waiting"].priority) == (CaseState.NEW, 3)
        assert cases["answered"].state == CaseState.STARTED and cases["answered"].patient_answered
        assert cases["answered"].priority == 2  # high fever in the stand-in questionnaire
        assert (
            session.scalar(
                select(func.count())
                .select_from(ContactAttempt)
                .where(ContactAttempt.case_id == cases["reminded"].id)
            )
            >= 1
            and not cases["reminded"].patient_answered
        )
        assert cases["closed"].state == CaseState.CLOSED and cases["closed"].reopen_until is not None
        assert session.scalar(select(JournalDraft.id).where(JournalDraft.case_id == cases["closed"].id))
        assert cases["admin"].kind == CaseKind.ADMIN and cases["admin"].priority is None
        admin_queue = session.scalars(
            select(HumanTask.role).where(HumanTask.case_id == cases["admin"].id)
        ).all()
        assert admin_queue == [Role.ADMIN_CONTACT]  # OG-7-a

        def queue(key: str) -> list[Role]:
            return session.scalars(select(HumanTask.role).where(HumanTask.case_id == cases[key].id)).all()

        assert queue("handed_over") == [Role.DOCTOR]  # the patient consented (HA-handover-consent)
        assert queue("suicide_risk") == [Role.PSYCHOLOGIST]  # no consent asked (HA-suicide-b)
        protected = cases["protected"]
        assert session.get(Patient, protected.patient_id).is_protected and queue("protected") == [Role.NURSE]
        units = {u.id: u.name for u in session.scalars(select(Unit))}
        assert units[cases["halland"].unit_id] == "Vårdcentralen Havsbris"
        assert {units[c.unit_id] for k, c in cases.items() if k != "halland"} == {"Vårdcentralen Ekdalen"}
        # The nurse who handled them was on the schedule that morning, as the chat responsible.
        morning = datetime(2026, 11, 20, 8, 45, tzinfo=STOCKHOLM)
        sara = session.scalar(select(User.id).where(User.username == "sara.lind"))
        assert session.scalar(
            select(ScheduledShift.chat_responsible).where(
                ScheduledShift.user_id == sara,
                ScheduledShift.starts_at <= morning,
                ScheduledShift.ends_at > morning,
            )
        )
        # Each case runs its routine, and nothing failed on the way.
        for case in cases.values():
            statuses = session.scalars(
                select(ProcessInstance.status).where(ProcessInstance.case_id == case.id)
            ).all()
            assert InstanceStatus.RUNNING in statuses, (case.submission_key, statuses)
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
        count = session.scalar(select(func.count()).select_from(Case))
    # Whatever came due since that morning fires without a failure.
    TimerWorker(database, engine, name="test").run_once()
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
    assert _demo_cases(database, engine) == "demo cases: kept (made before)"
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == count


def test_without_the_demo_world_or_with_routines_deployed_after_that_morning_no_demo_case_is_made(
    database, engine, clock
):
    dirs = {"processes_dir": ROOT / "processes", "forms_dir": ROOT / "forms"}
    with pytest.raises(DemoCasesNotMade, match="demo world"):
        seed_demo_cases(database, engine, **dirs)
    with database.transaction() as session:
        seed_demo(session)
        deploy_directory(session, engine, **dirs, actor=Actor(label="test"))  # now: after Friday's morning
    with pytest.raises(DemoCasesNotMade, match="no routine chat_case was in effect on 2026-11-20 08:45"):
        seed_demo_cases(database, engine, **dirs)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert clock.now() == DEFAULT_NOW
