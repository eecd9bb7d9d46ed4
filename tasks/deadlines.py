"""Operators that set and clear product deadlines counted in the unit's working hours."""

from __future__ import annotations

from tasks.context import ServiceContext
from tasks.registry import service_task


@service_task("set_working_hours_deadline")
def set_working_hours_deadline(ctx: ServiceContext, name: str, message: str, working_hours: float) -> dict:
    """Start a deadline of N working hours of the unit's opening time; the routine gets `message` when it is due."""
    due = ctx.schedule_deadline(name, message, float(working_hours))
    return {"name": name, "due_at": due.isoformat()}


@service_task("clear_deadline")
def clear_deadline(ctx: ServiceContext, name: str) -> dict:
    """Remove a pending deadline."""
    ctx.cancel_deadline(name)
    return {"name": name, "cleared": True}
