"""The signed-in user of a request, as an Actor checked against the database on every request.

Two ways in: the session cookie of the pages, or `Authorization: Bearer <token>` (API clients). A
request that presents a bearer token is judged by that token alone, never by a cookie beside it:
bearer requests are exempt from CSRF, so a cookie must not ride along on one.
"""

from __future__ import annotations

import secrets

from flask import abort, current_app, g, request, session

from app.audit.service import Actor
from app.db import get_database, request_session
from app.errors import Unauthenticated
from app.people.models import User
from app.people.service import actor_for

BEARER = "Bearer "  # the exact prefix check_csrf exempts


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
    if user_id is not None and unit_id is not None:
        db = request_session()
        user = db.get(User, user_id)
        if user is not None and user.active:
            candidate = actor_for(db, user, unit_id)
            actor = candidate if candidate.roles else None
        if actor is None:
            session.clear()
    g.actor = actor
    if actor is None and required:
        raise Unauthenticated("sign in to continue")
    return actor


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
        abort(400, description="The form was out of date (missing or wrong CSRF token). Reload the page and try again.")
