"""Phrase templates (OG-8.2): the user's personal templates (allowed, not recommended) to create, revise
and retire, beside the unit's and the region's published ones, read-only. Tone hints follow HA-tone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.current import current_actor
from app.db import request_session
from app.errors import DomainError, ValidationFailed
from app.phrases.defaults import PURPOSES
from app.phrases.models import PhraseLevel
from app.phrases.rendering import PLACEHOLDERS, UNIT_PLACEHOLDERS
from app.phrases.service import create_template, tone_findings
from app.profile.service import own_personal_template, retire_personal_template, revise_personal_template
from app.worklist.blueprint import bp, domain_text, note_refusal
from app.worklist.staff_queries import phrase_overview


def tone_hint(finding: str) -> str:
    """A tone finding of app.phrases (HA-tone) in the interface language."""
    kind, _sep, detail = finding.partition(": ")
    if kind == "capitals":
        return _("Ord med bara versaler: %(word)s", word=detail)
    if kind == "abbreviation":
        return _("Förkortning: %(abbr)s", abbr=detail)
    if kind == "exclamation mark":
        return _("Utropstecken")
    return finding


def _field_errors(error: ValidationFailed) -> dict[str, str]:
    texts = {
        "purpose": _("Välj vad frasmallen används till."),
        "title": _("Skriv en rubrik på 1–200 tecken."),
        "text": _("Skriv frasmallens text."),
    }
    errors = {name: texts.get(name, _("Kontrollera fältet.")) for name in error.field_errors}
    if not errors:  # a placeholder problem in the text (app.phrases.rendering.PlaceholderError)
        name = error.details.get("placeholder")
        errors["text"] = (
            _("Platshållaren {%(name)s} finns inte. Använd bara platshållarna i listan.", name=name)
            if name
            else _("Klamrar { } får bara omge en platshållare ur listan, till exempel {patient_first_name}.")
        )
    return errors


def _render_phrases(actor, *, error=None, status: int = 200):
    overview = phrase_overview(request_session(), actor=actor)
    return render_template(
        "worklist/phrases.html", overview=overview, purposes=PURPOSES, tone_hint=tone_hint, error=error
    ), status


@bp.get("/phrases")
def phrases_page():
    """My personal templates with tone hints; the unit's and region's templates to read."""
    return _render_phrases(current_actor())


def _form(
    *,
    template_id: int | None,
    values: dict,
    errors: dict | None = None,
    tone: list[str] | None = None,
    status: int = 200,
):
    return render_template(
        "worklist/phrase_form.html",
        template_id=template_id,
        values=values,
        errors=errors or {},
        tone=[tone_hint(finding) for finding in tone or []],
        purposes=PURPOSES,
        placeholders={**PLACEHOLDERS, **UNIT_PLACEHOLDERS},
    ), status


def _posted() -> dict:
    return {name: request.form.get(name, "") for name in ("purpose", "title", "text")}


@bp.get("/phrases/new")
def phrase_new():
    return _form(
        template_id=None, values={"purpose": request.args.get("purpose", ""), "title": "", "text": ""}
    )


@bp.get("/phrases/<id:template_id>/edit")
def phrase_edit(template_id: int):
    template = own_personal_template(request_session(), actor=current_actor(), template_id=template_id)
    return _form(
        template_id=template.id,
        values={"purpose": template.purpose, "title": template.title, "text": template.text},
    )


@bp.post("/phrases/new")
@bp.post("/phrases/<id:template_id>/edit")
def phrase_save(template_id: int | None = None):
    """Create or revise a personal template; tone hints (HA-tone) come first, "Spara ändå" saves anyway."""
    actor = current_actor()
    db = request_session()
    values = _posted()
    tone = tone_findings(values["text"])
    if tone and request.form.get("accept_tone") != "1":
        return _form(template_id=template_id, values=values, tone=tone)
    try:
        if template_id is None:
            create_template(db, actor=actor, level=PhraseLevel.PERSONAL, **values)
        else:
            revise_personal_template(db, actor=actor, template_id=template_id, **values)
    except ValidationFailed as error:
        db.rollback()
        return _form(template_id=template_id, values=values, errors=_field_errors(error), status=422)
    except DomainError as error:
        db.rollback()
        note_refusal(error)
        return _form(
            template_id=template_id, values=values, errors={"form": domain_text(error)}, status=error.status
        )
    db.commit()
    flash(_("Frasmallen %(title)s är sparad.", title=values["title"].strip()))
    return redirect(url_for("worklist.phrases_page"))


@bp.post("/phrases/<id:template_id>/retire")
def phrase_retire(template_id: int):
    """Withdraw one of my personal templates."""
    actor = current_actor()
    db = request_session()
    try:
        template = retire_personal_template(db, actor=actor, template_id=template_id)
    except DomainError as error:
        db.rollback()
        note_refusal(error)
        return _render_phrases(actor, error=domain_text(error), status=error.status)
    title = template.title
    db.commit()
    flash(_("Frasmallen %(title)s är borttagen.", title=title))
    return redirect(url_for("worklist.phrases_page"))
