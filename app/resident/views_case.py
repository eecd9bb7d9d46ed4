"""The case page and what the resident does in it: chat, images, forms and rating scales, consents,
reopening. Every page and fragment that shows the case writes the access log with the resident as
actor; every action is one service call and one transaction, then back to the page (or, with htmx,
the changed part of it). A refused action comes back on the page with what was typed kept."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.cases import chat
from app.cases.triage import DemoTriage
from app.db import request_session
from app.errors import DomainError, Forbidden, NotFound, ValidationFailed
from app.ids import bounded_cursor, bounded_id
from app.resident import queries
from app.resident.auth import current_resident
from app.resident.blueprint import bp
from app.resident.handlers import log_read, routine_failure_text
from app.resident.schema_forms import answer_text, field_messages, fields_of, posted_values, typed_answers
from app.resident.views_submit import triage_adapter

UPLOAD_SLACK = 64 * 1024  # multipart overhead beside the image itself
CHAT_POLL_SECONDS = 20  # how often an open chat asks for new messages; RESIDENT_CHAT_POLL_SECONDS overrides


def _poll_seconds() -> int:
    return int(current_app.config.get("RESIDENT_CHAT_POLL_SECONDS", CHAT_POLL_SECONDS))


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _problem(at: str, error: DomainError | None = None, text: str | None = None) -> dict:
    """A refusal to show beside the part of the page it concerns (domain texts are Swedish); a
    routine's failure is recorded as an incident and shown in plain words."""
    if text is None:
        text = routine_failure_text(error)
        if text is not None:
            return {"at": at, "text": text, "domain": False}
    return {"at": at, "text": text if text is not None else error.message, "domain": text is None}


def _render_case(
    actor,
    case_id: int,
    *,
    before: int | None = None,
    sent: bool = False,
    problem: dict | None = None,
    typed: dict | None = None,
    status: int = 200,
):
    db = request_session()
    view = queries.case_view(db, actor=actor, case_id=case_id, before_id=before)
    log_read(db, actor=actor, action="resident:case", patient_ids=[view.patient.id], case_id=case_id)
    db.commit()
    stand_in = isinstance(triage_adapter(), DemoTriage)
    return render_template(
        "resident/case.html",
        view=view,
        sent=sent,
        problem=problem,
        typed=typed or {},
        paging=before is not None,
        stand_in=stand_in,
        poll_seconds=_poll_seconds(),
    ), status


def _render_chat(
    actor,
    case_id: int,
    *,
    problem: dict | None = None,
    typed: dict | None = None,
    announce: str = "",
    status: int = 200,
):
    """The chat part of the page alone, for htmx."""
    db = request_session()
    view = queries.case_view(db, actor=actor, case_id=case_id)
    log_read(db, actor=actor, action="resident:chat", patient_ids=[view.patient.id], case_id=case_id)
    db.commit()
    return render_template(
        "resident/_chat.html",
        view=view,
        problem=problem,
        typed=typed or {},
        announce=announce,
        paging=False,
        poll_seconds=_poll_seconds(),
    ), status


def _back_to_case(case_id: int, message: str, anchor: str):
    flash(message, "status")
    return redirect(url_for("resident.case_page", case_id=case_id, _anchor=anchor), code=303)


@bp.get("/cases/<id:case_id>")
def case_page(case_id: int):
    actor = current_resident()
    return _render_case(
        actor,
        case_id,
        before=request.args.get("before", type=bounded_id),
        sent=request.args.get("sent") == "1",
    )


@bp.get("/cases/<id:case_id>/messages")
def earlier_messages(case_id: int):
    """Earlier chat messages (htmx "show earlier"); without JavaScript the link opens the page paged back."""
    actor = current_resident()
    before = request.args.get("before", type=bounded_id)
    if not _htmx():
        return redirect(url_for("resident.case_page", case_id=case_id, before=before, _anchor="chat"))
    db = request_session()
    case, unit, patient = queries.messages_case(db, actor=actor, case_id=case_id)
    messages, earlier = queries.message_page(
        db, actor=actor, case=case, unit=unit, patient=patient, before_id=before
    )
    log_read(db, actor=actor, action="resident:chat_earlier", patient_ids=[patient.id], case_id=case_id)
    db.commit()
    return render_template("resident/_earlier.html", case=case, messages=messages, earlier=earlier)


