"""Resident endpoints (a patient, or a guardian for their child under 13): submit a case, follow it,
write, upload images, answer forms and consents. Permission lives in the services (require_resident:
the patient, or a guardian while the child is under 13, checked on every access)."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from app.api import queries, schemas, views
from app.api.operations import ID, RESIDENT, Param, multipart_id, operation, uploaded_file
from app.api.submission import submit_with_answers, triage_in_use
from app.audit.service import Actor, log_access
from app.cases import chat
from app.cases.chat import MAX_IMAGE_BYTES
from app.db import request_session
from app.instances.engine_setup import current_engine
from app.patients.models import Patient
from app.people.models import Unit

LIMIT = Param(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    "How many messages (newest last).",
)
BEFORE = Param(
    "before_id",
    {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "Messages older than this id (from next_before_id).",
)
CASE_LIMIT = Param(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
    "How many cases (newest first).",
)
CURSOR = Param(
    "cursor",
    {"type": "string", "maxLength": 40, "pattern": queries.CURSOR_PATTERN},
    "The next page: the previous page's next_cursor (opaque).",
    invalid=_l("Ogiltig cursor: skicka next_cursor från föregående sida."),
)
CASE = f"/resident/cases/<{ID}:case_id>"
IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[\\x21-\\x7E]+$"},
    "Makes the submission safe to retry (see Retries in the description): 1–64 visible ASCII characters, no spaces, "
    "new for each case you mean to submit (e.g. a UUID). Keys are per resident and never expire.",
    invalid=_l("Idempotency-Key ska vara 1–64 synliga ASCII-tecken (inga mellanslag)."),
)
REPLAYED = Param(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    "Present when the answer is the case an earlier request with the same Idempotency-Key made.",
)


def _context() -> str:
    return request.path[:200]


@operation(
    "GET",
    "/resident/units",
    summary="Units that take cases in the service",
    tag="resident",
    audience=RESIDENT,
    response="UnitList",
    rules=("HA-functions", "HA-after-hours"),
)
def resident_list_units(actor: Actor):
    """With each unit's functions (HA-functions) and whether a case may be sent after closing (HA-after-hours)."""
    db = request_session()
    units = queries.submission_units(db)
    db.commit()
    return jsonify({"items": [views.unit_entry(u, anyway) for u, anyway in units]})


@operation(
    "GET",
    "/resident/triage",
    summary="The triage questionnaire (demo stand-in, not medical triage)",
    tag="resident",
    audience=RESIDENT,
    response="Questionnaire",
)
def resident_triage_questionnaire(actor: Actor):
    """A JSON Schema of the questions; send the answers as `answers` when submitting a sok_vard case."""
    return jsonify(schemas.questionnaire(triage_in_use()))


@operation(
    "GET",
    "/resident/cases",
    summary="Your cases and your children's (under 13)",
    tag="resident",
    audience=RESIDENT,
    response="ResidentCaseList",
    rules=("OG-6.4-b",),
    query=(CURSOR, CASE_LIMIT),
    description="Newest first, a page at a time: pass `next_cursor` as `cursor` for the next page (null: no more). "
    "A child's cases are listed while the child is under 13 on today's Stockholm date (OG-6.4-b).",
)
def resident_list_cases(actor: Actor, query: dict):
    db = request_session()
    rows, next_cursor = queries.resident_cases(
        db, actor=actor, limit=query["limit"], cursor=query.get("cursor")
    )
    if rows:
        log_access(
            db,
            actor=actor,
            action="api:resident:cases",
            patient_ids=[c.patient_id for c, _, _ in rows],
            context=_context(),
        )
    db.commit()
    return jsonify(views.resident_case_page(rows, next_cursor))


