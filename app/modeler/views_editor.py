"""The editors: BPMN (bpmn-js) with a side panel, decision tables (dmn-js), task forms with a live
preview rendered by the clinician's form renderer (app/casework/schema_form.py)."""

from __future__ import annotations

import json

from flask import current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.current import csrf_token, current_actor
from app.casework import schema_form
from app.db import request_session
from app.engine.xml import MAX_XML_BYTES
from app.errors import Conflict, Forbidden, ValidationFailed
from app.modeler.blueprint import bp
from app.people.roles import Role
from app.process_models import drafts
from app.process_models.models import VersionStatus
from app.process_models.service import load_bundle

REQUEST_OVERHEAD = 64 * 1024


def _engine():
    return current_app.extensions["engine"]


def _problem(status: int, detail: str, **extra):
    response = jsonify({"status": status, "detail": detail, **extra})
    response.status_code = status
    return response


@bp.get("/<process_id>/versions/<id:number>/edit")
def editor(process_id: str, number: int):
    """The BPMN editor over a draft (or a read-only view of a published version)."""
    actor = current_actor()
    drafts.require_model_reader(actor=actor)
    db = request_session()
    version = drafts.get_version(db, process_id=process_id, number=number)
    bundle = load_bundle(db, version.bundle_hash)
    editable = version.status == VersionStatus.DRAFT
    if editable:
        drafts.require_process_owner(actor=actor)
    # The decision-table and form pages are the process owners' (they ask the same function).
    try:
        drafts.require_process_owner(actor=actor)
        may_open_parts = True
    except Forbidden:
        may_open_parts = False
    config = {
        "bpmnUrl": url_for("modeler.export", process_id=process_id, number=number, inline=1),
        "saveUrl": url_for("modeler.save", process_id=process_id, number=number),
        "findingsUrl": url_for("modeler.findings", process_id=process_id, number=number),
        "hash": version.bundle_hash,
        "editable": editable,
        "csrf": csrf_token(),
        "forms": sorted(
            set(drafts.form_library(current_app.config["FORMS_DIR"]))
            | {n for n in bundle.forms if n.endswith(".schema.json")}
        ),
        "uiForms": sorted(n for n in bundle.forms if n.endswith(".uischema.json")),
        "operators": sorted(_engine().operators),
        "roles": [r.value for r in Role],
    }
    decisions = [n for n in bundle.documents if n.endswith(".dmn")]
    return render_template(
        "modeler/editor.html", process_id=process_id, version=version, editable=editable, config=json.dumps(config),
        decisions=decisions, forms=sorted(bundle.forms), may_open_parts=may_open_parts,
    )  # fmt: skip


@bp.get("/<process_id>/versions/<id:number>/findings")
def findings(process_id: str, number: int):
    """The version's validation findings as JSON (the editor marks them on the canvas)."""
    drafts.require_model_reader(actor=current_actor())
    found = drafts.draft_findings(request_session(), _engine(), process_id=process_id, number=number)
    return jsonify({"findings": [f.as_dict() for f in found]})


def _save_body_problem(body) -> str | None:
    """What is wrong with the shape of a save request, if anything (the editors always send this shape)."""
    if not isinstance(body, dict):
        return _("Sparningen ska vara ett JSON-objekt.")
    if not isinstance(body.get("expected_hash"), str) or not body["expected_hash"]:
        return _("Utkastets version (expected_hash) saknas. Ladda om sidan och försök igen.")
    if body.get("bpmn") is not None and not isinstance(body["bpmn"], str):
        return _("Diagrammet (bpmn) ska vara text.")
    decisions = body.get("decisions")
    if decisions is not None and not (
        isinstance(decisions, dict) and all(isinstance(text, str) for text in decisions.values())
    ):
        return _("Beslutstabellerna (decisions) ska vara ett objekt med filnamn och text.")
    return None


