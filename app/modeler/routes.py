"""Pages of the process owners: models and versions, publishing, export and import.

The editors (BPMN, decision tables, task forms) are in app.modeler.views_editor.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError

from app.auth.current import current_actor
from app.db import request_session
from app.engine.xml import MAX_XML_BYTES
from app.errors import Conflict, DomainError, Forbidden, ValidationFailed
from app.ids import bounded_id
from app.instance_view import service as instance_view
from app.instances import migration
from app.modeler import views_editor  # noqa: F401 - registers the editor views on the blueprint
from app.modeler.blueprint import bp, wants_json
from app.process_models import drafts, publishing, transfer
from app.process_models.findings import has_errors
from app.process_models.overview import model_rows

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UPLOAD_OVERHEAD = 64 * 1024  # multipart headers around the file


def _link(endpoint: str, **values) -> str | None:
    """A link to another area's page, or None while that page is not registered yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.get("")
def index():
    """Every process model with its versions and how many instances run on each."""
    actor = current_actor()
    drafts.require_model_reader(actor=actor)
    rows = model_rows(request_session())
    return render_template("modeler/index.html", rows=rows, may_edit=_may_edit(actor))


def _may_edit(actor) -> bool:
    try:
        drafts.require_process_owner(actor=actor)
    except Exception:  # noqa: BLE001 - the page only hides buttons; the services refuse on their own
        return False
    return True


def _may_compare(actor) -> bool:
    """Whether the diff and migration pages would let the actor in (they ask the same function)."""
    try:
        migration.require_process_owner(actor)
    except Forbidden:
        return False
    return True


def _instance_link(db, actor, instance_id: int) -> str | None:
    """The instance page's link, for an instance the actor may open there (a head of unit sees her own
    unit's instances only); None leaves the id unlinked."""
    try:
        instance_view.require_view(db, actor=actor, instance_id=instance_id)
    except DomainError:
        return None
    return _link("instance_view.show", instance_id=instance_id)


def _render_model(process_id: str, *, error: str | None = None, status: int = 200, import_findings=None):
    actor = current_actor()
    drafts.require_model_reader(actor=actor)
    db = request_session()
    [row] = model_rows(db, process_id=process_id) or [None]
    if row is None:
        drafts.get_model(db, process_id=process_id)  # raises NotFound
    # The discard form names the bundle shown here: a colleague's later save makes it a 409.
    draft = drafts.current_draft(db, process_id=process_id) if row is not None and row.draft else None
    links = {}
    if _may_compare(actor):
        links = {
            "diff": _link("process_changes.diff", process_id=process_id),
            "migration": _link("process_changes.migration", process_id=process_id),
        }
    return (
        render_template(
            "modeler/model.html",
            row=row,
            may_edit=_may_edit(actor),
            links=links,
            error=error,
            draft_hash=draft.bundle_hash if draft is not None else None,
            import_findings=import_findings,
            instance_link=lambda instance_id: _instance_link(db, actor, instance_id),
        ),
        status,
    )


@bp.get("/<process_id>")
def model(process_id: str):
    """One model: its versions (approver, publisher, when, note, effective date, running instances)."""
    return _render_model(process_id)


@bp.post("/<process_id>/versions/<id:number>/draft")
def start_draft(process_id: str, number: int):
    db = request_session()
    try:
        draft = drafts.start_draft(db, actor=current_actor(), process_id=process_id, from_number=number)
    except Conflict as error:
        db.rollback()
        return _render_model(process_id, error=error.message, status=409)
    db.commit()
    return redirect(url_for("modeler.editor", process_id=process_id, number=draft.number))


@bp.post("/<process_id>/versions/<id:number>/discard")
def discard(process_id: str, number: int):
    db = request_session()
    try:
        drafts.discard_draft(
            db,
            actor=current_actor(),
            process_id=process_id,
            number=number,
            expected_hash=request.form.get("expected_hash") or None,
        )
    except ValidationFailed as error:
        db.rollback()
        return _render_model(process_id, error=error.message, status=422)
    except Conflict as error:
        db.rollback()
        return _render_model(process_id, error=error.message, status=409)
    db.commit()
    flash(_("Utkastet är slängt."))
    return redirect(url_for("modeler.model", process_id=process_id))


@bp.get("/<process_id>/versions/<id:number>/export.bpmn")
def export(process_id: str, number: int):
    """The version's routine as a .bpmn file (also what the editor loads)."""
    drafts.require_model_reader(actor=current_actor())
    name, text = transfer.export_file(request_session(), process_id=process_id, number=number)
    disposition = "inline" if request.args.get("inline") else "attachment"
    return Response(
        text,
        mimetype="application/xml",
        headers={"Content-Disposition": f'{disposition}; filename="{process_id}-v{number}-{name}"'},
    )


