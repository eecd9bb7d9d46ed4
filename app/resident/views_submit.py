"""Submitting a case: Sök vård (the triage questions, then the routine) or an administrative question.

One form per kind of case, posted whole; a refusal (section E, the unit's functions, after-hours
referral) comes back on the same form with everything the resident typed still in it. After hours a
referred case shows its referral and, where the region allows it (HA-after-hours), a "send anyway"
form that carries the same answers again.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.cases.chat import MAX_MESSAGE
from app.cases.models import CaseKind, CaseState
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage, TriageAdapter
from app.db import request_session
from app.errors import DomainError, Forbidden, ValidationFailed
from app.ids import bounded_id
from app.instances.service import validate_form_data
from app.resident import queries
from app.resident.auth import current_resident
from app.resident.blueprint import bp
from app.resident.handlers import log_read, record_refusal
from app.resident.schema_forms import (
    field_messages,
    fields_of,
    initial_values,
    posted_values,
    schema_title,
    typed_answers,
)

MAX_SUBJECT = 200
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
KINDS = {"sok_vard": CaseKind.SOK_VARD, "admin": CaseKind.ADMIN}
# Which question a refusal is about, so its message also stands beside that question.
REFUSAL_FIELDS = {
    "OG-6.4-a": "who",
    "OG-6.4-b": "who",
    "HA-behalf": "who",
    "OG-10.3": "unit",
    "HA-functions": "unit",
}


def triage_adapter() -> TriageAdapter:
    """The triage in use: the vendor's adapter when the app has one installed, else the demo stand-in."""
    return current_app.extensions.get("triage") or DemoTriage()


@dataclass
class Draft:
    """Everything typed or chosen on the form, as text, so nothing is lost when it comes back."""

    kind: CaseKind
    patient_id: str = ""
    unit_id: str = ""
    values: dict[str, str] = field(default_factory=dict)
    claims_protected: bool = False
    send_anyway: bool = False
    submission_key: str = ""  # one per form shown: the same form sent twice makes one case


def _kind(value: str | None) -> CaseKind:
    return KINDS.get(value or "", CaseKind.SOK_VARD)


def _id(value: str) -> int | None:
    """A chosen person or unit as a database id; out of an id column's range it counts as not chosen."""
    try:
        return bounded_id(value)
    except (TypeError, ValueError):
        return None


def _posted_draft(kind: CaseKind) -> Draft:
    form = request.form
    if kind == CaseKind.SOK_VARD:
        values = posted_values(triage_adapter().questionnaire(), form)
    else:
        values = {"subject": form.get("subject", ""), "message": form.get("message", "")}
    return Draft(
        kind,
        form.get("patient_id", ""),
        form.get("unit_id", ""),
        values,
        form.get("claims_protected") == "1",
        form.get("send_anyway") == "1",
        _submission_key(form.get("submission_key")),
    )


def _submission_key(posted: str | None) -> str:
    """The posted key if it looks like one this site made (else none: the submission is simply not deduplicated)."""
    return posted if posted and SUBMISSION_KEY.fullmatch(posted) else ""


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def _render_form(
    actor,
    draft: Draft,
    *,
    errors: dict[str, str] | None = None,
    refusal: DomainError | None = None,
    status: int = 200,
):
    draft.submission_key = draft.submission_key or new_submission_key()
    db = request_session()
    people = queries.people_of(db, actor=actor)
    units = queries.units_for(db, kind=draft.kind)
    adapter = triage_adapter()
    fields = fields_of(adapter.questionnaire()) if draft.kind == CaseKind.SOK_VARD else []
    if not draft.patient_id and len(people) == 1:
        draft.patient_id = str(people[0].patient.id)
    if not draft.unit_id and len(units) == 1:
        draft.unit_id = str(units[0].unit.id)
    log_read(db, actor=actor, action="resident:new_case_form", patient_ids=[p.patient.id for p in people])
    db.commit()
    return (
        render_template(
            "resident/new_case.html",
            draft=draft,
            people=people,
            units=units,
            fields=fields,
            questionnaire_title=schema_title(adapter.questionnaire()),
            stand_in=isinstance(adapter, DemoTriage),
            errors=errors or {},
            refusal=refusal,
            refusal_field=REFUSAL_FIELDS.get(refusal.details.get("rule")) if refusal else None,
            anyway_units=_send_anyway_units(draft.kind, units),
            max_subject=MAX_SUBJECT,
            max_message=MAX_MESSAGE,
        ),
        status,
    )


