"""Submitting a case through the API with an Idempotency-Key: a retried request makes one case, one
routine and one set of notifications; a key is the resident's own; a malformed or reused key is refused."""

from __future__ import annotations

import threading
from datetime import UTC

import pytest
from sqlalchemy import func, select

from app.api import submission
from app.api.openapi import document
from app.audit.models import AuditEvent
from app.cases.models import Case
from app.instances.models import HumanTask, ProcessInstance
from app.notifications.models import Notification
from tests.api.conftest import documented

# The red-flag questions answered explicitly: the triage has no default answer to them.
THROAT = {
    "reason": "halsont",
    "description": "Ont i halsen sedan tre dagar",
    "days": 3,
    "breathing": False,
    "self_harm": False,
    "high_fever": False,
}
KEY = "3f2b8c1e-6a4d-4e0f-9b7a-1c2d3e4f5a6b"
INVALID_KEY = "Idempotency-Key ska vara 1–64 synliga ASCII-tecken (inga mellanslag)."


@pytest.fixture(autouse=True)
def utc_clock(clock):
    """The product clock answers in UTC (the frozen test clock otherwise answers in Stockholm time), so
    a case read back from the database serializes exactly as the one just made."""
    clock.set(clock.now().astimezone(UTC))


def _submit(api, world, who: str = "adult", *, key: str | None = KEY, **body):
    payload = {"unit_id": world.units["og"].id, "answers": THROAT, **body}
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.post("/resident/cases", who, json=payload, headers=headers)


def _count(world, model, *where) -> int:
    value = world.session.scalar(select(func.count()).select_from(model).where(*where))
    world.session.commit()
    return value


def _outbox(world) -> list[tuple[str, str, int | None, int | None]]:
    rows = world.session.scalars(select(Notification).order_by(Notification.id)).all()
    world.session.commit()
    return [(str(n.purpose), str(n.channel), n.case_id, n.user_id or n.patient_id) for n in rows]


def test_a_retried_submission_with_the_same_key_makes_one_case_one_routine_and_one_set_of_sms(api, world):
    first = _submit(api, world)
    case = documented(first, "/resident/cases", "post")["case"]
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    outbox = _outbox(world)
    assert outbox and all(
        purpose == "staff_new_case" and channel == "sms" for purpose, channel, _, _ in outbox
    )
    tasks = _count(world, HumanTask, HumanTask.case_id == case["id"])
    assert tasks == 1

    for _ in range(2):  # the client's answer was lost: it sends the very same request again, twice
        again = _submit(api, world)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert documented(again, "/resident/cases", "post") == {"case": case}

    assert _count(world, Case) == 1
    assert _count(world, ProcessInstance) == 1
    assert _count(world, HumanTask) == tasks
    assert _outbox(world) == outbox  # no second SMS to the staff
    assert _count(world, AuditEvent, AuditEvent.action == "case:submitted") == 1
    replays = [entry for entry in api.access_log(case["id"]) if entry[0] == "api:resident:case:replayed"]
    assert replays == [("api:resident:case:replayed", None, [world.patients["adult"].id])] * 2


def test_the_same_request_with_its_defaults_spelled_out_is_the_same_request(api, world):
    first = _submit(api, world).json["case"]
    spelled_out = _submit(
        api,
        world,
        kind="sok_vard",
        patient_id=world.patients["adult"].id,
        search_reason="",
        message="",
        send_anyway=False,
        claims_protected=False,
    )
    assert spelled_out.status_code == 201 and spelled_out.headers["Idempotent-Replayed"] == "true"
    assert spelled_out.json["case"]["id"] == first["id"] and _count(world, Case) == 1


def test_the_same_key_with_another_request_is_refused_and_makes_nothing(api, world):
    first = _submit(api, world).json["case"]
    other = _submit(api, world, answers={**THROAT, "days": 4})
    problem = documented(other, "/resident/cases", "post")
    assert (other.status_code, problem["code"]) == (422, "idempotency_key_reused")
    assert problem["errors"] == {"Idempotency-Key": ["already used with a different request"]}
    assert "case" not in problem and str(first["id"]) not in other.get_data(as_text=True)
    admin = _submit(api, world, kind="admin", search_reason="Intyg", message="Jag behöver ett intyg.")
    assert admin.status_code == 422 and admin.json["code"] == "idempotency_key_reused"
    assert _count(world, Case) == 1 and _count(world, ProcessInstance) == 1
    # The first request, sent again, still gets its case.
    assert _submit(api, world).json["case"]["id"] == first["id"]


def test_two_residents_with_the_same_key_get_two_cases_and_neither_sees_the_others(api, world):
    mine = _submit(api, world, "adult")
    theirs = _submit(api, world, "other")
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers  # a fresh submission, not someone else's case
    mine, theirs = mine.json["case"], theirs.json["case"]
    assert mine["id"] != theirs["id"]
    assert (mine["patient"]["name"], theirs["patient"]["name"]) == ("Anna Andersson", "Fredrik Fors")
    assert _count(world, Case) == 2 and _count(world, ProcessInstance) == 2

    # Each retry answers with the sender's own case, whichever came first.
    assert _submit(api, world, "other").json["case"]["id"] == theirs["id"]
    assert _submit(api, world, "adult").json["case"]["id"] == mine["id"]
    # A different request under the shared key is refused on the sender's own case, not the other's.
    refused = _submit(api, world, "other", answers={**THROAT, "days": 9})
    assert refused.status_code == 422 and str(mine["id"]) not in refused.get_data(as_text=True)
    assert [c["id"] for c in api.get("/resident/cases", "adult").json["items"]] == [mine["id"]]
    assert [c["id"] for c in api.get("/resident/cases", "other").json["items"]] == [theirs["id"]]
    assert api.get(f"/resident/cases/{mine['id']}", "other").status_code == 403
    assert _count(world, Case) == 2


