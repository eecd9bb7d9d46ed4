"""The acknowledgement inbox (vidimering): answers after closing, returned forms, declined consents.

An item may name its addressee (the clinician who sent the form, the case's owner). When that person is
not present at the unit (the shift ended, they went home, the case went to the role queue), the item
is the overall responsible's, or everyone's of the unit while nobody holds the duty: a returned form
never waits for someone who has left (OG-6.1-i, OG-6.1-j, HA-shift).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases.models import AckItem
from app.cases.permissions import require_case_reader
from app.errors import Conflict, Forbidden, NotFound
from app.people.roles import DUTY
from app.people.service import current_duty, present, present_clause


def _covers_for_absent(session: Session, actor: Actor) -> bool:
    """Does the actor take the items of absent addressees: the duty holder, or anyone while the duty is vacant."""
    return DUTY in actor.roles or current_duty(session, actor.unit_id) is None


def inbox(session: Session, *, actor: Actor) -> list[AckItem]:
    """Unacknowledged items of the acting unit for the actor, for anyone of the unit, and (for the overall
    responsible, or anyone while nobody holds the duty) those whose addressee is not present; case readers only."""
    require_case_reader(actor)  # each item names a case and its patient
    mine = [AckItem.for_user_id.is_(None), AckItem.for_user_id == actor.user_id]
    if _covers_for_absent(session, actor):
        mine.append(
            and_(AckItem.for_user_id.is_not(None), not_(present_clause(AckItem.for_user_id, actor.unit_id)))
        )
    return list(
        session.scalars(
            select(AckItem)
            .where(AckItem.unit_id == actor.unit_id, AckItem.acknowledged_at.is_(None), or_(*mine))
            .order_by(AckItem.created_at)
        )
    )


def acknowledge(session: Session, *, actor: Actor, item_id: int) -> AckItem:
    """Sign an item off ("Kvittera"): a case reader of its unit, and its addressee if it has one."""
    require_case_reader(actor)
    # Locked: a colleague signing the same item off at the same moment waits, then sees it signed.
    item = session.get(AckItem, item_id, with_for_update=True, populate_existing=True)
    if item is None:
        raise NotFound(_l("Posten finns inte."))
    if item.unit_id != actor.unit_id:
        raise Forbidden(_l("Posten är inte din."))
    if item.for_user_id is not None and item.for_user_id != actor.user_id:
        if present(session, item.for_user_id, item.unit_id):
            raise Forbidden(
                _l("Posten är inte din. Den är till en kollega som är på plats."), rule="OG-6.1-j"
            )
        if not _covers_for_absent(session, actor):
            raise Forbidden(
                _l(
                    "Posten är inte din. Den är till en kollega som inte är på plats: övergripande ansvarig kvitterar den."
                ),
                rule="OG-6.1-j",
            )
    if item.acknowledged_at is not None:  # one sign-off stands: a second never overwrites who and when
        raise Conflict(_l("Posten är redan kvitterad."))
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
