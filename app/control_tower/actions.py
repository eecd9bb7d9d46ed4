"""The tower's two actions, through the services that own them (audited there): move a case off an
absent owner to its role's queue (OG-6.1-j), and tell waiting patients of high load (OG-9.1, OG-10.1-d).

Both are the overall responsible's: the services refuse anyone else with Forbidden.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.cases import day_close, shifts
from app.cases.lookup import get_case
from app.control_tower.access import require_unit_view


def move_to_role_queue(session: Session, *, actor: Actor, case_id: int) -> int:
    """OG-6.1-j: the overall responsible moves a case from an absent owner to its role's queue; returns the unit."""
    case = get_case(session, case_id)
    require_unit_view(session, actor=actor, unit_id=case.unit_id)
    shifts.move_to_role_queue(session, actor=actor, case_id=case_id)
    return case.unit_id


def tell_high_load(session: Session, *, actor: Actor) -> int:
    """OG-9.1, OG-10.1-d: send the high-load phrase to the unit's waiting patients; returns how many were told."""
    return day_close.tell_waiting_patients_of_high_load(session, actor=actor)
