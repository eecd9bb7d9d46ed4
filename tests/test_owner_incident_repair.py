"""A process owner repairs an incident: the case stopped on a broken step, a fixed version is
published, the stuck instance is migrated onto it and the incident retried; the case goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import Conflict
from app.instances import migration
from app.instances import service as instances
from app.instances.models import HumanTask, Incident, IncidentStatus, InstanceStatus, ProcessInstance
from app.people.roles import Role
from tests import factories as f

BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_repair" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="repair_case" name="Reparation" isExecutable="true">
    <bpmn:laneSet id="LaneSet_r"><bpmn:lane id="Lane_r" name="Sjuksköterska">
      <bpmn:flowNodeRef>Start_r</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_before</bpmn:flowNodeRef><bpmn:flowNodeRef>Script_score</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_after</bpmn:flowNodeRef><bpmn:flowNodeRef>End_r</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_r"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_before" name="Förbered"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="Script_score" name="Räkna poäng"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing><bpmn:script>score = 10 // divisor</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="Task_after" name="Efterarbete"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_r"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_r" targetRef="Task_before" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_before" targetRef="Script_score" />
    <bpmn:sequenceFlow id="F3" sourceRef="Script_score" targetRef="Task_after" />
    <bpmn:sequenceFlow id="F4" sourceRef="Task_after" targetRef="End_r" />
  </bpmn:process>
</bpmn:definitions>
"""
FIX = ("score = 10 // divisor", "score = 10 // max(divisor, 1)")


class Owner:
    def __init__(self, session, engine, tmp: Path):
        self.session, self.engine, self.tmp = session, engine, tmp
        self.unit = f.unit(session)
        self.nurse = f.signed_in(session, f.user(session, self.unit, Role.NURSE), self.unit)
        self.owner = f.signed_in(
            session, f.user(session, self.unit, Role.PROCESS_OWNER, given="Owner"), self.unit
        )
        self.deploy()
        session.commit()

    def deploy(self, *replacements: tuple[str, str]) -> None:
        text = BROKEN
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new)
        folder = self.tmp / f"v{len(list(self.tmp.iterdir())) + 1}"
        folder.mkdir()
        (folder / "repair_case.bpmn").write_text(text, encoding="utf-8")
        result = f.deploy_fixture(self.session, self.engine, "repair_case.bpmn", processes_dir=folder)
        assert result.status == "deployed", result
        self.session.commit()

    def stuck_instance(self) -> tuple[ProcessInstance, Incident]:
        """A case whose routine failed on Script_score (division by zero) after the first task."""
        case = f.case(self.session, self.unit, f.patient(self.session))
        instance = instances.start_instance(
            self.session,
            self.engine,
            process_id="repair_case",
            actor=self.nurse,
            case=case,
            data={"divisor": 0},
        )
        self.session.commit()
        task = self.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
        instances.complete_task(self.session, self.engine, task_id=task.id, actor=self.nurse, data={})
        self.session.commit()
        incident = self.session.scalar(select(Incident).where(Incident.instance_id == instance.id))
        assert (incident.element_id, incident.status) == ("Script_score", IncidentStatus.OPEN)
        return instance, incident

    def open_titles(self, instance_id: int) -> list[str]:
        self.session.expire_all()
        return list(self.session.scalars(select(HumanTask.title).where(HumanTask.instance_id == instance_id)))


@pytest.fixture
def owner(session, engine, tmp_path, clock) -> Owner:
    folder = tmp_path / "versions"
    folder.mkdir()
    return Owner(session, engine, folder)