def _too_large_text() -> str:
    return _("Filen är för stor: gränsen är %(limit)s MB.", limit=MAX_XML_BYTES // (1024 * 1024))


@bp.post("/<process_id>/import")
def import_file(process_id: str):
    """A .bpmn from another tool becomes the model's draft; refused by size before it is read."""
    actor = current_actor()
    drafts.require_process_owner(actor=actor)
    if (request.content_length or 0) > MAX_XML_BYTES + UPLOAD_OVERHEAD:
        return _render_model(process_id, error=_too_large_text(), status=413)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_model(process_id, error=_("Välj en .bpmn-fil att importera."), status=422)
    data = upload.stream.read(MAX_XML_BYTES + 1)
    db = request_session()
    try:
        draft, findings = transfer.import_bpmn(
            db,
            current_app.extensions["engine"],
            actor=actor,
            process_id=process_id,
            data=data,
            forms_dir=current_app.config["FORMS_DIR"],
            filename=upload.filename,
        )
    except (ValidationFailed, Conflict) as error:
        db.rollback()
        return _render_model(process_id, error=error.message, status=error.status)
    db.commit()
    if has_errors(findings):
        flash(_("Filen är importerad som utkast. Granskningen visar vad som hindrar den från att köras."))
    else:
        flash(_("Filen är importerad som utkast."))
    return redirect(url_for("modeler.editor", process_id=process_id, number=draft.number))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    """Past the app's request limit (16 MB) a body is refused before any view runs: the import form
    then comes back with the import limit instead of the generic error page, and the editor's save
    gets that limit as problem JSON (both are MAX_XML_BYTES)."""
    if request.endpoint == "modeler.import_file":
        try:
            return _render_model(request.view_args["process_id"], error=_too_large_text(), status=413)
        except DomainError:
            pass  # signed out, or not allowed to see the model: the generic page below says enough
    elif request.endpoint == "modeler.save":
        response = jsonify({"status": 413, "detail": _too_large_text()})
        response.status_code = 413
        return response
    limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    message = _("Det du skickade är för stort (högst %(limit)s MB).", limit=limit)
    if wants_json():
        response = jsonify({"status": 413, "detail": message})
        response.status_code = 413
        return response
    return render_template("error.html", status=413, message=message), 413


# --- publishing -------------------------------------------------------------------------------

FIELD_TEXTS = {
    "approver": _l("Välj den chef som har fastställt rutinen."),
    "change_note": _l("Skriv vad som ändrats (högst 2 000 tecken)."),
    "effective_from": _l("Ange ett datum från och med i dag."),
}


def _render_publish(process_id: str, number: int, *, values=None, field_errors=None, error=None, status=200):
    actor = current_actor()
    drafts.require_process_owner(actor=actor)
    db = request_session()
    version = drafts.get_version(db, process_id=process_id, number=number)
    findings = drafts.draft_findings(
        db, current_app.extensions["engine"], process_id=process_id, number=number
    )
    return (
        render_template(
            "modeler/publish.html",
            process_id=process_id,
            version=version,
            findings=findings,
            blocked=has_errors(findings),
            approvers=publishing.approvers(db),
            values=values or {},
            field_errors=field_errors or {},
            error=error,
            field_texts={k: str(v) for k, v in FIELD_TEXTS.items()},
        ),
        status,
    )


@bp.get("/<process_id>/versions/<id:number>/publish")
def publish_page(process_id: str, number: int):
    return _render_publish(process_id, number)


def _effective(text: str) -> datetime | None:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)


@bp.post("/<process_id>/versions/<id:number>/publish")
def publish(process_id: str, number: int):
    """Publish the draft with approver, change note and effective date."""
    form = request.form
    values = {k: form.get(k, "") for k in ("approver", "change_note", "effective_from", "expected_hash")}
    db = request_session()
    try:
        publishing.publish_draft(
            db, current_app.extensions["engine"], actor=current_actor(), process_id=process_id, number=number,
            expected_hash=values["expected_hash"] or None, approver_user_id=form.get("approver", type=bounded_id),
            change_note=values["change_note"], effective_from=_effective(values["effective_from"]),
        )  # fmt: skip
    except ValidationFailed as error:
        db.rollback()
        fields = {k: v for k, v in error.field_errors.items() if k in FIELD_TEXTS}
        message = None if fields else error.message
        return _render_publish(
            process_id, number, values=values, field_errors=fields, error=message, status=422
        )
    except Conflict as error:
        db.rollback()
        return _render_publish(process_id, number, values=values, error=error.message, status=409)
    db.commit()
    flash(_("Version %(number)s är publicerad.", number=number))
    return redirect(url_for("modeler.model", process_id=process_id))
