"""The acknowledgement inbox (vidimering): answers after closing, reopenings, returned forms,
declined consents and invitations, each signed off with "Kvittera"."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.audit.service import log_access
from app.auth.current import current_actor
from app.cases.ack import acknowledge
from app.db import request_session
from app.errors import DomainError, Forbidden
from app.worklist.blueprint import ACK_LABELS, bp, domain_text, note_refusal
from app.worklist.staff_queries import inbox_rows


def _render_inbox(actor, *, error: str | None = None, status: int = 200):
    db = request_session()
    rows = inbox_rows(db, actor=actor)
    patient_ids = [row.patient_id for row in rows if row.patient_id is not None]
    if patient_ids:
        log_access(db, actor=actor, action="inbox:list", patient_ids=patient_ids, context=request.path)
    db.commit()
    return render_template("worklist/inbox.html", rows=rows, error=error), status


@bp.get("/inbox")
def inbox_page():
    """Items of the unit (and those addressed to the user) waiting to be acknowledged."""
    return _render_inbox(current_actor())


@bp.post("/inbox/<id:item_id>/acknowledge")
def acknowledge_item(item_id: int):
    """Sign an item off ("Kvittera"); a refusal is shown on the inbox page."""
    actor = current_actor()
    db = request_session()
    try:
        item = acknowledge(db, actor=actor, item_id=item_id)
    except DomainError as error:
        db.rollback()
        note_refusal(error, subject=("ack_item", item_id))
        try:
            # htmx swaps only successful answers: it gets the page with the refusal on it as one.
            return _render_inbox(
                actor,
                error=domain_text(error),
                status=200 if request.headers.get("HX-Request") else error.status,
            )
        except Forbidden:  # the inbox itself is not theirs (already recorded above): the refusal alone
            db.rollback()
            return render_template("error.html", status=403, message=domain_text(error)), 403
    kind = item.kind.value
    db.commit()
    flash(_("Posten är kvitterad (%(kind)s).", kind=ACK_LABELS.get(kind, kind)))
    return redirect(url_for("worklist.inbox_page"))