@bp.post("/<process_id>/versions/<id:number>/save")
def save(process_id: str, number: int):
    """Save the draft (BPMN and/or decision tables) and answer with its findings; 409 if stale."""
    actor = current_actor()
    drafts.require_process_owner(actor=actor)
    if (request.content_length or 0) > MAX_XML_BYTES + REQUEST_OVERHEAD:
        return _problem(
            413, _("Filen är för stor: gränsen är %(limit)s MB.", limit=MAX_XML_BYTES // (1024 * 1024))
        )
    body = request.get_json(silent=True)
    problem = _save_body_problem(body)
    if problem is not None:
        return _problem(422, problem)
    db = request_session()
    try:
        draft, found = drafts.save_draft(
            db, _engine(), actor=actor, process_id=process_id, number=number, expected_hash=body.get("expected_hash"),
            forms_dir=current_app.config["FORMS_DIR"], bpmn=body.get("bpmn"), decisions=body.get("decisions"),
        )  # fmt: skip
    except Conflict as error:
        db.rollback()
        return _problem(409, error.message, current_hash=error.details.get("current_hash"))
    except ValidationFailed as error:
        db.rollback()
        return _problem(422, error.message)
    db.commit()
    return jsonify({"hash": draft.bundle_hash, "findings": [f.as_dict() for f in found]})


@bp.get("/<process_id>/versions/<id:number>/decisions/<name>")
def decision(process_id: str, number: int, name: str):
    """The decision-table editor (dmn-js); cells are Python expressions."""
    actor = current_actor()
    drafts.require_process_owner(actor=actor)
    db = request_session()
    version = drafts.get_version(db, process_id=process_id, number=number)
    bundle = load_bundle(db, version.bundle_hash)
    if name not in bundle.documents or not name.endswith(".dmn"):
        return render_template(
            "error.html", status=404, message=_("Beslutstabellen finns inte i versionen.")
        ), 404
    config = {
        "dmnUrl": url_for("modeler.document", process_id=process_id, number=number, name=name),
        "saveUrl": url_for("modeler.save", process_id=process_id, number=number),
        "hash": version.bundle_hash, "name": name, "csrf": csrf_token(), "editable": version.status == VersionStatus.DRAFT,
    }  # fmt: skip
    return render_template(
        "modeler/decision.html", process_id=process_id, version=version, name=name, config=json.dumps(config)
    )


@bp.get("/<process_id>/versions/<id:number>/documents/<name>")
def document(process_id: str, number: int, name: str):
    drafts.require_model_reader(actor=current_actor())
    db = request_session()
    bundle = load_bundle(db, drafts.get_version(db, process_id=process_id, number=number).bundle_hash)
    if name not in bundle.documents:
        return _problem(404, "not found")
    return current_app.response_class(bundle.documents[name], mimetype="application/xml")


# --- task forms -------------------------------------------------------------------------------


def _form_texts(bundle, name: str) -> tuple[str, str]:
    schema = bundle.forms.get(name)
    if schema is None:
        library = drafts._library_form(current_app.config["FORMS_DIR"], name)
        schema = (
            library
            if library is not None
            else '{\n  "$schema": "https://json-schema.org/draft/2020-12/schema",\n  "type": "object",\n  "properties": {}\n}'
        )
    ui_name = name.replace(".schema.json", ".uischema.json")
    ui = bundle.forms.get(ui_name) or drafts._library_form(current_app.config["FORMS_DIR"], ui_name) or ""
    return schema, ui


def _preview_fields(schema_text: str, ui_text: str):
    """The fields exactly as the clinician's task page builds them, or the error that prevents it."""
    try:
        schema = drafts.parse_form_json(schema_text)
        ui = drafts.parse_form_json(ui_text) if ui_text.strip() else None
        return schema_form.fields(schema, ui), None
    except ValidationFailed as error:
        return [], error.message
    except Exception as error:  # noqa: BLE001 - a half-typed schema must not break the page
        return [], _("Formuläret kan inte visas ännu: %(error)s", error=str(error)[:200])


def _render_form(
    process_id: str,
    number: int,
    name: str,
    *,
    schema_text=None,
    ui_text=None,
    error=None,
    saved=False,
    status=200,
):
    actor = current_actor()
    drafts.require_process_owner(actor=actor)
    db = request_session()
    version = drafts.get_version(db, process_id=process_id, number=number)
    if not name.endswith(".schema.json") or "/" in name:
        return render_template("error.html", status=404, message=_("Formuläret finns inte.")), 404
    stored_schema, stored_ui = _form_texts(load_bundle(db, version.bundle_hash), name)
    schema_text = stored_schema if schema_text is None else schema_text
    ui_text = stored_ui if ui_text is None else ui_text
    fields, preview_error = _preview_fields(schema_text, ui_text)
    return (
        render_template(
            "modeler/form.html",
            process_id=process_id,
            version=version,
            name=name,
            schema_text=schema_text,
            ui_text=ui_text,
            fields=fields,
            preview_error=preview_error,
            error=error,
            saved=saved,
            editable=version.status == VersionStatus.DRAFT,
        ),
        status,
    )


@bp.get("/<process_id>/versions/<id:number>/forms/<name>")
def form(process_id: str, number: int, name: str):
    """A task form's JSON Schema and UI hints, with a live preview."""
    return _render_form(process_id, number, name)


@bp.post("/<process_id>/versions/<id:number>/forms/<name>/preview")
def form_preview(process_id: str, number: int, name: str):
    """The preview fragment (htmx), rendered through the clinician's form renderer."""
    drafts.require_process_owner(actor=current_actor())
    fields, preview_error = _preview_fields(request.form.get("schema", ""), request.form.get("ui", ""))
    return render_template("modeler/_preview.html", fields=fields, preview_error=preview_error)


@bp.post("/<process_id>/versions/<id:number>/forms/<name>")
def form_save(process_id: str, number: int, name: str):
    """Save the form into the draft (a shared form is copied into it, so the draft owns its version)."""
    actor = current_actor()
    schema_text, ui_text = request.form.get("schema", ""), request.form.get("ui", "")
    db = request_session()
    forms = {name: schema_text}
    if ui_text.strip():
        forms[name.replace(".schema.json", ".uischema.json")] = ui_text
    try:
        drafts.parse_form_json(schema_text)
        if ui_text.strip():
            drafts.parse_form_json(ui_text)
        drafts.save_draft(
            db, _engine(), actor=actor, process_id=process_id, number=number, expected_hash=request.form.get("expected_hash") or None,
            forms_dir=current_app.config["FORMS_DIR"], forms=forms,
        )  # fmt: skip
    except (ValidationFailed, Conflict) as error:
        db.rollback()
        return _render_form(
            process_id,
            number,
            name,
            schema_text=schema_text,
            ui_text=ui_text,
            error=error.message,
            status=error.status,
        )
    db.commit()
    return _render_form(process_id, number, name, saved=True)
