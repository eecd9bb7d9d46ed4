"""A resident's submission through the API: the triage's answers become the case's priority, search
reason and anamnesis (through the triage adapter), then the ordinary submission service runs with
every guard of section E (OG-6.4-a/b, HA-behalf, OG-10.3, HA-functions).

With an `Idempotency-Key` the request is made once: the key, hashed together with the resident who
sends it, becomes the case's submission key, so a retried request (a timeout, a lost answer) gets the
case the first one made, and no second case, routine or notification. The same key with another
request is refused (422): the client reused a key, and answering with the earlier case would hide it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.api.models import ApiSubmission
from app.audit.service import Actor
from app.cases.models import Case, CaseKind
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage, TriageAdapter
from app.engine import ProcessEngine
from app.errors import ValidationFailed
from app.instances.service import validate_form_data

# API keys live in a namespace of their own: the pages' keys never contain ":" (see
# app.resident.views_submit.SUBMISSION_KEY), and the hash includes the resident.
KEY_PREFIX = "api:"
KEY_HASH_CHARS = 48  # 192 bits of SHA-256; "api:" + 48 fits the case's 64-character column


class IdempotencyKeyReused(ValidationFailed):
    """The Idempotency-Key was used before with another request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Submitted:
    case: Case
    replayed: bool  # an earlier request with the same Idempotency-Key made the case


def triage_in_use() -> TriageAdapter:
    """The triage the resident pages use: the vendor's adapter when the app has one, else the demo stand-in."""
    return current_app.extensions.get("triage") or DemoTriage()


def submission_key(*, resident_id: int, idempotency_key: str) -> str:
    """The case's submission key for a client's Idempotency-Key: namespaced by the resident who sends it."""
    digest = hashlib.sha256(f"{resident_id}:{idempotency_key}".encode()).hexdigest()
    return KEY_PREFIX + digest[:KEY_HASH_CHARS]


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
    idempotency_key: str | None = None,
) -> Submitted:
    """Submit a case for yourself (or your child under 13) with the triage's answers, validated against
    the questionnaire of the triage in use (the demo stand-in unless another adapter is given); with an
    Idempotency-Key, once: the same request sent again returns the case the first one made."""
    kind = CaseKind(kind)
    patient_id = patient_id or actor.patient_id
    key = fingerprint = None
    if idempotency_key is not None and actor.patient_id is not None:
        key = submission_key(resident_id=actor.patient_id, idempotency_key=idempotency_key)
        fingerprint = _fingerprint(
            unit_id=unit_id,
            kind=kind.value,
            answers=answers,
            patient_id=patient_id,
            search_reason=search_reason,
            message=message,
            send_anyway=send_anyway,
            claims_protected=claims_protected,
        )
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
    # With a key, submit_case returns the case an earlier request made, untouched (also when both
    # arrive at once: the unique key stops the second insert and it answers with the first's case).
    case = submit_case(
        session,
        engine,
        actor=actor,
        patient_id=patient_id,
        unit_id=unit_id,
        kind=kind,
        triage=result,
        search_reason=search_reason.strip() or None,
        message=message.strip(),
        send_anyway=send_anyway,
        claims_protected=claims_protected,
        submission_key=key,
    )
    if key is None:
        return Submitted(case, replayed=False)
    stored = session.get(ApiSubmission, case.id)
    if stored is None:  # this request made the case
        session.add(ApiSubmission(case_id=case.id, request_hash=fingerprint))
        session.flush()
        return Submitted(case, replayed=False)
    if stored.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            str(
                _l(
                    "Idempotency-Key har redan använts för en annan inskickning. Använd en ny nyckel för en ny begäran."
                )
            ),
            {"Idempotency-Key": ["already used with a different request"]},
        )
    return Submitted(case, replayed=True)


def _fingerprint(**request: Any) -> str:
    """SHA-256 of the request as the service reads it (defaults filled in, whoever it is for resolved)."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
