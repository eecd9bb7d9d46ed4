"""The signed-in user of a request, as an Actor checked against the database on every request.

Two ways in: the session cookie of the pages, or `Authorization: Bearer <token>` (API clients). A
request that presents a bearer token is judged by that token alone, never by a cookie beside it:
bearer requests are exempt from CSRF, so a cookie must not ride along on one.
"""

from __future__ import annotations

import logging
import secrets
import time

from flask import abort, current_app, g, request, session
from flask_babel import gettext as _

from app.audit.service import Actor
from app.db import get_database, request_session
from app.errors import Unauthenticated
from app.i18n import clear_session
from app.people.models import User
from app.people.service import actor_for

log = logging.getLogger(__name__)
BEARER = "Bearer "  # the exact prefix check_csrf exempts
POLL_HEADER = "X-Vardflode-Poll"  # sent by self-refreshing parts of a page: they are not the user's activity
SHIFT_ENDED_KEY = "shift_ended"  # what ending the shift did, said once on the sign-in page after it


def current_actor(required: bool = True) -> Actor | None:
    """The Actor for this request; unknown or deactivated users are signed out (401).

    A bearer token is checked against the database on every request (unknown, revoked, expired or
    no longer backed by an active user's roles: 401), whether or not the route requires sign-in.
    """
    if "actor" in g:
        return g.actor
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith(BEARER):
        g.actor = _bearer_actor(authorization[len(BEARER) :].strip())
        return g.actor
    user_id, unit_id = session.get("user_id"), session.get("unit_id")
    actor = None
    if user_id is not None and session_timed_out():
        _record_idle(user_id, unit_id)
        clear_session()
        g.session_expired = True
        user_id = None
    if user_id is not None and unit_id is not None:
        db = request_session()
        user = db.get(User, user_id)
        if user is not None and user.active:
            candidate = actor_for(db, user, unit_id)
            actor = candidate if candidate.roles else None
        if actor is None:
            clear_session()
    if actor is not None and not request.headers.get(POLL_HEADER):
        _note_activity(actor)
    g.actor = actor
    if actor is None and required:
        raise Unauthenticated("sign in to continue")
    return actor


def start_session(user_id: int, unit_id: int) -> None:
    """A fresh page session for the user at the acting unit (nothing of an earlier one is kept)."""
    clear_session()
    session.update(user_id=user_id, unit_id=unit_id)
    mark_session_started()


def mark_session_started() -> None:
    """The idle and longest-session clocks of a page session start now (staff and residents alike)."""
    now = time.time()
    session.update(signed_in_at=now, seen_at=now)


def session_timed_out() -> bool:
    """Idle for longer than SESSION_IDLE_MINUTES (a screen left open in a shared room) or signed in for
    longer than SESSION_MAX_HOURS. Wall-clock time on purpose: the product clock may be moved in
    development and must not sign everyone out. A request is activity unless a page polls by itself."""
    now = time.time()
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    seen, started = session.get("seen_at"), session.setdefault("signed_in_at", now)
    if seen is not None and now - seen > idle_limit:
        return True
    if now - started > current_app.config["SESSION_MAX_HOURS"] * 3600:
        return True
    if seen is None or (not request.headers.get(POLL_HEADER) and now - seen > min(30, idle_limit / 10)):
        session["seen_at"] = (
            now  # not on every request (each rewrite is a new cookie), but well within the limit
        )
    return False


ACTIVITY_EVERY_S = 300  # presence expires after SESSION_IDLE_MINUTES without a sign of life


def _note_activity(actor: Actor) -> None:
    """A request of the user's own (not a page polling by itself) is a sign of life: presence counts
    from it (who gets new-case SMS, who is absent, who can assess a suicide risk). Noted at most every
    few minutes of product time, so a moved development clock is followed at once; written after the
    view (`record_activity`), never inside the action's own transaction."""
    from app import clock

    noted = session.get("activity_noted_at")
    if noted is not None and 0 <= clock.now().timestamp() - noted < ACTIVITY_EVERY_S:
        return
    g.activity_due = actor


def record_activity() -> None:
    """After the view (app.web's after_request): write the sign of life noted for this request. The
    view has committed what it did; whatever its session still holds was never going to be kept."""
    from app import clock
    from app.people.service import mark_idle

    actor = g.pop("activity_due", None)
    if actor is None:
        return
    current = g.get("db_session")
    if current is not None:
        current.close()  # SQLite has one writer at a time
    try:
        with get_database().transaction() as own:
            mark_idle(own, actor=actor, idle=False)
    except Exception:  # the response stands: the next request notes the sign of life again
        log.exception("recording activity of user %s failed", actor.user_id)
        return
    session["activity_noted_at"] = clock.now().timestamp()


def _record_idle(user_id: int, unit_id: int | None) -> None:
    """A timed-out page session: the user is idle, not gone (the shift stays open; present() still counts
    them), and the audit trail says why they were signed out."""
    from app.audit.service import record
    from app.people.service import mark_idle

    if unit_id is None:
        return
    actor = Actor(label=f"user:{user_id}", user_id=user_id, unit_id=unit_id)
    current = g.get("db_session")
    if current is not None and current.in_transaction():
        current.rollback()  # nothing read for a signed-out user stands; and SQLite has one writer at a time
    with get_database().transaction() as own:
        mark_idle(own, actor=actor, idle=True)
        record(own, "session:timed_out", actor=actor, subject=("user", user_id))


def current_token():
    """The token principal (app.api.tokens.Principal) of a bearer request; None for cookie sessions."""
    current_actor(required=False)
    return g.get("api_token")


def _bearer_actor(raw: str) -> Actor:
    from app.api.tokens import actor_of, authenticate

    # The check and the "last used" mark commit on their own, so a refused or failed action still
    # counts as a use; the request's own transaction (if it has not begun) is left alone.
    current = g.get("db_session")
    if current is None or not current.in_transaction():
        with get_database().transaction() as checking:
            principal = authenticate(checking, raw)
    else:
        principal = authenticate(current, raw)
    g.api_token = principal
    return actor_of(request_session(), principal)


def csrf_token() -> str:
    """The session's CSRF token (created on first use); every form posts it back."""
    token = session.get("csrf_token")
    if token is None:
        token = secrets.token_urlsafe(32)
        session["csrf_token"] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing cookie-authenticated request without the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return  # API clients with bearer tokens carry no ambient cookie authority
    if request.path.startswith("/dev/") and current_app.config["DEV_CLOCK_CONTROL"]:
        return  # development-only controls, never registered in production
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    expected = session.get("csrf_token")
    if not expected or not sent or not secrets.compare_digest(sent, expected):
        abort(
            400, description=_("Formuläret var för gammalt för att skickas. Ladda om sidan och försök igen.")
        )