def test_an_incident_on_a_broken_script_is_repaired_by_publishing_a_fix_migrating_and_retrying(
    owner, session, engine
):
    instance, incident = owner.stuck_instance()
    # Retrying on the broken version fails again: the script itself is wrong.
    instances.retry_incident(session, engine, incident_id=incident.id, actor=owner.owner)
    session.commit()
    assert incident.status == IncidentStatus.OPEN and incident.retries == 1

    owner.deploy(FIX)
    [candidate] = migration.dry_run(
        session, engine, actor=owner.owner, process_id="repair_case", from_number=1, to_number=2
    )
    assert candidate.possible, candidate.reasons
    assert candidate.repairs == ["Script_score"]
    migration.migrate_instance(
        session,
        engine,
        actor=owner.owner,
        instance_id=instance.id,
        from_number=1,
        to_number=2,
        expected_version=candidate.version,
    )
    session.commit()
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance:migrated")).all()
    assert event.details["repaired"] == ["Script_score"] and event.details["to_version"] == 2
    # The incident stays open until the step has run on the fixed version.
    session.refresh(incident)
    assert incident.status == IncidentStatus.OPEN

    instances.retry_incident(session, engine, incident_id=incident.id, actor=owner.owner)
    session.commit()
    session.refresh(incident)
    assert incident.status == IncidentStatus.RESOLVED
    assert owner.open_titles(instance.id) == ["Efterarbete"]
    moved = session.get(ProcessInstance, instance.id)
    assert moved.status == InstanceStatus.RUNNING
    assert (
        moved.process_version_id
        == migration.version_by_number(session, process_id="repair_case", number=2).id
    )
    handle = engine.restore(engine.loaded(moved.bundle_hash, lambda: None), moved.state)
    assert handle.data["score"] == 10


def test_a_fix_that_also_changes_the_steps_after_the_failed_one_leads_the_case_onto_the_new_steps(
    owner, session, engine
):
    instance, incident = owner.stuck_instance()
    owner.deploy(
        FIX,
        (
            '<bpmn:userTask id="Task_after" name="Efterarbete">',
            '<bpmn:userTask id="Task_followup" name="Uppföljning">',
        ),
        ('targetRef="Task_after"', 'targetRef="Task_followup"'),
        ('sourceRef="Task_after"', 'sourceRef="Task_followup"'),
        (
            "<bpmn:flowNodeRef>Task_after</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>Task_followup</bpmn:flowNodeRef>",
        ),
    )
    migration.migrate_instance(
        session, engine, actor=owner.owner, instance_id=instance.id, from_number=1, to_number=2
    )
    session.commit()
    instances.retry_incident(session, engine, incident_id=incident.id, actor=owner.owner)
    session.commit()
    session.refresh(incident)
    assert incident.status == IncidentStatus.RESOLVED
    assert owner.open_titles(instance.id) == ["Uppföljning"]


def test_repairing_keeps_the_other_migration_checks(owner, session, engine):
    instance, _ = owner.stuck_instance()
    # The failed step removed: refused (the instance would have nowhere to go on from).
    owner.deploy(
        ('<bpmn:scriptTask id="Script_score"', '<bpmn:scriptTask id="Script_points"'),
        ('targetRef="Script_score"', 'targetRef="Script_points"'),
        ('sourceRef="Script_score"', 'sourceRef="Script_points"'),
        (
            "<bpmn:flowNodeRef>Script_score</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>Script_points</bpmn:flowNodeRef>",
        ),
    )
    [candidate] = migration.dry_run(
        session, engine, actor=owner.owner, process_id="repair_case", from_number=1, to_number=2
    )
    assert ("removed_active", "Script_score") in candidate.reasons
    # A completed step changed together with the fix: refused as before.
    owner.deploy(FIX, ('name="Förbered"', 'name="Förbered noga"'))
    [candidate] = migration.dry_run(
        session, engine, actor=owner.owner, process_id="repair_case", from_number=1, to_number=3
    )
    assert candidate.reasons == [("changed_completed", "Task_before")]
    with pytest.raises(Conflict, match="completed step changed"):
        migration.migrate_instance(
            session, engine, actor=owner.owner, instance_id=instance.id, from_number=1, to_number=3
        )


def test_the_migration_page_says_which_failed_step_the_move_repairs(owner, session, client):
    owner.stuck_instance()
    owner.deploy(FIX)
    with client.session_transaction() as browser:
        browser["user_id"], browser["unit_id"] = owner.owner.user_id, owner.owner.unit_id
    session.commit()
    html = client.get("/process-models/repair_case/migration?from=1&to=2&dry_run=1").get_data(as_text=True)
    assert "Lagar det felade steget Script_score: kör om incidenten efter flytten." in html
