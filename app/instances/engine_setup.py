"""Build the process engine for this process (web or worker) from configuration and tasks/."""

from __future__ import annotations

from flask import Flask, current_app

from app.engine import ProcessEngine
from app.errors import Conflict, GuardRefused


def script_globals() -> dict:
    """Trusted functions BPMN expressions may call (sandboxed code cannot reach anything else)."""
    from app.instances.expressions import EXPRESSION_GLOBALS

    return dict(EXPRESSION_GLOBALS)


def build_engine(config: dict) -> ProcessEngine:
    from tasks.registry import registered_operators

    return ProcessEngine(
        operators=registered_operators(),
        script_globals=script_globals(),
        time_budget_s=config["SANDBOX_TIME_BUDGET_S"],
        size_budget=config["SANDBOX_SIZE_BUDGET"],
        max_tasks=config["INSTANCE_MAX_TASKS"],
        max_depth=config["INSTANCE_MAX_DEPTH"],
        # A colleague's change that won the race while a service task wrote the case: a 409 for the
        # whole action, never an incident on the routine. Likewise a rule an effect holds itself
        # (closing too early, say): the action is refused with its reason and nothing changes.
        caller_errors=(Conflict, GuardRefused),
    )


def init_app(app: Flask) -> ProcessEngine:
    engine = build_engine(app.config)
    app.extensions["engine"] = engine
    return engine


def current_engine() -> ProcessEngine:
    return current_app.extensions["engine"]
