"""Services for what a clinician changes about themself.

The legal name comes from the HR/identity system and is never changed here; the displayed title is
the user's own (OG-4-b). A personal phrase template is revised by publishing the new text as a new
personal template and retiring the old one, through app.phrases, so each version stays on record.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.people.models import User
from app.phrases.models import PhraseLevel, PhraseStatus, PhraseTemplate
from app.phrases.service import create_template, retire

TITLE_MAX = 120  # app_user.title is String(120)


def change_title(session: Session, *, actor: Actor, title: str) -> User:
    """Set the signed-in user's displayed title (empty clears it); the name is not the user's to change (OG-4-b)."""
    if actor.user_id is None:
        raise Forbidden(_l("Bara inloggad personal har en titel."))
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound(_l("Användaren finns inte."))
    cleaned = " ".join((title or "").split())
    if len(cleaned) > TITLE_MAX:
        raise ValidationFailed(_l("Titeln är för lång."), {"title": [f"högst {TITLE_MAX} tecken"]})
    new = cleaned or None
    if new == user.title:
        return user
    previous, user.title = user.title, new
    session.flush()
    record(
        session, "user:title_changed", actor=actor, subject=("user", user.id), previous=previous, title=new
    )
    return user


def own_personal_template(
    session: Session, *, actor: Actor, template_id: int, for_change: bool = False
) -> PhraseTemplate:
    """One of the actor's own personal templates still in use (for the edit form, or locked to change it)."""
    template = session.get(PhraseTemplate, template_id, with_for_update=True if for_change else None)
    if template is None or template.level is not PhraseLevel.PERSONAL:
        raise NotFound(_l("Frasmallen finns inte."))
    if actor.user_id is None or template.owner_user_id != actor.user_id:
        raise Forbidden(_l("En personlig frasmall är bara ägarens."), rule="OG-8.2", template_id=template.id)
    if template.status is not PhraseStatus.PUBLISHED:
        if for_change:  # changed or removed in another tab since the form was opened: never a second copy
            raise Conflict(
                _l(
                    "Frasmallen har ändrats eller tagits bort sedan du öppnade den. Din text finns kvar nedan."
                ),
                template_id=template.id,
            )
        raise NotFound(_l("Frasmallen finns inte."))
    return template


def revise_personal_template(
    session: Session, *, actor: Actor, template_id: int, purpose: str, title: str, text: str
) -> PhraseTemplate:
    """Replace one of the actor's personal templates with a new text: the new one published, the old one retired."""
    old = own_personal_template(session, actor=actor, template_id=template_id, for_change=True)
    new = create_template(
        session, actor=actor, level=PhraseLevel.PERSONAL, purpose=purpose, title=title, text=text
    )
    retire(session, actor=actor, template_id=old.id)
    record(
        session, "phrase_template:revised", actor=actor, subject=("phrase_template", new.id), replaces=old.id
    )
    return new


def retire_personal_template(session: Session, *, actor: Actor, template_id: int) -> PhraseTemplate:
    """Withdraw one of the actor's own personal templates (shared ones are the sysadmin's, elsewhere)."""
    template = own_personal_template(session, actor=actor, template_id=template_id, for_change=True)
    return retire(session, actor=actor, template_id=template.id)
