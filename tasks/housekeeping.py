"""Small general-purpose operators usable from any routine."""

from __future__ import annotations

from tasks.context import ServiceContext
from tasks.registry import service_task


@service_task("record_decision")
def record_decision(ctx: ServiceContext, decision: str, reason: str = "") -> dict:
    """Write a decision the routine took into the audit trail (e.g. an automatic referral)."""
    ctx.audit("routine:decision", decision=decision, reason=reason)
    return {"recorded_at": ctx.now().isoformat(), "decision": decision}
