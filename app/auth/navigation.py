"""The site navigation a signed-in user is offered: one link per area their roles at this unit open.

A link is only a signpost; each area checks its permissions again on the domain objects it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.audit.service import Actor
from app.cases.permissions import CASE_READER_ROLES, DUTY
from app.people.roles import CLINICAL_ROLES, Role


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: str


# (endpoint, label, roles that open the area). DUTY is the overall-responsible duty held right now:
# the unit's control tower is theirs and the head of unit's, not every clinician's (OG-10.1-j).
AREAS = (
    ("worklist.index", _l("Patientliggaren"), CASE_READER_ROLES),  # whoever reads the unit's cases
    ("casework.undocumented", _l("Att dokumentera"), CLINICAL_ROLES),
    ("control_tower.index", _l("Flygledartornet"), {DUTY, Role.HEAD_OF_UNIT}),
    ("modeler.index", _l("Processer"), {Role.PROCESS_OWNER, Role.HEAD_OF_UNIT}),  # heads of unit read them
    ("process_changes.traceability", _l("Spårbarhet"), {Role.PROCESS_OWNER, Role.HEAD_OF_UNIT}),
    ("admin.index", _l("Administration"), {Role.LOCAL_SYSADMIN}),
    ("log_review.index", _l("Loggkontroll"), {Role.LOCAL_SYSADMIN, Role.HEAD_OF_UNIT}),
    # Every member reads the unit's schedule; the unit's routine says who changes it (OG-5).
    ("scheduling.week", _l("Schema"), set(Role)),
)


def links_for(actor: Actor | None) -> list[NavLink]:
    """The areas this actor's roles open, in a fixed order; none for residents or the signed-out."""
    if actor is None or actor.user_id is None:
        return []
    return [
        NavLink(endpoint, str(label))
        for endpoint, label, roles in AREAS
        if actor.roles & {str(r) for r in roles}
    ]
