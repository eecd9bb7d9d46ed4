"""JSON representations of the domain (documented in app.api.schemas). Times are ISO 8601 in UTC.

Residents see their case without staff internals. A claimed or confirmed protected identity is
never shown the unit's name, not even in their own case (SEC-protected-sms: a screen can be seen by
others), and phrase texts' unit placeholders are filled neutrally for them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.api.models import ApiToken
from app.api.queries import CaseView
from app.audit.service import Actor
from app.cases.models import Case, CaseImage, ChatMessage, Consent, ContactAttempt, ImageRequest, PatientForm
from app.instances.models import HumanTask
from app.notifications.compose import NEUTRAL_UNIT
from app.notifications.service import fill_unit_for_reading
from app.patients.models import Patient
from app.people.models import Unit


def iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- tokens and principals ----------------------------------------------------------------------


def token(row: ApiToken, now: datetime) -> dict:
    return {
        "id": row.id,
        "kind": row.kind.value,
        "name": row.name,
        "hint": row.hint,
        "user_id": row.user_id,
        "unit_id": row.unit_id,
        "roles": row.roles,
        "patient_id": row.patient_id,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "last_used_at": iso(row.last_used_at),
        "revoked_at": iso(row.revoked_at),
        "active": row.revoked_at is None and row.expires_at > now,
    }


def principal(actor: Actor, kind: str, token_id: int | None, unit: Unit | None) -> dict:
    return {
        "kind": kind,
        "name": actor.label,
        "user_id": actor.user_id,
        "unit": {"id": unit.id, "name": unit.name} if unit is not None else None,
        "roles": sorted(actor.roles),
        "patient_id": actor.patient_id,
        "token_id": token_id,
    }


def unit_entry(unit: Unit, send_anyway_allowed: bool) -> dict:
    return {
        "id": unit.id,
        "name": unit.name,
        "kind": unit.kind.value,
        "functions": list(unit.functions or []),
        "send_anyway_allowed": send_anyway_allowed,
    }


# --- staff --------------------------------------------------------------------------------------


def task(row: HumanTask, version: int | None) -> dict:
    patient = None
    if row.patient_id is not None:
        patient = {
            "id": row.patient_id,
            "name": row.patient_name,
            "birth_date": iso(row.patient_birth_date),
            "protected": bool(row.patient_protected),
        }
    return {
        "id": row.id,
        "title": row.title,
        "element_id": row.element_id,
        "process_id": row.process_id,
        "role": row.role.value if row.role is not None else None,
        "unit_id": row.unit_id,
        "owner_user_id": row.owner_user_id,
        "case_id": row.case_id,
        "case_kind": row.case_kind,
        "case_state": row.case_state,
        "priority": row.priority,
        "search_reason": row.search_reason,
        "patient": patient,
        "patient_answered": bool(row.patient_answered),
        "case_started": bool(row.case_started),
        "waiting_since": iso(row.waiting_since),
        "due_at": iso(row.due_at),
        "form": row.form_schema,
        "version": version,
    }


def message(row: ChatMessage, unit: Unit | None = None) -> dict:
    """A chat message; with the unit, phrase placeholders filled (a message just written has none)."""
    body = fill_unit_for_reading(row.body, unit, neutral=False) if unit is not None else row.body
    return {
        "id": row.id,
        "author": row.author.value,
        "author_user_id": row.author_user_id,
        "body": body,
        "phrase_purpose": row.phrase_purpose,
        "sent_at": iso(row.sent_at),
    }


def message_page(rows: list[ChatMessage], before: int | None, unit: Unit) -> dict:
    return {"items": [message(m, unit) for m in rows], "next_before_id": before}


def case_summary(case: Case, version: int | None) -> dict:
    return {
        "id": case.id,
        "kind": case.kind.value,
        "state": case.state.value,
        "priority": case.priority,
        "owner_user_id": case.owner_user_id,
        "handling_role": case.handling_role,
        "version": version,
    }


def staff_case(view: CaseView) -> dict:
    case, patient = view.case, view.patient
    return {
        "case": {
            "id": case.id,
            "kind": case.kind.value,
            "state": case.state.value,
            "unit_id": case.unit_id,
            "patient": {
                "id": patient.id,
                "name": patient.display_name,
                "identity_number": patient.identity_number,
                "birth_date": iso(patient.birth_date),
                "protected": patient.is_protected,
            },
            "priority": case.priority,
            "triage_priority": case.triage_priority,
            "search_reason": case.search_reason,
            "category": case.category,
            "anamnesis": case.anamnesis,
            "owner_user_id": case.owner_user_id,
            "handling_role": case.handling_role,
            "patient_answered": bool(case.patient_answered),
            "meeting_form": case.meeting_form,
            "chargeable": bool(case.chargeable),
            "submitted_at": iso(case.submitted_at),
            "received_at": iso(case.received_at),
            "started_at": iso(case.started_at),
            "closed_at": iso(case.closed_at),
            "closed_reason": case.closed_reason,
            "reopen_until": iso(case.reopen_until),
            "after_close": bool(case.after_close),
            "referral": case.referral,
            "suicide_risk": case.suicide_risk,
            "wrong_patient": bool(case.wrong_patient),
            "version": view.version,
        },
        "open_tasks": [task(t, v) for t, v in view.open_tasks],
        "messages": message_page(view.messages, view.next_before_id, view.unit),
        "closing": {"earliest": iso(view.closing[0]), "missing": view.closing[1]}
        if view.closing is not None
        else None,
        "consents": [consent(c) for c in view.consents],
        "forms": [patient_form(f) for f in view.forms],
        "images": [image(i) for i in view.images],
        "image_requests": [image_request(r) for r in view.image_requests],
    }


def attempt(row: ContactAttempt) -> dict:
    return {"attempt": {"id": row.id, "kind": row.kind.value, "at": iso(row.at)}}


def consent(row: Consent) -> dict:
    return {
        "id": row.id,
        "kind": row.kind.value,
        "details": _plain(row.details or {}),
        "requested_at": iso(row.requested_at),
        "answer": row.answer.value,
        "answered_at": iso(row.answered_at),
    }


def patient_form(row: PatientForm) -> dict:
    return {
        "id": row.id,
        "form_key": row.form_key,
        "title": row.title,
        "definition": row.definition,
        "sent_at": iso(row.sent_at),
        "answers": row.answers,
        "score": row.score,
        "answered_at": iso(row.answered_at),
    }


def image(row: CaseImage) -> dict:
    return {
        "id": row.id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "uploaded_at": iso(row.uploaded_at),
        "request_id": row.request_id,
    }


def image_request(row: ImageRequest) -> dict:
    return {
        "id": row.id,
        "instructions": row.instructions,
        "requested_at": iso(row.requested_at),
        "fulfilled_at": iso(row.fulfilled_at),
    }


# --- residents ----------------------------------------------------------------------------------


def resident_case(case: Case, patient: Patient, unit: Unit) -> dict:
    return {
        "id": case.id,
        "kind": case.kind.value,
        "state": case.state.value,
        "unit": {"id": unit.id, "name": NEUTRAL_UNIT if patient.is_protected else unit.name},
        "patient": {"id": patient.id, "name": patient.display_name},
        "search_reason": case.search_reason,
        "submitted_at": iso(case.submitted_at),
        "started_at": iso(case.started_at),
        "closed_at": iso(case.closed_at),
        "reopen_until": iso(case.reopen_until),
        "referral": case.referral,
    }


def resident_case_page(rows: list[tuple[Case, Patient, Unit]], next_cursor: str | None) -> dict:
    return {"items": [resident_case(c, p, u) for c, p, u in rows], "next_cursor": next_cursor}


def resident_message(row: ChatMessage, unit: Unit | None = None, patient: Patient | None = None) -> dict:
    body = (
        fill_unit_for_reading(row.body, unit, neutral=patient.is_protected)
        if unit is not None and patient is not None
        else row.body
    )
    return {"id": row.id, "author": row.author.value, "body": body, "sent_at": iso(row.sent_at)}


def resident_message_page(rows: list[ChatMessage], before: int | None, unit: Unit, patient: Patient) -> dict:
    return {"items": [resident_message(m, unit, patient) for m in rows], "next_before_id": before}


def resident_form(row: PatientForm) -> dict:
    return {
        "id": row.id,
        "title": row.title,
        "definition": row.definition,
        "sent_at": iso(row.sent_at),
        "answered_at": iso(row.answered_at),
    }


def resident_case_view(view: CaseView) -> dict:
    return {
        "case": resident_case(view.case, view.patient, view.unit),
        "messages": resident_message_page(view.messages, view.next_before_id, view.unit, view.patient),
        "consents": [consent(c) for c in view.consents],
        "forms": [resident_form(f) for f in view.forms],
        "image_requests": [image_request(r) for r in view.image_requests],
        "images": [image(i) for i in view.images],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
