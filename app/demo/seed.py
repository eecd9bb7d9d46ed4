"""Seed the demo world (idempotent: existing rows are kept, today's schedules are added if missing)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.demo.population import build_demo_registry
from app.fees.service import seed_demo_tariffs
from app.patients.service import sync_patient
from app.people.models import (
    Membership,
    OpeningHours,
    Region,
    ScheduledShift,
    Unit,
    UnitFunction,
    UnitKind,
    User,
)
from app.people.roles import Role
from app.phrases.service import seed_regional_defaults

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ALL_FUNCTIONS = [f.value for f in UnitFunction]

REGIONS = {
    "OG": (
        "Region Östergötland",
        {
            "protected_identity": "verify_and_follow_routine",  # OG-6.3
            "journal_template": "og_rgs_webb",  # OG-11-b
            "closing": "six_working_hours",  # OG-6.1-f/g
            "after_hours_send_anyway": False,  # OG-3: referred by priority
            "after_hours": "by_priority",  # OG-3: 112, 1177, self-care or the next day (placeholders)
            "allow_reservnummer": True,
            "warn_chat_staffing_gaps": False,  # OG-5: each unit schedules its own way
        },
    ),
    "HA": (
        "Region Halland",
        {
            "protected_identity": "refuse_and_redirect",  # HA-protected
            "journal_template": "ha_besoksanteckning",  # HA-doc-b
            "closing": "stangning_plus_one_day",  # HA-close-day, HA-close-plus1
            "after_hours_send_anyway": True,  # HA-after-hours
            "after_hours": "refer_1177_or_112",  # HA-after-hours: every priority, unless sent anyway
            "allow_reservnummer": False,
            "warn_chat_staffing_gaps": True,  # HA-chat-staff
        },
    ),
}

FULL_DAY = ((time(8), time(17)),)
WITH_LUNCH = ((time(8), time(12)), (time(13), time(16, 30)))

# name, region, kind, activated, functions, vård-till-vård number, opening intervals
UNITS = [
    ("Vårdcentralen Ekdalen", "OG", UnitKind.CARE_CENTRE, True, ALL_FUNCTIONS, "010-100 10 10", FULL_DAY),
    ("Rehab Linnea", "OG", UnitKind.REHAB, True, ["chat_triage", "tickets"], "010-100 20 20", FULL_DAY),
    (
        "Läkarhuset Norra (privat)",
        "OG",
        UnitKind.PRIVATE,
        True,
        ["chat_triage", "tickets"],
        "010-100 30 30",
        FULL_DAY,
    ),
    ("Vårdcentralen Tallbacken", "OG", UnitKind.CARE_CENTRE, False, [], "010-100 40 40", FULL_DAY),
    (
        "Vårdcentralen Havsbris",
        "HA",
        UnitKind.CARE_CENTRE,
        True,
        ["chat_triage", "chat_no_triage", "admin_cases", "video"],
        "035-100 50 50",
        WITH_LUNCH,
    ),
]

# username, given, family, title, [(unit, role)], scheduled today
STAFF = [
    ("sara.lind", "Sara", "Lind", "Distriktssköterska", [("Vårdcentralen Ekdalen", Role.NURSE)], True),
    ("erik.holm", "Erik", "Holm", "Sjuksköterska", [("Vårdcentralen Ekdalen", Role.NURSE)], True),
    (
        "maria.berg",
        "Maria",
        "Berg",
        "Specialist i allmänmedicin",
        [("Vårdcentralen Ekdalen", Role.DOCTOR)],
        True,
    ),
    ("johan.ek", "Johan", "Ek", "Leg. psykolog", [("Vårdcentralen Ekdalen", Role.PSYCHOLOGIST)], True),
    (
        "lena.strom",
        "Lena",
        "Ström",
        "Medicinsk sekreterare",
        [("Vårdcentralen Ekdalen", Role.MEDICAL_ADMIN)],
        True,
    ),
    ("per.nystrom", "Per", "Nyström", "Administratör", [("Vårdcentralen Ekdalen", Role.ADMIN_CONTACT)], True),
    (
        "frida.lund",
        "Frida",
        "Lund",
        "Leg. fysioterapeut",
        [("Rehab Linnea", Role.PHYSIOTHERAPIST), ("Vårdcentralen Ekdalen", Role.PHYSIOTHERAPIST)],
        True,
    ),
    (
        "karin.sjo",
        "Karin",
        "Sjö",
        "Lokal systemadministratör",
        [("Vårdcentralen Ekdalen", Role.LOCAL_SYSADMIN)],
        False,
    ),
    (
        "anna.dahl",
        "Anna",
        "Dahl",
        "Processägare 1177 direkt",
        [("Vårdcentralen Ekdalen", Role.PROCESS_OWNER), ("Vårdcentralen Havsbris", Role.PROCESS_OWNER)],
        False,
    ),
    (
        "gunilla.ahl",
        "Gunilla",
        "Ahl",
        "Verksamhetschef",
        [("Vårdcentralen Ekdalen", Role.HEAD_OF_UNIT)],
        False,
    ),
    (
        "olof.strand",
        "Olof",
        "Strand",
        "Avvikelsesamordnare",
        [("Vårdcentralen Ekdalen", Role.DEVIATION_COORDINATOR)],
        False,
    ),
    ("tove.kvist", "Tove", "Kvist", "Läkare", [("Läkarhuset Norra (privat)", Role.DOCTOR)], True),
    ("nils.aberg", "Nils", "Åberg", "Sjuksköterska", [("Vårdcentralen Havsbris", Role.NURSE)], True),
    ("eva.falk", "Eva", "Falk", "Läkare", [("Vårdcentralen Havsbris", Role.DOCTOR)], True),
    ("ida.borg", "Ida", "Borg", "Leg. psykolog", [("Vårdcentralen Havsbris", Role.PSYCHOLOGIST)], True),
    ("hanna.wik", "Hanna", "Wik", "Verksamhetschef", [("Vårdcentralen Havsbris", Role.HEAD_OF_UNIT)], False),
]


def _schedule_week(
    session: Session, user: User, memberships, units, today, *, chat_responsible: bool
) -> None:
    """Opening-hours shifts for the past week, today and the coming week (weekdays only, like the
    units' hours): the demo cases were made on a morning of the past week, by staff on shift then."""
    for offset in range(-7, 8):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for unit_name, role in memberships:
            unit, intervals = units[unit_name]
            starts = datetime.combine(day, intervals[0][0], STOCKHOLM)
            ends = datetime.combine(day, intervals[-1][1], STOCKHOLM)
            exists = session.scalar(
                select(ScheduledShift.id).where(
                    ScheduledShift.user_id == user.id,
                    ScheduledShift.unit_id == unit.id,
                    ScheduledShift.starts_at == starts,
                )
            )
            if exists is None:
                session.add(
                    ScheduledShift(
                        user_id=user.id,
                        unit_id=unit.id,
                        role=role,
                        starts_at=starts,
                        ends_at=ends,
                        chat_responsible=chat_responsible,
                    )
                )


def seed_demo(session: Session) -> str:
    """Create what is missing of the demo world; returns a one-line summary."""
    now = clock.now()
    actor = Actor.system("demo-seed")
    regions = {}
    for code, (name, policies) in REGIONS.items():
        region = session.scalar(select(Region).where(Region.code == code))
        if region is None:
            region = Region(code=code, name=name, policies=policies)
            session.add(region)
            session.flush()
        elif set(policies) - set(region.policies or {}):
            # A policy added since this database was seeded: filled in, never overriding a region's choice.
            region.policies = {**policies, **(region.policies or {})}
        seed_regional_defaults(session, region=region)  # phrase templates every routine needs (OG-8.2)
        seed_demo_tariffs(session, region=region)  # placeholder fees (OG-2-d), clearly labelled
        regions[code] = region

    units = {}
    for name, region_code, kind, activated, functions, vtv, intervals in UNITS:
        unit = session.scalar(select(Unit).where(Unit.name == name))
        if unit is None:
            unit = Unit(
                region_id=regions[region_code].id,
                name=name,
                kind=kind,
                activated=activated,
                functions=functions,
                vtv_number=vtv,
                settings={"reopen_days": 3, "hours_between_contact_attempts": 2},
            )
            session.add(unit)
            session.flush()
            for weekday in range(5):
                for opens, closes in intervals:
                    session.add(OpeningHours(unit_id=unit.id, weekday=weekday, opens=opens, closes=closes))
            record(session, "unit:created", actor=actor, subject=("unit", unit.id), name=name)
        units[name] = (unit, intervals)

    created_users = 0
    today = now.astimezone(STOCKHOLM).date()
    for username, given, family, title, memberships, scheduled in STAFF:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username,
                given_name=given,
                family_name=family,
                title=title,
                email=f"{username}@demo.vardflode.invalid",
                work_phone=None,
                active=True,
                created_at=now,
            )
            session.add(user)
            session.flush()
            created_users += 1
            for unit_name, role in memberships:
                session.add(
                    Membership(
                        user_id=user.id,
                        unit_id=units[unit_name][0].id,
                        role=role,
                        valid_from=now - timedelta(days=365),
                    )
                )
        if scheduled:
            _schedule_week(
                session,
                user,
                memberships,
                units,
                today,
                chat_responsible=username in ("sara.lind", "nils.aberg"),
            )

    registry, keys = build_demo_registry(today)
    for number in keys.values():
        sync_patient(session, registry, number)
    session.flush()
    return f"demo data ready: {len(regions)} regions, {len(units)} units, {len(STAFF)} staff ({created_users} new), {len(keys)} patients"
