"""What every casework view shares: rendering the case page (with an action's failure and the user's
input kept), running one action as one transaction, and logging refused reads.

An action is one service call and one commit, then a redirect back to the case (post/redirect/get)
with a status message. When the service refuses, the transaction is rolled back and the case page
is rendered again from fresh data, with the message beside the form that failed and every value
the user typed put back. A refused read answers 403 and is written to the access log in a
transaction of its own (the request's was rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.audit.service import Actor, log_access, record
from app.auth.current import current_actor
from app.cases.labels import STATE_LABELS as STATE_LABELS  # the templates' name for it
from app.casework import compose, schema_form
from app.casework import page as pages
from app.casework.blueprint import bp
from app.db import STALE_ROW, get_database, request_session
from app.errors import Conflict, DomainError, Forbidden, GuardRefused, NotFound, ValidationFailed
from app.ids import bounded_id, bounded_version
from app.instances.incidents import RoutineFailed, record_failure

NOTICE_KEY = "casework_notice"


# What the audit trail's case actions mean to a clinician (a conflict lists what changed); any other
# action is shown by its code.
CHANGE_LABELS = {
    "case:received": _l("Ärendet togs emot"),
    "case:started": _l("Ärendet startades"),
    "case:priority_changed": _l("Prioriteten ändrades"),
    "case:handed_over": _l("Ärendet lämnades över"),
    "case:moved_to_role_queue": _l("Ärendet flyttades till en yrkesrolls kö"),
    "case:moved_to_duty_holder": _l("Ärendet flyttades till den övergripande ansvarige"),
    "case:closed": _l("Ärendet avslutades"),
    "case:wrong_patient": _l("Ärendet markerades som fel patient"),
    "case:referred_admin": _l("Ärendet lämnades till Medicinsk admin"),
    "case:meeting_form_switched": _l("Mötesformen byttes"),
    "case:phone_attempt": _l("Ett telefonsamtal registrerades"),
    "notification:failed": _l("Ett sms eller e-brev till patienten kunde inte skickas"),
    "notification:suppressed": _l(
        "Ett sms eller e-brev till patienten skickades inte (skyddad identitet eller ingen adress)"
    ),
    "case:colleague_invited": _l("En kollega bjöds in"),
    "case:test_followup": _l("Provtagning registrerades"),
    "case:told_patient": _l("Patienten fick ett meddelande från enheten"),
    "case:reopened_after_close": _l("Ärendet öppnades igen"),
    "chat:staff_message": _l("Ett meddelande skickades till patienten"),
    "chat:patient_message": _l("Patienten skrev"),
    "chat:sms_reminder": _l("En sms-påminnelse skickades"),
    "chat:images_requested": _l("Bild begärdes"),
    "chat:image_uploaded": _l("Patienten laddade upp en bild"),
    "chat:form_sent": _l("Ett formulär skickades"),
    "form:answered": _l("Patienten besvarade ett formulär"),
    "consent:requested": _l("Patienten tillfrågades om samtycke"),
    "consent:answered": _l("Patienten svarade på en samtyckesfråga"),
    "suicide_risk:assessor_found": _l("Ärendet lämnades för suicidriskbedömning"),
    "suicide_risk:escalated": _l("Suicidrisk: ärendet gick till den övergripande ansvariga"),
    "suicide_risk:assessed": _l("Suicidrisken bedömdes"),
}


@dataclass
class Failure:
    """An action the service refused: which form, why, and what the user had typed."""

    form: str
    kind: str  # validation, guard, conflict, forbidden, not_found, routine
    message: str
    rule: str | None = None
    earliest: datetime | None = None
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    orphan: bool = False  # the form is no longer on the page (the case moved on): its text is shown apart
    lang: str | None = None  # the message's language when it is not the reader's (a service's Swedish)


def engine():
    return current_app.extensions["engine"]


def reader_message(message: str) -> str:
    """A service message in the reader's words when it was written for the log (English)."""
    return _known_messages().get(message, message)


def _known_messages() -> dict[str, str]:
    """Service messages written for the log rather than for the reader, in the reader's words."""
    return {"the form has errors": _("Formuläret har fel. Rätta det som är markerat.")}


