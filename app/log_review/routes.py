"""Pages of the log review (loggkontroll): search who opened a patient or what a user opened in a
period, and sampled reviews where the reviewer records a verdict per drawn row.

Searches are POSTed (a personnummer never sits in a URL, a browser history or a server log) and
committed with the access-log row the search itself writes.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.auth.current import current_actor
from app.calendar.zone import STOCKHOLM
from app.db import get_database, request_session
from app.errors import Conflict, Forbidden, GuardRefused, NotFound, ValidationFailed
from app.ids import bounded_id, bounded_version
from app.log_review import samples, services
from app.log_review.labels import action_label

bp = Blueprint(
    "log_review",
    __name__,
    url_prefix="/log-review",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/log_review",
)

VERDICT_LABELS = {"ok": _l("Utan anmärkning"), "follow_up": _l("Behöver följas upp")}
FIELD_TEXTS = {
    "first_day": _l("Skriv första dagen som ÅÅÅÅ-MM-DD (i dag eller tidigare)."),
    "last_day": _l("Sista dagen ska vara samma dag eller efter första dagen, högst ett år senare."),
    "identity_number": _l("Skriv patientens personnummer."),
    "size": _l("Stickprovet ska ha 1–200 rader."),
    "verdict": _l("Välj en bedömning."),
    "comment": _l("Skriv vad som behöver följas upp (högst 2000 tecken)."),
    "cursor": _l("Sidlänken var trasig. Sök igen."),
}


@bp.context_processor
def _labels():
    return {"verdict_labels": VERDICT_LABELS, "action_label": action_label}


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """Not a reviewer of this unit: 403, and the attempt in the audit trail (own transaction)."""
    request_session().rollback()
    actor = current_actor(required=False)
    with get_database().transaction() as fresh:
        services.record_refusal(fresh, actor=actor, path=request.path)
    message = _("Loggkontrollen är till för enhetens lokala systemadministratör och verksamhetschef.")
    return render_template("error.html", status=403, message=message), 403


def _field_errors(error: ValidationFailed) -> dict[str, str]:
    return {name: str(FIELD_TEXTS.get(name, _("Kontrollera fältet."))) for name in error.field_errors}


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, "").strip())
    except ValueError:
        return None


def _defaults() -> dict:
    today = clock.now().astimezone(STOCKHOLM).date()
    return {"first_day": (today - timedelta(days=7)).isoformat(), "last_day": today.isoformat(), "size": "20"}


def _render(
    *,
    result=None,
    kind: str | None = None,
    values: dict | None = None,
    error: str | None = None,
    field_errors=None,
    status: int = 200,
):
    actor = current_actor()
    db = request_session()
    page = render_template(
        "log_review/index.html", users=services.reviewable_users(db, actor=actor), samples=samples.samples(db, actor=actor),
        result=result, kind=kind, values={**_defaults(), **(values or {})}, error=error, field_errors=field_errors or {},
    )  # fmt: skip
    db.commit()  # a search's own access-log row and audit event
    return page, status


@bp.get("")
def index():
    """The search forms, the unit's samples and drawing a new one."""
    return _render()


def _search(kind: str, run):
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    db = request_session()
    try:
        result = run(db)
    except Forbidden:
        raise
    except ValidationFailed as error:
        db.rollback()
        return _render(
            kind=kind,
            values=values,
            error=_("Rätta fälten som är markerade."),
            field_errors=_field_errors(error),
            status=422,
        )
    except NotFound:
        db.rollback()
        return _render(kind=kind, values=values, error=_("Användaren finns inte."), status=404)
    return _render(result=result, kind=kind, values=values)


@bp.post("/patient")
def search_patient():
    """Who opened this patient's data in the period (the search is logged)."""
    actor = current_actor()
    return _search(
        "patient",
        lambda db: services.who_opened_patient(
            db, actor=actor, identity_number=request.form.get("identity_number", ""), first_day=_day("first_day"),
            last_day=_day("last_day"), cursor=request.form.get("cursor") or None,
        ),
    )  # fmt: skip


