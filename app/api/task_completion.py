"""Completing a task through the API with the same checks as the case page's generic task form.

The page's `app.casework.actions.complete_case_task` types posted form strings first; the API gets
typed JSON, so it goes straight to the routine with the same case-level permission check first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.cases.lookup import get_case
from app.cases.permissions import require_act
from app.engine import ProcessEngine
from app.errors import Conflict
from app.instances import service as instances
from app.instances.models import HumanTask, ProcessInstance


def complete_case_task(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    task_id: int,
    data: Mapping[str, Any],
    expected_version: int | None,
) -> ProcessInstance:
    """Complete an open task with JSON data: the case's act permission (403, logged), then the routine's
    own validation, guard and version check (`instances.complete_task`)."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise Conflict("the task is no longer open: someone else completed it or the case moved on")
    if task.case_id is not None:
        require_act(session, actor, get_case(session, task.case_id))
    return instances.complete_task(
        session, engine, task_id=task.id, actor=actor, data=data, expected_version=expected_version
    )
