"""How the resident's pages answer refusals: sign-in needed, 403 (logged), other domain errors.

A refused read must leave a trace even though the request's transaction is rolled back on error:
the attempt is access-logged and audited in a fresh transaction before the 403 page is shown.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.audit.service import Actor, log_access, record
from app.db import get_database, request_session
from app.errors import DomainError, Forbidden, Unauthenticated
from app.instances.incidents import RoutineFailed, record_failure
from app.resident.auth import current_resident
from app.resident.blueprint import bp


def log_read(
    session: Session, *, actor: Actor, action: str, patient_ids: Iterable[int], case_id: int | None = None
) -> None:
    """The access-log row of a read by the resident (one per page or fragment shown)."""
    log_access(
        session, actor=actor, action=action, patient_ids=patient_ids, case_id=case_id, context=request.path
    )


def routine_failure_text(error: DomainError | None) -> str | None:
    """For a routine that failed in the middle of the resident's action (already rolled back):
    record the incident for the unit's operations, and give the resident a plain text instead of
    the engine's message. None for any other refusal."""
    if not isinstance(error, RoutineFailed):
        return None
    with get_database().transaction() as db:
        record_failure(db, error)
    return _(
        "Det gick inte just nu och ingenting sparades. Försök igen om en stund eller kontakta din vårdcentral."
    )


def record_refusal(error: Forbidden) -> None:
    """Access-log and audit a refused read or action, in its own transaction."""
    request_session().rollback()  # the refused request's own work goes; its lock too (SQLite)
    actor = current_resident(required=False)
    if actor is None:
        return
    case_id = error.details.get("case_id")
    patient_id = error.details.get("patient_id")
    with get_database().transaction() as db:
        log_access(
            db,
            actor=actor,
            action="resident:refused",
            patient_ids=[patient_id] if patient_id else [],
            case_id=case_id,
            context=request.path,
        )
        record(
            db,
            "resident:access_refused",
            actor=actor,
            subject=("case", case_id) if case_id else None,
            method=request.method,
            path=request.path,
            rule=error.details.get("rule"),
        )


@bp.errorhandler(Unauthenticated)
def _sign_in_first(_error: Unauthenticated):
    target = request.path if request.method == "GET" else url_for("resident.start")
    login = url_for("resident.login_page", next=target, expired="1" if g.get("session_expired") else None)
    if request.headers.get("HX-Request") == "true":
        return "", 204, {"HX-Redirect": login}  # the whole page goes to sign-in, not a part of it
    return redirect(login)


@bp.errorhandler(DomainError)
def _refused(error: DomainError):
    if isinstance(error, Forbidden):
        record_refusal(error)
    else:
        request_session().rollback()
    message = routine_failure_text(error) or error.message
    return render_template("resident/error.html", status=error.status, message=message), error.status
