"""Finding a case, its routine instance and its open tasks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from app.cases.models import Case
from app.db import transaction_store
from app.errors import Conflict, NotFound
from app.instances.models import HumanTask, InstanceStatus, ProcessInstance
from app.people.models import Region, Unit

CASE_PROCESSES = ("chat_case", "admin_case", "chat_no_triage")


# Nearly every action on a case reads its patient (permissions, notices, the task projection) and
# its unit with the region's policies: they come with the case's row, in one statement.
# Prebuilt: a statement built once reads faster than `session.get` builds one (the identity map is
# not skipped: a case or unit already in the session comes back as that same object).
_CASE_WITH_PATIENT_AND_UNIT = (
    select(Case, Unit)
    .join_from(Case, Unit, Unit.id == Case.unit_id)
    .options(joinedload(Case.patient, innerjoin=True), joinedload(Unit.region, innerjoin=True))
    .where(Case.id == bindparam("id"))
)
_UNIT_WITH_REGION = (
    select(Unit).options(joinedload(Unit.region, innerjoin=True)).where(Unit.id == bindparam("id"))
)


def get_case(session: Session, case_id: int, *, for_update: bool = False) -> Case:
    if for_update:
        case = session.get(Case, case_id, with_for_update=True)
    else:
        key = (Case, case_id)
        case = transaction_store(session, "held").get(
            key
        )  # the store get_held uses: one copy per transaction
        if case is None:
            row = session.execute(_CASE_WITH_PATIENT_AND_UNIT, {"id": case_id}).first()
            if row is not None:
                case, unit = row
                # Looked up again: the read may have begun the transaction the store belongs to.
                held = transaction_store(session, "held")
                held[key] = case
                held.setdefault((Unit, unit.id), unit)
                held.setdefault((Region, unit.region_id), unit.region)
    if case is None:
        raise NotFound(_l("Ärendet finns inte."))
    return case


def get_unit(session: Session, unit_id: int) -> Unit | None:
    """The unit with its region, kept for the rest of the transaction (like `get_held`)."""
    key = (Unit, unit_id)
    unit = transaction_store(session, "held").get(key)
    if unit is None:
        unit = session.scalars(_UNIT_WITH_REGION, {"id": unit_id}).first()
        if unit is not None:
            # Looked up again: the read may have begun the transaction the store belongs to.
            held = transaction_store(session, "held")
            held[key] = unit
            held.setdefault((Region, unit.region_id), unit.region)
    return unit


def case_instance(session: Session, case_id: int) -> ProcessInstance | None:
    """The running routine instance of the case (its main process), if any."""
    return session.scalar(
        select(ProcessInstance)
        .where(
            ProcessInstance.case_id == case_id,
            ProcessInstance.process_id.in_(CASE_PROCESSES),
            ProcessInstance.status == InstanceStatus.RUNNING,
        )
        .order_by(ProcessInstance.id.desc())
    )


def open_tasks(session: Session, case_id: int) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id).order_by(HumanTask.id)))


NOT_WAITING = _l("Ärendet väntar inte på det steget just nu (någon annan kan ha hunnit före).")


def task_for(session: Session, case_id: int, *prefixes: str) -> HumanTask:
    """The case's open task whose element id starts with one of `prefixes`, or a Conflict."""
    for task in open_tasks(session, case_id):
        if task.element_id.startswith(prefixes):
            return task
    raise Conflict(NOT_WAITING)