@bp.get("/cases/<id:case_id>/messages/new")
def new_messages(case_id: int):
    """The chat's quiet poll (htmx): 204 while nothing is new, else the new messages and a new poller."""
    after = request.args.get("after", type=bounded_cursor)
    if not _htmx() or after is None:
        return redirect(url_for("resident.case_page", case_id=case_id, _anchor="chat"))
    actor = current_resident(required=False)
    if actor is None:
        # Signed out meanwhile: stop polling (htmx's 286) instead of taking the page, and what is being
        # typed in it, away to the sign-in; the next send leads there.
        return "", 286
    db = request_session()
    case, patient, messages = queries.messages_after(db, actor=actor, case_id=case_id, after_id=after)
    if not messages:
        return "", 204
    log_read(db, actor=actor, action="resident:chat_new", patient_ids=[patient.id], case_id=case_id)
    db.commit()
    news = [m for m in messages if not m.mine]
    return render_template(
        "resident/_new_messages.html",
        messages=messages,
        case_id=case.id,
        after=messages[-1].id,
        poll_seconds=_poll_seconds(),
        announce=_announcement(len(news)),
    )


def _announcement(count: int) -> str | None:
    """What the live region says of new messages from the unit (none for the resident's own)."""
    if count == 0:
        return None
    if count == 1:
        return _("Nytt meddelande i ärendet.")
    return _("%(count)s nya meddelanden i ärendet.", count=count)


@bp.post("/cases/<id:case_id>/messages")
def write(case_id: int):
    actor = current_resident()
    body = request.form.get("body", "")
    db = request_session()
    try:
        chat.patient_write(db, current_app.extensions["engine"], actor=actor, case_id=case_id, body=body)
    except Forbidden:
        raise
    except DomainError as refused:
        db.rollback()
        problem = _message_problem(refused)
        if _htmx():
            return _render_chat(
                actor,
                case_id,
                problem=problem,
                typed={"body": body},
                announce=problem["text"],
                status=refused.status,
            )
        return _render_case(actor, case_id, problem=problem, typed={"body": body}, status=refused.status)
    db.commit()
    if _htmx():
        return _render_chat(actor, case_id, announce=_("Ditt meddelande är skickat."))
    return _back_to_case(case_id, _("Ditt meddelande är skickat."), "chat")


def _message_problem(refused: DomainError) -> dict:
    if isinstance(refused, ValidationFailed):
        too_long = any("at most" in e for errors in refused.field_errors.values() for e in errors)
        text = (
            _("Meddelandet får vara högst %(count)s tecken.", count=chat.MAX_MESSAGE)
            if too_long
            else _("Skriv ett meddelande.")
        )
        return _problem("chat", text=text)
    return _problem("chat", refused)


@bp.post("/cases/<id:case_id>/images")
def upload(case_id: int):
    """OG-11-f: an image the unit asked for, uploaded into the case."""
    actor = current_resident()
    request_id = request.args.get("request_id", type=bounded_id)
    anchor = f"image-request-{request_id}" if request_id else "images"
    if (request.content_length or 0) > chat.MAX_IMAGE_BYTES + UPLOAD_SLACK:
        # Checked before the file is handed to the service (Werkzeug spools a large upload to disk).
        return _render_case(actor, case_id, problem=_problem(anchor, text=_too_large()), status=413)
    upload_file = request.files.get("image")
    if upload_file is None or not upload_file.filename:
        return _render_case(
            actor, case_id, problem=_problem(anchor, text=_("Välj en bild att ladda upp.")), status=422
        )
    db = request_session()
    try:
        chat.upload_image(
            db,
            actor=actor,
            case_id=case_id,
            filename=upload_file.filename,
            content_type=upload_file.mimetype,
            content=upload_file.read(chat.MAX_IMAGE_BYTES + 1),
            request_id=request_id,
        )
    except Forbidden:
        raise
    except DomainError as refused:
        db.rollback()
        text = None
        if isinstance(refused, ValidationFailed):
            text = (
                _("Bilden ska vara en JPEG-, PNG-, HEIC- eller WebP-fil.")
                if "unsupported type" in str(refused.field_errors)
                else _too_large()
            )
        return _render_case(actor, case_id, problem=_problem(anchor, refused, text), status=refused.status)
    db.commit()
    return _back_to_case(case_id, _("Bilden är uppladdad i ärendet."), "images")


