"""Chat-case benchmarks: the cost of history, and whole chat cases against SpiffWorkflow alone.

history_ratio            One clinician action on a started chat case: `chat.staff_write` (a chat
                         message), then `chat.remind` (an SMS reminder), each through the service
                         layer in its own transaction, commit included (two requests, as the product
                         makes them). Its median on a "long" case (1,000 chat messages and 20 contact
                         attempts, mixed staff/patient authors, spread over two days) divided by its
                         median on a "fresh" case (just started: one message, no attempts).
history_action_ms_fresh  median ms of that action on fresh cases
history_action_ms_long   median ms of that action on long cases
                         Both kinds of case are real started chat cases (submit → receive → start
                         through the services on processes/chat_case.bpmn); only the long case's
                         history is bulk-inserted. Every action adds a message and two attempts, so
                         a new fresh and a new long case replace the pair every `per_case` actions
                         (fresh stays at ≤ 1 + per_case messages, long at ≥ 1,000). Runs are
                         interleaved (fresh, long, fresh, long, ...; which goes first alternates)
                         and medians are taken over ≥ 200 actions each.

chat_cases_per_s         Whole chat cases per second through the service layer on SQLite:
                         submit → receive → start (first message) → 5 chat messages (patient,
                         staff, patient, staff, patient) → close in dialogue → the reopen window's
                         timer fires (one timer-worker pass, `TimerWorker.run_once`) and the routine
                         completes. One transaction per action, as the product does; 10 per case.
                         Rate = 1 / median per-case time (sum of the timed transactions; creating
                         the patient row and moving the clock are not timed).
chat_cases_per_s_pg      the same on PostgreSQL, when TEST_DATABASE_URL is set.
bare_chat_cases_per_s    SpiffWorkflow alone on the same diagram (processes/chat_case.bpmn with the
                         called processes and DMN tables of processes/), with the same start data and
                         the same form data (schema defaults filled in as the product does):
                         create + engine steps → receive → start → close → the window timer fires,
                         each step deserializing and serializing the state (spec kept out of it, as
                         the product's InstanceSerializer does). Service tasks are answered by a stub
                         returning what tasks/cases.py's operators return; `is_open` in the DMN is a
                         stub that says "open"; `now`/`iso` read the product clock. Chat messages
                         are rows in the product, never engine work, so the bare case has nothing
                         for them either. 1 / median per-case time, like the served side.
chat_cases_ratio         chat_cases_per_s / bare_chat_cases_per_s (SQLite); target ≥ 0.35.
                         (chat_cases_ratio_pg likewise for PostgreSQL; *_completed count every case
                         run, warm-up included, each one checked: case CLOSED, routine COMPLETED.)

Time: both benchmarks install a running MovableClock at a Monday 10:00 in Stockholm (the unit is
open around the clock on every weekday; no holiday is near). After closing, the clock moves past the
reopen window (unit setting reopen_days = 3, the demo value), so the event-based gateway's timer
(`Window_ends`) is due and the routine ends at End_closed; each case starts again at the same
moment. The bare side uses the same clock: SpiffWorkflow's timer module reads app.clock through the
product's one-line patch (app.engine.clock.install), which changes nothing about the work done.
Every case on every side asserts that its routine completed; a case that does not raises.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

# The bare measurement uses SpiffWorkflow directly on purpose: it is the yardstick.
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, insert, select

from app import clock
from app.audit.service import Actor
from app.cases import chat, handling
from app.cases.models import (
    AttemptKind,
    Case,
    CaseKind,
    CaseState,
    ChatMessage,
    ContactAttempt,
    MessageAuthor,
)
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.demo.seed import REGIONS
from app.engine import clock as engine_clock
from app.engine.serializer import InstanceSerializer
from app.fees.service import seed_demo_tariffs
from app.instances import service as instances
from app.instances.models import InstanceStatus, ProcessInstance
from app.patients.models import IdentityKind, Patient, Protection
from app.people.models import Membership, OpeningHours, Region, Unit, UnitKind, User
from app.people.roles import Role
from app.people.service import actor_for, mark_idle, sign_in
from app.phrases.service import seed_regional_defaults
from app.process_models.service import deploy_directory
from app.timers.worker import TimerWorker
from bench.setup import BENCH_DIR, make_app

ROOT = BENCH_DIR.parent
PROCESSES_DIR = ROOT / "processes"
FORMS_DIR = ROOT / "forms"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM)  # a Monday, no holiday near
FUNCTIONS = ["chat_triage", "chat_no_triage", "admin_cases", "video", "tickets"]
REOPEN_DAYS = 3
TRIAGE_ANSWERS = {"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3}
FIRST_MESSAGE = "Hej! Hur länge har du haft ont i halsen?"
DIALOGUE = [  # after the first message: patient, staff, patient, staff, patient
    (MessageAuthor.PATIENT, "Sedan i fredags, värst på morgonen."),
    (MessageAuthor.STAFF, "Har du feber eller svårt att svälja?"),
    (MessageAuthor.PATIENT, "Lite feber igår, 38,2. Det går att svälja."),
    (
        MessageAuthor.STAFF,
        "Drick varmt, vila och ta febernedsättande vid behov. Hör av dig om det blir värre.",
    ),
    (MessageAuthor.PATIENT, "Tack, det gör jag!"),
]
# The form data each user task gets (before the schema defaults are filled in, as the product does).
RECEIVE_DATA = {"priority_checked": True, "new_priority": None, "priority_reason": ""}
START_DATA = {"first_message": FIRST_MESSAGE}
CLOSE_DATA = {"outcome": "close", "concluded_in_dialogue": True, "confirmed": True, "note": ""}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class BenchClock:
    """A running MovableClock installed for the benchmark's duration (restored by `close`)."""

    def __init__(self, at: datetime = T0):
        self.clock = clock.MovableClock()
        self.clock.set(at)
        self.previous = clock.install_clock(self.clock)

    def close(self) -> None:
        clock.install_clock(self.previous)


