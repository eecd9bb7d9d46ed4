"""Documentation support: journal-note drafts marked documented, and the list of what is still owed
(OG-11-e, HA-doc-a): closed or handed-over cases whose note is not yet in the EHR."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.current import current_actor
from app.casework import docs
from app.casework.blueprint import bp
from app.casework.views_common import NOTICE_KEY, act, form_text, reader_message, take_notice
from app.db import request_session
from app.documentation.service import mark_documented
from app.errors import DomainError, Forbidden
from app.worklist.blueprint import note_refusal


@bp.post("/<id:case_id>/drafts/<id:draft_id>/documented")
def documented(case_id: int, draft_id: int):
    """The clinician has copied the note into the EHR (or the head of unit settles it, saying how)."""
    actor = current_actor()
    return act(
        case_id,
        f"draft-{draft_id}",
        lambda db: docs.mark_case_draft(
            db, actor=actor, case_id=case_id, draft_id=draft_id, note=form_text("note")
        ),
        notice=_("Journalanteckningen är markerad som dokumenterad."),
        region="docs",
    )


@bp.get("/undocumented")
def undocumented():
    """The user's (or, with ?scope=unit, the unit's) journal notes not yet marked documented."""
    actor = current_actor()
    scope = request.args.get("scope")
    if scope not in ("unit", "mine"):
        scope = docs.default_scope(actor)
    db = request_session()
    rows = _owed_notes(db, actor, scope)
    db.commit()
    return render_template(
        "casework/undocumented.html", rows=rows, scope=scope, actor=actor, notice=take_notice(), failure=None
    )


def _owed_notes(db, actor, scope: str):
    """The list; a role that may not read the unit's cases gets 403, and the attempt is audited
    (the case page's refusal handler logs refused reads of one case, and this list names none)."""
    try:
        return docs.undocumented_for(db, actor=actor, whole_unit=scope == "unit", context=request.path)
    except Forbidden as error:
        note_refusal(error)
        raise


@bp.post("/undocumented/<id:draft_id>")
def undocumented_mark(draft_id: int):
    """Mark documented from the list; back to the list, with the message beside the row on refusal."""
    from flask import session

    actor = current_actor()
    scope = "unit" if request.form.get("scope") == "unit" else "mine"
    db = request_session()
    try:
        mark_documented(db, draft_id=draft_id, actor=actor, note=form_text("note") or None)
        db.commit()
    except DomainError as error:
        db.rollback()
        rows = _owed_notes(db, actor, scope)
        db.commit()
        failure = {"draft_id": draft_id, "message": reader_message(error.message), "note": form_text("note")}
        return render_template(
            "casework/undocumented.html", rows=rows, scope=scope, actor=actor, notice=None, failure=failure
        ), error.status
    session[NOTICE_KEY] = {"text": _("Journalanteckningen är markerad som dokumenterad."), "region": "list"}
    return redirect(url_for("casework.undocumented", scope=scope))
