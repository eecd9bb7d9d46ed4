"""Staff endpoints: the patient list, a case, its chat, and the actions on it (the case page's own
services, with their permission checks and guards). Every read of a case writes the access log."""

from __future__ import annotations

from flask import jsonify, request

from app.api import queries, views
from app.api.operations import ID, Param, operation
from app.api.task_completion import complete_case_task
from app.audit.service import Actor, log_access
from app.cases import chat
from app.cases.patient_forms import CATALOG
from app.casework import actions
from app.casework.compose import check_message
from app.db import request_session
from app.instances.engine_setup import current_engine

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
CASE = f"/cases/<{ID}:case_id>"


def _context() -> str:
    return request.path[:200]


@operation(
    "GET",
    "/tasks",
    summary="The patient list (Patientliggaren): the acting unit's open tasks for your roles, in handling order",
    tag="staff",
    response="TaskList",
    query=(
        Param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": 500, "default": 500},
            "At most this many tasks.",
        ),
    ),
    rules=("HA-prio-a", "OG-10.1-g", "OG-6.1-a"),
)
def list_tasks(actor: Actor, query: dict):
    """Priority 1 first; ongoing cases before new ones of the same priority; then the longest waiting.
    One access-log row names every patient listed."""
    db = request_session()
    rows = queries.worklist(db, actor=actor, limit=query["limit"])
    patient_ids = [t.patient_id for t, _ in rows if t.patient_id is not None]
    if patient_ids:
        log_access(db, actor=actor, action="api:worklist:list", patient_ids=patient_ids, context=_context())
    db.commit()
    return jsonify({"items": [views.task(t, v) for t, v in rows]})


@operation(
    "GET",
    f"/tasks/<{ID}:task_id>",
    summary="An open task with the JSON Schema of its form",
    tag="staff",
    response="TaskDetail",
    problems=(404,),
)
def get_task(actor: Actor, task_id: int):
    """What completing the task needs: its form's schema and its routine version (for expected_version)."""
    db = request_session()
    task, version, schema = queries.task_detail(db, actor=actor, task_id=task_id)
    if task.patient_id is not None:
        log_access(
            db,
            actor=actor,
            action="api:task:read",
            patient_ids=[task.patient_id],
            case_id=task.case_id,
            context=_context(),
        )
    db.commit()
    return jsonify({"task": views.task(task, version), "form_schema": schema})


@operation(
    "POST",
    f"/tasks/<{ID}:task_id>/complete",
    summary="Complete an open task with its form data",
    tag="staff",
    response="TaskResult",
    body="CompleteTaskBody",
    problems=(404, 409),
    description="The data is validated against the task's form (field errors: 422 validation_failed with `errors`) and the task's guard runs (422 guard_refused with `rule`). A stale expected_version or a task completed by someone else: 409.",
)
def complete_task(actor: Actor, task_id: int, body: dict):
    db = request_session()
    instance = complete_case_task(
        db,
        current_engine(),
        actor=actor,
        task_id=task_id,
        data=body["data"],
        expected_version=body["expected_version"],
    )
    case = queries.case_of_instance(db, instance)
    db.commit()
    return jsonify(
        {
            "task_id": task_id,
            "case": views.case_summary(case, instance.version) if case is not None else None,
            "instance_version": instance.version,
        }
    )


@operation(
    "GET",
    CASE,
    summary="A case: the case, its open tasks, the latest messages, closing time, consents, forms and images",
    tag="staff",
    response="CaseView",
    query=(LIMIT,),
    problems=(404,),
    rules=("HA-logcheck",),
)
def get_case(actor: Actor, case_id: int, query: dict):
    """Staff of the case's unit (or of a unit covering for it today) may read it; the read is access-logged."""
    db = request_session()
    view = queries.staff_case_view(db, actor=actor, case_id=case_id, message_limit=query["limit"])
    log_access(
        db,
        actor=actor,
        action="api:case:read",
        patient_ids=[view.case.patient_id],
        case_id=view.case.id,
        context=_context(),
    )
    db.commit()
    return jsonify(views.staff_case(view))