# --- the care world -----------------------------------------------------------------------------


class CareWorld:
    """Region Östergötland with its policies and phrase templates, one care centre open around the
    clock, a signed-in nurse and doctor (work phones: new cases are SMSed), the real processes/ and
    forms/ deployed. New patients on demand; every service call is its own transaction."""

    def __init__(self, app):
        self.app = app
        self.database = app.extensions["database"]
        self.engine = app.extensions["engine"]
        self.patients = 0
        with self.database.transaction() as session:
            name, policies = REGIONS["OG"]
            region = Region(code="OG", name=name, policies=dict(policies))
            session.add(region)
            session.flush()
            seed_regional_defaults(session, region=region)
            seed_demo_tariffs(session, region=region)
            unit = Unit(
                region_id=region.id,
                name="Vårdcentralen Bänken",
                kind=UnitKind.CARE_CENTRE,
                activated=True,
                functions=FUNCTIONS,
                vtv_number="010-111 22 33",
                settings={"reopen_days": REOPEN_DAYS, "hours_between_contact_attempts": 2},
            )
            session.add(unit)
            session.flush()
            for weekday in range(7):
                session.add(
                    OpeningHours(unit_id=unit.id, weekday=weekday, opens=dtime(0), closes=dtime(23, 59))
                )
            users = {}
            for key, role in (("nurse", Role.NURSE), ("doctor", Role.DOCTOR)):
                user = User(
                    username=f"bench.{key}",
                    given_name=key.capitalize(),
                    family_name="Bänk",
                    title=role.value,
                    email=f"{key}@example.invalid",
                    work_phone="070-555 00 00",
                    created_at=clock.now(),
                    active=True,
                )
                session.add(user)
                session.flush()
                session.add(
                    Membership(
                        user_id=user.id,
                        unit_id=unit.id,
                        role=role,
                        valid_from=clock.now() - timedelta(days=30),
                    )
                )
                session.flush()
                sign_in(session, user=user, unit_id=unit.id)
                users[key] = user
            self.nurse = actor_for(session, users["nurse"], unit.id)
            doctor = actor_for(session, users["doctor"], unit.id)
            self.unit_id = unit.id
            results = deploy_directory(
                session,
                self.engine,
                processes_dir=PROCESSES_DIR,
                forms_dir=FORMS_DIR,
                actor=Actor(label="bench"),
            )
            refused = [r for r in results if r.status == "refused"]
            if refused:
                raise RuntimeError(f"processes/ did not deploy: {refused}")
        self.worker = TimerWorker(self.database, self.engine, name="bench-timers")
        self.staff = [self.nurse, doctor]

    def staff_at_work(self) -> None:
        """The nurse and the doctor show a sign of life now (untimed): present for the cases that follow,
        so new cases are texted to them as at a working unit (OG-8.7; presence expires when idle)."""
        with self.database.transaction() as session:
            for actor in self.staff:
                mark_idle(session, actor=actor, idle=False)

    def _do(self, action: Callable):
        return instances.perform(self.database, action)

    def new_patient(self) -> Actor:
        """A patient row (untimed setup); returns the resident acting for themself."""
        self.patients += 1
        with self.database.transaction() as session:
            patient = Patient(
                identity_number=f"BENCH{self.patients:09d}",
                identity_kind=IdentityKind.RESERVNUMMER,
                birth_date=date(1990, 1, 1),
                given_name="Bänk",
                family_name=f"Patient{self.patients}",
                mobile="070-123 45 67",
                protection=Protection.NONE,
            )
            session.add(patient)
            session.flush()
            return Actor(label=patient.display_name, patient_id=patient.id)

    # --- one call = one user action = one transaction ---

    def submit(self, resident: Actor) -> int:
        def action(session):
            case = submit_case(
                session,
                self.engine,
                actor=resident,
                patient_id=resident.patient_id,
                unit_id=self.unit_id,
                kind=CaseKind.SOK_VARD,
                triage=DemoTriage().assess(dict(TRIAGE_ANSWERS)),
            )
            return case.id

        return self._do(action)

    def receive(self, case_id: int) -> None:
        self._do(lambda s: handling.receive(s, self.engine, actor=self.nurse, case_id=case_id))

    def start(self, case_id: int) -> None:
        self._do(
            lambda s: handling.start(
                s, self.engine, actor=self.nurse, case_id=case_id, first_message=FIRST_MESSAGE
            )
        )

    def staff_write(self, case_id: int, body: str) -> None:
        self._do(lambda s: chat.staff_write(s, actor=self.nurse, case_id=case_id, body=body))

    def patient_write(self, resident: Actor, case_id: int, body: str) -> None:
        self._do(lambda s: chat.patient_write(s, self.engine, actor=resident, case_id=case_id, body=body))

    def remind(self, case_id: int) -> None:
        self._do(lambda s: chat.remind(s, actor=self.nurse, case_id=case_id))

    def close(self, case_id: int) -> None:
        self._do(
            lambda s: handling.close(
                s, self.engine, actor=self.nurse, case_id=case_id, concluded_in_dialogue=True, confirmed=True
            )
        )

    def fire_due_timers(self) -> int:
        """One timer-worker pass (claims, fires each due instance in its own transaction)."""
        return self.worker.run_once()

    # --- reading (untimed) ---

    def started_case(self) -> tuple[int, Actor]:
        resident = self.new_patient()
        case_id = self.submit(resident)
        self.receive(case_id)
        self.start(case_id)
        return case_id, resident

    def history(self, case_id: int) -> tuple[int, int]:
        with self.database.transaction() as session:
            messages = session.scalar(
                select(func.count()).select_from(ChatMessage).where(ChatMessage.case_id == case_id)
            )
            attempts = session.scalar(
                select(func.count()).select_from(ContactAttempt).where(ContactAttempt.case_id == case_id)
            )
            return messages, attempts

    def routine_completed(self, case_id: int) -> bool:
        with self.database.transaction() as session:
            case = session.get(Case, case_id)
            statuses = list(
                session.scalars(
                    select(ProcessInstance.status).where(
                        ProcessInstance.case_id == case_id, ProcessInstance.process_id == "chat_case"
                    )
                )
            )
            return case.state == CaseState.CLOSED and statuses == [InstanceStatus.COMPLETED]

    def dispose(self) -> None:
        self.database.dispose()


