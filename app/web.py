"""Blueprints, request hooks and error pages: domain errors become pages or problem+json."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.auth.current import record_activity
from app.db import request_session
from app.errors import Conflict, DomainError, Unauthenticated, ValidationFailed

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _wants_json() -> bool:
    """API paths, clients that ask for JSON, and scripts that post JSON (the diagram editor) get problem+json."""
    return (
        request.path.startswith("/api/")
        or request.accept_mimetypes.best == "application/json"
        or request.mimetype == "application/json"
    )


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
    from app.auth.navigation import current_area, links_for
    from app.auth.routes import bp as auth_bp
    from app.casework.routes import bp as casework_bp
    from app.control_tower.routes import bp as control_tower_bp
    from app.devtools.routes import bp as dev_bp
    from app.ids import IdConverter
    from app.instance_view.routes import bp as instance_view_bp
    from app.log_review.routes import bp as log_review_bp
    from app.modeler.routes import bp as modeler_bp
    from app.people.labels import role_label
    from app.process_changes.routes import bp as process_changes_bp
    from app.resident.routes import bp as resident_bp
    from app.scheduling.routes import bp as scheduling_bp
    from app.vendor import bp as vendor_bp
    from app.worklist.routes import bp as worklist_bp

    app.url_map.converters["id"] = IdConverter  # `<id:…>` in page routes; set before their rules are added
    for blueprint in (
        auth_bp, worklist_bp, casework_bp, resident_bp, api_bp, vendor_bp,
        modeler_bp, process_changes_bp, instance_view_bp, control_tower_bp, admin_bp, log_review_bp,
        scheduling_bp,
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
        links = links_for(g.get("actor"))
        return {
            "csrf_token": csrf_token,
            "nav_links": links,
            "nav_current": current_area(links, request.endpoint),
        }

    app.jinja_env.globals["role_label"] = role_label  # role names in the reader's language, on every page

    @app.template_filter("localtime")
    def _localtime(moment, fmt: str = "%Y-%m-%d %H:%M"):
        """Show a stored UTC moment in Swedish local time."""
        return moment.astimezone(STOCKHOLM).strftime(fmt) if moment else ""

    @app.after_request
    def _headers(response):
        record_activity()  # the signed-in user's sign of life, after the view's own transaction
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
        )
        if request.path != "/login" and response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # patient data must not linger in caches
        return response

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if isinstance(error, Unauthenticated) and not _wants_json():
            return _to_login()
        if _wants_json():
            extra = {"code": error.code}
            if isinstance(error, ValidationFailed):
                extra["errors"] = error.field_errors
            return _problem(error.status, error.code.replace("_", " "), error.message, **extra)
        return render_template("error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(StaleDataError)
    def _stale(_error: StaleDataError):
        # A colleague's change won the race at our flush: nothing was saved; a conflict, not a crash.
        request_session().rollback()
        return _domain_error(
            Conflict(
                _(
                    "Någon annan ändrade samma uppgifter samtidigt. Inget skrevs över. Läs in sidan och försök igen."
                )
            )
        )

    @app.errorhandler(DataError)
    def _out_of_range(_error: DataError):
        # A value the database cannot hold (a number past its integer range, a text past its column)
        # that a form or API check let through: nothing was saved; the input is refused, not a crash.
        request_session().rollback()
        return _domain_error(ValidationFailed(_("Ett värde är för stort eller för långt. Inget sparades.")))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        message = _page_message(error)
        if _wants_json():
            return _problem(error.code or 500, error.name, message)
        return render_template("error.html", status=error.code, message=message), error.code


def _to_login():
    """Send a signed-out (or timed-out) user to the login page, to come back where they were.

    A post cannot be repeated by a redirect, so it returns to the page it was sent from; a self-refreshing
    part of a page (htmx) makes the whole page go, rather than drawing the login page inside itself."""
    if request.headers.get("HX-Request"):
        back = urlsplit(request.headers.get("HX-Current-URL", "")).path or None
    elif request.method in ("GET", "HEAD"):
        back = request.full_path.rstrip("?")
    else:
        referrer = urlsplit(request.referrer or "")
        back = referrer.path if referrer.netloc in ("", request.host) and referrer.path else None
    target = url_for("auth.login_page", next=back, expired="1" if g.get("session_expired") else None)
    if request.headers.get("HX-Request"):
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _page_message(error: HTTPException) -> str:
    """A Swedish (translatable) explanation for the common HTTP errors; our own descriptions as they are."""
    messages = {
        404: _("Sidan finns inte."),
        405: _("Det går inte att göra så här på den här sidan."),
        413: _(
            "Det du skickade är för stort (högst %(limit)s MB).",
            limit=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
        ),
        500: _("Ett oväntat fel inträffade. Försök igen om en stund."),
    }
    default = type(error).description  # Werkzeug's own English text: replace it; keep a route's own words
    if error.description and error.description != default:
        return error.description
    return messages.get(error.code, error.description or "")
