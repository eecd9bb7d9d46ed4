"""JSON Schemas of the API's requests and responses (the OpenAPI document's components).

Where a task's data goes, the fields are taken from the routine's own form in forms/ (the schema the
engine validates the task against), so the API documents exactly what the routine accepts. Response
schemas forbid unknown members: a test runs every response against them, so a field added to a
representation without its documentation fails.
"""

from __future__ import annotations

import copy
import functools
import json

from app.cases.models import AttemptKind, CaseKind, CaseState, ConsentAnswer, ConsentKind, MessageAuthor
from app.cases.patient_forms import CATALOG
from app.cases.triage import DemoTriage, TriageAdapter
from app.config import PROJECT_ROOT
from app.people.models import UnitFunction, UnitKind

FORMS_DIR = PROJECT_ROOT / "forms"
MAX_ID = 2**31 - 1

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
OPTIONAL_ID = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID}
TIME = {"type": "string", "format": "date-time"}
OPTIONAL_TIME = {"type": ["string", "null"], "format": "date-time"}
OPTIONAL_STRING = {"type": ["string", "null"]}
EXPECTED_VERSION = {
    "type": ["integer", "null"],
    "minimum": 1,
    "maximum": MAX_ID,
    "default": None,
    "description": "The `version` you read (of the case's routine, or the task's). A stale version is refused with 409 and nothing changes.",
}
NOT_BLANK = {"minLength": 1, "pattern": "\\S"}
MESSAGE_BODY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 4000,
    "description": "The message (blank is refused).",
}


def form(name: str) -> dict:
    """A form of forms/ as an embeddable schema (its `$schema` dropped: the document's dialect is the same)."""
    schema = copy.deepcopy(_read_form(name))
    schema.pop("$schema", None)
    return schema


@functools.cache
def _read_form(name: str) -> dict:
    return json.loads((FORMS_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def form_field(name: str, field: str) -> dict:
    return copy.deepcopy(_read_form(name)["properties"][field])


def _object(
    properties: dict, required: tuple[str, ...] = (), *, description: str = "", closed: bool = True, **extra
) -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required), **extra}
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    if not required:
        del schema["required"]
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable_ref(name: str) -> dict:
    return {"anyOf": [_ref(name), {"type": "null"}]}


def _list_of(name: str) -> dict:
    return _object({"items": {"type": "array", "items": _ref(name)}}, ("items",))


def _enum(values) -> dict:
    return {"type": "string", "enum": [v.value for v in values]}


def questionnaire(triage: TriageAdapter | None = None) -> dict:
    """A triage's questions as a schema; the document describes the demo stand-in (not medical triage)."""
    schema = copy.deepcopy((triage or DemoTriage()).questionnaire())
    schema.pop("$schema", None)
    return schema


