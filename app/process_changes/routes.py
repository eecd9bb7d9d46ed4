"""Pages of app.process_changes: the diff between two versions, migration of running instances, and
the guideline-rule traceability page. Process owners only; a refusal is a 403 page and an audit record."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.audit.service import record
from app.auth.current import current_actor
from app.db import get_database, request_session
from app.errors import Conflict, Forbidden
from app.ids import bounded_id
from app.instances import migration as moving
from app.instances.engine_setup import current_engine
from app.process_changes import queries
from app.process_changes import traceability as tracing

bp = Blueprint(
    "process_changes",
    __name__,
    url_prefix=None,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/process_changes",
)

# bpmn-js positions its canvas, overlays and labels with style attributes set from script: pages with
# a diagram allow inline styles (scripts stay 'self' only), as the control tower's heatmap does.
DIAGRAM_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; font-src 'self' data:"

REASON_LABELS = {
    "not_running": _l("instansen pågår inte"),
    "other_version": _l("instansen går inte på versionen som flyttas från"),
    "same_version": _l("instansen går redan på den versionen"),
    "changed_completed": _l("ett avklarat steg har ändrats"),
    "changed_active": _l("ett pågående steg har ändrats"),
    "removed_completed": _l("ett avklarat steg har tagits bort"),
    "removed_active": _l("ett pågående steg har tagits bort"),
    "removed_subprocess": _l("en pågående delprocess har tagits bort"),
    "changed_since_dry_run": _l("instansen har ändrats sedan provkörningen; provkör igen"),
    "not_published": _l("versionen är inte publicerad"),
}
FIELD_LABELS = {
    "type": _l("typ"),
    "name": _l("namn"),
    "lane": _l("yrkesroll (bana)"),
    "properties": _l("egenskaper"),
    "condition": _l("villkor"),
    "timer": _l("timer"),
    "script": _l("skript"),
    "incoming": _l("inkommande flöden"),
    "outgoing": _l("utgående flöden"),
    "source": _l("från"),
    "target": _l("till"),
    "attached_to": _l("fäst vid"),
    "default": _l("standardflöde"),
    "extensions": _l("tjänst eller beslutstabell"),
    "events": _l("händelsetyp"),
    "content": _l("innehåll"),
}


@bp.context_processor
def _labels():
    def field_label(key: str) -> str:
        if key.startswith("form "):
            return _("formulär %(name)s", name=key[5:])
        return str(FIELD_LABELS.get(key, key))

    return {"reason_labels": REASON_LABELS, "field_label": field_label}


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """A refused look or action: 403, and the attempt in the audit log (in a transaction of its own)."""
    request_session().rollback()
    actor = current_actor(required=False)
    if actor is not None:
        with get_database().transaction() as fresh:
            record(
                fresh,
                "process_changes:refused",
                actor=actor,
                subject=("process_model", request.view_args.get("process_id") if request.view_args else None),
                path=request.path,
                method=request.method,
            )
    return render_template(
        "error.html",
        status=403,
        message=_("Spårbarheten visas för processägare och verksamhetschefer.")
        if request.endpoint == "process_changes.traceability"
        else _("Bara processägare jämför versioner och flyttar pågående instanser."),
    ), 403


def _with_diagram_csp(body: str, status: int = 200) -> Response:
    response = Response(body, status=status)
    response.headers["Content-Security-Policy"] = DIAGRAM_CSP
    return response


@bp.get("/process-models/<process_id>/diff")
def diff(process_id: str):
    """Added, removed and changed elements between two versions, listed and marked on the diagrams."""
    actor = current_actor()
    db = request_session()
    choice = queries.choose_versions(
        db,
        actor=actor,
        process_id=process_id,
        from_arg=request.args.get("from"),
        to_arg=request.args.get("to"),
    )
    changes = queries.diff(db, actor=actor, choice=choice)
    layout = {
        n: queries.has_layout(db, process_id=process_id, number=n)
        for n in (choice.from_number, choice.to_number)
        if n
    }
    db.rollback()  # read-only
    return _with_diagram_csp(
        render_template("process_changes/diff.html", choice=choice, diff=changes, layout=layout)
    )


@bp.get("/process-models/<process_id>/versions/<id:number>/diagram.bpmn")
def diagram_xml(process_id: str, number: int):
    """One version's BPMN, for the diagram viewer."""
    actor = current_actor()
    db = request_session()
    xml = queries.diagram_xml(db, actor=actor, process_id=process_id, number=number)
    db.rollback()
    return Response(xml, mimetype="application/xml")