@operation(
    "POST",
    "/resident/cases",
    summary="Submit a case (Sök vård with the triage's answers, an administrative matter, or chat without triage)",
    tag="resident",
    audience=RESIDENT,
    status=201,
    response="ResidentCaseResult",
    body="SubmitCaseBody",
    problems=(404,),
    rules=(
        "OG-6.4-a",
        "OG-6.4-b",
        "HA-behalf",
        "OG-10.3",
        "HA-functions",
        "OG-3",
        "HA-after-hours",
        "OG-6.3",
        "HA-protected",
    ),
    description="Refused with 422 guard_refused and the rule: a child under 1 (OG-6.4-a), a guardian for a child of 13 or more (OG-6.4-b), a unit not in the service (OG-10.3) or without the function (HA-functions); 403 forbidden for someone else than yourself or your child (HA-behalf). After closing time the case may come back `referred` (OG-3); sending it anyway is a new request (a new Idempotency-Key).\n\n"
    "**Retries.** Send an `Idempotency-Key` header and a request that timed out can be sent again safely: the same key with the same body answers 201 with the case as it is now, marked `Idempotent-Replayed: true`, and nothing is submitted twice. The same key with another body is 422 `idempotency_key_reused`; a malformed key is 422 `validation_failed`. A refused request makes no case, so sending it again runs it again. Without the header every request submits a case.",
    headers=(IDEMPOTENCY_KEY,),
    response_headers=(REPLAYED,),
)
def resident_submit_case(actor: Actor, body: dict, headers: dict):
    db = request_session()
    submitted = submit_with_answers(
        db,
        current_engine(),
        actor=actor,
        unit_id=body["unit_id"],
        kind=body["kind"],
        answers=body.get("answers"),
        patient_id=body["patient_id"],
        search_reason=body["search_reason"],
        message=body["message"],
        send_anyway=body["send_anyway"],
        claims_protected=body["claims_protected"],
        triage=triage_in_use(),
        idempotency_key=headers.get(IDEMPOTENCY_KEY.name),
    )
    case = submitted.case
    if submitted.replayed:  # the answer shows a case that exists already: a read, logged as one
        log_access(
            db,
            actor=actor,
            action="api:resident:case:replayed",
            patient_ids=[case.patient_id],
            case_id=case.id,
            context=_context(),
        )
    result = views.resident_case(case, db.get(Patient, case.patient_id), db.get(Unit, case.unit_id))
    db.commit()
    response = jsonify({"case": result})
    if submitted.replayed:
        response.headers[REPLAYED.name] = "true"
    return response, 201


@operation(
    "GET",
    CASE,
    summary="Your case: messages, consents and forms to answer, image requests",
    tag="resident",
    audience=RESIDENT,
    response="ResidentCaseView",
    query=(LIMIT,),
    problems=(404,),
)
def resident_get_case(actor: Actor, case_id: int, query: dict):
    db = request_session()
    view = queries.resident_case_view(db, actor=actor, case_id=case_id, message_limit=query["limit"])
    log_access(
        db,
        actor=actor,
        action="api:resident:case:read",
        patient_ids=[view.case.patient_id],
        case_id=view.case.id,
        context=_context(),
    )
    db.commit()
    return jsonify(views.resident_case_view(view))


@operation(
    "GET",
    f"{CASE}/messages",
    summary="A page of your case's chat (newest last)",
    tag="resident",
    audience=RESIDENT,
    response="ResidentMessagePage",
    query=(BEFORE, LIMIT),
    problems=(404,),
)
def resident_list_messages(actor: Actor, case_id: int, query: dict):
    db = request_session()
    case, patient, unit, rows, before = queries.resident_messages(
        db, actor=actor, case_id=case_id, before_id=query.get("before_id"), limit=query["limit"]
    )
    log_access(
        db,
        actor=actor,
        action="api:resident:case:messages",
        patient_ids=[case.patient_id],
        case_id=case.id,
        context=_context(),
    )
    db.commit()
    return jsonify(views.resident_message_page(rows, before, unit, patient))


