"""The user's profile: the displayed title may be changed, the legal name may not (OG-4-b)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.current import current_actor
from app.db import request_session
from app.errors import DomainError, ValidationFailed
from app.people.models import Unit, User
from app.profile.service import TITLE_MAX, change_title
from app.worklist.blueprint import bp, domain_text, note_refusal


def _render(actor, *, title: str | None = None, error: str | None = None, status: int = 200):
    db = request_session()
    user = db.get(User, actor.user_id)
    unit = db.get(Unit, actor.unit_id)
    roles = sorted(r for r in actor.roles if not r.startswith("duty:"))
    return render_template(
        "worklist/profile.html",
        user=user,
        unit=unit,
        roles=roles,
        title=(user.title or "") if title is None else title,
        error=error,
        title_max=TITLE_MAX,
    ), status


@bp.get("/profile")
def profile_page():
    """Name (from the HR/identity system, read-only), unit, roles and the editable title."""
    return _render(current_actor())


@bp.post("/profile")
def profile_save():
    """Save the title; only the title field is read, whatever else is posted."""
    actor = current_actor()
    db = request_session()
    title = request.form.get("title", "")
    try:
        change_title(db, actor=actor, title=title)
    except ValidationFailed:
        db.rollback()
        return _render(
            actor, title=title, error=_("Titeln får vara högst %(max)d tecken.", max=TITLE_MAX), status=422
        )
    except DomainError as error:
        db.rollback()
        note_refusal(error)
        return _render(actor, title=title, error=domain_text(error), status=error.status)
    db.commit()
    flash(_("Titeln är sparad."))
    return redirect(url_for("worklist.profile_page"))
