"""Small builders for test data (units, users with roles, patients, cases, deployed fixtures)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.cases.models import Case, CaseKind, CaseState
from app.patients.models import IdentityKind, Patient, Protection
from app.people.models import Membership, OpeningHours, Region, Unit, UnitKind, User
from app.people.roles import Role
from app.people.service import actor_for, sign_in
from app.process_models.service import deploy_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def region(session: Session, code: str = "OG", name: str = "Region Östergötland", **policies) -> Region:
    existing = session.query(Region).filter_by(code=code).one_or_none()
    if existing:
        return existing
    r = Region(code=code, name=name, policies=policies)
    session.add(r)
    session.flush()
    return r


def unit(
    session: Session,
    name: str = "Vårdcentralen Test",
    *,
    region_code: str = "OG",
    kind: UnitKind = UnitKind.CARE_CENTRE,
    hours=((time(8), time(17)),),
    **kw,
) -> Unit:
    u = Unit(
        region_id=region(
            session, region_code, "Region Halland" if region_code == "HA" else "Region Östergötland"
        ).id,
        name=name,
        kind=kind,
        activated=kw.pop("activated", True),
        functions=kw.pop("functions", ["chat_triage", "admin_cases"]),
        settings=kw.pop("settings", {}),
        vtv_number=kw.pop("vtv_number", "010-000 00 00"),
    )
    session.add(u)
    session.flush()
    for weekday in range(5):
        for opens, closes in hours:
            session.add(OpeningHours(unit_id=u.id, weekday=weekday, opens=opens, closes=closes))
    session.flush()
    return u


_counter = [0]


def user(
    session: Session,
    unit_: Unit,
    *roles: Role,
    username: str | None = None,
    given: str = "Test",
    family: str | None = None,
) -> User:
    _counter[0] += 1
    u = User(
        username=username or f"user{_counter[0]}",
        given_name=given,
        family_name=family or f"Användare{_counter[0]}",
        title=None,
        created_at=clock.now(),
        active=True,
    )
    session.add(u)
    session.flush()
    for role in roles or (Role.NURSE,):
        session.add(
            Membership(
                user_id=u.id, unit_id=unit_.id, role=role, valid_from=clock.now() - timedelta(days=365)
            )
        )
    session.flush()
    return u


def signed_in(session: Session, user_: User, unit_: Unit) -> Actor:
    sign_in(session, user=user_, unit_id=unit_.id)
    session.flush()
    return actor_for(session, user_, unit_.id)


def patient(
    session: Session,
    number: str = "199203012381",
    *,
    born: date = date(1992, 3, 1),
    given: str = "Testa",
    family: str = "Patientsson",
    protection: Protection = Protection.NONE,
) -> Patient:
    p = Patient(
        identity_number=number,
        identity_kind=IdentityKind.PERSONNUMMER,
        birth_date=born,
        given_name=given,
        family_name=family,
        mobile="0701234567",
        protection=protection,
    )
    session.add(p)
    session.flush()
    return p


def case(
    session: Session,
    unit_: Unit,
    patient_: Patient,
    *,
    priority: int | None = 3,
    kind: CaseKind = CaseKind.SOK_VARD,
    reason: str = "Halsont",
    submitted_at: datetime | None = None,
) -> Case:
    c = Case(
        kind=kind,
        unit_id=unit_.id,
        patient_id=patient_.id,
        submitted_by_id=patient_.id,
        priority=priority,
        search_reason=reason,
        anamnesis="Ont i halsen sedan tre dagar.",
        state=CaseState.NEW,
        submitted_at=submitted_at or clock.now(),
    )
    session.add(c)
    session.flush()
    return c


def deploy_fixture(
    session: Session, engine, name: str, *, processes_dir: Path | None = None, force: bool = False
):
    processes_dir = processes_dir or FIXTURES / "bpmn"
    return deploy_file(
        session,
        engine,
        path=processes_dir / name,
        processes_dir=processes_dir,
        forms_dir=FIXTURES / "forms",
        actor=Actor(label="test"),
        force=force,
    )
