"""A care world for the routines' walk-throughs: both regions with their policies, a care centre in
each, staff of every clinical role signed in, patients, phrase templates, and processes/ deployed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from app import clock as product_clock
from app.audit.service import Actor
from app.cases.models import Case, CaseKind
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.demo.seed import REGIONS
from app.fees.service import seed_demo_tariffs
from app.instances import service as instances
from app.instances.models import HumanTask
from app.patients.models import Guardianship, IdentityKind, Patient, Protection
from app.people.models import Membership, OpeningHours, Region, Unit, UnitKind, User
from app.people.roles import Role
from app.people.service import actor_for, sign_in
from app.phrases.service import seed_regional_defaults
from app.process_models.service import deploy_directory
from app.timers.claims import due_instances
from tests.conftest import ROOT

ALL_FUNCTIONS = ["chat_triage", "chat_no_triage", "admin_cases", "video", "tickets"]
TRIAGE = DemoTriage()


@dataclass
class World:
    session: object
    engine: object
    units: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    patients: dict = field(default_factory=dict)

    def actor(self, key: str) -> Actor:
        user, unit = self.staff[key]
        return actor_for(self.session, user, unit.id)

    def resident(self, key: str) -> Actor:
        patient = self.patients[key]
        return Actor(label=patient.display_name, patient_id=patient.id)

    def submit(
        self,
        patient: str = "adult",
        *,
        unit: str = "og",
        by: str | None = None,
        kind: CaseKind = CaseKind.SOK_VARD,
        send_anyway: bool = False,
        protected: bool = False,
        submission_key: str | None = None,
        **answers,
    ) -> Case:
        triage = (
            TRIAGE.assess(
                {"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3, **answers}
            )
            if kind == CaseKind.SOK_VARD
            else None
        )
        case = submit_case(
            self.session,
            self.engine,
            actor=self.resident(by or patient),
            patient_id=self.patients[patient].id,
            unit_id=self.units[unit].id,
            kind=kind,
            triage=triage,
            search_reason="Intyg" if kind == CaseKind.ADMIN else None,
            message="Jag behöver ett intyg." if kind != CaseKind.SOK_VARD else "",
            send_anyway=send_anyway,
            claims_protected=protected,
            submission_key=submission_key,
        )
        self.session.commit()
        return case

    def received_and_started(
        self, case: Case, who: str = "nurse", first_message: str = "Hej! Hur mår du?"
    ) -> Actor:
        """'Ta emot' and 'Starta' by `who` (the first chat message goes out), committed; returns the actor."""
        from app.cases import handling

        actor = self.actor(who)
        handling.receive(self.session, self.engine, actor=actor, case_id=case.id)
        handling.start(self.session, self.engine, actor=actor, case_id=case.id, first_message=first_message)
        self.session.commit()
        return actor

    def fire_due_timers(self) -> None:
        """What a timer worker's pass does now: fire every instance's due timers, committed."""
        for instance_id in due_instances(self.session, product_clock.now(), 100):
            instances.fire_timers(
                self.session, self.engine, instance_id=instance_id, actor=Actor.system("timer")
            )
        self.session.commit()

    def back_at_work(self, *keys: str) -> None:
        """Staff who keep working make requests; record that sign of life (presence expires without)."""
        from app.people.service import sign_in

        for key in keys:
            user, unit = self.staff[key]
            sign_in(self.session, user=user, unit_id=unit.id)
        self.session.commit()

    def tasks(self, case: Case) -> list[HumanTask]:
        self.session.expire_all()
        return list(
            self.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id))
        )

    def titles(self, case: Case) -> list[str]:
        return [t.title for t in self.tasks(case)]


def _unit(session, region: Region, name: str, intervals, **settings) -> Unit:
    unit = Unit(
        region_id=region.id,
        name=name,
        kind=UnitKind.CARE_CENTRE,
        activated=True,
        functions=ALL_FUNCTIONS,
        vtv_number="010-111 22 33",
        settings={"reopen_days": 3, "hours_between_contact_attempts": 2, **settings},
    )
    session.add(unit)
    session.flush()
    for weekday in range(5):
        for opens, closes in intervals:
            session.add(OpeningHours(unit_id=unit.id, weekday=weekday, opens=opens, closes=closes))
    return unit


@pytest.fixture
def world(session, engine, clock) -> World:
    w = World(session, engine)
    regions = {}
    for code, (name, policies) in REGIONS.items():
        region = Region(code=code, name=name, policies=dict(policies))
        session.add(region)
        session.flush()
        seed_regional_defaults(session, region=region)
        seed_demo_tariffs(session, region=region)
        regions[code] = region
    w.units["og"] = _unit(session, regions["OG"], "Vårdcentralen Ekdalen", ((time(8), time(17)),))
    w.units["ha"] = _unit(
        session, regions["HA"], "Vårdcentralen Havsbris", ((time(8), time(12)), (time(13), time(16, 30)))
    )
    roles = {
        "nurse": Role.NURSE,
        "nurse2": Role.NURSE,
        "doctor": Role.DOCTOR,
        "psychologist": Role.PSYCHOLOGIST,
        "physio": Role.PHYSIOTHERAPIST,
        "medadmin": Role.MEDICAL_ADMIN,
        "admin": Role.ADMIN_CONTACT,
        "head": Role.HEAD_OF_UNIT,
    }
    # Everyone first, one flush; then their memberships, one flush; then their logins.
    users = {
        (unit_key, key): User(
            username=f"{unit_key}.{key}",
            given_name=key.capitalize(),
            family_name=unit_key.upper(),
            title=role.value,
            email=f"{unit_key}.{key}@example.invalid",
            work_phone="070-555 00 00",
            created_at=clock.now(),
            active=True,
        )
        for unit_key in w.units
        for key, role in roles.items()
    }
    session.add_all(users.values())
    session.flush()
    session.add_all(
        Membership(
            user_id=user.id,
            unit_id=w.units[unit_key].id,
            role=roles[key],
            valid_from=clock.now() - timedelta(days=30),
        )
        for (unit_key, key), user in users.items()
    )
    session.flush()
    for (unit_key, key), user in users.items():
        unit = w.units[unit_key]
        if key != "head":
            sign_in(session, user=user, unit_id=unit.id)
        w.staff[key if unit_key == "og" else f"ha_{key}"] = (user, unit)
    people = {
        "adult": ("199203012381", date(1992, 3, 1), "Anna", "Andersson"),
        "guardian": ("199205042386", date(1992, 5, 4), "Bertil", "Berg"),
        "child": ("201601012394", date(2016, 1, 1), "Cecilia", "Berg"),
        "teen": ("201203092398", date(2012, 3, 9), "David", "Dahl"),
        "infant": ("RES-OG-000001", clock.now().date() - timedelta(days=150), "Ebba", "Berg"),
        "other": ("199206152382", date(1992, 6, 15), "Fredrik", "Fors"),
    }
    for key, (number, born, given, family) in people.items():
        patient = Patient(
            identity_number=number,
            identity_kind=IdentityKind.RESERVNUMMER
            if number.startswith("RES")
            else IdentityKind.PERSONNUMMER,
            birth_date=born,
            given_name=given,
            family_name=family,
            mobile="070-123 45 67",
            protection=Protection.NONE,
        )
        session.add(patient)
        w.patients[key] = patient
    session.flush()
    for child in ("child", "teen", "infant"):
        session.add(
            Guardianship(
                guardian_id=w.patients["guardian"].id, child_id=w.patients[child].id, synced_at=clock.now()
            )
        )
    deploy_directory(
        session, engine, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms", actor=Actor(label="test")
    )
    session.commit()
    clock.advance(minutes=1)
    return w