def _requests() -> dict[str, dict]:
    return {
        "ReceiveBody": _object(
            {
                "new_priority": form_field("receive", "new_priority"),
                "priority_reason": form_field("receive", "priority_reason"),
                "expected_version": EXPECTED_VERSION,
            },
            description="Ta emot (OG-6.1-b): you read the anamnesis and checked the priority; change it if needed (HA-prio-b). Fields from forms/receive.schema.json.",
        ),
        "StartBody": _object(
            {"first_message": form_field("start", "first_message"), "expected_version": EXPECTED_VERSION},
            description="Starta (OG-6.1-d): the first chat message (blank: the unit's phrase template). Fields from forms/start.schema.json.",
        ),
        "CloseBody": _object(
            {
                "concluded_in_dialogue": form_field("handling", "concluded_in_dialogue"),
                "confirmed": form_field("handling", "confirmed"),
                "note": form_field("handling", "note"),
                "replaced_visit": form_field("handling", "replaced_visit"),
                "expected_version": EXPECTED_VERSION,
            },
            description="Close the case. `confirmed` must be true (HA-close-confirm); an unanswered case closes only when the region's rules allow (OG-6.1-f/g/h, HA-remind). Fields from forms/handling.schema.json.",
        ),
        "HandoverBody": _object(
            {
                "role": form_field("handling", "target_role"),
                "user_id": form_field("handling", "target_user_id"),
                "note": form_field("handling", "note"),
                "expected_version": EXPECTED_VERSION,
            },
            ("role",),
            description="Hand over to a role or a named colleague, as the unit's routine allows (OG-8.6); the resident is asked for consent first (HA-handover-consent). Fields from forms/handling.schema.json.",
        ),
        "MessageBody": _object({"body": MESSAGE_BODY}, ("body",)),
        "SuicideRiskBody": _object(
            {"note": form_field("handling", "note"), "expected_version": EXPECTED_VERSION},
            description="Suspected suicide risk (HA-suicide-b): handed over at once, no consent step. Fields from forms/handling.schema.json.",
        ),
        "MeetingFormBody": _object(
            {
                "meeting_form": form_field("handling", "meeting_form"),
                "cost": {**form_field("handling", "cost"), **NOT_BLANK},
                "expected_version": EXPECTED_VERSION,
            },
            ("meeting_form", "cost"),
            description="Another meeting form and the cost the patient is told (OG-8.3). Fields from forms/handling.schema.json.",
        ),
        "PhoneCallBody": _object(
            {
                "reached": {"type": "boolean", "description": "Whether the patient answered."},
                "note": {"type": "string", "maxLength": 2000, "default": ""},
            },
            ("reached",),
        ),
        "ImageRequestBody": _object(
            {
                "instructions": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 2000,
                    "pattern": "\\S",
                    "description": "What image you need, in the patient's words.",
                }
            },
            ("instructions",),
        ),
        "SendFormBody": _object(
            {
                "form_key": {"type": "string", "enum": sorted(CATALOG)},
                "digest": {
                    "type": "string",
                    "maxLength": 64,
                    "description": "The `digest` of the preview (GET form-preview).",
                },
            },
            ("form_key", "digest"),
        ),
        "CompleteTaskBody": _object(
            {
                "data": {
                    "type": "object",
                    "description": "The task's form data, validated against the task's form (GET /api/v1/tasks/{task_id} gives its schema; the forms are in components as Form_*).",
                },
                "expected_version": EXPECTED_VERSION,
            },
            ("data",),
        ),
        "TokenBody": _object(
            {
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 120,
                    "description": "What the token is for.",
                },
                "days": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 365,
                    "default": 30,
                    "description": "Days until it expires.",
                },
            },
            ("name",),
        ),
        "SubmitCaseBody": _object(
            {
                "unit_id": ID,
                "kind": {**_enum(CaseKind), "default": CaseKind.SOK_VARD.value},
                "patient_id": {
                    **OPTIONAL_ID,
                    "default": None,
                    "description": "Seeking care for your child under 13 (OG-6.4-b); default yourself.",
                },
                "answers": {
                    **questionnaire(),
                    "description": "The triage's answers (required for sok_vard). DEMO STAND-IN, not medical triage.",
                },
                "search_reason": {
                    "type": "string",
                    "maxLength": 200,
                    "default": "",
                    "description": "Administrative cases: what it concerns.",
                },
                "message": {
                    "type": "string",
                    "maxLength": 4000,
                    "default": "",
                    "description": "Administrative cases and chat without triage: the message.",
                },
                "send_anyway": {
                    "type": "boolean",
                    "default": False,
                    "description": "After closing time, where the region allows it (HA-after-hours).",
                },
                "claims_protected": {
                    "type": "boolean",
                    "default": False,
                    "description": "You have protected personal data (OG-6.3, HA-protected).",
                },
            },
            ("unit_id",),
            allOf=[
                {
                    "if": {"properties": {"kind": {"const": CaseKind.SOK_VARD.value}}},
                    "then": {"required": ["answers"]},
                },
                # As on the resident's form: an administrative matter or a chat without triage says
                # what it concerns and has a message.
                {
                    "if": {
                        "properties": {"kind": {"enum": [CaseKind.ADMIN.value, CaseKind.NO_TRIAGE.value]}},
                        "required": ["kind"],
                    },
                    "then": {
                        "properties": {"search_reason": NOT_BLANK, "message": NOT_BLANK},
                        "required": ["search_reason", "message"],
                    },
                },
            ],
        ),
        "ImageUpload": _object(
            {
                "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "JPEG, PNG, HEIC or WebP, at most 10 MB.",
                },
                "request_id": {**OPTIONAL_ID, "description": "The image request this answers."},
            },
            ("file",),
        ),
        "FormAnswerBody": _object(
            {
                "answers": {
                    "type": "object",
                    "description": "Answers to the form's definition (validated against it).",
                }
            },
            ("answers",),
        ),
        "ConsentAnswerBody": _object({"given": {"type": "boolean"}}, ("given",)),
        "ReopenBody": _object(
            {
                "search_reason": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "Must be the case's own search reason (OG-6.5).",
                }
            },
            ("search_reason",),
        ),
    }