def _send_anyway_units(kind: CaseKind, units: list[queries.UnitChoice]) -> list[str]:
    """HA-after-hours: the closed care centres whose region lets a resident send a chat anyway, to offer
    that choice before the form is sent (the routine's after-hours table honours it)."""
    if kind != CaseKind.SOK_VARD:
        return []
    return [choice.unit.name for choice in units if choice.send_anyway and not choice.open_now]


@bp.get("/new")
def new_case():
    actor = current_resident()
    kind = _kind(request.args.get("kind"))
    values = initial_values(triage_adapter().questionnaire()) if kind == CaseKind.SOK_VARD else {}
    return _render_form(actor, Draft(kind, values=values))


@bp.post("/new")
def submit():
    actor = current_resident()
    kind = _kind(request.form.get("kind"))
    draft = _posted_draft(kind)
    errors: dict[str, str] = {}
    patient_id, unit_id = _id(draft.patient_id), _id(draft.unit_id)
    if patient_id is None:
        errors["who"] = _("Välj vem ärendet gäller.")
    if unit_id is None:
        errors["unit"] = _("Välj en mottagning.")
    triage, subject, message = None, None, ""
    if kind == CaseKind.SOK_VARD:
        adapter = triage_adapter()
        schema = adapter.questionnaire()
        try:
            answers = validate_form_data(schema, typed_answers(schema, draft.values))
        except ValidationFailed as failed:
            errors.update(
                {f"q-{name}": text for name, text in field_messages(schema, failed.field_errors).items()}
            )
        else:
            triage = adapter.assess(answers)
    else:
        subject, message = draft.values["subject"].strip(), draft.values["message"].strip()
        if not subject:
            errors["subject"] = _("Skriv vad ärendet gäller.")
        elif len(subject) > MAX_SUBJECT:
            errors["subject"] = _("Texten får vara högst %(count)s tecken.", count=MAX_SUBJECT)
        if not message:
            errors["message"] = _("Skriv ditt meddelande.")
        elif len(message) > MAX_MESSAGE:
            errors["message"] = _("Texten får vara högst %(count)s tecken.", count=MAX_MESSAGE)
    if errors:
        return _render_form(actor, draft, errors=errors, status=422)
    db = request_session()
    try:
        case = submit_case(
            db,
            current_app.extensions["engine"],
            actor=actor,
            patient_id=patient_id,
            unit_id=unit_id,
            kind=kind,
            triage=triage,
            search_reason=subject,
            message=message,
            send_anyway=draft.send_anyway,
            claims_protected=draft.claims_protected,
            submission_key=draft.submission_key or None,
        )
    except DomainError as refused:
        if isinstance(refused, Forbidden):
            record_refusal(refused)  # HA-behalf: someone else's identity, kept in the audit trail
        db.rollback()
        return _render_form(actor, draft, refusal=refused, status=refused.status)
    db.commit()
    if case.state == CaseState.REFERRED:
        return _render_referral(actor, case.id, draft)
    return redirect(url_for("resident.case_page", case_id=case.id, sent=1), code=303)


def _render_referral(actor, case_id: int, draft: Draft):
    """OG-3 / HA-after-hours: the referral, and where allowed the same answers ready to send anyway."""
    db = request_session()
    view = queries.case_view(db, actor=actor, case_id=case_id)
    log_read(db, actor=actor, action="resident:case", patient_ids=[view.patient.id], case_id=case_id)
    db.commit()
    draft.submission_key = new_submission_key()  # sending anyway is a submission of its own
    return render_template("resident/referred.html", view=view, draft=draft)
