"""Pages of the control tower (Flygledartornet): the unit's overview, the checks' case lists, the
region, the diagram heatmaps, the two actions, and /metrics.

The overview names no patient (counts, waiting times, staff) and refreshes itself with htmx; an
unchanged overview answers 204, so nothing under the user's hands moves. The checks' case lists
name patients: each showing writes the access log. A refusal is a 403 page and an audit record.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from werkzeug.routing import BuildError

from app import calendar, clock
from app.audit.service import log_access, record
from app.auth.current import current_actor
from app.cases.labels import STATE_LABELS
from app.cases.permissions import DUTY
from app.control_tower import actions, checks, metrics, queries
from app.control_tower.access import require_region_view, require_unit_view
from app.db import get_database, request_session
from app.errors import DomainError, Forbidden
from app.worklist.blueprint import case_url, short_time

bp = Blueprint(
    "control_tower",
    __name__,
    url_prefix=None,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/control_tower",
)
bp.record_once(metrics.install)

POLL_SECONDS = 30  # CONTROL_TOWER_POLL_SECONDS in the app's config overrides it (browser tests use 1)

CHECK_LABELS = {
    "urgent": _l("Brådskande ärenden utan åtgärd"),
    "absent-owner": _l("Ärenden hos någon som inte är på plats"),
    "unheld-role": _l("Ärenden i kö för en yrkesroll som ingen på plats har"),
    "handed-over": _l("Överlämnade ärenden som ingen tagit"),
    "past-deadline": _l("Ärenden efter sin tidsgräns"),
    "closable": _l("Ärenden som nu får avslutas"),
}
CHECK_HINTS = {
    "urgent": _l(
        "Prioritet 1–2 där patienten väntat längre än enhetens inställda minuter utan att någon i personalen svarat eller kontaktat patienten. Att flytta ärendet till en kö räknas inte."
    ),
    "absent-owner": _l(
        "Ägaren är inte inloggad vid enheten. Flytta ärendet till yrkesrollens kö så att en kollega kan fortsätta."
    ),
    "unheld-role": _l("Ingen som är på plats har yrkesrollen: ärendet blir inte omhändertaget."),
    "handed-over": _l(
        "Lämnat till en annan yrkesroll eller kollega, eller väntar på patientens samtycke, och ingen har svarat eller kontaktat patienten sedan."
    ),
    "past-deadline": _l("En tidsgräns i rutinen har passerat utan att rutinen gått vidare."),
    "closable": _l("Startade ärenden där patienten inte svarat och reglerna för avslut nu är uppfyllda."),
}


# The tower's own heading for the state column of cases waiting for the patient's consent to a handover
# (CaseState.HANDED_OVER): the shared label "Överlämnat" read as "every handed-over case", while a case
# handed over with consent (or without, on suicide risk) is back under its own state at once.
COLUMN_LABELS = {"handed_over": _l("Väntar på samtycke till överlämning")}


def wait_text(moment: datetime | None, now: datetime | None = None) -> str:
    """How long a case has waited since `moment`, readable at a glance: minutes under an hour, hours
    and minutes under a day, then days and hours ("3 dygn 0 tim", "3 d 0 h")."""
    if moment is None:
        return "–"
    minutes = max(0, int(((now or clock.now()) - moment).total_seconds() // 60))
    if minutes < 60:
        return _("%(minutes)s min", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)s tim %(minutes)s min", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return _("%(days)s dygn %(hours)s tim", days=days, hours=hours)


def _instance_url(instance_id: int | None) -> str | None:
    """The instance page (another area's `instance_view.show`), when the row has an instance."""
    if instance_id is None:
        return None
    try:
        return url_for("instance_view.show", instance_id=instance_id)
    except BuildError:
        return None


@bp.context_processor
def _labels():
    return {
        "check_labels": CHECK_LABELS,
        "check_hints": CHECK_HINTS,
        "check_rules": {key: check.rules for key, check in queries.CHECKS.items()},
        "state_labels": STATE_LABELS,
        "short_time": short_time,
        "case_url": case_url,
        "instance_url": _instance_url,
        "column_labels": COLUMN_LABELS,
        "wait_text": wait_text,
    }


def _day() -> tuple[date | None, str, bool]:
    """HA-day-end: the `day` filter (YYYY-MM-DD, or "today"); returns (day, the typed text, invalid)."""
    raw = (request.args.get("day") or "").strip()
    if not raw:
        return None, "", False
    if raw == "today":
        return calendar.local_date(clock.now()), raw, False
    try:
        return date.fromisoformat(raw), raw, False
    except ValueError:
        return None, raw, True


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """A refused look or action: 403, and the attempt in the audit log (in a transaction of its own)."""
    request_session().rollback()
    actor = current_actor(required=False)
    if actor is not None:
        with get_database().transaction() as fresh:
            record(
                fresh,
                "control_tower:refused",
                actor=actor,
                subject=("unit", error.details.get("unit_id", actor.unit_id)),
                path=request.path,
                method=request.method,
            )
    return render_template(
        "error.html",
        status=403,
        message=_(
            "Du har inte behörighet till Flygledartornet här. Det har den som har det övergripande ansvaret och verksamhetschefen."
        ),
    ), 403


@bp.get("/control-tower")
def index():
    """The unit's tower: open cases by priority and state, the duty, staffing gaps, the checks' counts, load."""
    polling = request.args.get("fragment") == "live"
    actor = current_actor(required=not polling)
    if actor is None:
        response = Response(status=204)
        response.headers["HX-Redirect"] = url_for("auth.login_page")
        return response
    db = request_session()
    unit = require_unit_view(db, actor=actor, unit_id=actor.unit_id)
    day, day_text, day_invalid = _day()
    overview = queries.unit_overview(db, unit_id=unit.id, day=day)
    db.rollback()  # read-only
    context = {
        "overview": overview,
        "day": day,
        "day_text": day_text,
        "day_invalid": day_invalid,
        "holds_duty": DUTY in actor.roles,
    }
    live = render_template("control_tower/_live.html", **context)
    digest = hashlib.sha256(live.encode()).hexdigest()[:20]
    if polling and request.args.get("since") == digest:
        return Response(status=204)  # unchanged: the user's page stays exactly as it is
    poll_url = url_for("control_tower.index", day=day_text or None, fragment="live", since=digest)
    poll_seconds = current_app.config.get("CONTROL_TOWER_POLL_SECONDS", POLL_SECONDS)
    template = "control_tower/_poll.html" if polling else "control_tower/index.html"
    return render_template(
        template,
        live=Markup(live),
        poll_url=poll_url,
        poll_seconds=poll_seconds,
        now_label=short_time(overview.now),
        **context,
    )


@bp.get("/control-tower/checks/<key>")
def check(key: str):
    """One check's cases (identifying: the read is access-logged)."""
    if key not in queries.CHECKS:
        return render_template("error.html", status=404, message=_("Kontrollen finns inte.")), 404
    actor = current_actor()
    db = request_session()
    unit = require_unit_view(db, actor=actor, unit_id=actor.unit_id)
    day, day_text, day_invalid = _day()
    rows = [] if day_invalid else queries.check_rows(db, key=key, unit_id=unit.id, day=day)
    patient_ids = [row.patient_id for row in rows if row.patient_id is not None]
    if patient_ids:
        log_access(
            db, actor=actor, action=f"control_tower:{key}", patient_ids=patient_ids, context=request.path
        )
    owners = checks.owner_names(db, {row.owner_user_id for row in rows if row.owner_user_id})
    db.commit()
    may_move = key == "absent-owner" and DUTY in actor.roles
    return render_template(
        "control_tower/check.html",
        key=key,
        rows=rows,
        owners=owners,
        unit=unit,
        day=day,
        day_text=day_text,
        day_invalid=day_invalid,
        may_move=may_move,
    )


@bp.post("/control-tower/cases/<id:case_id>/to-role-queue")
def move_case(case_id: int):
    """OG-6.1-j: move a case from an absent owner to its role's queue (the service audits it)."""
    actor = current_actor()
    db = request_session()
    try:
        actions.move_to_role_queue(db, actor=actor, case_id=case_id)
    except Forbidden:
        raise
    except DomainError as error:
        db.rollback()
        flash(str(error.message))  # a lazy text would be stored as unescaped Markup
        return redirect(url_for("control_tower.check", key="absent-owner"))
    db.commit()
    flash(_("Ärendet ligger nu i yrkesrollens kö."))
    return redirect(url_for("control_tower.check", key="absent-owner"))


@bp.get("/control-tower/high-load")
def high_load():
    """OG-9.1: the confirmation step before telling the waiting patients of high load."""
    actor = current_actor()
    db = request_session()
    unit = require_unit_view(db, actor=actor, unit_id=actor.unit_id)
    load = checks.og_9_1_load(db, unit_id=unit.id)
    db.rollback()
    return render_template(
        "control_tower/high_load.html", load=load, unit=unit, holds_duty=DUTY in actor.roles
    )


@bp.post("/control-tower/high-load")
def high_load_send():
    """OG-9.1, OG-10.1-d: send the high-load phrase template to the unit's waiting patients, once confirmed."""
    actor = current_actor()
    db = request_session()
    require_unit_view(db, actor=actor, unit_id=actor.unit_id)
    if request.form.get("confirmed") != "1":
        return redirect(url_for("control_tower.high_load"))
    told = actions.tell_high_load(db, actor=actor)
    db.commit()
    flash(
        ngettext(
            "%(num)s väntande patient har fått meddelandet om hög belastning.",
            "%(num)s väntande patienter har fått meddelandet om hög belastning.",
            told,
        )
    )
    return redirect(url_for("control_tower.index"))


@bp.get("/control-tower/region")
def region():
    """The region's units side by side (counts only, no patient named)."""
    actor = current_actor()
    db = request_session()
    region_id = require_region_view(db, actor=actor)
    units = queries.region_overview(db, region_id=region_id)
    diagrams = queries.diagram_loads(db, region_id=region_id)
    db.rollback()
    return render_template(
        "control_tower/region.html", units=units, diagrams=diagrams, own_unit_id=actor.unit_id
    )


def _diagram_access(db, actor) -> tuple[int | None, int | None]:
    """(unit_id, region_id) whose cases the diagram counts: the unit's tower its own, the region view
    (heads of unit) the units of the actor's region."""
    from app.people.roles import Role

    if Role.HEAD_OF_UNIT.value in actor.roles and request.args.get("scope") == "region":
        return None, require_region_view(db, actor=actor)
    return require_unit_view(db, actor=actor, unit_id=actor.unit_id).id, None


@bp.get("/control-tower/diagrams/<id:version_id>")
def diagram(version_id: int):
    """The heatmap: how many cases stand at each element of a process version now, with a table."""
    actor = current_actor()
    db = request_session()
    unit_id, region_id = _diagram_access(db, actor)
    loads = queries.diagram_loads(db, unit_id=unit_id, region_id=region_id, version_id=version_id)
    db.rollback()
    load = loads[0] if loads else None
    scope = "region" if unit_id is None else None
    response = Response(
        render_template("control_tower/diagram.html", load=load, version_id=version_id, scope=scope)
    )
    # bpmn-js positions its canvas, overlays and labels with style attributes set from script; CSP
    # 'unsafe-inline' for styles on this page only lets it draw (scripts stay 'self' only).
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; font-src 'self' data:"
    )
    return response


@bp.get("/control-tower/diagrams/<id:version_id>.bpmn")
def diagram_xml(version_id: int):
    """The version's BPMN XML for the viewer, with the counts the overlays show as JSON beside it."""
    actor = current_actor()
    db = request_session()
    _diagram_access(db, actor)
    xml = queries.diagram_xml(db, version_id=version_id)
    db.rollback()
    return Response(xml, mimetype="application/xml")


@bp.get("/metrics", endpoint="metrics")
def metrics_view():
    """Prometheus text format; see app.control_tower.metrics for what is exposed and who may read it."""
    if not metrics.allowed(request):
        return Response("forbidden\n", status=403, mimetype="text/plain")
    db = request_session()
    body = metrics.render(db)
    db.rollback()
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")
