"""A called process is a process model of its own: new cases of its callers run its version in
effect, running ones keep theirs until migrated, and importing or exporting one diagram never
blocks or overwrites another."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import clock as app_clock
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.instances import migration
from app.instances import service as instances
from app.instances.models import HumanTask, ProcessInstance
from app.people.roles import Role
from app.process_models import publishing, transfer
from app.process_models.findings import has_errors
from app.process_models.models import ProcessModel, ProcessVersion
from app.process_models.overview import model_rows
from app.process_models.service import deploy_directory, deploy_file, load_bundle
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "tests" / "fixtures" / "forms"

CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_caller" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="caller" name="Anropare" isExecutable="true">
    <bpmn:laneSet id="LaneSet_c"><bpmn:lane id="Lane_c" name="Sjuksköterska">
      <bpmn:flowNodeRef>Start_c</bpmn:flowNodeRef><bpmn:flowNodeRef>Call_risk</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_close</bpmn:flowNodeRef><bpmn:flowNodeRef>End_c</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_c"><bpmn:outgoing>C1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="Call_risk" name="Riskbedömning" calledElement="risk"><bpmn:incoming>C1</bpmn:incoming><bpmn:outgoing>C2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:userTask id="Task_close" name="Avsluta"><bpmn:incoming>C2</bpmn:incoming><bpmn:outgoing>C3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_c"><bpmn:incoming>C3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="C1" sourceRef="Start_c" targetRef="Call_risk" />
    <bpmn:sequenceFlow id="C2" sourceRef="Call_risk" targetRef="Task_close" />
    <bpmn:sequenceFlow id="C3" sourceRef="Task_close" targetRef="End_c" />
  </bpmn:process>
</bpmn:definitions>
"""
CALLEE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_risk" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="risk" name="Risk" isExecutable="true">
    <bpmn:laneSet id="LaneSet_r"><bpmn:lane id="Lane_r" name="Sjuksköterska">
      <bpmn:flowNodeRef>Start_r</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_follow</bpmn:flowNodeRef><bpmn:flowNodeRef>End_r</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_r"><bpmn:outgoing>R1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_assess" name="Bedöm risken"><bpmn:incoming>R1</bpmn:incoming><bpmn:outgoing>R2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_follow" name="Följ upp"><bpmn:incoming>R2</bpmn:incoming><bpmn:outgoing>R3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_r"><bpmn:incoming>R3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="R1" sourceRef="Start_r" targetRef="Task_assess" />
    <bpmn:sequenceFlow id="R2" sourceRef="Task_assess" targetRef="Task_follow" />
    <bpmn:sequenceFlow id="R3" sourceRef="Task_follow" targetRef="End_r" />
  </bpmn:process>
