"""Patient-list benchmark: server time to render Patientliggaren with a full unit.

worklist_ms                 median ms of `GET /` through Flask's test client, signed in as a nurse
                            of a unit with `cases` open cases (default 2,000), over ≥ 200 renders:
                            the counts, one page of rows (app.worklist.filters.PAGE_SIZE = 100, the
                            rest behind "Nästa sida"), the access-log row naming every patient shown
                            and its commit, the template. The nurse's default view holds about 70 %
                            of the unit's tasks (her role's queue and her own cases).
worklist_unit_day_ms        the same for "Dagens ärenden" (the whole unit, today's date: OG-10.1-c).
worklist_poll_unchanged_ms  the self-refresh when nothing changed (counts, page, digest, 204: no
                            access-log row, nothing swapped).
worklist_rows               rows on the rendered page; worklist_open_tasks the unit's open tasks.

The cases are bulk-inserted, not submitted: 2,000 cases through `submit_case` would take minutes
and measure the routines, not the list. Each is a real `care_case` row with a patient (a
reservnummer, never a real person's number), a `process_instance` row on the deployed benchmark
diagram (its state is a placeholder: the list never loads it) and its `human_task` projection row
with the copied case fields, as the instance service writes them: priorities 1-5 (administrative
cases none), new/received/started/handed-over, role queues of the care roles, some owned by the
nurse or a colleague, some answered, a few protected identities, waiting times over three days.
Renders run back to back after 20 warm-up renders, on SQLite, and on PostgreSQL too when a URL is
given (`worklist_ms_pg`, `worklist_unit_day_ms_pg`, `worklist_poll_unchanged_ms_pg`).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta

from sqlalchemy import insert, select

from app import clock
from app.cases.models import Case, CaseKind, CaseState
from app.instances.models import HumanTask, InstanceStatus, ProcessInstance
from app.patients.models import IdentityKind, Patient, Protection
from app.people.roles import Role
from app.process_models.models import ProcessModel, ProcessVersion
from app.worklist.filters import local_today
from bench.setup import bench_world, make_app

ROLE_MIX = [
    (Role.NURSE, 70),
    (Role.DOCTOR, 14),
    (Role.PSYCHOLOGIST, 5),
    (Role.MEDICAL_ADMIN, 5),
    (Role.ADMIN_CONTACT, 6),
]
STATE_MIX = [
    (CaseState.NEW, 55),
    (CaseState.RECEIVED, 10),
    (CaseState.STARTED, 30),
    (CaseState.HANDED_OVER, 5),
]
TITLES = {
    CaseState.NEW: "Ta emot ärendet",
    CaseState.RECEIVED: "Starta ärendet",
    CaseState.STARTED: "Handlägg ärendet",
    CaseState.HANDED_OVER: "Handlägg ärendet",
}
REASONS = ["Halsont", "Hosta", "Utslag", "Ryggont", "Urinvägsbesvär", "Nedstämdhet", "Förnya recept", "Intyg"]


def _pick(rng: random.Random, mix):
    return rng.choices([value for value, _w in mix], weights=[w for _v, w in mix])[0]


def populate(database, *, unit_id: int, owners: list[int], cases: int, seed: int = 5) -> int:
    """Insert `cases` open cases with their instance and projection rows; returns the open task count."""
    rng = random.Random(seed)
    now = clock.now()
    with database.transaction() as session:
        version_id, bundle_hash = session.execute(
            select(ProcessVersion.id, ProcessVersion.bundle_hash)
            .join(ProcessModel)
            .where(ProcessModel.process_id == "chat_case_bench")
            .limit(1)
        ).one()
        patients, case_rows, plans = [], [], []
        for n in range(cases):
            protected = rng.random() < 0.01
            patients.append(
                {
                    "identity_number": f"BENCHLIST{n:08d}",
                    "identity_kind": IdentityKind.RESERVNUMMER,
                    "birth_date": (now - timedelta(days=365 * rng.randint(1, 90))).date(),
                    "given_name": rng.choice(
                        ["Anna", "Bo", "Cecilia", "David", "Eva", "Filip", "Greta", "Hugo"]
                    ),
                    "family_name": f"Testsson{n}",
                    "mobile": "070-000 00 00",
                    "protection": Protection.CLAIMED if protected else Protection.NONE,
                    "version": 1,
                }
            )
        patient_ids = list(
            session.scalars(insert(Patient).returning(Patient.id, sort_by_parameter_order=True), patients)
        )
        for n, patient_id in enumerate(patient_ids):
            role = _pick(rng, ROLE_MIX)
            admin = role in (Role.ADMIN_CONTACT, Role.MEDICAL_ADMIN)
            state = CaseState.NEW if admin else _pick(rng, STATE_MIX)
            ongoing = state is not CaseState.NEW
            owner = rng.choice(owners) if ongoing and rng.random() < 0.8 else None
            priority = None if admin else rng.choices([1, 2, 3, 4, 5], weights=[2, 10, 50, 28, 10])[0]
            submitted = now - timedelta(minutes=rng.randint(0, 3 * 24 * 60))
            case_rows.append(
                {
                    "kind": CaseKind.ADMIN if admin else CaseKind.SOK_VARD,
                    "unit_id": unit_id,
                    "patient_id": patient_id,
                    "submitted_by_id": patient_id,
                    "priority": priority,
                    "triage_priority": priority,
                    "search_reason": "Intyg" if admin else rng.choice(REASONS),
                    "anamnesis": "Benchmark",
                    "state": state,
                    "owner_user_id": owner,
                    "handling_role": role.value,
                    "patient_answered": ongoing and rng.random() < 0.3,
                    "submitted_at": submitted,
                    "version": 1,
                }
            )
            plans.append((role, state, owner, priority, submitted, patients[n], protected))
        case_ids = list(
            session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), case_rows)
        )
        instance_ids = list(
            session.scalars(
                insert(ProcessInstance).returning(ProcessInstance.id, sort_by_parameter_order=True),
                [
                    {
                        "process_version_id": version_id,
                        "process_id": "chat_case_bench",
                        "bundle_hash": bundle_hash,
                        "case_id": case_id,
                        "unit_id": unit_id,
                        "status": InstanceStatus.RUNNING,
                        "state": "{}",  # never loaded by the list
                        "started_by": "bench",
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for case_id in case_ids
                ],
            )
        )
        tasks = []
        for case_id, instance_id, case_row, (
            role,
            state,
            owner,
            priority,
            submitted,
            patient,
            protected,
        ) in zip(case_ids, instance_ids, case_rows, plans, strict=True):
            tasks.append(
                {
                    "instance_id": instance_id,
                    "spiff_task_id": f"bench-{instance_id}",
                    "element_id": "Handle",
                    "title": "Hantera det administrativa ärendet" if priority is None else TITLES[state],
                    "process_id": "chat_case_bench",
                    "process_version_id": version_id,
                    "role": role,
                    "unit_id": unit_id,
                    "owner_user_id": owner,
                    "case_id": case_id,
                    "case_kind": case_row["kind"].value,
                    "case_state": state.value,
                    "priority": priority,
                    "search_reason": case_row["search_reason"],
                    "patient_id": case_row["patient_id"],
                    "patient_name": f"{patient['given_name']} {patient['family_name']}",
                    "patient_birth_date": patient["birth_date"],
                    "patient_protected": protected,
                    "patient_answered": case_row["patient_answered"],
                    "case_started": state in (CaseState.STARTED, CaseState.HANDED_OVER),
                    "waiting_since": submitted,
                    "created_at": submitted,
                }
            )
        session.execute(insert(HumanTask), tasks)
    return len(tasks)


def _signed_in_client(app, user_id: int, unit_id: int):
    client = app.test_client()
    with client.session_transaction() as browser:
        browser["user_id"], browser["unit_id"] = user_id, unit_id
    return client


def _median_ms(client, path: str, renders: int, warmup: int, *, expect: int = 200, headers=None) -> float:
    timings = []
    for n in range(warmup + renders):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == expect, (path, response.status_code)
        if n >= warmup:
            timings.append(elapsed)
    return round(statistics.median(timings) * 1000, 3)


def _measure(url: str | None, *, cases: int, renders: int, warmup: int) -> dict:
    app = make_app(url)
    database = app.extensions["database"]
    try:
        unit_id, actors = bench_world(app)
        nurse, doctor = actors[Role.NURSE], actors[Role.DOCTOR]
        open_tasks = populate(database, unit_id=unit_id, owners=[nurse.user_id, doctor.user_id], cases=cases)
        client = _signed_in_client(app, nurse.user_id, unit_id)
        page = client.get("/").get_data(as_text=True)
        rows = page.split("<tbody>", 1)[1].count("<tr") if "<tbody>" in page else 0
        today = local_today(clock.now()).isoformat()
        poll = page.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        return {
            "worklist_ms": _median_ms(client, "/", renders, warmup),
            "worklist_unit_day_ms": _median_ms(client, f"/?scope=unit&date={today}", renders, warmup),
            "worklist_poll_unchanged_ms": _median_ms(
                client, poll, renders, warmup, expect=204, headers={"HX-Request": "true"}
            ),
            "worklist_rows": rows,
            "worklist_open_tasks": open_tasks,
        }
    finally:
        database.dispose()


def run(*, cases: int = 2_000, renders: int = 200, warmup: int = 20, pg_url: str | None = None) -> dict:
    """Render the patient list `renders` times over a unit with `cases` open cases; medians in ms.

    SQLite always; with `pg_url` (its public schema is dropped and migrated anew) the same on
    PostgreSQL, keys suffixed `_pg`.
    """
    result = _measure(None, cases=cases, renders=renders, warmup=warmup)
    if pg_url:
        on_pg = _measure(pg_url, cases=cases, renders=renders, warmup=warmup)
        result.update(
            {
                f"{key}_pg": on_pg[key]
                for key in ("worklist_ms", "worklist_unit_day_ms", "worklist_poll_unchanged_ms")
            }
        )
    return result
