"""Sign-in pages: the development login (choose a demo user), the acting unit, sign-out (ending a shift is the patient list's 'Avsluta skift', HA-shift)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.current import SHIFT_ENDED_KEY, current_actor, start_session
from app.db import request_session
from app.i18n import clear_session
from app.ids import bounded_id
from app.people.models import Membership, User
from app.people.service import sign_in, sign_out, units_of

bp = Blueprint("auth", __name__)


def safe_next(value: str | None) -> str | None:
    """A path on this site to return to after signing in; anything else (another host, a scheme) is dropped."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


@bp.get("/login")
def login_page():
    if not current_app.config["DEV_LOGIN"]:
        return render_template("auth/login_sso.html", shift_ended=session.pop(SHIFT_ENDED_KEY, None)), 200
    db = request_session()
    users = db.scalars(
        select(User)
        .where(User.active.is_(True), User.id.in_(select(Membership.user_id)))
        .order_by(User.family_name, User.given_name)
    ).all()
    entries = [(user, units_of(db, user.id)) for user in users]
    return render_template(
        "auth/login.html",
        entries=entries,
        next_page=safe_next(request.args.get("next")),
        expired=request.args.get("expired") == "1",
        shift_ended=session.pop(SHIFT_ENDED_KEY, None),
    )


@bp.post("/login")
def login_submit():
    if not current_app.config["DEV_LOGIN"]:
        abort(404)
    db = request_session()
    next_page = safe_next(request.form.get("next"))
    user = db.get(User, request.form.get("user_id", type=bounded_id) or 0)
    if user is None or not user.active:
        return render_template(
            "auth/login.html", entries=[], error=_("Okänd användare."), next_page=next_page
        ), 400
    units = units_of(db, user.id)
    unit_id = request.form.get("unit_id", type=bounded_id)
    if unit_id is None and len(units) == 1:
        unit_id = units[0].id
    if unit_id is None:
        return render_template("auth/choose_unit.html", user=user, units=units, next_page=next_page)
    sign_in(db, user=user, unit_id=unit_id)
    db.commit()
    start_session(user.id, unit_id)
    return redirect(next_page or url_for("worklist.index"))


@bp.post("/logout")
def logout():
    actor = current_actor(required=False)
    if actor is not None:
        db = request_session()
        sign_out(db, actor=actor)
        db.commit()
    clear_session()
    return redirect(url_for("auth.login_page"))