# --- 1. history --------------------------------------------------------------------------------


class HistoryBench:
    def __init__(self, world: CareWorld, bench_clock: BenchClock, *, messages: int, attempts: int):
        self.world = world
        self.clock = bench_clock.clock
        self.messages = messages
        self.attempts = attempts

    def fresh_case(self) -> int:
        return self.world.started_case()[0]

    def long_case(self) -> int:
        """A real started chat case two days old, then its history: `messages` chat messages in all
        (staff and patient in turns, the last one staff: the patient has not answered) and `attempts`
        contact attempts (chat, SMS reminder, phone), spread over the two days."""
        self.clock.advance(timedelta(days=-2))
        case_id, resident = self.world.started_case()
        self.clock.advance(timedelta(days=2))
        nurse_id = self.world.nurse.user_id
        with self.world.database.transaction() as session:
            case = session.get(Case, case_id)
            have_messages, have_attempts = (
                session.scalar(
                    select(func.count()).select_from(ChatMessage).where(ChatMessage.case_id == case_id)
                ),
                session.scalar(
                    select(func.count()).select_from(ContactAttempt).where(ContactAttempt.case_id == case_id)
                ),
            )
            start, end = case.started_at, clock.now() - timedelta(minutes=1)
            extra = max(0, self.messages - have_messages)
            rows = []
            for i in range(extra):
                at = start + (end - start) * (i + 1) / (extra + 1)
                staff = (
                    extra - 1 - i
                ) % 3 != 2  # two staff messages to one patient message; the last is staff
                rows.append(
                    {
                        "case_id": case_id,
                        "author": MessageAuthor.STAFF if staff else MessageAuthor.PATIENT,
                        "author_user_id": nurse_id if staff else None,
                        "author_patient_id": None if staff else resident.patient_id,
                        "body": f"Meddelande {i + 2} i en lång chatt om halsont och feber.",
                        "phrase_purpose": None,
                        "sent_at": at,
                    }
                )
            if rows:
                session.execute(insert(ChatMessage), rows)
                case.last_staff_message_at = max(
                    r["sent_at"] for r in rows if r["author"] == MessageAuthor.STAFF
                )
                patients = [r["sent_at"] for r in rows if r["author"] == MessageAuthor.PATIENT]
                case.last_patient_message_at = max(patients) if patients else case.last_patient_message_at
                case.patient_answered = False
            kinds = (AttemptKind.CHAT, AttemptKind.SMS_REMINDER, AttemptKind.PHONE)
            extra_attempts = max(0, self.attempts - have_attempts)
            if extra_attempts:
                session.execute(
                    insert(ContactAttempt),
                    [
                        {
                            "case_id": case_id,
                            "kind": kinds[i % 3],
                            "made_by": nurse_id,
                            "at": start + (end - start) * (i + 1) / (extra_attempts + 1),
                            "note": "",
                        }
                        for i in range(extra_attempts)
                    ],
                )
        return case_id

    def action(self, case_id: int) -> float:
        """A chat message, then an SMS reminder: two requests, two commits. A quarter of an hour after
        the previous action (untimed): the same text or a reminder minutes apart is a replay, not a new
        attempt (chat.REPLAY_WINDOW, REMINDER_REPLAY_WINDOW)."""
        self.clock.advance(minutes=15)
        started = time.perf_counter()
        self.world.staff_write(case_id, "Hur mår du nu? Svara gärna när du kan.")
        self.world.remind(case_id)
        return time.perf_counter() - started


