"""Pages of app.instance_view: the instance page and the retry of its incidents. A refusal is a 403
page and an audit record."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.audit.service import record
from app.auth.current import current_actor
from app.db import get_database, request_session
from app.errors import Forbidden
from app.instance_view import service
from app.instances.engine_setup import current_engine
from app.instances.incidents import RoutineFailed
from app.instances.models import IncidentStatus

bp = Blueprint(
    "instance_view",
    __name__,
    url_prefix="/instances",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/instance_view",
)

# bpmn-js sets style attributes from script; scripts stay 'self' only (as on the control tower's heatmap).
DIAGRAM_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; font-src 'self' data:"

STATE_LABELS = {
    "completed": _l("avklarat"),
    "active": _l("pågår"),
    "waiting": _l("väntar"),
    "error": _l("fel"),
}
STATUS_LABELS = {
    "running": _l("pågår"),
    "completed": _l("avslutad"),
    "cancelled": _l("avbruten"),
    "stopped": _l("stoppad"),
}
ACTION_LABELS = {
    "instance:started": _l("startade rutinen"),
    "task:completed": _l("slutförde uppgiften"),
    "instance:message": _l("händelse kom in"),
    "instance:timers_fired": _l("tidsgräns passerade"),
    "deadline:fired": _l("tidsgräns passerade"),
    "instance:completed": _l("rutinen avslutades"),
    "instance:cancelled": _l("avbröt rutinen"),
    "instance:migrated": _l("flyttade till en ny version"),
    "incident:opened": _l("ett steg misslyckades"),
    "incident:resolved": _l("incidenten löstes"),
    "incident:retry_failed": _l("nytt försök misslyckades"),
}


@bp.context_processor
def _labels():
    return {
        "state_labels": STATE_LABELS,
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "open_status": IncidentStatus.OPEN,
    }


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    request_session().rollback()
    actor = current_actor(required=False)
    if actor is not None:
        with get_database().transaction() as fresh:
            record(
                fresh,
                "instance:view_refused",
                actor=actor,
                subject=("process_instance", error.details.get("instance_id")),
                path=request.path,
                method=request.method,
            )
    return render_template(
        "error.html",
        status=403,
        message=_("Instanssidan visas för övergripande ansvarig, verksamhetschefen och processägare."),
    ), 403


@bp.get("/<id:instance_id>")
def show(instance_id: int):
    """The diagram with its state marked, the history, task data for those allowed, incidents."""
    actor = current_actor()
    db = request_session()
    page = service.instance_page(
        db, current_engine(), actor=actor, instance_id=instance_id, context=request.path
    )
    body = render_template("instance_view/show.html", page=page)
    db.commit()  # the access log of this read
    response = Response(body)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


@bp.get("/<id:instance_id>/diagram.bpmn")
def diagram_xml(instance_id: int):
    """The BPMN of the version the instance runs on, for the viewer."""
    actor = current_actor()
    db = request_session()
    xml = service.diagram_xml(db, actor=actor, instance_id=instance_id)
    db.rollback()
    return Response(xml, mimetype="application/xml")


@bp.post("/<id:instance_id>/incidents/<id:incident_id>/retry")
def retry(instance_id: int, incident_id: int):
    """Retry the failed step of an incident; it resolves or counts one more try."""
    actor = current_actor()
    request_session().rollback()
    try:
        incident = service.retry(
            get_database(), current_engine(), actor=actor, instance_id=instance_id, incident_id=incident_id
        )
    except RoutineFailed as failure:
        flash(_("Det nya försöket misslyckades: %(why)s", why=failure.message))
        return redirect(url_for("instance_view.show", instance_id=instance_id))
    if incident.status == IncidentStatus.RESOLVED:
        flash(_("Steget gick igenom; incidenten är löst."))
    else:
        flash(_("Steget misslyckades igen: %(why)s", why=incident.message))
    return redirect(url_for("instance_view.show", instance_id=instance_id))
