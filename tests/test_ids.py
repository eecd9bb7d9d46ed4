"""Ids in page URLs are positive and fit the database's INTEGER columns (2**31 - 1): anything else is "no
such page" (404), never a crash (PostgreSQL refuses a larger value, SQLite overflows past 2**63 - 1),
whoever is signed in. An id in a query argument past that range counts as not given."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from app.ids import MAX_ID, IdConverter
from app.people.roles import Role
from tests import factories as f

HUGE = "99999999999999999999"
BAD_IDS = [HUGE, str(2**63 - 1), str(MAX_ID + 1), "0", "-1", "-99999999999999999999"]
CSRF = "ids-test-token"

# One or two of every page blueprint's id routes ({id} is the id under test); every such route of the
# app is also tried in test_every_page_route_with_an_id_takes_only_bounded_ids.
PAGE_ROUTES = [
    ("GET", "/cases/{id}"),
    ("GET", "/cases/{id}/messages?before=1"),
    ("GET", "/cases/{id}/images/1"),
    ("GET", "/cases/1/images/{id}"),
    ("POST", "/cases/{id}/chat"),
    ("GET", "/cases/tasks/{id}"),
    ("POST", "/cases/{id}/tasks/1"),
    ("POST", "/cases/undocumented/{id}"),
    ("POST", "/cases/{id}/drafts/{id}/documented"),
    ("POST", "/inbox/{id}/acknowledge"),
    ("POST", "/duty/cases/{id}/to-role-queue"),
    ("GET", "/phrases/{id}/edit"),
    ("GET", "/instances/{id}"),
    ("GET", "/instances/{id}/diagram.bpmn"),
    ("POST", "/instances/1/incidents/{id}/retry"),
    ("GET", "/control-tower/diagrams/{id}"),
    ("POST", "/control-tower/cases/{id}/to-role-queue"),
    ("GET", "/process-models/chat_case/versions/{id}/edit"),
    ("GET", "/process-models/chat_case/versions/{id}/diagram.bpmn"),
    ("POST", "/process-models/chat_case/migration/{id}"),
    ("POST", "/admin/users/{id}/roles"),
    ("POST", "/admin/memberships/{id}/remove"),
    ("GET", "/log-review/samples/{id}"),
    ("GET", "/resident/cases/{id}"),
    ("GET", "/resident/cases/{id}/messages?before=1"),
    ("POST", "/resident/cases/{id}/messages"),
    ("POST", "/resident/consents/{id}"),
    ("GET", "/resident/forms/{id}"),
    ("POST", "/resident/forms/{id}"),
]


@pytest.fixture
def people(app, session):
    """A member of staff with every role that opens an area with id routes, and a resident with a case."""
    unit = f.unit(session)
    user = f.user(session, unit, Role.NURSE, Role.HEAD_OF_UNIT, Role.PROCESS_OWNER, Role.LOCAL_SYSADMIN)
    f.signed_in(session, user, unit)
    patient = f.patient(session)
    case = f.case(session, unit, patient)
    session.commit()
    return {
        "staff": {"user_id": user.id, "unit_id": unit.id},
        "resident": {"resident_patient_id": patient.id},
        "case": case.id,
    }


def _client(app, signed_in: dict):
    client = app.test_client()
    with client.session_transaction() as browser:
        browser.update(signed_in, csrf_token=CSRF)
    return client


def _request(client, method: str, path: str):
    if method == "POST":
        return client.post(path, data={"csrf_token": CSRF})
    return client.get(path, headers={"HX-Request": "true"})  # htmx: the fragment routes read their argument


@pytest.mark.parametrize(("method", "route"), PAGE_ROUTES, ids=[f"{m} {r}" for m, r in PAGE_ROUTES])
@pytest.mark.parametrize("who", ["staff", "resident"])
def test_an_id_out_of_range_is_no_such_page_not_a_crash(app, people, method, route, who):
    client = _client(app, people[who])
    for bad in BAD_IDS:
        response = _request(client, method, route.replace("{id}", bad))
        assert response.status_code == 404, (bad, response.status_code)


def test_every_page_route_with_an_id_takes_only_bounded_ids(app, people):
    """Guards the mechanical part: no page rule (outside the JSON API, which bounds its own) has a plain
    integer part, and each answers 404 to an id out of range, for staff and residents alike."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/")
        and any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]
    assert len(rules) > 60
    plain = [
        rule.rule
        for rule in rules
        if not all(
            isinstance(c, IdConverter) for c in rule._converters.values() if isinstance(c, IntegerConverter)
        )
    ]
    assert plain == []
    crashes = []
    for rule in rules:
        path = rule.rule
        for name, converter in rule._converters.items():
            placeholder = f"<{'id' if isinstance(converter, IdConverter) else 'string'}:{name}>"
            path = path.replace(placeholder, "{id}" if isinstance(converter, IdConverter) else "chat_case")
        for method in sorted(rule.methods & {"GET", "POST"}):
            for who in ("staff", "resident"):
                client = _client(app, people[who])
                for bad in (HUGE, str(MAX_ID + 1), "0"):
                    status = _request(client, method, path.replace("{id}", bad)).status_code
                    if status != 404:
                        crashes.append((method, path, who, bad, status))
    assert crashes == []