def run_history(
    actions: int = 240, *, per_case: int = 10, messages: int = 1_000, attempts: int = 20, warmup: int = 10
) -> dict:
    app = make_app()
    bench_clock = BenchClock(T0 - timedelta(days=3))  # after create_app: it installs the system clock
    world = CareWorld(app)  # staff signed in before any case (long cases start two days back)
    bench_clock.clock.set(T0)
    world.staff_at_work()
    try:
        bench = HistoryBench(world, bench_clock, messages=messages, attempts=attempts)
        samples: dict[str, list[float]] = {"fresh": [], "long": []}
        long_history: list[tuple[int, int]] = []
        fresh_id = long_id = None
        for n in range(warmup + actions):
            if n % per_case == 0:
                fresh_id, long_id = bench.fresh_case(), bench.long_case()
                long_history.append(world.history(long_id))
            order = (
                (("fresh", fresh_id), ("long", long_id))
                if n % 2 == 0
                else (("long", long_id), ("fresh", fresh_id))
            )
            for kind, case_id in order:
                elapsed = bench.action(case_id)
                if n >= warmup:
                    samples[kind].append(elapsed)
        fresh, long = statistics.median(samples["fresh"]), statistics.median(samples["long"])
        return {
            "history_ratio": round(long / fresh, 3),
            "history_action_ms_fresh": _ms(fresh),
            "history_action_ms_long": _ms(long),
            "history_actions": actions,
            "history_long_messages": min(m for m, _ in long_history),
            "history_long_attempts": min(a for _, a in long_history),
        }
    finally:
        world.dispose()
        bench_clock.close()


# --- 2. whole chat cases ----------------------------------------------------------------------


