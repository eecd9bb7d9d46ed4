"""Errors as RFC 9457 problem details (`application/problem+json`) with a stable `type` and `code`.

Guard refusals carry the guideline rule and, when it is about time, the earliest allowed moment. A
refused read of a case is access-logged in its own transaction (the request's is rolled back).
"""

from __future__ import annotations

import re

from flask import g, jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.api.operations import bp
from app.api.queries import visible_case_version
from app.audit.service import log_access, record
from app.db import request_session
from app.errors import Conflict, DomainError, Forbidden, GuardRefused, Unauthenticated, ValidationFailed
from app.instances.incidents import RoutineFailed, record_failure

TITLES = {
    "validation_failed": _l("Uppgifterna är inte giltiga"),
    "idempotency_key_reused": _l("Idempotency-Key redan använd"),
    "guard_refused": _l("Rutinen tillåter inte åtgärden nu"),
    "conflict": _l("Ärendet har ändrats"),
    "forbidden": _l("Ingen behörighet"),
    "staff_only": _l("Endast för personal"),
    "resident_only": _l("Endast för invånare"),
    "not_found": _l("Finns inte"),
    "unauthenticated": _l("Inloggning krävs"),
    "invalid_token": _l("Ogiltig token"),
    "routine_failed": _l("Rutinen kunde inte fortsätta"),
}
# Details a refusal may pass on to the client; never patient ids of a case the caller may not read.
PUBLIC_DETAILS = ("earliest", "current_version", "reason", "chat_attempts", "phone_attempts", "age")


def problem(status: int, code: str, detail: str, title: str | None = None, **extra):
    """A problem+json response."""
    body = {
        "type": f"urn:vardflode:problem:{code}",
        "title": str(title or TITLES.get(code, code.replace("_", " "))),
        "status": status,
        "code": code,
        "detail": str(detail),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    if isinstance(error, Forbidden):
        _log_refusal(error)
    elif isinstance(error, RoutineFailed):
        _record_incident(error)
        return problem(
            error.status,
            error.code,
            str(
                _l(
                    "Ärendets rutin kunde inte fortsätta. En incident är registrerad och åtgärden gjordes inte."
                )
            ),
        )
    else:
        request_session().rollback()
    extra = {key: error.details[key] for key in PUBLIC_DETAILS if error.details.get(key) is not None}
    if isinstance(error, Conflict) and "current_version" not in extra:
        extra.update(_current_version())
    if isinstance(error, GuardRefused):
        extra["rule"] = error.rule
    if isinstance(error, ValidationFailed):
        extra["errors"] = {path: [str(m) for m in messages] for path, messages in error.field_errors.items()}
    response = problem(error.status, error.code, error.message, **extra)
    if isinstance(error, Unauthenticated):
        challenge = 'Bearer realm="vardflode"'
        if error.code == "invalid_token":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


@bp.errorhandler(StaleDataError)
def _stale(_error: StaleDataError):
    # Someone changed the case between our read and our write (optimistic locking): nothing was saved.
    request_session().rollback()
    return problem(
        409, Conflict.code, str(_l("Någon annan ändrade ärendet samtidigt. Läs om det och försök igen."))
    )


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    request_session().rollback()
    status = error.code or 500
    code = re.sub(r"[^a-z0-9]+", "_", (error.name or "error").lower()).strip("_")
    return problem(status, code, error.description or "", title=error.name)


def _current_version() -> dict:
    # A stale case action names the version now, so the client knows to read the case again; only
    # to someone who may read the case (the stale-page check runs before the permission check).
    case_id, actor = (request.view_args or {}).get("case_id"), g.get("api_actor")
    if case_id is None or actor is None:
        return {}
    db = request_session()
    version = visible_case_version(db, actor=actor, case_id=case_id)
    db.rollback()
    return {"current_version": version} if version is not None else {}


def _log_refusal(error: Forbidden) -> None:
    """Audit every refusal, and access-log a refused read or action on a case, surviving the rollback."""
    db = request_session()
    db.rollback()  # the refused request's own work goes, and with it its lock (SQLite)
    actor = g.get("api_actor")
    if actor is None:
        return
    case_id = error.details.get("case_id")
    if case_id is not None:
        patient_id = error.details.get("patient_id")
        action = (
            f"api:{request.endpoint.rsplit('.', 1)[-1]}:refused"[:80] if request.endpoint else "api:refused"
        )
        log_access(
            db,
            actor=actor,
            action=action,
            patient_ids=[patient_id] if patient_id else [],
            case_id=case_id,
            context=request.path[:200],
        )
    record(
        db,
        "api:access_refused",
        actor=actor,
        subject=("case", case_id) if case_id is not None else None,
        method=request.method,
        path=request.path[:200],
        code=error.code,
    )
    db.commit()


def _record_incident(error: RoutineFailed) -> None:
    db = request_session()
    db.rollback()
    record_failure(db, error)
    db.commit()