def _migration_page(process_id: str, *, status: int = 200, error: str | None = None) -> Response:
    actor = current_actor()
    db = request_session()
    choice = queries.choose_versions(
        db,
        actor=actor,
        process_id=process_id,
        from_arg=request.values.get("from"),
        to_arg=request.values.get("to"),
        published_only=True,
    )
    dry_run = request.values.get("dry_run") == "1" or status != 200
    # The dry run restores every running instance of the version: only when asked for.
    candidates = queries.dry_run(db, current_engine(), actor=actor, choice=choice) if dry_run else []
    db.rollback()
    body = render_template(
        "process_changes/migration.html", choice=choice, candidates=candidates, error=error, dry_run=dry_run
    )
    return Response(body, status=status)


@bp.get("/process-models/<process_id>/migration")
def migration(process_id: str):
    """The dry run: every running instance of the old version, whether it can move and why not."""
    return _migration_page(process_id)


@bp.post("/process-models/<process_id>/migration/<id:instance_id>")
def migrate_one(process_id: str, instance_id: int):
    """Move one instance (as the dry run showed it); a change since then is a 409 with the reason."""
    actor = current_actor()
    db = request_session()
    from_number, to_number = _numbers()
    try:
        moving.migrate_instance(
            db,
            current_engine(),
            actor=actor,
            instance_id=instance_id,
            from_number=from_number,
            to_number=to_number,
            expected_version=_int(request.form.get("expected_version")),
        )
    except Conflict as error:
        db.rollback()
        return _migration_page(
            process_id,
            status=409,
            error=_("Instans %(id)s flyttades inte: %(why)s", id=instance_id, why=_reasons_text(error)),
        )
    db.commit()
    flash(_("Instans %(id)s går nu på version %(number)s.", id=instance_id, number=to_number))
    return redirect(
        url_for(
            "process_changes.migration",
            process_id=process_id,
            **{"from": from_number, "to": to_number, "dry_run": 1},
        )
    )


@bp.post("/process-models/<process_id>/migration")
def migrate_all(process_id: str):
    """Move every instance that can move, each in its own transaction; report those that did not."""
    actor = current_actor()
    request_session().rollback()
    from_number, to_number = _numbers()
    moving.require_process_owner(actor)
    result = moving.migrate_all(
        get_database(),
        current_engine(),
        actor=actor,
        process_id=process_id,
        from_number=from_number,
        to_number=to_number,
    )
    flash(
        ngettext(
            "%(num)s instans flyttades till version %(number)s.",
            "%(num)s instanser flyttades till version %(number)s.",
            len(result.migrated),
            number=to_number,
        )
    )
    if result.refused:
        flash(
            ngettext(
                "%(num)s instans kunde inte flyttas (se listan).",
                "%(num)s instanser kunde inte flyttas (se listan).",
                len(result.refused),
            )
        )
    return redirect(
        url_for(
            "process_changes.migration",
            process_id=process_id,
            **{"from": from_number, "to": to_number, "dry_run": 1},
        )
    )


def _reasons_text(error: Conflict) -> str:
    """The refusal in the interface language, from the service's reason codes (else its message)."""
    reasons = error.details.get("reasons")
    if not reasons:
        return error.message
    return "; ".join(
        f"{REASON_LABELS.get(code, code)} ({element})" if element else str(REASON_LABELS.get(code, code))
        for code, element in reasons
    )


def _int(raw: str | None) -> int | None:
    """A version number or id from the form; anything but a number the database can hold reads as none."""
    try:
        return bounded_id(raw) if raw else None
    except ValueError:
        return None


def _numbers() -> tuple[int, int]:
    from_number, to_number = _int(request.form.get("from")), _int(request.form.get("to"))
    if from_number is None or to_number is None:
        raise Conflict("choose the versions to migrate between")
    return from_number, to_number


@bp.get("/traceability")
def traceability():
    """Every guideline rule with the elements that implement it and the tests that prove it."""
    actor = current_actor()
    db = request_session()
    page = tracing.traceability(db, actor=actor, tests_dir=current_app.config.get("TRACEABILITY_TESTS_DIR"))
    db.rollback()
    return render_template("process_changes/traceability.html", page=page)
