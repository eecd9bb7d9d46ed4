"""A routine whose first step fails inside SpiffWorkflow with a bare exception still starts: the
resident's case is kept and the failure is an incident (not a server error that rolls it back)."""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import select

from app.instances import service as instances
from app.instances.models import HumanTask, Incident, IncidentStatus, InstanceStatus, ProcessInstance
from app.people.roles import Role
from tests import factories as f


def _invalid_duration(expression):
    raise Exception("Invalid duration")  # what SpiffWorkflow 3.2 raises for an unparseable duration


def test_an_unparseable_timer_at_start_leaves_the_instance_with_an_incident(session, engine, monkeypatch):
    f.deploy_fixture(session, engine, "simple_case.bpmn")
    unit = f.unit(session)
    actor = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
    case = f.case(session, unit, f.patient(session))
    session.commit()
    monkeypatch.setattr(TimerEventDefinition, "parse_iso_duration", staticmethod(_invalid_duration))

    instance = instances.start_instance(session, engine, process_id="simple_case", actor=actor, case=case)
    session.commit()

    assert session.get(ProcessInstance, instance.id).status == InstanceStatus.RUNNING
    [incident] = session.scalars(select(Incident)).all()
    assert (incident.instance_id, incident.element_id, incident.error_type, incident.status) == (
        instance.id,
        "Timer_remind",
        "Exception",
        IncidentStatus.OPEN,
    )
    assert incident.message == "Invalid duration"

    monkeypatch.undo()  # the cause is fixed: a retry runs the routine on from its start
    instances.retry_incident(session, engine, incident_id=incident.id, actor=actor)
    session.commit()
    assert incident.status == IncidentStatus.RESOLVED
    assert session.scalar(select(HumanTask.title).where(HumanTask.instance_id == instance.id)) is not None
