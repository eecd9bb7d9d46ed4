"""Bearer tokens: stored hashed, expiring, revocable, checked on every use; issued to oneself (also from
a page's cookie session, with CSRF), or by an administrator on the command line."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.api.models import ApiToken
from app.audit.models import AuditEvent
from app.people.models import User
from tests.api.conftest import documented


def _token_row(world, raw: str) -> ApiToken:
    return world.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(raw.encode()).hexdigest())
    )


def test_a_request_without_credentials_gets_401_problem_json_with_a_bearer_challenge(api):
    response = api.get("/tasks")
    problem = documented(response, "/tasks")
    assert (
        response.status_code == 401
        and problem["code"] == "unauthenticated"
        and problem["type"] == "urn:vardflode:problem:unauthenticated"
    )
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="vardflode"'
    assert api.get("/openapi.json").status_code == 200  # the document itself is public


def test_unknown_revoked_and_expired_tokens_are_refused_on_every_use(api, world, clock):
    unknown = api.get("/me", token="vf_not-a-token")
    assert (unknown.status_code, unknown.json["code"], unknown.json["reason"]) == (
        401,
        "invalid_token",
        "unknown",
    )
    assert unknown.headers["WWW-Authenticate"] == 'Bearer realm="vardflode", error="invalid_token"'
    raw = api.token("nurse")
    me = documented(api.get("/me", "nurse"), "/me")
    assert (me["kind"], me["name"], me["unit"]["name"], me["roles"]) == (
        "user",
        "Nurse OG",
        "Vårdcentralen Ekdalen",
        ["Sjuksköterska"],
    )
    revoked = api.call("DELETE", f"/tokens/{me['token_id']}", "nurse")
    assert documented(revoked, "/tokens/{token_id}", "delete") == {} and revoked.status_code == 204
    refused = api.get("/tasks", token=raw)
    assert (refused.status_code, refused.json["reason"]) == (401, "revoked")
    assert "api_token:revoked" in {e.action for e in world.session.scalars(select(AuditEvent))}

    api.tokens.clear()
    fresh = api.token("nurse")
    assert api.get("/tasks", token=fresh).status_code == 200
    clock.advance(days=30)
    expired = api.get("/tasks", token=fresh)
    assert (expired.status_code, expired.json["reason"]) == (401, "expired")


def test_tokens_are_stored_only_as_a_hash_with_their_expiry_and_last_use(api, world, clock):
    created = api.post("/tokens", "doctor", json={"name": "Mitt journalskript", "days": 7})
    body = documented(created, "/tokens", "post")
    raw = body["token"]
    assert created.status_code == 201 and raw.startswith("vf_") and len(raw) > 40
    row = _token_row(world, raw)
    assert row is not None and row.hint == raw[:10] and body["details"]["hint"] == row.hint
    stored = [str(getattr(row, column.key)) for column in ApiToken.__table__.columns]
    assert not any(raw in value for value in stored)  # never the token itself
    assert row.expires_at == clock.now() + timedelta(days=7) and row.last_used_at is None
    assert row.user_id == world.staff["doctor"][0].id and row.kind.value == "user"

    api.get("/me", token=raw)
    world.session.refresh(row)
    assert row.last_used_at == clock.now()
    first_use = row.last_used_at
    clock.advance(seconds=30)
    api.get("/me", token=raw)
    world.session.refresh(row)
    assert row.last_used_at == first_use  # marked at most once a minute
    clock.advance(minutes=1)
    api.get("/me", token=raw)
    world.session.refresh(row)
    assert row.last_used_at == clock.now()

    listing = documented(api.get("/tokens", token=raw), "/tokens")["items"]
    assert [t["name"] for t in listing] == ["Mitt journalskript", "test doctor"] and all(
        t["active"] for t in listing
    )
    assert raw not in str(listing)


def test_a_token_minted_with_a_token_never_outlives_it(api, world, clock):
    short = documented(api.post("/tokens", "doctor", json={"name": "kort", "days": 2}), "/tokens", "post")[
        "token"
    ]
    longer = api.post("/tokens", token=short, json={"name": "försök att förlänga", "days": 365})
    minted = _token_row(world, documented(longer, "/tokens", "post")["token"])
    assert longer.status_code == 201 and minted.expires_at == _token_row(world, short).expires_at
    assert minted.expires_at == clock.now() + timedelta(days=2)


def test_a_signed_in_user_creates_a_token_from_the_pages_session_which_needs_the_csrf_token(
    api, client, world
):
    user, unit = world.staff["nurse"]
    login = client.get("/login")
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', login.data).group(1).decode()
    assert (
        client.post("/login", data={"user_id": user.id, "unit_id": unit.id, "csrf_token": csrf}).status_code
        == 302
    )
    csrf = (
        re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/").data).group(1).decode()
    )  # the signed-in session's
    me = documented(api.get("/me"), "/me")
    assert (me["kind"], me["user_id"], me["token_id"]) == ("session", user.id, None)
    without = api.post("/tokens", json={"name": "Skript"})
    assert without.status_code == 400 and without.mimetype == "application/problem+json"
    assert world.session.scalar(select(ApiToken.id)) is None
    created = api.post("/tokens", json={"name": "Skript"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    client.delete_cookie("session")
    assert api.get("/me").status_code == 401
    assert documented(api.get("/me", token=created.json["token"]), "/me")["kind"] == "user"


def test_a_bearer_request_is_judged_by_its_token_alone_never_by_a_cookie_beside_it(api, client, world):
    """Bearer requests skip the CSRF check, so a cookie session must not ride along on a bad token."""
    user, unit = world.staff["nurse"]
    with client.session_transaction() as browser:
        browser["user_id"], browser["unit_id"] = user.id, unit.id
    case = world.submit("adult")
    assert api.get("/tasks").status_code == 200  # the cookie session alone works
    response = api.post(f"/cases/{case.id}/receive", token="vf_forged", json={})
    assert response.status_code == 401 and response.json["reason"] == "unknown"
    assert world.session.get(type(case), case.id).state.value == "new"


def test_nobody_revokes_or_sees_someone_elses_token(api, world):
    doctors = api.token("doctor")
    doctor_token = _token_row(world, doctors)
    refused = api.call("DELETE", f"/tokens/{doctor_token.id}", "nurse")
    assert refused.status_code == 404 and refused.json["code"] == "not_found"
    assert api.get("/me", token=doctors).status_code == 200
    assert [t["id"] for t in api.get("/tokens", "nurse").json["items"]] == [
        _token_row(world, api.token("nurse")).id
    ]


def test_a_token_acts_only_while_its_user_is_active_and_holds_a_role_at_the_unit(api, world):
    raw = api.token("nurse")
    user = world.session.get(User, world.staff["nurse"][0].id)
    user.active = False
    world.session.commit()
    refused = api.get("/tasks", token=raw)
    assert (refused.status_code, refused.json["reason"]) == (401, "inactive")


def test_a_service_account_acts_for_its_unit_with_the_named_roles_only(api, world):
    """Created on the command line (`flask api service-account create`, `flask api token create --role`)."""
    unit_name, unit_id = world.units["og"].name, world.units["og"].id
    made = api.cli(
        "service-account",
        "create",
        "svc.labb",
        "--unit",
        unit_name,
        "--role",
        "Sjuksköterska",
        "--role",
        "Läkare",
        "--name",
        "Labbet",
    )
    assert made.exit_code == 0, made.output
    too_much = api.cli("token", "create", "--user", "svc.labb", "--unit", str(unit_id), "--role", "Psykolog")
    assert too_much.exit_code != 0 and "fler roller" in too_much.output
    issued = api.cli(
        "token",
        "create",
        "--user",
        "svc.labb",
        "--unit",
        str(unit_id),
        "--role",
        "Sjuksköterska",
        "--name",
        "Labbintegration",
    )
    assert issued.exit_code == 0, issued.output
    raw = issued.stdout.strip().splitlines()[-1]
    me = api.get("/me", token=raw).json
    assert (me["kind"], me["name"], me["roles"], me["unit"]["id"]) == (
        "service",
        "Labbet (tjänstekonto)",
        ["Sjuksköterska"],
        unit_id,
    )
    case = world.submit("adult")
    assert [t["case_id"] for t in api.get("/tasks", token=raw).json["items"]] == [case.id]
    assert api.post(f"/cases/{case.id}/receive", token=raw, json={}).status_code == 200
    own = api.post("/tokens", token=raw, json={"name": "mer"})
    assert (own.status_code, own.json["code"]) == (
        403,
        "forbidden",
    )  # a service account gets tokens from an administrator

    listed = api.cli("token", "list", "--user", "svc.labb")
    assert "service" in listed.output and "Labbintegration" in listed.output and raw not in listed.output
    token_id = listed.output.split("\t")[0]
    revoked = api.cli("token", "revoke", token_id)
    assert revoked.exit_code == 0
    assert api.get("/me", token=raw).json["reason"] == "revoked"


def test_the_cli_issues_user_and_resident_tokens(api, world):
    username, unit_name, adult_id = (
        world.staff["doctor"][0].username,
        world.units["og"].name,
        world.patients["adult"].id,
    )
    staff = api.cli("token", "create", "--user", username, "--unit", unit_name, "--days", "2")
    assert staff.exit_code == 0, staff.output
    assert api.get("/me", token=staff.stdout.strip()).json["roles"] == ["Läkare"]
    resident = api.cli("token", "create", "--patient", "19920301-2381")
    assert resident.exit_code == 0, resident.output
    me = api.get("/me", token=resident.stdout.strip()).json
    assert (me["kind"], me["patient_id"]) == ("resident", adult_id)
    missing_unit = api.cli("token", "create", "--user", username)
    assert missing_unit.exit_code == 2 and "--user needs --unit" in missing_unit.output
    unknown = api.cli("token", "create", "--patient", "000000000000")
    assert unknown.exit_code == 1 and "no patient" in unknown.output


@pytest.mark.postgres
def test_a_token_revoked_twice_at_once_is_revoked_and_audited_once(pg_url, app, api, world, monkeypatch):
    """Two revocations of one token at the same moment (two tabs, the CLI and a page): the second
    waits for the first's row lock, finds the token revoked and records nothing."""
    from app.api import tokens
    from tests.races import Meeting, race

    token = _token_row(world, api.token("nurse"))
    world.session.commit()
    database = app.extensions["database"]
    meeting, real_record = Meeting(database), tokens.record

    def record_after_meeting(*args, **kwargs):
        meeting.wait()  # past "not revoked yet"
        return real_record(*args, **kwargs)

    monkeypatch.setattr(tokens, "record", record_after_meeting)
    nurse = world.actor("nurse")

    def revoke(session):
        tokens.revoke_own_token(session, actor=nurse, token_id=token.id)

    assert race(database, meeting, revoke, revoke) == ["ok", "ok"]
    world.session.expire_all()
    audits = world.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token:revoked")).all()
    assert [a.subject_id for a in audits] == [str(token.id)]
