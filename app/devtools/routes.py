"""Development-only clock control (registered only when DEV_CLOCK_CONTROL is on)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, jsonify, request

from app import clock

bp = Blueprint("devtools", __name__, url_prefix="/dev")


def _shared():
    shared = current_app.extensions.get("dev_clock")
    if shared is None:
        abort(404)
    return shared


@bp.get("/clock")
def show_clock():
    _shared()
    return jsonify(now=clock.now().isoformat())


@bp.post("/clock")
def move_clock():
    """Body (form or JSON): set=ISO-8601 moment, or advance_minutes=N; freeze=1 stops time."""
    shared = _shared()
    payload = request.get_json(silent=True) or request.form
    freeze = str(payload.get("freeze", "")).lower() in {"1", "true", "yes", "on"}
    if payload.get("set"):
        target = datetime.fromisoformat(payload["set"])
        if target.tzinfo is None:
            abort(400, description="give the moment with its offset, e.g. 2026-11-23T09:00:00+01:00")
    else:
        target = clock.now() + timedelta(minutes=float(payload.get("advance_minutes", 0)))
    if freeze:
        shared.store(frozen_at=target)
    else:
        shared.store(offset=target - datetime.now(target.tzinfo))
    return jsonify(now=clock.now().isoformat())
