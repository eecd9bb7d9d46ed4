"""The worklist blueprint and what its pages share: labels, links to cases, error texts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.routing import BuildError

from app import clock
from app.audit.service import record
from app.auth.current import current_actor
from app.cases.labels import STATE_LABELS as STATE_LABELS  # the pages' (and the tower's) name for it
from app.cases.models import AckKind
from app.cases.permissions import reads_cases
from app.db import get_database, request_session
from app.errors import DomainError, Forbidden

STOCKHOLM = ZoneInfo("Europe/Stockholm")

bp = Blueprint(
    "worklist",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/worklist",
)

KIND_LABELS = {"sok_vard": _l("Sök vård"), "admin": _l("Administrativt"), "no_triage": _l("Utan triage")}
ACK_LABELS = {
    AckKind.ANSWER_AFTER_CLOSE.value: _l("Svar efter avslut"),
    AckKind.REOPENED.value: _l("Återupptaget ärende"),
    AckKind.FORM_RETURNED.value: _l("Besvarat formulär"),
    AckKind.CONSENT_DECLINED.value: _l("Nekat samtycke"),
    AckKind.INVITATION.value: _l("Inbjudan till ärende"),
}


def domain_text(error) -> Markup:
    """A service's refusal: in the reader's language when the service marked it for translation,
    else as written (Swedish), marked as such on an English page."""
    language = str(get_locale() or "sv")
    if language == "sv" or isinstance(error.message, LazyString):
        return Markup.escape(str(error.message))
    return Markup('<span lang="sv">{}</span>').format(error.message)


def case_url(case_id: int) -> str:
    """The case page (`casework.show`); its plain path until that page is registered."""
    if "casework.show" in current_app.view_functions:  # checked first: a BuildError per row is costly
        try:
            return url_for("casework.show", case_id=case_id)
        except BuildError:
            pass
    return f"/cases/{case_id}"


def short_time(moment: datetime | None) -> str:
    """Local time of day for today's moments, with the date for earlier ones."""
    if moment is None:
        return ""
    local = moment.astimezone(STOCKHOLM)
    if local.date() == clock.now().astimezone(STOCKHOLM).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def note_refusal(error: DomainError, *, subject: tuple[str, int] | None = None) -> None:
    """A refused action (403) goes to the audit log in a transaction of its own; the request's work is dropped.

    Other refusals (not found, a rule, a conflict) are answers, not attempts at what one may not do.
    """
    if not isinstance(error, Forbidden):
        return
    request_session().rollback()  # also frees SQLite's write lock for the fresh transaction
    actor = current_actor(required=False)
    if actor is None:
        return
    if subject is None:
        template_id = error.details.get("template_id")
        subject = ("phrase_template", template_id) if template_id else ("unit", actor.unit_id)
    with get_database().transaction() as fresh:
        record(
            fresh,
            "worklist:refused",
            actor=actor,
            subject=subject,
            path=request.path[:200],
            method=request.method,
            reason=error.message,
        )


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """A refusal no page of ours answers itself (someone else's phrase template): 403, audited."""
    note_refusal(error)
    return render_template("error.html", status=403, message=domain_text(error)), 403


@bp.context_processor
def _labels():
    actor = g.get("actor")
    return {
        "reads_cases": actor is not None and reads_cases(actor),  # the list and the inbox links are theirs
        "kind_labels": KIND_LABELS,
        "state_labels": STATE_LABELS,
        "ack_labels": ACK_LABELS,
        "case_url": case_url,
        "short_time": short_time,
    }
