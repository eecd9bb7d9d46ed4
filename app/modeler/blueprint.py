"""The modeler blueprint and what its pages share: the refusal page and the editor pages' CSP."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _

from app.audit.service import record
from app.auth.current import current_actor
from app.db import get_database, request_session
from app.errors import Forbidden

bp = Blueprint(
    "modeler",
    __name__,
    url_prefix="/process-models",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/modeler",
)

# bpmn-js and dmn-js draw by setting `style` attributes on SVG and HTML nodes, which a CSP without
# 'unsafe-inline' in style-src blocks (the diagram then renders without positions or colours).
# Only the editor pages relax it, and only for styles: scripts stay 'self'.
EDITOR_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; script-src 'self'"
EDITOR_ENDPOINTS = {"modeler.editor", "modeler.decision"}


@bp.after_request
def _editor_csp(response):
    if request.endpoint in EDITOR_ENDPOINTS:
        response.headers["Content-Security-Policy"] = EDITOR_CSP
    return response


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """Not a process owner: 403, and the attempt in the audit trail (a transaction of its own)."""
    request_session().rollback()
    actor = current_actor(required=False)
    if actor is not None:
        with get_database().transaction() as fresh:
            record(
                fresh,
                "process:refused",
                actor=actor,
                path=request.path,
                method=request.method,
                reason=error.message,
            )
    message = _("Processmodellerna ändras och publiceras av processägare.")
    if wants_json():
        response = jsonify({"title": "forbidden", "status": 403, "detail": str(message)})
        response.status_code = 403
        return response
    return render_template("error.html", status=403, message=message), 403