def failure_of(error: DomainError, form: str, values: Mapping[str, Any]) -> Failure:
    kept = {k: v for k, v in values.items() if k != "csrf_token"}
    original = error.message
    error.message = reader_message(original)
    # Marked for translation, or reworded here: in the reader's language. Else the service's Swedish.
    lang = None if isinstance(original, LazyString) or error.message is not original else "sv"
    if isinstance(error, GuardRefused):
        earliest = error.details.get("earliest")
        return Failure(
            form,
            "guard",
            error.message,
            rule=error.rule,
            earliest=datetime.fromisoformat(earliest) if earliest else None,
            values=kept,
            lang=lang,
        )
    if isinstance(error, ValidationFailed):
        return Failure(
            form,
            "validation",
            error.message,
            rule=error.details.get("rule"),
            field_errors=dict(error.field_errors),
            values=kept,
            lang=lang,
        )
    if isinstance(error, Conflict):
        return Failure(form, "conflict", error.message, values=kept, lang=lang)
    if isinstance(error, Forbidden):
        return Failure(
            form, "forbidden", error.message, rule=error.details.get("rule"), values=kept, lang=lang
        )
    if isinstance(error, NotFound):
        return Failure(form, "not_found", error.message, values=kept, lang=lang)
    return Failure(form, "routine", error.message, values=kept, lang=lang)


def take_notice() -> dict | None:
    """The status message of the action just done ({"text", "region"}), shown once."""
    return session.pop(NOTICE_KEY, None)


def available_forms(page: pages.CasePage) -> set[str]:
    """The forms the page offers now: a failed form missing from them gets its typed text shown apart."""
    forms = {f"draft-{d.draft.id}" for d in page.drafts} | {f"document-{f.form.id}" for f in page.forms}
    for task in page.tasks:
        if not task.actionable:
            continue
        if task.kind == "handling":
            forms |= {
                "close",
                "handover",
                "suicide",
                "medical_admin",
                "wrong_patient",
                "meeting_form",
                "order_tests",
                "priority",
            }
        elif task.kind in ("receive", "start"):
            forms.add(task.kind)
        else:
            forms.add(f"task-{task.id}")
    if page.may_act and page.chat_open:
        forms.add("chat")
    if page.may_act and page.contact_tools:
        forms |= {"remind", "phone", "images", "send_form"}
    if page.may_act and page.case.is_open:
        forms.add("invite")
    return forms


def render_case(
    case_id: int,
    *,
    failure: Failure | None = None,
    status: int = 200,
    extra: Mapping[str, Any] | None = None,
    insert: tuple[str, int | None] | None = None,
):
    """Render the case page (a logged read) and commit the access-log row."""
    actor = current_actor()
    db = request_session()
    before = request.args.get("before", type=bounded_id) if request.method == "GET" else None
    page = pages.load_case_page(
        db, engine(), actor=actor, case_id=case_id, before_id=before, context=request.path
    )
    db.commit()
    if failure is not None:
        failure.orphan = failure.form not in available_forms(page)
    changes = []
    if failure is not None and failure.kind == "conflict":
        seen = str(failure.values.get("seen_event", ""))
        changes = pages.changes_since(db, case_id=case_id, after_event_id=int(seen)) if seen.isdigit() else []
    if failure is not None and insert is not None:
        field_name, template_id = insert
        chosen = next((t for t in page.templates if t.id == template_id), None)
        if chosen is not None:
            current = failure.values.get(field_name, "")
            failure.values[field_name] = (
                f"{current.rstrip()}\n{chosen.text}" if current.strip() else chosen.text
            )
    context = {
        "page": page,
        "failure": failure,
        "actor": actor,
        "state_labels": STATE_LABELS,
        "notice": take_notice(),
        "now": clock.now(),
        "changes": changes,
        "change_labels": CHANGE_LABELS,
        **form_helpers(failure),
        **(extra or {}),
    }
    return render_template("casework/show.html", **context), status


def form_helpers(failure: Failure | None) -> dict[str, Any]:
    """What templates use to put a refused form back: typed values, field messages, generic task fields."""

    def task_fields(task: pages.TaskView) -> list[schema_form.Field]:
        mine = failure is not None and failure.form == f"task-{task.id}"
        return schema_form.fields(
            task.schema,
            task.ui,
            values=failure.values if mine else None,
            errors=failure.field_errors if mine else None,
        )

    return {
        "typed": typed_values(failure),
        "errors": field_messages(failure),
        "task_fields": task_fields,
        "tone_hints": compose.tone_hints,
    }


def typed_values(failure: Failure | None) -> Callable[..., Any]:
    """`typed(form, name, default)`: the value the user posted in that form, else the default."""

    def typed(form: str, name: str, default: Any = "") -> Any:
        if failure is not None and failure.form == form:
            return failure.values.get(name, "")
        return default

    return typed