</bpmn:definitions>
"""
FIXED_FOLLOW_UP = ('name="Följ upp"', 'name="Följ upp inom en vecka"')


class World:
    def __init__(self, session, engine, clock, tmp: Path):
        self.session, self.engine, self.clock, self.dir = session, engine, clock, tmp
        self.started = 0
        self.unit = f.unit(session)
        self.nurse = f.signed_in(session, f.user(session, self.unit, Role.NURSE), self.unit)
        self.owner = f.signed_in(
            session, f.user(session, self.unit, Role.PROCESS_OWNER, given="Owner"), self.unit
        )
        self.head = f.user(session, self.unit, Role.HEAD_OF_UNIT, given="Head")
        (tmp / "caller.bpmn").write_text(CALLER, encoding="utf-8")
        (tmp / "risk.bpmn").write_text(CALLEE, encoding="utf-8")
        results = deploy_directory(
            session, engine, processes_dir=tmp, forms_dir=FORMS, actor=Actor(label="test")
        )
        assert [r.status for r in results] == ["deployed", "deployed"], results
        session.commit()
        clock.advance(minutes=1)

    def redeploy_callee(self, *replacements: tuple[str, str]) -> None:
        text = CALLEE
        for old, new in replacements:
            text = text.replace(old, new)
        (self.dir / "risk.bpmn").write_text(text, encoding="utf-8")
        result = deploy_file(
            self.session, self.engine, path=self.dir / "risk.bpmn", processes_dir=self.dir, forms_dir=FORMS,
            actor=Actor(label="test"),
        )  # fmt: skip
        assert result.status == "deployed", result
        self.session.commit()
        self.clock.advance(minutes=1)

    def start(self) -> ProcessInstance:
        self.started += 1
        case = f.case(self.session, self.unit, f.patient(self.session, f"1992030{self.started:05d}"))
        instance = instances.start_instance(
            self.session, self.engine, process_id="caller", actor=self.nurse, case=case
        )
        self.session.commit()
        return instance

    def complete(self, instance: ProcessInstance) -> None:
        task = self.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
        instances.complete_task(self.session, self.engine, task_id=task.id, actor=self.nurse, data={})
        self.session.commit()

    def titles(self, instance: ProcessInstance) -> list[str]:
        self.session.expire_all()
        return list(self.session.scalars(select(HumanTask.title).where(HumanTask.instance_id == instance.id)))

    def versions(self, process_id: str) -> int:
        return len(
            self.session.scalars(
                select(ProcessVersion).join(ProcessModel).where(ProcessModel.process_id == process_id)
            ).all()
        )


@pytest.fixture
def world(session, engine, clock, tmp_path) -> World:
    folder = tmp_path / "processes"
    folder.mkdir()
    return World(session, engine, clock, folder)


def test_new_cases_of_a_caller_run_the_called_process_version_in_effect_and_running_ones_keep_theirs(
    world, session, engine
):
    running = world.start()
    world.complete(running)  # at "Följ upp" inside the called process
    assert world.titles(running) == ["Följ upp"]

    world.redeploy_callee(FIXED_FOLLOW_UP)
    # The fix is a new version of the called model only: the caller is not copied again.
    assert (world.versions("risk"), world.versions("caller")) == (2, 1)
    fresh = world.start()
    world.complete(fresh)
    assert world.titles(fresh) == ["Följ upp inom en vecka"]
    assert world.titles(running) == ["Följ upp"]  # a running case keeps what it started with


def test_a_running_case_moves_onto_the_called_process_newer_version_by_migrating_within_its_version(
    world, session, engine
):
    running = world.start()  # at "Bedöm risken"; the next step is the one the fix changes
    world.redeploy_callee(FIXED_FOLLOW_UP)
    [candidate] = migration.dry_run(
        session, engine, actor=world.owner, process_id="caller", from_number=1, to_number=1
    )
    assert candidate.possible, candidate.reasons
    migration.migrate_instance(
        session, engine, actor=world.owner, instance_id=running.id, from_number=1, to_number=1
    )
    session.commit()
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "instance:migrated")).all()
    world.complete(running)
    assert world.titles(running) == ["Följ upp inom en vecka"]
    [again] = migration.dry_run(
        session, engine, actor=world.owner, process_id="caller", from_number=1, to_number=1
    )
    assert again.reasons == [("same_version", None)]


def test_a_case_started_after_a_rolled_back_start_runs_on_a_stored_composed_bundle(world, session, database):
    """The composition is cached in the process; the bundle row is not: a start whose transaction
    rolled back (its composed bundle's first store with it) must not leave the next case on a bundle
    hash no other process can load."""
    world.redeploy_callee(FIXED_FOLLOW_UP)  # a composition no start has stored yet
    case = f.case(session, world.unit, f.patient(session, "199203019999"))
    instances.start_instance(session, world.engine, process_id="caller", actor=world.nurse, case=case)
    session.rollback()
    instance = world.start()
    other_process = database.new_session()  # what another web or timer worker would read
    try:
        assert load_bundle(other_process, instance.bundle_hash).process_id == "caller"
    finally:
        other_process.close()


def test_the_model_page_names_the_callers_of_a_called_process(world, session):
    [risk] = model_rows(session, process_id="risk")
    assert risk.callers == [("caller", "Anropare")]
    [caller] = model_rows(session, process_id="caller")
    assert caller.callers == [] and caller.calls == ["risk"]


@pytest.fixture
def product(session, engine, clock):
    """The product's own routines deployed from processes/, a process owner and an approver."""
    deploy_directory(
        session, engine, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms", actor=Actor(label="test")
    )
    unit = f.unit(session)
    owner = f.signed_in(session, f.user(session, unit, Role.PROCESS_OWNER, given="Owner"), unit)
    head = f.user(session, unit, Role.HEAD_OF_UNIT, given="Head")
    session.commit()
    clock.advance(minutes=1)
    return owner, head


def test_reimporting_chat_case_gives_a_publishable_draft(product, session, engine):
    owner, head = product
    draft, findings = transfer.import_bpmn(
        session,
        engine,
        actor=owner,
        process_id="chat_case",
        data=(ROOT / "processes" / "chat_case.bpmn").read_bytes(),
        forms_dir=ROOT / "forms",
        filename="chat_case.bpmn",
    )
    assert not has_errors(findings), [f.message for f in findings if f.severity == "error"]
    published = publishing.publish_draft(
        session, engine, actor=owner, process_id="chat_case", number=draft.number, expected_hash=draft.bundle_hash,
        approver_user_id=head.id, change_note="importerad igen", effective_from=app_clock.now() + timedelta(minutes=1),
    )  # fmt: skip
    assert published.status.value == "published"


def test_exporting_a_caller_never_overwrites_the_called_process_file(product, session, tmp_path):
    owner, _ = product
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    processes.mkdir(), forms.mkdir()
    (processes / "suicide_risk.bpmn").write_text("the process owner's newer suicide_risk", encoding="utf-8")
    written = transfer.export_to_directories(
        session, actor=owner, process_id="chat_case", number=None, processes_dir=processes, forms_dir=forms
    )
    assert (processes / "suicide_risk.bpmn").read_text(
        encoding="utf-8"
    ) == "the process owner's newer suicide_risk"
    assert "chat_case.bpmn" in {p.name for p in written}
    assert not {p.name for p in written} & {"suicide_risk.bpmn", "suicide_assessment.schema.json"}
    # The stored version of the caller holds its own part only.
    version = session.scalar(
        select(ProcessVersion).join(ProcessModel).where(ProcessModel.process_id == "chat_case")
    )
    assert "suicide_risk.bpmn" not in load_bundle(session, version.bundle_hash).documents


def test_the_called_models_page_leads_the_process_owner_to_move_the_callers_running_cases(
    world, session, client
):
    """After a fix of the called process, its page links each caller's migration page with the dry run
    of a move within the caller's version in effect; following it shows the running case can move."""
    running = world.start()
    with client.session_transaction() as browser:
        browser["user_id"], browser["unit_id"], browser["csrf_token"] = (
            world.owner.user_id,
            world.unit.id,
            "t",
        )
    assert "/process-models/caller/migration?" not in client.get("/process-models/risk").get_data(
        as_text=True
    )
    world.redeploy_callee(FIXED_FOLLOW_UP)  # now there is a newer version to move onto
    page = client.get("/process-models/risk").get_data(as_text=True)
    [link] = re.findall(r'href="(/process-models/caller/migration\?[^"]+)"', page)
    assert "from=1" in link and "to=1" in link and "dry_run=1" in link
    dry_run = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "1 av 1 pågående instanser kan flyttas." in dry_run and f"/migration/{running.id}" in dry_run
    moved = client.post("/process-models/caller/migration", data={"from": 1, "to": 1, "csrf_token": "t"})
    assert moved.status_code == 302
    assert "1 instans flyttades till version 1." in client.get(moved.headers["Location"]).get_data(
        as_text=True
    )
    world.complete(running)
    assert world.titles(running) == ["Följ upp inom en vecka"]  # the fix reached the running case