def _too_large() -> str:
    return _(
        "Bilden är för stor eller tom: den får vara högst %(mb)s MB.",
        mb=chat.MAX_IMAGE_BYTES // (1024 * 1024),
    )


@bp.post("/consents/<id:consent_id>")
def consent(consent_id: int):
    """OG-8.3 (meeting form, with the stated cost) and HA-handover-consent: yes or no."""
    actor = current_resident()
    answer = request.form.get("answer")
    db = request_session()
    case_id = queries.consent_case(db, consent_id=consent_id)
    if case_id is None:
        raise NotFound("Samtycket finns inte.")
    anchor = f"consent-{consent_id}"
    if answer not in ("yes", "no"):
        return _render_case(
            actor, case_id, problem=_problem(anchor, text=_("Välj ja eller nej.")), status=422
        )
    try:
        chat.answer_consent(
            db, current_app.extensions["engine"], actor=actor, consent_id=consent_id, given=answer == "yes"
        )
    except Forbidden:
        raise
    except DomainError as refused:
        db.rollback()
        return _render_case(actor, case_id, problem=_problem(anchor, refused), status=refused.status)
    db.commit()
    return _back_to_case(
        case_id,
        _("Tack, ditt svar är sparat.")
        if answer == "yes"
        else _("Ditt nej är sparat. Ärendet fortsätter som tidigare."),
        "consents",
    )


@bp.post("/cases/<id:case_id>/reopen")
def reopen(case_id: int):
    """OG-6.5: reopen a closed case within the unit's window, for the same search reason only."""
    actor = current_resident()
    reason = request.form.get("search_reason")
    if reason is None:
        return _render_case(
            actor, case_id, problem=_problem("reopen", text=_("Välj vad det gäller.")), status=422
        )
    db = request_session()
    try:
        chat.reopen(db, current_app.extensions["engine"], actor=actor, case_id=case_id, search_reason=reason)
    except Forbidden:
        raise
    except DomainError as refused:
        db.rollback()
        return _render_case(actor, case_id, problem=_problem("reopen", refused), status=refused.status)
    db.commit()
    return _back_to_case(case_id, _("Ärendet är återupptaget. Mottagningen ser det i sin kö."), "chat")


# --- forms and rating scales sent to the patient (OG-8.1) ----------------------------------------


def _render_form_page(
    actor,
    form_id: int,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    problem: dict | None = None,
    status: int = 200,
):
    db = request_session()
    form, case = queries.patient_form(db, actor=actor, form_id=form_id)
    log_read(db, actor=actor, action="resident:form", patient_ids=[case.patient_id], case_id=case.id)
    db.commit()
    answered = [
        (f, answer_text(form.definition, f.name, (form.answers or {}).get(f.name)))
        for f in fields_of(form.definition)
        if f.name in (form.answers or {})
    ]
    return (
        render_template(
            "resident/form.html",
            form=form,
            case=case,
            fields=fields_of(form.definition),
            values=values or {},
            errors=errors or {},
            problem=problem,
            answered=answered,
        ),
        status,
    )


@bp.get("/forms/<id:form_id>")
def form_page(form_id: int):
    actor = current_resident()
    return _render_form_page(actor, form_id)


@bp.post("/forms/<id:form_id>")
def answer_form(form_id: int):
    actor = current_resident()
    db = request_session()
    # The definition the posted answers are read against, after the resident check.
    form, case = queries.patient_form(db, actor=actor, form_id=form_id)
    definition, case_id = form.definition, case.id
    values = posted_values(definition, request.form)
    try:
        chat.answer_form(db, actor=actor, form_id=form_id, answers=typed_answers(definition, values))
    except Forbidden:
        raise
    except ValidationFailed as failed:
        db.rollback()
        return _render_form_page(
            actor, form_id, values=values, errors=field_messages(definition, failed.field_errors), status=422
        )
    except DomainError as refused:
        db.rollback()
        return _render_form_page(
            actor, form_id, values=values, problem=_problem("form", refused), status=refused.status
        )
    db.commit()
    return _back_to_case(case_id, _("Tack! Dina svar är skickade till mottagningen."), "forms")