@operation(
    "POST",
    f"{CASE}/messages",
    summary="Write in your case's chat",
    tag="resident",
    audience=RESIDENT,
    status=201,
    response="ResidentMessageResult",
    body="MessageBody",
    problems=(404, 409),
    rules=("HA-close-plus1", "OG-6.5"),
    description="After closing, only within the unit's window (HA-close-plus1, else 422 guard_refused); the answer then goes to the role queue, flagged.",
)
def resident_send_message(actor: Actor, case_id: int, body: dict):
    db = request_session()
    message = chat.patient_write(db, current_engine(), actor=actor, case_id=case_id, body=body["body"])
    db.commit()
    return jsonify({"message": views.resident_message(message)}), 201


@operation(
    "POST",
    f"{CASE}/images",
    summary="Upload an image into your case",
    tag="resident",
    audience=RESIDENT,
    status=201,
    response="ImageResult",
    multipart="ImageUpload",
    problems=(404, 413),
    rules=("OG-11-f",),
)
def resident_upload_image(actor: Actor, case_id: int):
    """multipart/form-data with `file` (JPEG, PNG, HEIC or WebP, at most 10 MB) and optionally `request_id`."""
    file = uploaded_file("file", max_bytes=MAX_IMAGE_BYTES)
    request_id = multipart_id("request_id")
    db = request_session()
    image = chat.upload_image(
        db,
        actor=actor,
        case_id=case_id,
        filename=file.filename or "bild",
        content_type=file.mimetype or "",
        content=file.read(MAX_IMAGE_BYTES + 1),
        request_id=request_id,
    )
    db.commit()
    return jsonify({"image": views.image(image)}), 201


@operation(
    "POST",
    f"{CASE}/reopen",
    summary="Reopen your closed case (within the unit's window, same search reason)",
    tag="resident",
    audience=RESIDENT,
    response="ResidentCaseResult",
    body="ReopenBody",
    problems=(404, 409),
    rules=("OG-6.5",),
)
def resident_reopen_case(actor: Actor, case_id: int, body: dict):
    db = request_session()
    case = chat.reopen(
        db, current_engine(), actor=actor, case_id=case_id, search_reason=body["search_reason"]
    )
    result = views.resident_case(case, db.get(Patient, case.patient_id), db.get(Unit, case.unit_id))
    # The answer shows the case (name, search reason, state): a read like any other.
    log_access(
        db,
        actor=actor,
        action="api:resident:case:reopened",
        patient_ids=[case.patient_id],
        case_id=case.id,
        context=_context(),
    )
    db.commit()
    return jsonify({"case": result})


@operation(
    "POST",
    f"/resident/forms/<{ID}:form_id>/answer",
    summary="Answer a form or rating scale sent to you",
    tag="resident",
    audience=RESIDENT,
    response="FormResult",
    body="FormAnswerBody",
    problems=(404, 409),
    rules=("OG-8.1",),
    description="The answers are validated against the form's definition as sent (field errors: 422 validation_failed). A form answers once (409).",
)
def resident_answer_form(actor: Actor, form_id: int, body: dict):
    db = request_session()
    form = chat.answer_form(db, actor=actor, form_id=form_id, answers=body["answers"])
    db.commit()
    return jsonify({"form": views.resident_form(form)})


@operation(
    "POST",
    f"/resident/consents/<{ID}:consent_id>/answer",
    summary="Give or decline a consent (a handover, or another meeting form with its cost)",
    tag="resident",
    audience=RESIDENT,
    response="ConsentResult",
    body="ConsentAnswerBody",
    problems=(404, 409),
    rules=("HA-handover-consent", "OG-8.3"),
)
def resident_answer_consent(actor: Actor, consent_id: int, body: dict):
    db = request_session()
    consent = chat.answer_consent(
        db, current_engine(), actor=actor, consent_id=consent_id, given=body["given"]
    )
    db.commit()
    return jsonify({"consent": views.consent(consent)})
