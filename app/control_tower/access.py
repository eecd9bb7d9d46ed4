"""Who may see the control tower, checked on the unit or region asked for (OG-10.1-j: a permission).

A unit's tower: its staff member holding the overall-responsible duty now, and its heads of unit
(Verksamhetschef). The region's tower: heads of unit of any unit in the region; it shows counts
only, never a patient, so it writes no access log and opens no unit's case lists.
A refusal raises Forbidden; the blueprint's error handler audits the attempt.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.cases.permissions import DUTY
from app.errors import Forbidden, NotFound
from app.people.models import Unit
from app.people.roles import Role


def may_see_unit(actor: Actor, unit_id: int) -> bool:
    """The overall responsible on duty at the unit, or its head of unit (acting for that unit)."""
    if actor.user_id is None or actor.unit_id != unit_id:
        return False
    return DUTY in actor.roles or Role.HEAD_OF_UNIT.value in actor.roles


def require_unit_view(session: Session, *, actor: Actor, unit_id: int) -> Unit:
    """The unit, or Forbidden for anyone who may not see its tower."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("Enheten finns inte.")
    if not may_see_unit(actor, unit_id):
        raise Forbidden(
            "Flygledartornet visas för den som har det övergripande ansvaret och för verksamhetschefen.",
            unit_id=unit_id,
        )
    return unit


def require_region_view(session: Session, *, actor: Actor) -> int:
    """The region id of the actor's unit, or Forbidden unless the actor is a head of unit there."""
    if actor.user_id is None or actor.unit_id is None or Role.HEAD_OF_UNIT.value not in actor.roles:
        raise Forbidden("Regionens flygledartorn visas för verksamhetschefer.")
    return session.get(Unit, actor.unit_id).region_id
