"""Service-task operators: BPMN `spiffworkflow:serviceTaskOperator` names mapped to functions.

A function is registered with `@service_task("name")`. It receives a context object (the
`ServiceContext` protocol in tasks.context) and the evaluated parameters as keyword arguments,
and returns a JSON-serialisable dict that becomes the task's result variable.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceOperator:
    name: str
    function: Callable[..., dict]
    description: str
    parameters: tuple[str, ...]


_OPERATORS: dict[str, ServiceOperator] = {}
_LOADED = False


def service_task(name: str) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    """Register the decorated function as the service operator `name`."""

    def register(function: Callable[..., dict]) -> Callable[..., dict]:
        if name in _OPERATORS and _OPERATORS[name].function is not function:
            raise ValueError(f"service operator {name!r} is registered twice")
        params = tuple(p for p in inspect.signature(function).parameters if p != "ctx")
        doc = (inspect.getdoc(function) or "").splitlines()
        _OPERATORS[name] = ServiceOperator(name, function, doc[0] if doc else "", params)
        return function

    return register


def registered_operators() -> dict[str, ServiceOperator]:
    """All operators defined in the `tasks` package (its modules are imported once)."""
    global _LOADED
    if not _LOADED:
        import tasks

        for module in pkgutil.iter_modules(tasks.__path__):
            if module.name not in {"registry", "context"}:
                importlib.import_module(f"tasks.{module.name}")
        _LOADED = True
    return dict(_OPERATORS)
