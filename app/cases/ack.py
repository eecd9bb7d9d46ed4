"""The acknowledgement inbox (vidimering): answers after closing, returned forms, declined consents."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases.models import AckItem
from app.cases.permissions import require_case_reader
from app.errors import Conflict, Forbidden, NotFound


def inbox(session: Session, *, actor: Actor) -> list[AckItem]:
    """Unacknowledged items of the acting unit for the actor (or for anyone of the unit); case readers only."""
    require_case_reader(actor)  # each item names a case and its patient
    return list(
        session.scalars(
            select(AckItem)
            .where(
                AckItem.unit_id == actor.unit_id,
                AckItem.acknowledged_at.is_(None),
                or_(AckItem.for_user_id.is_(None), AckItem.for_user_id == actor.user_id),
            )
            .order_by(AckItem.created_at)
        )
    )


def acknowledge(session: Session, *, actor: Actor, item_id: int) -> AckItem:
    """Sign an item off ("Kvittera"): a case reader of its unit, and its addressee if it has one."""
    require_case_reader(actor)
    # Locked: a colleague signing the same item off at the same moment waits, then sees it signed.
    item = session.get(AckItem, item_id, with_for_update=True, populate_existing=True)
    if item is None:
        raise NotFound("Posten finns inte.")
    if item.unit_id != actor.unit_id or (item.for_user_id is not None and item.for_user_id != actor.user_id):
        raise Forbidden("Posten är inte din.")
    if item.acknowledged_at is not None:  # one sign-off stands: a second never overwrites who and when
        raise Conflict("Posten är redan kvitterad.")
    item.acknowledged_at = clock.now()
    item.acknowledged_by = actor.user_id
    record(
        session,
        "ack:acknowledged",
        actor=actor,
        subject=("ack_item", item.id),
        kind=item.kind.value,
        case_id=item.case_id,
    )
    return item