def _responses() -> dict[str, dict]:
    person = _object({"id": ID, "name": {"type": "string"}}, ("id", "name"))
    return {
        "Problem": _object(
            {
                "type": {
                    "type": "string",
                    "format": "uri-reference",
                    "description": "urn:vardflode:problem:<code>",
                },
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "code": {
                    "type": "string",
                    "description": "Stable machine-readable code, e.g. guard_refused, validation_failed, conflict, forbidden, not_found, invalid_token.",
                },
                "rule": {
                    **OPTIONAL_STRING,
                    "description": "The guideline rule that refused the action (guard_refused).",
                },
                "earliest": {
                    **TIME,
                    "description": "The earliest time the action is allowed (e.g. closing an unanswered case, OG-6.1-f).",
                },
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Field path → messages (validation_failed).",
                },
                "current_version": {"type": "integer", "description": "conflict: the version now."},
                "reason": {
                    "type": "string",
                    "description": "invalid_token: unknown, revoked, expired, inactive, no_roles.",
                },
                "chat_attempts": {"type": "integer"},
                "phone_attempts": {"type": "integer"},
                "age": {"type": "integer"},
            },
            ("type", "title", "status", "code"),
            description="RFC 9457 problem details.",
        ),
        "Person": person,
        "Token": _object(
            {
                "id": ID,
                "kind": {"type": "string", "enum": ["user", "service", "resident"]},
                "name": {"type": "string"},
                "hint": {"type": "string", "description": "The token's first characters."},
                "user_id": OPTIONAL_ID,
                "unit_id": OPTIONAL_ID,
                "roles": {"type": ["array", "null"], "items": {"type": "string"}},
                "patient_id": OPTIONAL_ID,
                "created_at": TIME,
                "expires_at": TIME,
                "last_used_at": OPTIONAL_TIME,
                "revoked_at": OPTIONAL_TIME,
                "active": {"type": "boolean"},
            },
            ("id", "kind", "name", "hint", "created_at", "expires_at", "active"),
        ),
        "NewToken": _object(
            {
                "token": {
                    "type": "string",
                    "description": "The bearer token. Shown this once: only its hash is kept.",
                },
                "details": _ref("Token"),
            },
            ("token", "details"),
        ),
        "TokenList": _list_of("Token"),
        "Principal": _object(
            {
                "kind": {"type": "string", "enum": ["user", "service", "resident", "session"]},
                "name": {"type": "string"},
                "user_id": OPTIONAL_ID,
                "unit": _nullable_ref("Unit"),
                "roles": {"type": "array", "items": {"type": "string"}},
                "patient_id": OPTIONAL_ID,
                "token_id": OPTIONAL_ID,
            },
            ("kind", "name", "roles"),
        ),
        "Unit": _object(
            {
                "id": ID,
                "name": {"type": "string"},
                "kind": _enum(UnitKind),
                "functions": {
                    "type": "array",
                    "items": {"type": "string", "enum": [f.value for f in UnitFunction]},
                },
                "send_anyway_allowed": {"type": "boolean"},
            },
            ("id", "name"),
        ),
        "UnitList": _list_of("Unit"),
        "OpenApiDocument": {
            "type": "object",
            "required": ["openapi", "info", "paths"],
            "description": "An OpenAPI 3.1 document.",
        },
        "Questionnaire": {
            "type": "object",
            "description": "A JSON Schema (2020-12) of the triage's questions, with `x-labels` for the choices.",
        },
        "TaskPatient": _object(
            {
                "id": ID,
                "name": OPTIONAL_STRING,
                "birth_date": {"type": ["string", "null"], "format": "date"},
                "protected": {"type": "boolean"},
            },
            ("id",),
        ),
        "Task": _object(
            {
                "id": ID,
                "title": {"type": "string"},
                "element_id": {"type": "string"},
                "process_id": {"type": "string"},
                "role": OPTIONAL_STRING,
                "unit_id": OPTIONAL_ID,
                "owner_user_id": OPTIONAL_ID,
                "case_id": OPTIONAL_ID,
                "case_kind": OPTIONAL_STRING,
                "case_state": OPTIONAL_STRING,
                "priority": {"type": ["integer", "null"]},
                "search_reason": OPTIONAL_STRING,
                "patient": _nullable_ref("TaskPatient"),
                "patient_answered": {"type": "boolean"},
                "case_started": {"type": "boolean"},
                "waiting_since": TIME,
                "due_at": OPTIONAL_TIME,
                "form": {**OPTIONAL_STRING, "description": "The form file the task is completed with."},
                "version": {
                    "type": ["integer", "null"],
                    "description": "The task's routine version: send it as expected_version.",
                },
            },
            ("id", "title", "element_id", "waiting_since"),
        ),
        "TaskList": _list_of("Task"),
        "TaskDetail": _object(
            {
                "task": _ref("Task"),
                "form_schema": {
                    "type": ["object", "null"],
                    "description": "The JSON Schema the task's data is validated against.",
                },
            },
            ("task", "form_schema"),
        ),
        "Message": _object(
            {
                "id": ID,
                "author": _enum(MessageAuthor),
                "author_user_id": OPTIONAL_ID,
                "body": {"type": "string"},
                "phrase_purpose": OPTIONAL_STRING,
                "sent_at": TIME,
            },
            ("id", "author", "body", "sent_at"),
        ),
        "MessagePage": _object(
            {
                "items": {"type": "array", "items": _ref("Message")},
                "next_before_id": {
                    **OPTIONAL_ID,
                    "description": "Pass as before_id for older messages; null: no more.",
                },
            },
            ("items", "next_before_id"),
        ),
        "Consent": _object(
            {
                "id": ID,
                "kind": _enum(ConsentKind),
                "details": {"type": "object"},
                "requested_at": TIME,
                "answer": _enum(ConsentAnswer),
                "answered_at": OPTIONAL_TIME,
            },
            ("id", "kind", "answer"),
        ),
        "PatientForm": _object(
            {
                "id": ID,
                "form_key": {"type": "string"},
                "title": {"type": "string"},
                "definition": {"type": "object"},
                "sent_at": TIME,
                "answers": {"type": ["object", "null"]},
                "score": {"type": ["integer", "null"]},
                "answered_at": OPTIONAL_TIME,
            },
            ("id", "title", "definition"),
        ),
        "Image": _object(
            {
                "id": ID,
                "filename": {"type": "string"},
                "content_type": {"type": "string"},
                "size": {"type": "integer"},
                "uploaded_at": TIME,
                "request_id": OPTIONAL_ID,
            },
            ("id", "filename"),
        ),
        "ImageRequest": _object(
            {
                "id": ID,
                "instructions": {"type": "string"},
                "requested_at": TIME,
                "fulfilled_at": OPTIONAL_TIME,
            },
            ("id",),
        ),
        "Closing": _object(
            {
                "earliest": OPTIONAL_TIME,
                "missing": {
                    **OPTIONAL_STRING,
                    "description": "What is still missing before an unanswered case may close.",
                },
            },
            ("earliest", "missing"),
            description="When the case may be closed unanswered (OG-6.1-f/g; HA-remind under Halland's policy).",
        ),
        "Case": _object(
            {
                "id": ID,
                "kind": _enum(CaseKind),
                "state": _enum(CaseState),
                "unit_id": ID,
                "patient": _ref("CasePatient"),
                "priority": {"type": ["integer", "null"]},
                "triage_priority": {"type": ["integer", "null"]},
                "search_reason": {"type": "string"},
                "category": {"type": "string"},
                "anamnesis": {"type": "string"},
                "owner_user_id": OPTIONAL_ID,
                "handling_role": OPTIONAL_STRING,
                "patient_answered": {"type": "boolean"},
                "meeting_form": {"type": "string"},
                "chargeable": {"type": "boolean"},
                "submitted_at": TIME,
                "received_at": OPTIONAL_TIME,
                "started_at": OPTIONAL_TIME,
                "closed_at": OPTIONAL_TIME,
                "closed_reason": OPTIONAL_STRING,
                "reopen_until": OPTIONAL_TIME,
                "after_close": {"type": "boolean"},
                "referral": OPTIONAL_STRING,
                "suicide_risk": OPTIONAL_STRING,
                "wrong_patient": {"type": "boolean"},
                "version": {
                    "type": ["integer", "null"],
                    "description": "The version of the case's routine: send it as expected_version.",
                },
            },
            ("id", "kind", "state", "unit_id", "patient", "version"),
        ),
        "CasePatient": _object(
            {
                "id": ID,
                "name": {"type": "string"},
                "identity_number": {"type": "string"},
                "birth_date": {"type": "string", "format": "date"},
                "protected": {"type": "boolean"},
            },
            ("id", "name", "identity_number", "protected"),
        ),
        "CaseView": _object(
            {
                "case": _ref("Case"),
                "open_tasks": {"type": "array", "items": _ref("Task")},
                "messages": _ref("MessagePage"),
                "closing": _nullable_ref("Closing"),
                "consents": {"type": "array", "items": _ref("Consent")},
                "forms": {"type": "array", "items": _ref("PatientForm")},
                "images": {"type": "array", "items": _ref("Image")},
                "image_requests": {"type": "array", "items": _ref("ImageRequest")},
            },
            ("case", "open_tasks", "messages", "closing", "consents", "forms", "images", "image_requests"),
        ),
        "CaseSummary": _object(
            {
                "id": ID,
                "kind": _enum(CaseKind),
                "state": _enum(CaseState),
                "priority": {"type": ["integer", "null"]},
                "owner_user_id": OPTIONAL_ID,
                "handling_role": OPTIONAL_STRING,
                "version": {"type": ["integer", "null"]},
            },
            ("id", "kind", "state", "version"),
        ),
        "CaseResult": _object({"case": _ref("CaseSummary")}, ("case",)),
        "TaskResult": _object(
            {"task_id": ID, "case": _nullable_ref("CaseSummary"), "instance_version": {"type": "integer"}},
            ("task_id", "case", "instance_version"),
        ),
        "MessageResult": _object({"message": _ref("Message")}, ("message",)),
        "AttemptResult": _object(
            {"attempt": _object({"id": ID, "kind": _enum(AttemptKind), "at": TIME}, ("id", "kind", "at"))},
            ("attempt",),
        ),
        "ResidentCase": _object(
            {
                "id": ID,
                "kind": _enum(CaseKind),
                "state": _enum(CaseState),
                "unit": _object({"id": ID, "name": {"type": "string"}}, ("id", "name")),
                "patient": person,
                "search_reason": {"type": "string"},
                "submitted_at": TIME,
                "started_at": OPTIONAL_TIME,
                "closed_at": OPTIONAL_TIME,
                "reopen_until": OPTIONAL_TIME,
                "referral": OPTIONAL_STRING,
            },
            ("id", "kind", "state", "unit", "patient", "search_reason", "submitted_at"),
        ),
        "ResidentCaseList": _object(
            {
                "items": {"type": "array", "items": _ref("ResidentCase")},
                "next_cursor": {
                    "type": ["string", "null"],
                    "description": "Pass as cursor for the next (older) page; null: no more.",
                },
            },
            ("items", "next_cursor"),
        ),
        "ResidentMessage": _object(
            {"id": ID, "author": _enum(MessageAuthor), "body": {"type": "string"}, "sent_at": TIME},
            ("id", "author", "body", "sent_at"),
        ),
        "ResidentMessagePage": _object(
            {"items": {"type": "array", "items": _ref("ResidentMessage")}, "next_before_id": OPTIONAL_ID},
            ("items", "next_before_id"),
        ),
        "ResidentForm": _object(
            {
                "id": ID,
                "title": {"type": "string"},
                "definition": {"type": "object"},
                "sent_at": TIME,
                "answered_at": OPTIONAL_TIME,
            },
            ("id", "title", "definition"),
        ),
        "ResidentCaseView": _object(
            {
                "case": _ref("ResidentCase"),
                "messages": _ref("ResidentMessagePage"),
                "consents": {"type": "array", "items": _ref("Consent")},
                "forms": {"type": "array", "items": _ref("ResidentForm")},
                "image_requests": {"type": "array", "items": _ref("ImageRequest")},
                "images": {"type": "array", "items": _ref("Image")},
            },
            ("case", "messages", "consents", "forms", "image_requests", "images"),
        ),
        "ResidentCaseResult": _object({"case": _ref("ResidentCase")}, ("case",)),
        "ResidentMessageResult": _object({"message": _ref("ResidentMessage")}, ("message",)),
        "ImageResult": _object({"image": _ref("Image")}, ("image",)),
        "ImageRequestResult": _object({"image_request": _ref("ImageRequest")}, ("image_request",)),
        "FormPreview": _object(
            {
                "form_key": {"type": "string"},
                "definition": {
                    "type": "object",
                    "description": "Exactly what the patient will see (a JSON Schema with labels).",
                },
                "digest": {"type": "string"},
            },
            ("form_key", "definition", "digest"),
        ),
        "SentFormResult": _object({"form": _ref("PatientForm")}, ("form",)),
        "FormResult": _object({"form": _ref("ResidentForm")}, ("form",)),
        "ConsentResult": _object({"consent": _ref("Consent")}, ("consent",)),
    }


@functools.cache
def components() -> dict[str, dict]:
    """Every named schema of the document: requests, responses, and the routines' forms (Form_<name>)."""
    named = {**_requests(), **_responses()}
    for path in sorted(FORMS_DIR.glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        named[f"Form_{name}"] = form(name)
    return named


def component(name: str) -> dict:
    """A request schema, self-contained (request schemas hold no references), for validation."""
    return components()[name]
