"""The OpenAPI 3.1 document, generated from the registered operations (app.api.operations) and the
schemas (app.api.schemas): there is no hand-edited copy to drift from the code."""

from __future__ import annotations

from http import HTTPStatus

from flask import jsonify

from app.api import schemas
from app.api.operations import OPERATIONS, PUBLIC, Operation, operation

DESCRIPTION = """The JSON API of Vårdflöde: the same services, permission checks, validation and access
logging as the pages.

**Authentication.** `Authorization: Bearer <token>`. Staff create their own tokens (POST /api/v1/tokens
while signed in, or `flask api token create --user USERNAME --unit UNIT`); a service account's token
acts for one unit with the roles named on it; a resident token (`--patient`) reaches the resident
endpoints. Tokens expire, can be revoked, and are checked against the database on every request
(unknown, revoked or expired: 401 `invalid_token`). The pages' session cookie works too; then every
POST and DELETE needs the session's CSRF token in `X-CSRF-Token`.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable `type`
(`urn:vardflode:problem:<code>`) and `code`. A routine's rule refusing an action is 422
`guard_refused` with the guideline `rule` and, when it is about time, the `earliest` allowed moment;
invalid input is 422 `validation_failed` with field `errors`; a stale `expected_version` is 409
`conflict`. Reading another unit's case is 403, and the attempt is in the access log.

**Retries.** Submitting a case (POST /api/v1/resident/cases) takes an `Idempotency-Key` header (1–64
visible ASCII characters, new for each case, e.g. a UUID). Sent again with the same key and body, after
a timeout for instance, it answers 201 with the case the first request made, marked
`Idempotent-Replayed: true`, and submits nothing a second time; the same key with another body is 422
`idempotency_key_reused`. A key is the resident's own: another resident's equal key is another case.

**Forms.** Where a task's data goes, the fields come from the routine's own forms (components
`Form_*`, the files of forms/), which the engine validates every submission against.
"""

TAGS = [
    {
        "name": "staff",
        "description": "The patient list, cases and the actions on them (clinicians and administrative staff).",
    },
    {"name": "resident", "description": "Residents: a patient, or a guardian for their child under 13."},
    {"name": "account", "description": "Who you are and your bearer tokens."},
    {"name": "meta", "description": "This document."},
]
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/tokens or `flask api token create`.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The pages' session; POST and DELETE need the X-CSRF-Token header.",
    },
}
AUTHENTICATED = [{"bearerAuth": []}, {"sessionCookie": []}]
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": 'Bearer realm="vardflode" (with error="invalid_token" for a refused token).',
        "schema": {"type": "string"},
    }
}


def document() -> dict:
    """The whole OpenAPI document."""
    paths: dict[str, dict] = {}
    for op in sorted(OPERATIONS.values(), key=lambda o: (o.path, o.method)):
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vårdflöde API", "version": "1.0.0", "description": DESCRIPTION},
        "tags": TAGS,
        "paths": paths,
        "components": {"schemas": schemas.components(), "securitySchemes": SECURITY_SCHEMES},
    }


def _operation(op: Operation) -> dict:
    description = op.description
    if op.rules:
        description = f"{description}\n\nGuideline rules: {', '.join(op.rules)}.".strip()
    result = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "description": description,
        "tags": [op.tag],
        "security": [] if op.audience == PUBLIC else AUTHENTICATED,
        "responses": _responses(op),
    }
    if op.audience != PUBLIC:
        result["x-audience"] = op.audience
    if op.rules:
        result["x-guideline-rules"] = list(op.rules)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schemas.ID} for name in op.path_params
    ]
    parameters += [
        {"name": p.name, "in": "query", "required": False, "description": p.description, "schema": p.schema}
        for p in op.query
    ]
    parameters += [
        {"name": p.name, "in": "header", "required": False, "description": p.description, "schema": p.schema}
        for p in op.headers
    ]
    if parameters:
        result["parameters"] = parameters
    if op.body:
        required = bool(schemas.component(op.body).get("required"))
        result["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    if op.multipart:
        result["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": _ref(op.multipart),
                    "encoding": {"file": {"contentType": "image/jpeg, image/png, image/heic, image/webp"}},
                }
            },
        }
    return result


def _responses(op: Operation) -> dict:
    responses: dict[str, dict] = {}
    if op.response is None:
        responses[str(op.status)] = {"description": HTTPStatus(op.status).phrase}
    else:
        responses[str(op.status)] = {
            "description": HTTPStatus(op.status).phrase,
            "content": {"application/json": {"schema": _ref(op.response)}},
        }
    if op.response_headers:
        responses[str(op.status)]["headers"] = {
            p.name: {"description": p.description, "schema": p.schema} for p in op.response_headers
        }
    for status in op.problem_statuses():
        entry = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
        if status == 401:
            entry["headers"] = WWW_AUTHENTICATE
        responses[str(status)] = entry
    return responses


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


@operation(
    "GET",
    "/openapi.json",
    summary="This OpenAPI document",
    tag="meta",
    audience=PUBLIC,
    response="OpenApiDocument",
)
def openapi_document():
    return jsonify(document())