@operation(
    "GET",
    f"{CASE}/messages",
    summary="A page of the case's chat (newest last)",
    tag="staff",
    response="MessagePage",
    query=(BEFORE, LIMIT),
    problems=(404,),
)
def list_messages(actor: Actor, case_id: int, query: dict):
    db = request_session()
    case, unit, rows, before = queries.staff_messages(
        db, actor=actor, case_id=case_id, before_id=query.get("before_id"), limit=query["limit"]
    )
    log_access(
        db,
        actor=actor,
        action="api:case:messages",
        patient_ids=[case.patient_id],
        case_id=case.id,
        context=_context(),
    )
    db.commit()
    return jsonify(views.message_page(rows, before, unit))


@operation(
    "POST",
    f"{CASE}/messages",
    summary="Write in the chat",
    tag="staff",
    status=201,
    response="MessageResult",
    body="MessageBody",
    problems=(404, 409),
    rules=("OG-6.1-g",),
    description="Only in a started case (409 otherwise). Until the patient answers, the message counts as a contact attempt (OG-6.1-g).",
)
def send_message(actor: Actor, case_id: int, body: dict):
    db = request_session()
    check_message(body["body"])
    message = chat.staff_write(db, actor=actor, case_id=case_id, body=body["body"])
    db.commit()
    return jsonify({"message": views.message(message)}), 201


def _case_result(case):
    db = request_session()
    version = queries.case_version(db, case.id)
    db.commit()
    return jsonify({"case": views.case_summary(case, version)})


@operation(
    "POST",
    f"{CASE}/receive",
    summary="Ta emot: receive the case after reading the anamnesis and checking its priority",
    tag="staff",
    response="CaseResult",
    body="ReceiveBody",
    problems=(404, 409),
    rules=("OG-6.1-b", "OG-6.1-c", "HA-prio-b", "OG-7-d"),
)
def receive_case(actor: Actor, case_id: int, body: dict):
    """The resident is told by SMS that handling has started (OG-6.1-c)."""
    case = actions.receive(
        request_session(),
        current_engine(),
        actor=actor,
        case_id=case_id,
        new_priority=body["new_priority"],
        priority_reason=body["priority_reason"],
        expected_version=body["expected_version"],
    )
    return _case_result(case)


@operation(
    "POST",
    f"{CASE}/start",
    summary="Starta: start the case; the first chat message goes out",
    tag="staff",
    response="CaseResult",
    body="StartBody",
    problems=(404, 409),
    rules=("OG-6.1-d",),
)
def start_case(actor: Actor, case_id: int, body: dict):
    check_message(body["first_message"], field="first_message")
    case = actions.start(
        request_session(),
        current_engine(),
        actor=actor,
        case_id=case_id,
        first_message=body["first_message"],
        expected_version=body["expected_version"],
    )
    return _case_result(case)


@operation(
    "POST",
    f"{CASE}/handover",
    summary="Hand the case over to a role or a named colleague",
    tag="staff",
    response="CaseResult",
    body="HandoverBody",
    problems=(404, 409),
    rules=("OG-8.6", "HA-handover-consent", "OG-11-e"),
    description="Follows the unit's routine for handovers between professional groups (OG-8.6, else 422 guard_refused). The resident is asked for consent first: the case waits in state handed_over (HA-handover-consent).",
)
def hand_over(actor: Actor, case_id: int, body: dict):
    case = actions.hand_over(
        request_session(),
        current_engine(),
        actor=actor,
        case_id=case_id,
        role=body["role"],
        user_id=body["user_id"],
        note=body["note"],
        expected_version=body["expected_version"],
    )
    return _case_result(case)


@operation(
    "POST",
    f"{CASE}/close",
    summary="Close the case (needs confirmed: true)",
    tag="staff",
    response="CaseResult",
    body="CloseBody",
    problems=(404, 409),
    rules=("HA-close-confirm", "OG-6.1-f", "OG-6.1-g", "OG-6.1-h", "HA-remind", "HA-suicide-a"),
    description="Refusals are 422 guard_refused naming the rule; for an unanswered case closed too early, `earliest` is the earliest allowed time (OG-6.1-f/g). The case's `closing` (GET) tells the same beforehand.",
)
def close_case(actor: Actor, case_id: int, body: dict):
    case = actions.close(
        request_session(),
        current_engine(),
        actor=actor,
        case_id=case_id,
        concluded_in_dialogue=body["concluded_in_dialogue"],
        confirmed=body["confirmed"],
        note=body["note"],
        replaced_visit=body["replaced_visit"],
        expected_version=body["expected_version"],
    )
    return _case_result(case)


