"""Finding a case, its routine instance and its open tasks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.models import Case
from app.db import get_held
from app.errors import Conflict, NotFound
from app.instances.models import HumanTask, InstanceStatus, ProcessInstance

CASE_PROCESSES = ("chat_case", "admin_case", "chat_no_triage")


def get_case(session: Session, case_id: int, *, for_update: bool = False) -> Case:
    case = session.get(Case, case_id, with_for_update=True) if for_update else get_held(session, Case, case_id)
    if case is None:
        raise NotFound("Ärendet finns inte.")
    return case


def case_instance(session: Session, case_id: int) -> ProcessInstance | None:
    """The running routine instance of the case (its main process), if any."""
    return session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.case_id == case_id, ProcessInstance.process_id.in_(CASE_PROCESSES), ProcessInstance.status == InstanceStatus.RUNNING)
        .order_by(ProcessInstance.id.desc())
    )


def open_tasks(session: Session, case_id: int) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id).order_by(HumanTask.id)))


def task_for(session: Session, case_id: int, *prefixes: str) -> HumanTask:
    """The case's open task whose element id starts with one of `prefixes`, or a Conflict."""
    for task in open_tasks(session, case_id):
        if task.element_id.startswith(prefixes):
            return task
    raise Conflict("Ärendet väntar inte på det steget just nu (någon annan kan ha hunnit före).")