class ServedChatCases:
    """Chat cases through the service layer, one transaction per user action."""

    def __init__(self, world: CareWorld, bench_clock: BenchClock):
        self.world = world
        self.clock = bench_clock.clock
        self.completed = 0

    def case(self) -> float:
        world = self.world
        self.clock.set(T0)
        resident = world.new_patient()  # untimed: the resident exists before they seek care
        timed = 0.0
        started = time.perf_counter()
        case_id = world.submit(resident)
        world.receive(case_id)
        world.start(case_id)
        for author, body in DIALOGUE:
            if author == MessageAuthor.PATIENT:
                world.patient_write(resident, case_id, body)
            else:
                world.staff_write(case_id, body)
        world.close(case_id)
        timed += time.perf_counter() - started
        self.clock.advance(days=REOPEN_DAYS, minutes=1)  # the reopen window ends
        started = time.perf_counter()
        fired = world.fire_due_timers()
        timed += time.perf_counter() - started
        if fired != 1 or not world.routine_completed(case_id):
            raise AssertionError(f"served chat case {case_id} did not complete (fired {fired})")
        self.completed += 1
        return timed


class _StubScriptEngine(PythonScriptEngine):
    """Spiff's own script engine (no sandbox) with a stub behind service tasks: each operator returns
    what the product's operator (tasks/cases.py) returns, without touching a database."""

    RESULTS: dict[str, Callable[[dict], dict]] = {
        "case_route": lambda p: {"role": p["role"]},
        "notify_staff_new_case": lambda p: {"notified": 1},
        "case_received": lambda p: {"received": True},
        "case_started": lambda p: {"started": True},
        "case_close": lambda p: {"reopen_until": (clock.now() + timedelta(days=REOPEN_DAYS)).isoformat()},
        "case_refer": lambda p: {"referral": p["referral"]},
        "case_refuse_protected": lambda p: {"refused": True},
        "case_record_protection": lambda p: {"confirmed": bool(p["confirmed"])},
        "case_phone_attempt": lambda p: {"reached": bool(p["reached"])},
        "case_reopen_after_close": lambda p: {"how": p["how"]},
        "case_request_consent": lambda p: {"consent_id": 1},
        "case_consent_declined": lambda p: {"kind": p["kind"]},
        "case_hand_over": lambda p: {"role": p["role"], "user_id": p.get("user_id")},
        "case_wrong_patient": lambda p: {"wrong_patient": True},
        "case_switch_meeting_form": lambda p: {"form": p["form"]},
        "case_test_followup": lambda p: {"followup_instance": 1},
        "case_tell_patient": lambda p: {"told": p["purpose"]},
        "case_find_assessor": lambda p: {
            "assessor_role": Role.PSYCHOLOGIST.value,
            "escalated": False,
            "owner_user_id": None,
        },
        "case_record_suicide_assessment": lambda p: {"risk": p["risk"]},
    }

    def __init__(self):
        super().__init__(
            environment=TaskDataEnvironment(
                {
                    "is_open": lambda unit_id, at=None: True,
                    "now": clock.now,
                    "iso": lambda moment: moment.isoformat(),
                }
            )
        )

    def call_service(self, task, operation_name=None, operation_params=None, **_kwargs):
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        return json.dumps(self.RESULTS[operation_name](params), default=str)


def _form_data(schema_file: str, data: dict) -> dict:
    """The data the product hands the engine: the form's schema defaults filled in, validated."""
    schema = json.loads((FORMS_DIR / schema_file).read_text(encoding="utf-8"))
    return instances.validate_form_data(schema, data)