@operation(
    "POST",
    f"{CASE}/remind",
    summary="Send the patient an SMS reminder (counts as a contact attempt)",
    tag="staff",
    status=201,
    response="AttemptResult",
    problems=(404, 409),
    rules=("HA-remind", "OG-6.1-g"),
    description="Only in a started case whose patient has not answered since the last staff message (422 guard_refused, rule HA-remind).",
)
def remind(actor: Actor, case_id: int):
    db = request_session()
    attempt = chat.remind(db, actor=actor, case_id=case_id)
    db.commit()
    return jsonify(views.attempt(attempt)), 201


@operation(
    "POST",
    f"{CASE}/suicide-risk",
    summary="Suspected suicide risk: hand over at once to a psychologist or doctor, without the consent step",
    tag="staff",
    response="CaseResult",
    body="SuicideRiskBody",
    problems=(404, 409),
    rules=("HA-suicide-b", "HA-handover-consent"),
)
def suspect_suicide_risk(actor: Actor, case_id: int, body: dict):
    case = actions.suspect_suicide_risk(
        request_session(),
        current_engine(),
        actor=actor,
        case_id=case_id,
        note=body["note"],
        expected_version=body["expected_version"],
    )
    return _case_result(case)


@operation(
    "POST",
    f"{CASE}/image-requests",
    summary="Ask the patient for images (the patient is notified)",
    tag="staff",
    status=201,
    response="ImageRequestResult",
    body="ImageRequestBody",
    problems=(404,),
    rules=("OG-11-f",),
)
def request_images(actor: Actor, case_id: int, body: dict):
    db = request_session()
    wanted = chat.request_images(db, actor=actor, case_id=case_id, instructions=body["instructions"])
    db.commit()
    return jsonify({"image_request": views.image_request(wanted)}), 201


FORM_KEY = Param("form_key", {"type": "string", "enum": sorted(CATALOG)}, "The form or rating scale to send.")


@operation(
    "GET",
    f"{CASE}/form-preview",
    summary="A form or rating scale exactly as the patient will see it, with the digest to send it by",
    tag="staff",
    response="FormPreview",
    query=(FORM_KEY,),
    problems=(404,),
    rules=("OG-8.1",),
)
def preview_form(actor: Actor, case_id: int, query: dict):
    """The read is access-logged. Send the form with the `digest` given here: what was previewed is what is sent."""
    db = request_session()
    _case, definition = actions.preview_form(
        db, actor=actor, case_id=case_id, form_key=query.get("form_key", ""), context=_context()
    )
    db.commit()
    return jsonify(
        {
            "form_key": query["form_key"],
            "definition": definition,
            "digest": actions.definition_digest(definition),
        }
    )


@operation(
    "POST",
    f"{CASE}/forms",
    summary="Send the previewed form or rating scale to the patient",
    tag="staff",
    status=201,
    response="SentFormResult",
    body="SendFormBody",
    problems=(404, 409),
    rules=("OG-8.1",),
    description="`digest` comes from the preview; if the form's definition has changed since, 409 (preview again).",
)
def send_form(actor: Actor, case_id: int, body: dict):
    db = request_session()
    form = actions.send_previewed_form(
        db, actor=actor, case_id=case_id, form_key=body["form_key"], digest=body["digest"]
    )
    db.commit()
    return jsonify({"form": views.patient_form(form)}), 201


@operation(
    "POST",
    f"{CASE}/meeting-form",
    summary="Propose another meeting form, stating its cost; the resident consents or not",
    tag="staff",
    response="CaseResult",
    body="MeetingFormBody",
    problems=(404, 409),
    rules=("OG-8.3",),
)
def switch_meeting_form(actor: Actor, case_id: int, body: dict):
    case = actions.switch_meeting_form(
        request_session(),
        current_engine(),
        actor=actor,
        case_id=case_id,
        form=body["meeting_form"],
        cost=body["cost"],
        expected_version=body["expected_version"],
    )
    return _case_result(case)


@operation(
    "POST",
    f"{CASE}/phone-calls",
    summary="Record a phone call to the patient: reached is a dialogue, not reached a contact attempt",
    tag="staff",
    status=204,
    body="PhoneCallBody",
    problems=(404,),
    rules=("OG-6.1-g", "OG-6.1-h"),
)
def record_phone_call(actor: Actor, case_id: int, body: dict):
    db = request_session()
    chat.phone_attempt(db, actor=actor, case_id=case_id, reached=body["reached"], note=body["note"])
    db.commit()
    return "", 204