@bp.post("/user")
def search_user():
    """What this user opened in the period (the search is logged)."""
    actor = current_actor()
    user_id = request.form.get("user_id", type=bounded_id)
    if user_id is None:
        return _render(kind="user", values=dict(request.form), error=_("Välj en användare."), status=422)
    return _search(
        "user",
        lambda db: services.what_user_opened(
            db, actor=actor, user_id=user_id, first_day=_day("first_day"), last_day=_day("last_day"),
            cursor=request.form.get("cursor") or None,
        ),
    )  # fmt: skip


@bp.post("/samples")
def create_sample():
    """Draw a random sample of the period's access-log rows to review."""
    actor = current_actor()
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    db = request_session()
    try:
        sample = samples.create_sample(
            db,
            actor=actor,
            first_day=_day("first_day"),
            last_day=_day("last_day"),
            size=request.form.get("size", type=int),
        )
    except ValidationFailed as error:
        db.rollback()
        message = (
            _("Det finns inga loggrader i perioden.")
            if "no rows in the period" in str(error.field_errors)
            else _("Rätta fälten som är markerade.")
        )
        return _render(
            kind="sample", values=values, error=message, field_errors=_field_errors(error), status=422
        )
    db.commit()
    flash(_("Stickprovet är draget. Bedöm varje rad."))
    return redirect(url_for("log_review.sample_page", sample_id=sample.id))


def _render_sample(
    sample_id: int,
    *,
    error: str | None = None,
    field_errors=None,
    values: dict | None = None,
    status: int = 200,
):
    actor = current_actor()
    db = request_session()
    try:
        summary, rows = samples.sample_rows(db, actor=actor, sample_id=sample_id)
    except NotFound:
        db.rollback()
        return render_template(
            "error.html", status=404, message=_("Stickprovet finns inte vid din enhet.")
        ), 404
    page = render_template(
        "log_review/sample.html",
        sample=summary,
        rows=rows,
        error=error,
        field_errors=field_errors or {},
        values=values or {},
    )
    db.commit()  # the access-log row of showing the sample
    return page, status


@bp.get("/samples/<id:sample_id>")
def sample_page(sample_id: int):
    """The drawn rows with a verdict form on each."""
    return _render_sample(sample_id)


@bp.post("/samples/<id:sample_id>/items/<id:item_id>")
def record_verdict(sample_id: int, item_id: int):
    actor = current_actor()
    values = {
        "item_id": item_id,
        "verdict": request.form.get("verdict", ""),
        "comment": request.form.get("comment", ""),
    }
    db = request_session()
    try:
        samples.record_verdict(
            db, actor=actor, item_id=item_id, verdict=values["verdict"], comment=values["comment"],
            expected_version=request.form.get("expected_version", type=bounded_version),
        )  # fmt: skip
    except ValidationFailed as error:
        db.rollback()
        return _render_sample(
            sample_id,
            error=_("Rätta fälten som är markerade."),
            field_errors=_field_errors(error),
            values=values,
            status=422,
        )
    except Conflict as error:
        db.rollback()
        message = _(
            "%(name)s bedömde raden medan du läste den. Sidan visar nu den bedömningen; ändra den om du inte håller med.",
            name=error.details.get("reviewed_by") or _("En kollega"),
        )
        return _render_sample(sample_id, error=message, status=409)
    except GuardRefused:
        db.rollback()
        return _render_sample(
            sample_id, error=_("Du kan inte bedöma din egen åtkomst. En annan granskare gör det."), status=422
        )
    except NotFound:
        db.rollback()
        return render_template("error.html", status=404, message=_("Raden finns inte vid din enhet.")), 404
    db.commit()
    flash(_("Bedömningen är sparad."))
    return redirect(url_for("log_review.sample_page", sample_id=sample_id) + f"#item-{item_id}")
