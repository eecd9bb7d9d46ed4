"""Blueprints, request hooks and error pages: domain errors become pages or problem+json."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.errors import DomainError, Unauthenticated, ValidationFailed

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _problem(status: int, title: str, detail: str, **extra):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def init_app(app: Flask) -> None:
    from app.admin.routes import bp as admin_bp
    from app.api.routes import bp as api_bp
    from app.auth.current import check_csrf, csrf_token
    from app.auth.navigation import links_for
    from app.auth.routes import bp as auth_bp
    from app.casework.routes import bp as casework_bp
    from app.control_tower.routes import bp as control_tower_bp
    from app.devtools.routes import bp as dev_bp
    from app.instance_view.routes import bp as instance_view_bp
    from app.log_review.routes import bp as log_review_bp
    from app.modeler.routes import bp as modeler_bp
    from app.process_changes.routes import bp as process_changes_bp
    from app.resident.routes import bp as resident_bp
    from app.vendor import bp as vendor_bp
    from app.worklist.routes import bp as worklist_bp

    for blueprint in (
        auth_bp, worklist_bp, casework_bp, resident_bp, api_bp, vendor_bp,
        modeler_bp, process_changes_bp, instance_view_bp, control_tower_bp, admin_bp, log_review_bp,
    ):  # fmt: skip
        app.register_blueprint(blueprint)
    if app.config["DEV_CLOCK_CONTROL"]:
        app.register_blueprint(dev_bp)

    @app.before_request
    def _before():
        shared = current_app.extensions.get("dev_clock")
        if shared is not None:
            shared.sync()
        check_csrf()

    @app.context_processor
    def _template_globals():
        return {"csrf_token": csrf_token, "nav_links": links_for(g.get("actor"))}

    @app.template_filter("localtime")
    def _localtime(moment, fmt: str = "%Y-%m-%d %H:%M"):
        """Show a stored UTC moment in Swedish local time."""
        return moment.astimezone(STOCKHOLM).strftime(fmt) if moment else ""

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
        if request.path != "/login" and response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # patient data must not linger in caches
        return response

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if isinstance(error, Unauthenticated) and not _wants_json():
            return redirect(url_for("auth.login_page", next=request.path))
        if _wants_json():
            extra = {"code": error.code}
            if isinstance(error, ValidationFailed):
                extra["errors"] = error.field_errors
            return _problem(error.status, error.code.replace("_", " "), error.message, **extra)
        return render_template("error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if _wants_json():
            return _problem(error.code or 500, error.name, error.description or "")
        return render_template("error.html", status=error.code, message=error.description), error.code
