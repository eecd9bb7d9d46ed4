"""Guards on user tasks: a diagram names one (`spiffworkflow:property name="guard"`), and every way
of completing that task — page, API, generic task form — runs it first. A refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.db import transaction_store
from app.instances.models import ProcessInstance

TaskGuard = Callable[[Session, ProcessInstance, Mapping[str, Any], Actor], None]
_GUARDS: dict[str, TaskGuard] = {}


def task_guard(name: str) -> Callable[[TaskGuard], TaskGuard]:
    """Register the decorated function as the task guard `name`."""

    def register(function: TaskGuard) -> TaskGuard:
        _GUARDS[name] = function
        return function

    return register


def known_guards() -> set[str]:
    return set(_GUARDS)


def run_guard(
    name: str | None, session: Session, instance: ProcessInstance, data: Mapping[str, Any], actor: Actor
) -> None:
    """Run the named guard (raise GuardRefused to refuse); no name, no guard."""
    if not name:
        return
    guard = _GUARDS.get(name)
    if guard is None:
        raise LookupError(f"the diagram names an unknown task guard '{name}'")
    guard(session, instance, data, actor)
    passed_guards(session).add((name, instance.case_id))


def passed_guards(session: Session) -> set[tuple[str, int | None]]:
    """The (guard, case id) pairs that passed in this transaction: an effect that must hold its own rule
    whatever the diagram names (closing, say) need not check twice."""
    return transaction_store(session, "passed_guards").setdefault("passed", set())
