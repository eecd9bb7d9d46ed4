"""The instance page: state on the diagram, history, task data for those allowed, incidents with retry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AccessLog, AuditEvent
from app.audit.service import Actor
from app.instances import service as instances
from app.instances.models import HumanTask, Incident, IncidentStatus
from tasks.registry import ServiceOperator
from tests import factories as f


def _access_logs(session, instance_id):
    session.expire_all()
    return session.scalars(
        select(AccessLog).where(
            AccessLog.action == "instance:view", AccessLog.context == f"/instances/{instance_id}"
        )
    ).all()


def test_the_overall_responsible_on_duty_sees_states_history_and_task_data_and_the_read_is_access_logged(
    on_duty, pages, session, engine
):
    [instance] = on_duty.start(1)
    pages.sign_in("nurse")
    response = pages.get(f"/instances/{instance.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-element="StartEvent_1" data-state="completed"' in html
    assert 'data-element="Task_receive" data-state="active"' in html
    assert 'data-element="Timer_remind" data-state="waiting"' in html
    assert "Patient1 Patientsson" in html and "<code>case_id</code>" in html
    assert "startade rutinen" in html
    [log] = _access_logs(session, instance.id)
    assert log.case_id == instance.case_id and [p.patient_id for p in log.patients]


def test_the_history_says_who_did_what_and_when(on_duty, pages, session, engine):
    [instance] = on_duty.start(1)
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(
        session,
        engine,
        task_id=task.id,
        actor=on_duty.actors["nurse"],
        data={"priority_checked": True, "needs_doctor": True},
    )
    session.commit()
    pages.sign_in("head")
    html = pages.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert "slutförde uppgiften: Ta emot ärendet" in html and on_duty.actors["nurse"].label in html
    assert (
        'data-element="Task_receive" data-state="completed"' in html
        and 'data-element="Task_assess" data-state="active"' in html
    )


def test_a_process_owner_sees_the_routine_but_no_patient_data_and_no_access_log_is_written(
    on_duty, pages, session, engine
):
    case = f.case(session, on_duty.unit, f.patient(session, "199001018888", given="Residentia"))
    resident = Actor(label="Residentia Patientsson", patient_id=case.patient_id)  # the resident who submitted
    instance = instances.start_instance(session, engine, process_id="simple_case", actor=resident, case=case)
    session.commit()
    pages.sign_in("owner")
    html = pages.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert 'data-element="Task_receive" data-state="active"' in html
    assert "Residentia" not in html and "<code>case_id</code>" not in html
    assert "<td>Invånaren</td>" in html
    assert "Uppgiftsdata visas bara för den som får läsa ärendet." in html
    assert _access_logs(session, instance.id) == []
    # The head of unit may read the case: the resident's name is shown (and the read logged).
    pages.sign_in("head")
    assert "Residentia Patientsson" in pages.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert len(_access_logs(session, instance.id)) == 1


@pytest.mark.parametrize("who", ["nurse2", "doctor", "other_head"])
def test_staff_without_the_duty_and_other_units_heads_are_refused_with_403_and_an_audit_record(
    on_duty, pages, session, who
):
    [instance] = on_duty.start(1)
    pages.sign_in(who)
    assert pages.get(f"/instances/{instance.id}").status_code == 403
    assert pages.get(f"/instances/{instance.id}/diagram.bpmn").status_code == 403
    session.expire_all()
    assert (
        len(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "instance:view_refused", AuditEvent.subject_id == str(instance.id)
                )
            ).all()
        )
        == 2
    )
    assert _access_logs(session, instance.id) == []


class Flaky:
    def __init__(self):
        self.failures = 1

    def __call__(self, ctx, fail=False):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the SMS gateway did not answer")
        return {"ok": True}


def test_an_incident_is_shown_with_retry_and_the_retry_resolves_it(on_duty, pages, session, engine):
    engine.operators["test_flaky"] = ServiceOperator("test_flaky", Flaky(), "test", ("fail",))
    f.deploy_fixture(session, engine, "service_step.bpmn")
    case = f.case(session, on_duty.unit, f.patient(session, "199001019999"))
    instance = instances.start_instance(
        session,
        engine,
        process_id="service_step",
        actor=on_duty.actors["nurse"],
        case=case,
        data={"should_fail": False},
    )
    session.commit()
    task = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    instances.complete_task(session, engine, task_id=task.id, actor=on_duty.actors["nurse"], data={})
    session.commit()
    incident = session.scalar(select(Incident).where(Incident.instance_id == instance.id))
    pages.sign_in("nurse")
    html = pages.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert (
        "SMS gateway" in html and f"/incidents/{incident.id}/retry" in html and 'data-state="error"' in html
    )
    response = pages.post(f"/instances/{instance.id}/incidents/{incident.id}/retry")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Incident, incident.id).status == IncidentStatus.RESOLVED
    html = pages.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert "incidenten löstes" in html and "Steget gick igenom" in html
    # Someone who may not see the instance may not retry either.
    pages.sign_in("doctor")
    assert pages.post(f"/instances/{instance.id}/incidents/{incident.id}/retry").status_code == 403
