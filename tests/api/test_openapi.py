"""The OpenAPI document: valid OpenAPI 3.1, generated from the code so it describes exactly the routes
that exist, reusing the routines' forms, and honoured by the API under generated input (Schemathesis
through the WSGI app, no network)."""

from __future__ import annotations

import json
import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.openapi import document
from app.cases import chat, handling
from app.config import PROJECT_ROOT

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_document_is_valid_openapi_3_1_and_every_schema_valid_json_schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.json
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises, naming the broken keyword


def test_every_api_route_is_documented_and_every_documented_operation_exists(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and not rule.endpoint.endswith(".static"):
            path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert routes == documented
    assert len(routes) >= 25


def test_every_operation_documents_its_security_and_problem_json_errors():
    doc = document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            public = path == "/api/v1/openapi.json"
            assert (op["security"] == []) == public, (method, path)
            statuses = {int(s) for s in op["responses"]}
            if not public:
                assert 401 in statuses and "WWW-Authenticate" in op["responses"]["401"]["headers"], (
                    method,
                    path,
                )
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    assert response["content"] == {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }


def test_task_data_is_described_by_the_routines_own_forms():
    """Where a task's data goes, the document's fields are those of forms/ (what the engine validates)."""
    schemas = document()["components"]["schemas"]
    handling = json.loads((PROJECT_ROOT / "forms" / "handling.schema.json").read_text(encoding="utf-8"))
    receive = json.loads((PROJECT_ROOT / "forms" / "receive.schema.json").read_text(encoding="utf-8"))
    assert schemas["CloseBody"]["properties"]["confirmed"] == handling["properties"]["confirmed"]
    assert schemas["HandoverBody"]["properties"]["role"] == handling["properties"]["target_role"]
    assert schemas["ReceiveBody"]["properties"]["new_priority"] == receive["properties"]["new_priority"]
    assert schemas["Form_handling"] == {k: v for k, v in handling.items() if k != "$schema"}
    forms = sorted(
        p.name.removesuffix(".schema.json") for p in (PROJECT_ROOT / "forms").glob("*.schema.json")
    )
    assert sorted(n.removeprefix("Form_") for n in schemas if n.startswith("Form_")) == forms


def test_generated_requests_never_cause_a_server_error_and_every_answer_is_as_documented(app, api, world):
    """Schemathesis against the document through the WSGI app: valid input gets an answer whose status,
    media type, headers and body are as documented; invalid input (negative mode) never a 5xx. Staff
    operations run as a nurse, resident ones as a resident, over a world with cases in several states, a
    pending consent and an unanswered form; path ids are drawn from 1–12 so that they reach those rows.
    Examples are capped (5 valid and 3 invalid per operation, derandomized) to stay well under 30 s."""
    handed_over = world.submit("adult")
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=handed_over.id)
    handling.start(world.session, world.engine, actor=nurse, case_id=handed_over.id, first_message="Hej!")
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=handed_over.id, role="Läkare")
    with_form = world.submit("adult", reason="utslag")
    chat.send_form(world.session, actor=nurse, case_id=with_form.id, form_key="symptom_diary")
    world.submit("other")
    world.session.commit()

    doc = document()
    for item in doc["paths"].values():
        for op in item.values():
            for parameter in op.get("parameters", []):
                if parameter["in"] == "path":
                    parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 12}
    schema = schemathesis.openapi.from_dict(doc)
    schema.app, schema.location = app, "/api/v1/openapi.json"  # calls go through the WSGI app
    who = {"staff": "nurse", "resident": "adult", "any": "nurse"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        caller = who.get(operation.definition.raw.get("x-audience"))
        _fuzz(operation.as_strategy(GenerationMode.POSITIVE), api, world, caller, CHECKS, examples=5)
        _fuzz(
            operation.as_strategy(GenerationMode.NEGATIVE),
            api,
            world,
            caller,
            [not_a_server_error],
            examples=3,
        )


def _fuzz(strategy, api, world, caller: str | None, checks, *, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        headers = {}
        if caller is not None:
            headers["Authorization"] = f"Bearer {api.token(caller)}"
        world.session.commit()
        response = case.call(headers=headers)
        if case.method.upper() == "DELETE":
            api.tokens.pop(caller, None)  # it may have revoked the caller's own token: a fresh one next time
        case.validate_response(response, checks=checks, headers=headers)

    check()
