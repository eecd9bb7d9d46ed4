"""Who you are, and your own bearer tokens: create (shown once), list, revoke."""

from __future__ import annotations

from flask import jsonify

from app import clock
from app.api import views
from app.api.operations import ANY, ID, operation
from app.api.tokens import issue_own_token, own_tokens, revoke_own_token
from app.audit.service import Actor
from app.auth.current import current_token
from app.db import request_session
from app.people.models import Unit


@operation("GET", "/me", summary="Who the request acts as", tag="account", audience=ANY, response="Principal")
def whoami(actor: Actor):
    """The user and acting unit with roles (staff), or the patient (resident), and the token used."""
    db = request_session()
    token = current_token()
    unit = db.get(Unit, actor.unit_id) if actor.unit_id is not None else None
    kind = token.kind.value if token is not None else "session"
    db.commit()
    return jsonify(views.principal(actor, kind, token.token_id if token else None, unit))


@operation(
    "GET",
    "/tokens",
    summary="Your tokens (revoked and expired ones too; never the tokens themselves)",
    tag="account",
    audience=ANY,
    response="TokenList",
)
def list_tokens(actor: Actor):
    db = request_session()
    rows = own_tokens(db, actor=actor)
    db.commit()
    now = clock.now()
    return jsonify({"items": [views.token(t, now) for t in rows]})


@operation(
    "POST",
    "/tokens",
    summary="Create a token for yourself",
    tag="account",
    audience=ANY,
    status=201,
    response="NewToken",
    body="TokenBody",
    description="Staff get a token for their acting unit, acting with the roles their memberships give there at each use; residents a resident token. The token is in the answer once: only its SHA-256 is stored. Service accounts get theirs from an administrator (`flask api token create`), not from themselves (403).",
)
def create_token(actor: Actor, body: dict):
    db = request_session()
    token, raw = issue_own_token(db, actor=actor, via=current_token(), name=body["name"], days=body["days"])
    db.commit()
    return jsonify({"token": raw, "details": views.token(token, clock.now())}), 201


@operation(
    "DELETE",
    f"/tokens/<{ID}:token_id>",
    summary="Revoke one of your tokens",
    tag="account",
    audience=ANY,
    status=204,
    problems=(404,),
)
def revoke_token(actor: Actor, token_id: int):
    """From now on the token is refused (401 invalid_token). Revoking twice changes nothing."""
    db = request_session()
    revoke_own_token(db, actor=actor, token_id=token_id)
    db.commit()
    return "", 204
