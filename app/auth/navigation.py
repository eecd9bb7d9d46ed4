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
    pages: tuple[str, ...] = ()  # the area's other pages: endpoints, or "blueprint." for all of one

    def match(self, endpoint: str) -> int:
        """How closely the page at `endpoint` belongs to this area: 0 not at all, else the length of
        what matched (its own endpoint or a listed one beats a whole blueprint)."""
        if endpoint == self.endpoint or endpoint in self.pages:
            return 1_000
        return max(
            (len(page) for page in self.pages if page.endswith(".") and endpoint.startswith(page)), default=0
        )


# (endpoint, label, roles that open the area, the area's other pages). DUTY is the overall-responsible
# duty held right now: the unit's control tower is theirs and the head of unit's, not every
# clinician's (OG-10.1-j). A case page belongs to the patient list it is opened from, not to
# "Att dokumentera", though both live in the casework blueprint.
AREAS = (
    ("worklist.index", _l("Patientliggaren"), CASE_READER_ROLES, ("worklist.", "casework.")),
    # The head of unit settles notes owed by someone who is away (the unit's list is hers to see).
    (
        "casework.undocumented",
        _l("Att dokumentera"),
        {*CLINICAL_ROLES, Role.HEAD_OF_UNIT},
        ("casework.undocumented_mark",),
    ),
    ("control_tower.index", _l("Flygledartornet"), {DUTY, Role.HEAD_OF_UNIT}, ("control_tower.",)),
    # The changes pages (diff, dry run, migration) are reached from a process model's page.
    (
        "modeler.index",
        _l("Processer"),
        {Role.PROCESS_OWNER, Role.HEAD_OF_UNIT},
        ("modeler.", "process_changes."),
    ),
    ("process_changes.traceability", _l("Spårbarhet"), {Role.PROCESS_OWNER, Role.HEAD_OF_UNIT}, ()),
    ("admin.index", _l("Administration"), {Role.LOCAL_SYSADMIN}, ("admin.",)),
    ("log_review.index", _l("Loggkontroll"), {Role.LOCAL_SYSADMIN, Role.HEAD_OF_UNIT}, ("log_review.",)),
    # Every member reads the unit's schedule; the unit's routine says who changes it (OG-5).
    ("scheduling.week", _l("Schema"), set(Role), ("scheduling.",)),
)


def current_area(links: list[NavLink], endpoint: str | None) -> str | None:
    """The endpoint of the one area the page at `endpoint` belongs to, if any."""
    if not endpoint:
        return None
    best = max(links, key=lambda link: link.match(endpoint), default=None)
    return best.endpoint if best is not None and best.match(endpoint) else None


def links_for(actor: Actor | None) -> list[NavLink]:
    """The areas this actor's roles open, in a fixed order; none for residents or the signed-out."""
    if actor is None or actor.user_id is None:
        return []
    return [
        NavLink(endpoint, str(label), pages)
        for endpoint, label, roles, pages in AREAS
        if actor.roles & {str(r) for r in roles}
    ]