def test_a_guardians_key_is_theirs_not_the_childs(api, world):
    """Namespaced by who sends it: the child's own request under the guardian's key is another case."""
    child = world.patients["child"].id
    by_guardian = _submit(api, world, "guardian", patient_id=child).json["case"]
    by_child = _submit(api, world, "child", patient_id=child)
    assert by_child.status_code == 201 and "Idempotent-Replayed" not in by_child.headers
    assert by_child.json["case"]["id"] != by_guardian["id"] and _count(world, Case) == 2


def test_an_api_key_never_meets_a_key_of_the_resident_pages(api, world):
    """The stored key is "api:" and a hash of (resident, key): not the client's key, and never one the
    pages make (theirs have no ":"), so the same text on the page form is another submission."""
    page_key = "p" * 32
    page_case = world.submit("adult", submission_key=page_key)
    sent = _submit(api, world, key=page_key)
    assert sent.status_code == 201 and sent.json["case"]["id"] != page_case.id
    stored = world.session.get(Case, sent.json["case"]["id"]).submission_key
    assert stored == submission.submission_key(
        resident_id=world.patients["adult"].id, idempotency_key=page_key
    )
    assert stored.startswith("api:") and len(stored) <= 64 and page_key not in stored
    assert stored != submission.submission_key(
        resident_id=world.patients["other"].id, idempotency_key=page_key
    )
    assert _count(world, Case) == 2


@pytest.mark.parametrize(
    "key",
    ["", "has space", "x" * 65, "nyckel-å", "tab\tinside"],
    ids=["empty", "space", "65-chars", "non-ascii", "tab"],
)
def test_a_malformed_key_is_refused_with_what_a_key_must_be(api, world, key):
    refused = _submit(api, world, key=key)
    problem = documented(refused, "/resident/cases", "post")
    assert (refused.status_code, problem["code"], problem["detail"]) == (
        422,
        "validation_failed",
        INVALID_KEY,
    )
    assert problem["errors"] == {"Idempotency-Key": [INVALID_KEY]}
    assert _count(world, Case) == 0


@pytest.mark.parametrize("key", ["a", "!~" * 32, "0" * 64], ids=["one", "punctuation", "64-chars"])
def test_any_key_of_1_to_64_visible_ascii_characters_is_accepted(api, world, key):
    sent = _submit(api, world, key=key)
    assert (
        sent.status_code == 201 and _submit(api, world, key=key).json["case"]["id"] == sent.json["case"]["id"]
    )
    assert _count(world, Case) == 1


def test_without_the_header_every_request_submits_a_case(api, world):
    first, second = _submit(api, world, key=None), _submit(api, world, key=None)
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first.headers and "Idempotent-Replayed" not in second.headers
    assert first.json["case"]["id"] != second.json["case"]["id"]
    assert _count(world, Case) == 2 and _count(world, ProcessInstance) == 2
    assert world.session.scalars(select(Case.submission_key)).all() == [None, None]
    world.session.commit()


def test_a_refused_request_makes_no_case_so_sending_it_again_runs_it_again(api, world):
    """Only a made case is remembered: a refusal (here: a unit not in the service, OG-10.3) is not."""
    unit = world.units["og"]
    unit.activated = False
    world.session.commit()
    refused = _submit(api, world)
    assert (refused.status_code, refused.json["rule"]) == (422, "OG-10.3")
    unit.activated = True
    world.session.commit()
    sent = _submit(api, world)
    assert sent.status_code == 201 and "Idempotent-Replayed" not in sent.headers
    assert _count(world, Case) == 1


def test_the_document_describes_the_header_and_the_replay(client):
    post = document()["paths"]["/api/v1/resident/cases"]["post"]
    [header] = [p for p in post["parameters"] if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("Idempotency-Key", False)
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 64)
    assert "Idempotent-Replayed" in post["responses"]["201"]["headers"]
    assert "idempotency_key_reused" in post["description"] and "422" in post["responses"]


@pytest.mark.postgres
def test_two_requests_with_one_key_at_the_same_moment_make_one_case(pg_url, app, api, world, monkeypatch):
    """PostgreSQL: both pass the lookup before either commits; the unique key stops the second insert,
    and that request answers with the first one's case instead of failing."""
    token = api.token("adult")
    world.session.commit()
    barrier = threading.Barrier(2)
    real_submit = submission.submit_case

    def submit_together(*args, **kwargs):
        barrier.wait(timeout=10)
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(submission, "submit_case", submit_together)
    answers: list = []

    def send():
        response = app.test_client().post(
            "/api/v1/resident/cases",
            json={"unit_id": world.units["og"].id, "answers": THROAT},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": KEY},
        )
        answers.append(
            (response.status_code, response.json["case"]["id"], "Idempotent-Replayed" in response.headers)
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2 and {status for status, _, _ in answers} == {201}
    assert len({case_id for _, case_id, _ in answers}) == 1
    assert sorted(replayed for _, _, replayed in answers) == [False, True]
    assert _count(world, Case) == 1 and _count(world, ProcessInstance) == 1
