"""A resident's submission through the API: the triage's answers become the case's priority, search
reason and anamnesis (through the triage adapter), then the ordinary submission service runs with
every guard of section E (OG-6.4-a/b, HA-behalf, OG-10.3, HA-functions)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.cases.models import Case, CaseKind
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage, TriageAdapter
from app.engine import ProcessEngine
from app.errors import ValidationFailed
from app.instances.service import validate_form_data


def triage_in_use() -> TriageAdapter:
    """The triage the resident pages use: the vendor's adapter when the app has one, else the demo stand-in."""
    return current_app.extensions.get("triage") or DemoTriage()


def submit_with_answers(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    unit_id: int,
    kind: str,
    answers: dict[str, Any] | None,
    patient_id: int | None = None,
    search_reason: str = "",
    message: str = "",
    send_anyway: bool = False,
    claims_protected: bool = False,
    triage: TriageAdapter | None = None,
) -> Case:
    """Submit a case for yourself (or your child under 13) with the triage's answers, validated against
    the questionnaire of the triage in use (the demo stand-in unless another adapter is given)."""
    kind = CaseKind(kind)
    result = None
    if kind == CaseKind.SOK_VARD:
        adapter = triage or DemoTriage()
        try:
            clean = validate_form_data(adapter.questionnaire(), answers or {})
        except ValidationFailed as failed:
            raise ValidationFailed(
                failed.message,
                {f"answers/{path}".rstrip("/"): messages for path, messages in failed.field_errors.items()},
            ) from failed
        result = adapter.assess(clean)
    return submit_case(
        session,
        engine,
        actor=actor,
        patient_id=patient_id or actor.patient_id,
        unit_id=unit_id,
        kind=kind,
        triage=result,
        search_reason=search_reason.strip() or None,
        message=message.strip(),
        send_anyway=send_anyway,
        claims_protected=claims_protected,
    )