def field_messages(failure: Failure | None) -> Callable[[str, str], list[str]]:
    """`errors(form, name)`: the messages to show beside a field of a fixed form after a refusal."""

    def errors(form: str, name: str) -> list[str]:
        if failure is None or failure.form != form:
            return []
        shown = []
        for code in failure.field_errors.get(name, []):
            if code == "hint":
                continue
            if code == "required":
                shown.append(failure.message if len(failure.field_errors) == 1 else _("Fyll i fältet."))
            elif code == "placeholder":
                shown.append(failure.message)
            elif code.startswith("at most"):
                shown.append(_("Texten är för lång."))
            else:
                shown.append(failure.message)
        return shown

    return errors


def form_text(name: str) -> str:
    return request.form.get(name, "")


def form_flag(name: str) -> bool:
    return request.form.get(name) in ("on", "true", "1")


def tone_checked(form: str, text: str) -> None:
    """HA-tone: a text with capitals, exclamation marks or abbreviations is shown back once with the hint."""
    compose.check_message(text, field="first_message" if form == "start" else "body")
    if text.strip() and compose.tone_hints(text) and not form_flag("tone_confirmed"):
        raise ValidationFailed(
            _(
                "Tänk på tonen: undvik versaler, utropstecken och förkortningar. Ändra texten, eller skicka den som den är."
            ),
            {"tone": ["hint"]},
        )


def insert_phrase(case_id: int, form: str, field: str):
    """No-JavaScript phrase insertion: the page again, with the chosen template added to the typed text."""
    kept = {k: v for k, v in request.form.items() if k != "csrf_token"}
    template_id = request.form.get("template_id", type=bounded_id)
    if template_id is None:
        unchosen = Failure(
            form,
            "validation",
            _("Välj en frasmall att infoga."),
            field_errors={"template_id": [_("Välj en frasmall att infoga.")]},
            values=kept,
        )
        return render_case(case_id, failure=unchosen, status=422)
    return render_case(case_id, failure=Failure(form, "insert", "", values=kept), insert=(field, template_id))


STATUS = {
    "validation": 422,
    "guard": 422,
    "conflict": 409,
    "forbidden": 403,
    "not_found": 404,
    "routine": 500,
}


def act(
    case_id: int,
    form: str,
    call: Callable[[Any], Any],
    *,
    notice: str,
    region: str,
    extra: Mapping[str, Any] | None = None,
):
    """Run one action (one service call) in the request's transaction; redirect, or re-render on refusal."""
    db = request_session()
    try:
        call(db)
        db.commit()
    except RoutineFailed as failure:
        db.rollback()
        with get_database().transaction() as fresh:
            record_failure(fresh, failure)
        return render_case(
            case_id,
            failure=Failure(
                form,
                "routine",
                _("Rutinen kunde inte fortsätta. En incident är registrerad och åtgärdas."),
                values=dict(request.form),
            ),
            status=500,
        )
    except (DomainError, StaleDataError) as error:
        db.rollback()
        if isinstance(error, StaleDataError):  # a colleague's change won the race at our flush
            error = Conflict(STALE_ROW)
        record_refused_action(error, case_id)
        failed = failure_of(error, form, request.form)
        return render_case(case_id, failure=failed, status=STATUS[failed.kind], extra=extra)
    session[NOTICE_KEY] = {"text": notice, "region": region}
    # No #fragment: Chrome skips autofocus on a URL with one; the focused notice scrolls itself into view.
    return redirect(url_for("casework.show", case_id=case_id))


def expected_version() -> int | None:
    return request.form.get("expected_version", type=bounded_version)


def log_refused_read(actor: Actor | None, error: Forbidden) -> None:
    """Write a refused read of a case to the access log, in a transaction of its own."""
    case_id, patient_id = error.details.get("case_id"), error.details.get("patient_id")
    if actor is None or (case_id is None and patient_id is None):
        return
    with get_database().transaction() as fresh:
        log_access(
            fresh,
            actor=actor,
            action="case:view_refused",
            patient_ids=[patient_id] if patient_id else [],
            case_id=case_id,
            context=request.path,
        )
        record(fresh, "case:read_refused", actor=actor, subject=("case", case_id), path=request.path)


def record_refused_action(error: DomainError, case_id: int | None) -> None:
    """An action refused for want of permission (the case may be read, not acted on) is audited, in a
    transaction of its own, like every other refusal; the page is re-rendered with the reason."""
    actor = current_actor(required=False)
    if not isinstance(error, Forbidden) or actor is None:
        return
    with get_database().transaction() as fresh:
        record(
            fresh,
            "case:action_refused",
            actor=actor,
            subject=("case", case_id or error.details.get("case_id")),
            path=request.path,
            reason=error.message,
        )


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """A refused read of a case: 403 page, and the attempt in the access log."""
    request_session().rollback()
    log_refused_read(current_actor(required=False), error)
    return render_template("error.html", status=403, message=error.message), 403
