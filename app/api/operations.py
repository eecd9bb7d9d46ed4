"""The API's one source of truth: each endpoint is registered with `@operation(...)`, which both adds
the Flask route and records what the OpenAPI document says about it (audience, body, query, answers).
The same declaration validates the request, so the document and the behaviour cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, request
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from app.api import schemas
from app.audit.service import Actor
from app.auth.current import current_actor
from app.errors import Forbidden, Unauthenticated, ValidationFailed
from app.instances.service import validate_form_data

bp = Blueprint("api", __name__, url_prefix="/api/v1")

STAFF, RESIDENT, ANY, PUBLIC = "staff", "resident", "any", "public"


class StaffOnly(Forbidden):
    code = "staff_only"


class ResidentOnly(Forbidden):
    code = "resident_only"


@dataclass(frozen=True)
class Param:
    """A query parameter or a header: its name, JSON Schema and meaning."""

    name: str
    schema: dict
    description: str = ""
    invalid: str = ""  # what a value outside the schema is told (default: "Felaktiga parametrar.")


@dataclass(frozen=True)
class Operation:
    endpoint: str
    method: str
    rule: str
    summary: str
    description: str
    tag: str
    audience: str
    status: int
    response: str | None  # a component schema name; None: no body (204)
    body: str | None = None  # a JSON request body's component schema
    multipart: str | None = None  # a multipart/form-data request body's component schema
    query: tuple[Param, ...] = ()
    problems: tuple[int, ...] = ()
    rules: tuple[str, ...] = ()  # guideline rules the endpoint's service enforces
    headers: tuple[Param, ...] = ()  # optional request headers the view reads
    response_headers: tuple[Param, ...] = ()  # headers the success answer may carry

    @property
    def path(self) -> str:
        """The OpenAPI path: `/cases/<int(...):case_id>` becomes `/api/v1/cases/{case_id}`."""
        return bp.url_prefix + re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:[^:<>]+:)?(\w+)>", self.rule)

    def problem_statuses(self) -> list[int]:
        statuses = set(self.problems)
        if self.audience != PUBLIC:
            statuses |= {401}
        if self.audience in (STAFF, RESIDENT):
            statuses |= {403}
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            statuses |= {400}  # a cookie-session request without its CSRF token, or malformed JSON
        if self.body or self.multipart or self.query or self.headers or self.method != "GET":
            statuses |= {422}  # invalid input, or a routine's rule refusing the action now
        if self.body:
            statuses |= {415}
        return sorted(statuses)


OPERATIONS: dict[str, Operation] = {}

# Path parameters are database ids: positive and within a 32-bit integer, so nothing past what the
# database can hold ever reaches a query.
ID = "int(min=1, max=2147483647)"


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    audience: str = STAFF,
    status: int = 200,
    response: str | None = None,
    body: str | None = None,
    multipart: str | None = None,
    query: tuple[Param, ...] = (),
    problems: tuple[int, ...] = (),
    rules: tuple[str, ...] = (),
    description: str = "",
    headers: tuple[Param, ...] = (),
    response_headers: tuple[Param, ...] = (),
) -> Callable:
    """Register an endpoint and its documentation. The view receives `actor` (unless public), `body`
    (validated JSON), `query` (validated parameters) and `headers` (the declared request headers
    sent, validated) as keyword arguments."""

    def register(view: Callable) -> Callable:
        op = Operation(
            view.__name__,
            method,
            rule,
            summary,
            description or (view.__doc__ or "").strip(),
            tag,
            audience,
            status,
            response,
            body,
            multipart,
            query,
            problems,
            rules,
            headers,
            response_headers,
        )

        @functools.wraps(view)
        def handle(**kwargs: Any):
            if audience != PUBLIC:
                kwargs["actor"] = principal(audience)
            if body is not None:
                kwargs["body"] = json_body(body)
            if query:
                kwargs["query"] = query_args(query)
            if headers:
                kwargs["headers"] = header_args(headers)
            return view(**kwargs)

        if view.__name__ in OPERATIONS:
            raise RuntimeError(f"two API operations named {view.__name__}")
        OPERATIONS[view.__name__] = op
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return handle

    return register


def principal(audience: str) -> Actor:
    """The caller, who must be of the operation's audience (staff, resident, or either)."""
    actor = current_actor(required=False)
    if actor is None:
        actor = _resident_cookie()
    if actor is None:
        raise Unauthenticated(str(_l("Logga in eller skicka en giltig token (Authorization: Bearer).")))
    g.api_actor = actor  # who a refusal is logged against, the wrong side's too
    if audience == STAFF and actor.user_id is None:
        raise StaffOnly(str(_l("Den här delen av API:t är för personal.")))
    if audience == RESIDENT and actor.patient_id is None:
        raise ResidentOnly(str(_l("Den här delen av API:t är för invånare.")))
    return actor


def _resident_cookie() -> Actor | None:
    # A resident signed in on the resident pages may call the resident endpoints with that session.
    try:
        from app.resident.auth import current_resident
    except ImportError:  # the resident sign-in comes with the resident pages
        return None
    return current_resident(required=False)


def json_body(schema_name: str) -> dict:
    """The request's JSON object, validated against its documented schema (defaults filled in)."""
    if request.content_length in (None, 0) and not request.get_data(cache=True):
        data: Any = {}
    elif not request.is_json:
        raise UnsupportedMediaType(str(_l("Skicka JSON (Content-Type: application/json).")))
    else:
        data = request.get_json()  # malformed JSON: 400
    if not isinstance(data, dict):
        raise ValidationFailed(str(_l("Innehållet ska vara ett JSON-objekt.")), {"": ["expected an object"]})
    return validate_form_data(schemas.component(schema_name), data)


def query_args(params: tuple[Param, ...]) -> dict:
    """Query parameters converted to their documented types and validated (defaults filled in)."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for param in params:
        raw = request.args.get(param.name)
        if raw is None:
            continue
        if param.schema.get("type") == "integer":
            try:
                values[param.name] = int(raw)
            except ValueError:
                errors[param.name] = ["expected an integer"]
        else:
            values[param.name] = raw
    if errors:
        raise ValidationFailed(str(_l("Felaktiga parametrar.")), errors)
    schema = {"type": "object", "properties": {p.name: p.schema for p in params}}
    return validate_form_data(schema, values)


def header_args(params: tuple[Param, ...]) -> dict[str, str]:
    """The declared request headers that were sent, each validated against its documented schema."""
    values: dict[str, str] = {}
    for param in params:
        raw = request.headers.get(param.name)
        if raw is None:
            continue
        if not Draft202012Validator(param.schema).is_valid(raw):
            message = str(param.invalid or _l("Felaktiga parametrar."))
            raise ValidationFailed(message, {param.name: [message]})
        values[param.name] = raw
    return values


def uploaded_file(name: str, *, max_bytes: int):
    """The multipart file field `name` (422 when missing); a request far past the limit is refused unread."""
    if request.content_length is not None and request.content_length > max_bytes + 64 * 1024:
        raise RequestEntityTooLarge(str(_l("Filen är för stor.")))
    file = request.files.get(name)
    if file is None:
        raise ValidationFailed(str(_l("Välj en fil.")), {name: ["required"]})
    return file


def multipart_id(name: str) -> int | None:
    """An optional id field of a multipart form."""
    raw = (request.form.get(name) or "").strip()
    if not raw or raw == "null":
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise ValidationFailed(str(_l("Felaktiga parametrar.")), {name: ["expected an id"]})
    return int(raw)