def test_an_id_query_argument_out_of_range_is_ignored_on_the_residents_pages(app, people):
    case_id = people["case"]
    resident = _client(app, people["resident"])
    for path in (
        f"/resident/cases/{case_id}?before={HUGE}",
        f"/resident/cases/{case_id}/messages?before={HUGE}",
        f"/resident/cases/{case_id}/messages/new?after={HUGE}",
        f"/resident/cases/{case_id}?before={MAX_ID + 1}",
        f"/resident/cases/{case_id}/messages/new?after={MAX_ID + 1}",
    ):
        response = resident.get(path, headers={"HX-Request": "true"})
        assert response.status_code in (200, 204, 302), (path, response.status_code)
    polled = resident.get(f"/resident/cases/{case_id}/messages/new?after=0", headers={"HX-Request": "true"})
    assert polled.status_code in (200, 204)  # "after nothing yet": a chat with no message still polls


def test_an_id_query_argument_out_of_range_is_ignored_on_the_case_page(app, people):
    case_id = people["case"]
    staff = _client(app, people["staff"])
    for path in (f"/cases/{case_id}/messages?before={HUGE}", f"/cases/{case_id}?before={HUGE}"):
        response = staff.get(path, headers={"HX-Request": "true"})
        assert response.status_code == 200, (path, response.status_code)


def test_the_largest_id_is_a_route_and_an_answer_not_a_crash(app, people):
    """2**31 - 1 passes the route and reaches the database, which answers "not found" on both engines."""
    staff = _client(app, people["staff"])
    assert staff.get(f"/cases/{MAX_ID}").status_code == 404
    assert staff.get(f"/instances/{MAX_ID}").status_code == 404
    resident = _client(app, people["resident"])
    assert resident.get(f"/resident/cases/{MAX_ID}").status_code == 404
    assert resident.get(f"/resident/forms/{MAX_ID}").status_code == 404


def test_an_id_or_version_in_a_posted_form_out_of_range_is_refused_not_a_crash(app, people):
    """Form fields that name a row (a colleague) or the page's version: out of range,
    the id counts as not given and the version as one no routine has (a conflict), never a 500."""
    case_id = people["case"]
    staff = _client(app, people["staff"])
    for data in (
        {"colleague_id": HUGE},  # invite a colleague
        {"expected_version": HUGE, "body": "Hej"},  # a chat message from a page of some version
    ):
        path = f"/cases/{case_id}/invite" if "colleague_id" in data else f"/cases/{case_id}/chat"
        response = staff.post(path, data={"csrf_token": CSRF, **data})
        assert response.status_code < 500, (path, response.status_code)