class BareChatCases:
    """The same chat cases by SpiffWorkflow alone, kept as serialized state between steps."""

    def __init__(self, processes_dir: Path = PROCESSES_DIR):
        engine_clock.install()  # Spiff's timers read app.clock (the product's patch; idempotent)
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_files([str(p) for p in sorted(processes_dir.glob("*.bpmn"))])
        parser.add_dmn_files([str(p) for p in sorted(processes_dir.glob("*.dmn"))])
        self.spec = parser.get_spec("chat_case")
        self.subprocess_specs = parser.get_subprocess_specs("chat_case")
        self.serializer = InstanceSerializer()
        self.script_engine = _StubScriptEngine()
        self.steps = [
            ("Receive_nurse", _form_data("receive.schema.json", RECEIVE_DATA)),
            ("Start_nurse", _form_data("start.schema.json", START_DATA)),
            ("Handle_nurse", _form_data("handling.schema.json", CLOSE_DATA)),
        ]
        triage = DemoTriage().assess(dict(TRIAGE_ANSWERS))
        self.start_data = {
            "case_id": 1,
            "unit_id": 1,
            "priority": triage.priority,
            "category": triage.category,
            "unit_kind": UnitKind.CARE_CENTRE.value,
            "protected": False,
            "protected_policy": REGIONS["OG"][1]["protected_identity"],
            "after_hours_policy": REGIONS["OG"][1]["after_hours"],
            "send_anyway": False,
            "search_reason": triage.search_reason,
        }
        self.clock: clock.MovableClock | None = None
        self.completed = 0

    def _load(self, state: str) -> BpmnWorkflow:
        workflow = self.serializer.load(state, self.spec, self.subprocess_specs)
        workflow.script_engine = self.script_engine
        return workflow

    def _new(self) -> str:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(self.start_data)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(self.start_data)
        workflow.do_engine_steps()
        return self.serializer.dump(workflow)

    def _complete(self, state: str, element_id: str, data: dict) -> str:
        workflow = self._load(state)
        [task] = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
        if task.task_spec.bpmn_id != element_id:
            raise AssertionError(f"bare chat case waits at {task.task_spec.bpmn_id}, not {element_id}")
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        return self.serializer.dump(workflow)

    def _window_ends(self, state: str) -> tuple[str, bool]:
        workflow = self._load(state)
        workflow.refresh_timers()
        workflow.do_engine_steps()
        return self.serializer.dump(workflow), workflow.is_completed()

    def case(self) -> float:
        if self.clock is not None:
            self.clock.set(T0)
        started = time.perf_counter()
        state = self._new()
        for element_id, data in self.steps:
            state = self._complete(state, element_id, data)
        timed = time.perf_counter() - started
        if self.clock is not None:
            self.clock.advance(days=REOPEN_DAYS, minutes=1)
        started = time.perf_counter()
        state, completed = self._window_ends(state)
        timed += time.perf_counter() - started
        if not completed:
            raise AssertionError("bare chat case did not complete")
        self.completed += 1
        return timed


def run_cases(cases: int = 200, *, pg_url: str | None = None, warmup: int = 5) -> dict:
    apps = {"sqlite": make_app()}
    if pg_url:
        apps["pg"] = make_app(pg_url)
    bench_clock = BenchClock(T0 - timedelta(days=3))  # after create_app: it installs the system clock
    worlds = {}
    try:
        for name, app in apps.items():
            worlds[name] = ServedChatCases(CareWorld(app), bench_clock)  # staff signed in before any case
        bench_clock.clock.set(T0)
        for served in worlds.values():
            served.world.staff_at_work()
        bare = BareChatCases()
        bare.clock = bench_clock.clock
        sides: dict[str, Callable[[], float]] = {
            "bare": bare.case,
            **{name: served.case for name, served in worlds.items()},
        }
        samples: dict[str, list[float]] = {name: [] for name in sides}
        names = list(sides)
        for n in range(warmup + cases):
            shift = n % len(names)  # interleaved; who goes first rotates
            for name in names[shift:] + names[:shift]:
                elapsed = sides[name]()
                if n >= warmup:
                    samples[name].append(elapsed)
        median = {name: statistics.median(values) for name, values in samples.items()}
        result = {
            "chat_cases_per_s": round(1 / median["sqlite"], 2),
            "bare_chat_cases_per_s": round(1 / median["bare"], 2),
            "chat_case_ms": _ms(median["sqlite"]),
            "bare_chat_case_ms": _ms(median["bare"]),
            "chat_cases": cases,
            "chat_cases_completed": worlds["sqlite"].completed,
            "bare_chat_cases_completed": bare.completed,
        }
        result["chat_cases_ratio"] = round(result["chat_cases_per_s"] / result["bare_chat_cases_per_s"], 3)
        if "pg" in worlds:
            result["chat_cases_per_s_pg"] = round(1 / median["pg"], 2)
            result["chat_case_ms_pg"] = _ms(median["pg"])
            result["chat_cases_ratio_pg"] = round(
                result["chat_cases_per_s_pg"] / result["bare_chat_cases_per_s"], 3
            )
            result["chat_cases_completed_pg"] = worlds["pg"].completed
        return result
    finally:
        for served in worlds.values():
            served.world.dispose()
        bench_clock.close()
