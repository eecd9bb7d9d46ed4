"""Phrase templates (OG-8.2): who may write and publish them, what a clinician may insert, what a routine sends.

Regional and local templates are published only by a Lokal systemadministratör; a local one also
needs the head of unit (Verksamhetschef) who decided it. Personal templates are the owner's own,
usable at once and marked "not recommended". A routine sends the unit's published local template
for a purpose, else the region's published regional one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases.limits import MESSAGE_BODY
from app.errors import Conflict, Forbidden, GuardRefused, NotFound, ValidationFailed
from app.people.models import Region, Unit
from app.people.roles import Role
from app.people.service import roles_at
from app.phrases.defaults import DEFAULTS, PURPOSES
from app.phrases.models import PhraseLevel, PhraseStatus, PhraseTemplate
from app.phrases.rendering import placeholders_in, render

__all__ = [
    "InsertableTemplate",
    "MissingPhraseTemplate",
    "create_template",
    "publish",
    "render",
    "retire",
    "seed_regional_defaults",
    "templates_for",
    "text_for",
    "tone_findings",
]

# Who may draft a template at each level; publishing regional and local is the sysadmin's alone.
_DRAFTERS = {
    PhraseLevel.REGIONAL: frozenset({Role.LOCAL_SYSADMIN, Role.PROCESS_OWNER}),
    PhraseLevel.LOCAL: frozenset({Role.LOCAL_SYSADMIN, Role.HEAD_OF_UNIT}),
}
_LEVEL_ORDER = {PhraseLevel.LOCAL: 0, PhraseLevel.REGIONAL: 1, PhraseLevel.PERSONAL: 2}

# HA-tone: respectful tone without capitals, exclamation marks or abbreviations.
_CAPITALS_ONLY = re.compile(r"\b[A-ZÅÄÖ]{2,}\b")
_ABBREVIATIONS = re.compile(
    r"(?<!\w)(t\.ex|bl\.a|m\.m|o\.s\.v|osv|etc|kl|ca|ev|obs|p\.g\.a|pga|dvs|mvh)(?!\w)\.?", re.IGNORECASE
)


@dataclass(frozen=True)
class InsertableTemplate:
    """A template a clinician may insert, with its level; personal ones are flagged not recommended."""

    id: int
    level: PhraseLevel
    purpose: str
    title: str
    text: str
    not_recommended: bool


class MissingPhraseTemplate(NotFound):
    """No published template for a purpose at the unit or in its region: a routine cannot send its text."""


def create_template(
    session: Session,
    *,
    actor: Actor,
    level: PhraseLevel,
    purpose: str,
    title: str,
    text: str,
    unit_id: int | None = None,
    decided_by_user_id: int | None = None,
) -> PhraseTemplate:
    """Write a template: regional and local ones start as drafts, a personal one is usable at once."""
    level = PhraseLevel(level)
    if actor.user_id is None or actor.unit_id is None:
        raise Forbidden("phrase templates are written by a signed-in user acting for a unit")
    _validate(purpose, title, text)
    now = clock.now()
    template = PhraseTemplate(
        level=level,
        region_id=_region_id(session, actor.unit_id),
        purpose=purpose,
        title=title.strip(),
        text=text.strip(),
        created_by_user_id=actor.user_id,
        created_at=now,
    )
    if level is PhraseLevel.PERSONAL:
        # Nobody else decides on a personal template: it is the owner's own from the start.
        template.owner_user_id = actor.user_id
        template.status = PhraseStatus.PUBLISHED
        template.published_by_user_id, template.published_at = actor.user_id, now
    else:
        if not actor.roles & _DRAFTERS[level]:
            raise Forbidden(
                f"a {level.value} phrase template is written by a {' or '.join(sorted(_DRAFTERS[level]))}"
            )
        template.status = PhraseStatus.DRAFT
        if level is PhraseLevel.LOCAL:
            template.unit_id = unit_id if unit_id is not None else actor.unit_id
            if template.unit_id != actor.unit_id:
                raise Forbidden("a local phrase template is written while acting for its unit")
            if decided_by_user_id is None and Role.HEAD_OF_UNIT in actor.roles:
                decided_by_user_id = actor.user_id  # the head of unit who writes it has decided it
            if decided_by_user_id is not None:
                _require_head_of_unit(session, decided_by_user_id, template.unit_id)
            template.decided_by_user_id = decided_by_user_id
    session.add(template)
    session.flush()
    record(
        session,
        "phrase_template:created",
        actor=actor,
        subject=("phrase_template", template.id),
        level=level.value,
        purpose=purpose,
        unit_id=template.unit_id,
        decided_by_user_id=template.decided_by_user_id,
    )
    return template


def publish(
    session: Session, *, actor: Actor, template_id: int, decided_by_user_id: int | None = None
) -> PhraseTemplate:
    """Publish a draft (sysadmin only; a local one needs its deciding head of unit); it supersedes the previous one."""
    template = _get(session, template_id, for_change=True)
    if template.status is not PhraseStatus.DRAFT:
        raise Conflict(f"the template is {template.status.value}, not a draft")
    _require_publisher(session, actor, template)
    if template.level is PhraseLevel.LOCAL:
        decided_by = decided_by_user_id if decided_by_user_id is not None else template.decided_by_user_id
        if decided_by is None:
            raise GuardRefused(
                "a local phrase template is decided by the head of unit before it is published", rule="OG-8.2"
            )
        _require_head_of_unit(session, decided_by, template.unit_id)
        template.decided_by_user_id = decided_by
    # Publishing another draft for the same purpose at the same moment: the region's lock makes the
    # second wait and then see the first as the previous one, instead of both taking the one slot.
    session.execute(select(Region.id).where(Region.id == template.region_id).with_for_update())
    now = clock.now()
    previous = _published(
        session, template.level, template.purpose, region_id=template.region_id, unit_id=template.unit_id
    )
    if previous is not None:  # personal templates have no "previous": many may coexist
        previous.status, previous.retired_at = PhraseStatus.RETIRED, now
        session.flush()  # free the "one published per purpose" slot before taking it
        record(
            session,
            "phrase_template:superseded",
            actor=actor,
            subject=("phrase_template", previous.id),
            by_template_id=template.id,
        )
    template.status = PhraseStatus.PUBLISHED
    template.published_by_user_id, template.published_at = actor.user_id, now
    session.flush()
    record(
        session,
        "phrase_template:published",
        actor=actor,
        subject=("phrase_template", template.id),
        level=template.level.value,
        purpose=template.purpose,
        decided_by_user_id=template.decided_by_user_id,
    )
    return template


def retire(session: Session, *, actor: Actor, template_id: int) -> PhraseTemplate:
    """Withdraw a template (sysadmin for regional and local, the owner for personal)."""
    template = _get(session, template_id, for_change=True)
    if template.status is PhraseStatus.RETIRED:
        raise Conflict("the template is already retired")
    _require_publisher(session, actor, template)
    template.status, template.retired_at = PhraseStatus.RETIRED, clock.now()
    session.flush()
    record(
        session,
        "phrase_template:retired",
        actor=actor,
        subject=("phrase_template", template.id),
        level=template.level.value,
        purpose=template.purpose,
    )
    return template


def templates_for(session: Session, *, actor: Actor, purpose: str | None = None) -> list[InsertableTemplate]:
    """What the clinician may insert: published local and regional templates, and their own personal ones."""
    scope = [PhraseTemplate.owner_user_id == actor.user_id] if actor.user_id is not None else []
    if actor.unit_id is not None:
        scope.append((PhraseTemplate.level == PhraseLevel.LOCAL) & (PhraseTemplate.unit_id == actor.unit_id))
        scope.append(
            (PhraseTemplate.level == PhraseLevel.REGIONAL)
            & (PhraseTemplate.region_id == _region_id(session, actor.unit_id))
        )
    if not scope:
        return []
    query = select(PhraseTemplate).where(PhraseTemplate.status == PhraseStatus.PUBLISHED, or_(*scope))
    if purpose is not None:
        query = query.where(PhraseTemplate.purpose == purpose)
    rows = session.scalars(query).all()
    rows = sorted(rows, key=lambda t: (PURPOSES.get(t.purpose, t.purpose), _LEVEL_ORDER[t.level], t.title))
    return [
        InsertableTemplate(
            t.id, t.level, t.purpose, t.title, t.text, not_recommended=t.level is PhraseLevel.PERSONAL
        )
        for t in rows
    ]


# The unit's local text and the region's in one query (the local one wins). Built once: routines
# send phrase texts on most steps.
_LOCAL_AND_REGIONAL_TEXT = select(PhraseTemplate.level, PhraseTemplate.text).where(
    PhraseTemplate.purpose == bindparam("purpose"),
    PhraseTemplate.status == PhraseStatus.PUBLISHED,
    or_(
        (PhraseTemplate.level == PhraseLevel.LOCAL) & (PhraseTemplate.unit_id == bindparam("unit_id")),
        (PhraseTemplate.level == PhraseLevel.REGIONAL) & (PhraseTemplate.region_id == bindparam("region_id")),
    ),
)


def text_for(
    session: Session,
    *,
    unit_id: int,
    purpose: str,
    personal_template_id: int | None = None,
    actor: Actor | None = None,
) -> str:
    """The text a routine sends: the clinician's chosen personal template, else the unit's local, else the regional."""
    if purpose not in PURPOSES:
        raise ValidationFailed(f"unknown phrase purpose {purpose!r}", {"purpose": ["unknown"]})
    if personal_template_id is not None:
        template = _get(session, personal_template_id)
        if (
            actor is None
            or template.level is not PhraseLevel.PERSONAL
            or template.owner_user_id != actor.user_id
        ):
            raise Forbidden("only the owner may send their personal phrase template")
        if template.status is not PhraseStatus.PUBLISHED or template.purpose != purpose:
            raise Conflict(f"that personal template is not a usable {purpose!r} text")
        return template.text
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    candidates = session.execute(
        _LOCAL_AND_REGIONAL_TEXT, {"purpose": purpose, "unit_id": unit_id, "region_id": unit.region_id}
    ).all()
    texts = {level: text for level, text in candidates}
    for level in (PhraseLevel.LOCAL, PhraseLevel.REGIONAL):
        if level in texts:
            return texts[level]
    raise MissingPhraseTemplate(
        f"no published phrase template for {PURPOSES[purpose]!r} ({purpose}) at unit {unit_id} or in its region: "
        "a local system administrator publishes one",
        purpose=purpose,
        unit_id=unit_id,
    )


def seed_regional_defaults(session: Session, *, region: Region) -> list[PhraseTemplate]:
    """Publish the default text as a regional template for every purpose the region has none for."""
    actor = Actor.system("phrase-defaults")
    now = clock.now()
    # One read and one flush for all purposes: a new region gets ~two dozen templates at once.
    published = set(
        session.scalars(
            select(PhraseTemplate.purpose).where(
                PhraseTemplate.level == PhraseLevel.REGIONAL,
                PhraseTemplate.status == PhraseStatus.PUBLISHED,
                PhraseTemplate.region_id == region.id,
            )
        )
    )
    created = [
        PhraseTemplate(
            level=PhraseLevel.REGIONAL,
            region_id=region.id,
            purpose=purpose,
            title=title,
            text=text,
            status=PhraseStatus.PUBLISHED,
            published_at=now,
            created_at=now,
        )
        for purpose, (title, text) in DEFAULTS.items()
        if purpose not in published
    ]
    session.add_all(created)
    session.flush()
    for template in created:
        record(
            session,
            "phrase_template:published",
            actor=actor,
            subject=("phrase_template", template.id),
            level="regional",
            purpose=template.purpose,
            seeded=True,
        )
    return created


def tone_findings(text: str) -> list[str]:
    """What in a text breaks HA-tone: capitals-only words, exclamation marks, abbreviations."""
    findings = [f"capitals: {word}" for word in _CAPITALS_ONLY.findall(text)]
    if "!" in text:
        findings.append("exclamation mark")
    findings += [f"abbreviation: {match.group(0)}" for match in _ABBREVIATIONS.finditer(text)]
    return findings


# --- internals --------------------------------------------------------------------------------

# Texts the routines send by SMS (the received notice, the reminder): three SMS segments at most.
SMS_PURPOSES = frozenset({"case_received", "reminder"})
SMS_TEXT_LENGTH = 480


def _validate(purpose: str, title: str, text: str) -> None:
    errors: dict[str, list[str]] = {}
    if purpose not in PURPOSES:
        errors["purpose"] = [f"unknown purpose; one of {', '.join(PURPOSES)}"]
    if not title or not title.strip() or len(title.strip()) > 200:
        errors["title"] = ["a title of 1 to 200 characters"]
    if not text or not text.strip():
        errors["text"] = ["required"]
    elif len(text) > (limit := SMS_TEXT_LENGTH if purpose in SMS_PURPOSES else MESSAGE_BODY):
        errors["text"] = [
            f"at most {limit} characters" + (" (it goes by SMS)" if limit == SMS_TEXT_LENGTH else "")
        ]
    if errors:
        raise ValidationFailed("the phrase template has errors", errors)
    placeholders_in(text)


def _get(session: Session, template_id: int, *, for_change: bool = False) -> PhraseTemplate:
    template = session.get(PhraseTemplate, template_id)
    if template is None:
        raise NotFound(f"no phrase template {template_id}")
    if for_change:
        # Lock the row and read it afresh: of two sysadmins acting on one template at the same moment
        # the second waits here, then finds the status changed under it and changes nothing.
        seen = template.status
        session.refresh(template, with_for_update=True)
        if template.status is not seen:
            raise Conflict(
                f"someone else just changed the template: it is now {template.status.value}",
                template_id=template.id,
            )
    return template


def _region_id(session: Session, unit_id: int) -> int:
    region_id = session.scalar(select(Unit.region_id).where(Unit.id == unit_id))
    if region_id is None:
        raise NotFound(f"no unit {unit_id}")
    return region_id


def _published(
    session: Session,
    level: PhraseLevel,
    purpose: str,
    *,
    region_id: int | None = None,
    unit_id: int | None = None,
) -> PhraseTemplate | None:
    if level is PhraseLevel.PERSONAL:
        return None  # personal templates have no "the one published" text
    query = select(PhraseTemplate).where(
        PhraseTemplate.level == level,
        PhraseTemplate.purpose == purpose,
        PhraseTemplate.status == PhraseStatus.PUBLISHED,
    )
    query = (
        query.where(PhraseTemplate.unit_id == unit_id)
        if level is PhraseLevel.LOCAL
        else query.where(PhraseTemplate.region_id == region_id)
    )
    return session.scalar(query)


def _require_publisher(session: Session, actor: Actor, template: PhraseTemplate) -> None:
    """Personal: the owner. Regional: a sysadmin acting in the region. Local: a sysadmin acting for the unit."""
    if template.level is PhraseLevel.PERSONAL:
        if actor.user_id is None or actor.user_id != template.owner_user_id:
            raise Forbidden("a personal phrase template is its owner's alone")
        return
    if Role.LOCAL_SYSADMIN not in actor.roles or actor.unit_id is None:
        raise Forbidden(
            "regional and local phrase templates are published by a Lokal systemadministratör", rule="OG-8.2"
        )
    if template.level is PhraseLevel.LOCAL and actor.unit_id != template.unit_id:
        raise Forbidden("a local phrase template is published by the sysadmin of its own unit", rule="OG-8.2")
    if template.level is PhraseLevel.REGIONAL and _region_id(session, actor.unit_id) != template.region_id:
        raise Forbidden("a regional phrase template is published by a sysadmin in its region", rule="OG-8.2")


def _require_head_of_unit(session: Session, user_id: int, unit_id: int | None) -> None:
    if unit_id is None or Role.HEAD_OF_UNIT not in roles_at(session, user_id, unit_id):
        raise GuardRefused(
            "the deciding user is not head of unit (Verksamhetschef) at that unit", rule="OG-8.2"
        )
