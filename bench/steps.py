"""Issue 2's benchmark: the cost of one served step against SpiffWorkflow alone.

bare_step_ms      SpiffWorkflow alone: deserialize → complete one user task → engine steps →
                  serialize, with the spec kept out of the state (as ours is).
persisted_step_ms the service-layer completion of the same task, commit included (SQLite).
persisted_step_ms_pg  the same on PostgreSQL, when TEST_DATABASE_URL is set.
Runs are interleaved (bare, persisted, bare, ...) and medians are taken over ≥ 200 steps each.
"""

from __future__ import annotations

import statistics
import time

# The bare measurement uses SpiffWorkflow directly on purpose: it is the yardstick.
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from app.engine.serializer import InstanceSerializer
from app.instances import service as instances
from app.instances.models import HumanTask
from app.patients.models import IdentityKind, Patient
from app.people.roles import Role
from bench.setup import BENCH_DIR, bench_world, make_app

STEP_DATA = {"needs_doctor": True}


class BareCases:
    """Cases run by SpiffWorkflow alone, kept as serialized state between steps."""

    def __init__(self, diagram: str = "chat_case_bench.bpmn"):
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_file(str(BENCH_DIR / diagram))
        process_id = parser.get_process_ids()[0]
        self.spec = parser.get_spec(process_id)
        self.subprocess_specs = parser.get_subprocess_specs(process_id)
        self.serializer = InstanceSerializer()
        self.state = self._new()

    def _new(self) -> str:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.do_engine_steps()
        return self.serializer.dump(workflow)

    def step(self) -> float:
        """One request-shaped step; returns seconds. Starts a new case when one finishes."""
        started = time.perf_counter()
        workflow = self.serializer.load(self.state, self.spec, self.subprocess_specs)
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update(STEP_DATA)
        task.run()
        workflow.do_engine_steps()
        self.state = self.serializer.dump(workflow)
        elapsed = time.perf_counter() - started
        if workflow.is_completed():
            self.state = self._new()
        return elapsed


class PersistedCases:
    """The same routine through the service layer, one transaction per completion."""

    def __init__(self, url: str | None = None):
        self.app = make_app(url)
        self.database = self.app.extensions["database"]
        self.engine = self.app.extensions["engine"]
        self.unit_id, self.actors = bench_world(self.app)
        self.counter = 0
        self.instance_id = self._new()

    def _new(self) -> int:
        from app import clock
        from app.cases.models import Case, CaseKind

        self.counter += 1
        with self.database.transaction() as session:
            patient = Patient(
                identity_number=f"BENCH{self.counter:07d}",
                identity_kind=IdentityKind.RESERVNUMMER,
                birth_date=clock.now().date().replace(year=1990),
                given_name="Bench",
                family_name=str(self.counter),
            )
            session.add(patient)
            session.flush()
            case = Case(
                kind=CaseKind.SOK_VARD,
                unit_id=self.unit_id,
                patient_id=patient.id,
                submitted_by_id=patient.id,
                priority=3,
                search_reason="Bench",
                submitted_at=clock.now(),
            )
            session.add(case)
            session.flush()
            return instances.start_instance(
                session, self.engine, process_id="chat_case_bench", actor=self.actors[Role.NURSE], case=case
            ).id

    def step(self) -> float:
        with self.database.transaction() as session:
            task = session.scalar(select(HumanTask).where(HumanTask.instance_id == self.instance_id))
            task_id, role = task.id, task.role
        actor = self.actors[role]
        started = time.perf_counter()
        instances.perform(
            self.database,
            lambda s: instances.complete_task(s, self.engine, task_id=task_id, actor=actor, data=STEP_DATA),
        )
        elapsed = time.perf_counter() - started
        with self.database.transaction() as session:
            finished = (
                session.scalar(select(HumanTask.id).where(HumanTask.instance_id == self.instance_id)) is None
            )
        if finished:
            self.instance_id = self._new()
        return elapsed


def run(steps: int = 240, pg_url: str | None = None) -> dict:
    bare = BareCases()
    sqlite = PersistedCases()
    pg = PersistedCases(pg_url) if pg_url else None
    for _ in range(10):  # warm caches (spec parse, connections)
        bare.step(), sqlite.step()
        if pg:
            pg.step()
    samples: dict[str, list[float]] = {"bare": [], "sqlite": [], "pg": []}
    for _ in range(steps):
        samples["bare"].append(bare.step())
        samples["sqlite"].append(sqlite.step())
        if pg:
            samples["pg"].append(pg.step())
    result = {
        "bare_step_ms": round(statistics.median(samples["bare"]) * 1000, 3),
        "persisted_step_ms": round(statistics.median(samples["sqlite"]) * 1000, 3),
        "step_samples": steps,
    }
    if pg:
        result["persisted_step_ms_pg"] = round(statistics.median(samples["pg"]) * 1000, 3)
    result["step_ratio"] = round(result["persisted_step_ms"] / result["bare_step_ms"], 2)
    return result
