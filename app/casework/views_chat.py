"""The chat and what happens beside the routine: messages, the tone hint, reminders, phone attempts,
images, forms and rating scales, and inviting a colleague."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.current import current_actor
from app.cases import chat
from app.casework import actions, compose
from app.casework.blueprint import bp
from app.casework.views_common import act, form_text, insert_phrase, tone_checked
from app.db import get_database, request_session
from app.errors import Forbidden, NotFound
from app.exports import service as exports
from app.ids import bounded_id


@bp.post("/<id:case_id>/chat")
def send_message(case_id: int):
    """A staff message; "Infoga" puts a phrase template into the text instead (works without JavaScript)."""
    if request.form.get("action") == "insert":
        return insert_phrase(case_id, "chat", "body")
    actor = current_actor()
    body = form_text("body")

    def call(db):
        tone_checked("chat", body)
        return chat.staff_write(
            db,
            actor=actor,
            case_id=case_id,
            body=body,
            phrase_purpose=request.form.get("phrase_purpose") or None,
        )

    return act(case_id, "chat", call, notice=_("Meddelandet är skickat."), region="chat")


@bp.post("/<id:case_id>/tone")
def tone(case_id: int):
    """The tone hint while writing (htmx): capitals, exclamation marks and abbreviations (HA-tone).

    Reads nothing of the case: it looks only at the text being written."""
    current_actor()
    text = request.form.get("body", request.form.get("first_message", ""))
    return render_template("casework/_tone.html", hints=compose.tone_hints(text), left=compose.unfilled(text))


@bp.post("/<id:case_id>/remind")
def remind(case_id: int):
    """HA-remind: an SMS reminder; it counts as a contact attempt."""
    actor = current_actor()
    return act(
        case_id,
        "remind",
        lambda db: chat.remind(db, actor=actor, case_id=case_id),
        notice=_("Sms-påminnelsen är skickad. Den räknas som ett kontaktförsök."),
        region="contact",
    )


@bp.post("/<id:case_id>/phone")
def phone(case_id: int):
    """A phone call to the patient: reached is a dialogue; not reached is a contact attempt (OG-6.1-g/h)."""
    actor = current_actor()
    answer = request.form.get("reached")

    def call(db):
        if answer not in ("yes", "no"):
            from app.errors import ValidationFailed

            raise ValidationFailed(_("Ange om patienten svarade."), {"reached": ["required"]})
        return chat.phone_attempt(
            db, actor=actor, case_id=case_id, reached=answer == "yes", note=form_text("note")
        )

    notice = (
        _("Samtalet är registrerat.")
        if answer == "yes"
        else _("Telefonförsöket är registrerat som ett kontaktförsök.")
    )
    return act(case_id, "phone", call, notice=notice, region="contact")


@bp.post("/<id:case_id>/images/request")
def request_images(case_id: int):
    """Ask the patient for images during the chat (OG-11-f)."""
    actor = current_actor()

    def call(db):
        instructions = form_text("instructions")
        if not instructions.strip():
            from app.errors import ValidationFailed

            raise ValidationFailed(_("Beskriv vilken bild du behöver."), {"instructions": ["required"]})
        return chat.request_images(db, actor=actor, case_id=case_id, instructions=instructions)

    return act(case_id, "images", call, notice=_("Patienten har fått en begäran om bild."), region="contact")


@bp.get("/<id:case_id>/images/<id:image_id>")
def image(case_id: int, image_id: int):
    """A patient's image shown in the case page, for staff who may read the case; every view is
    access-logged. Taking it out of the product goes through `export_image` (HA-images)."""
    actor = current_actor()
    db = request_session()
    row = actions.case_image(db, actor=actor, case_id=case_id, image_id=image_id, context=request.path)
    content, content_type, filename = row.content, row.content_type, row.filename
    db.commit()
    response = make_response(content)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = "inline; filename*=UTF-8''" + _quote(filename)
    response.headers["Cache-Control"] = "no-store"  # patient data must not linger in caches
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/<id:case_id>/images/<id:image_id>/export")
def export_image(case_id: int, image_id: int):
    """HA-images: the image, to move into the EHR or the image archive, through the temporary store:
    a link only the exporter may open, for two hours."""
    actor = current_actor()
    db = request_session()
    export = exports.export_case_image(db, actor=actor, case_id=case_id, image_id=image_id)
    export_id = export.id
    db.commit()
    return redirect(url_for("casework.exported", case_id=case_id, export_id=export_id), code=303)


@bp.get("/<id:case_id>/exports/<id:export_id>")
def exported(case_id: int, export_id: int):
    """An export of the case, for the one who exported it and for two hours (HA-images)."""
    actor = current_actor()
    db = request_session()
    gone = _("Exporten finns inte eller har tagits bort: en export finns kvar i två timmar.")
    try:
        export = exports.read_export(db, actor=actor, export_id=export_id)
    except Forbidden:
        db.rollback()
        with get_database().transaction() as fresh:  # the refusal is logged though the request rolls back
            exports.record_refused_read(fresh, actor=actor, export_id=export_id)
        message = _("Bara den som exporterade filen kan öppna den.")
        return render_template("error.html", status=403, message=message), 403
    except NotFound:
        db.rollback()
        return render_template("error.html", status=404, message=gone), 404
    if export.case_id != case_id:
        db.rollback()
        return render_template("error.html", status=404, message=gone), 404
    content, content_type, filename = export.content, export.content_type, export.filename
    db.commit()
    response = make_response(content)
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(filename)
    response.headers["Cache-Control"] = "no-store"  # the copy lives two hours in the store, not in caches
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@bp.get("/<id:case_id>/forms/preview")
def preview_form(case_id: int):
    """OG-8.1: the form or rating scale exactly as the patient will see it, with the button that sends it."""
    actor = current_actor()
    db = request_session()
    form_key = request.args.get("form_key", "")
    case, definition = actions.preview_form(
        db, actor=actor, case_id=case_id, form_key=form_key, context=request.path
    )
    db.commit()
    template = (
        "casework/_form_preview.html" if request.headers.get("HX-Request") else "casework/form_preview.html"
    )
    return render_template(
        template,
        case=case,
        form_key=form_key,
        definition=definition,
        digest=actions.definition_digest(definition),
    )


@bp.post("/<id:case_id>/forms")
def send_form(case_id: int):
    """Send the previewed form; the digest proves it is the definition that was shown (OG-8.1)."""
    actor = current_actor()

    def call(db):
        return actions.send_previewed_form(
            db, actor=actor, case_id=case_id, form_key=form_text("form_key"), digest=form_text("digest")
        )

    return act(
        case_id, "send_form", call, notice=_("Formuläret är skickat till patienten."), region="contact"
    )


@bp.post("/<id:case_id>/forms/<id:form_id>/documented")
def document_form(case_id: int, form_id: int):
    """HA-forms: the returned form is copied into the EHR, or kept here with a summary note there."""
    actor = current_actor()
    return act(
        case_id,
        f"document-{form_id}",
        lambda db: chat.document_form(db, actor=actor, form_id=form_id, how=form_text("how")),
        notice=_("Formuläret är dokumenterat. Journalanteckningen finns under Journalanteckning."),
        region="docs",
    )


@bp.post("/<id:case_id>/invite")
def invite(case_id: int):
    """Invite a colleague of the unit into the case, as the unit's routine allows (OG-8.5)."""
    actor = current_actor()
    colleague = request.form.get("colleague_id", type=bounded_id)

    def call(db):
        if colleague is None:
            from app.errors import ValidationFailed

            raise ValidationFailed(_("Välj en kollega."), {"colleague_id": ["required"]})
        return chat.invite_colleague(db, actor=actor, case_id=case_id, colleague_id=colleague)

    return act(case_id, "invite", call, notice=_("Kollegan är inbjuden i ärendet."), region="contact")
