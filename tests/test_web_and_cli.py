"""The web shell and the command line: development login, acting unit, CSRF, dev clock, deploy CLI."""

from __future__ import annotations

import re
import shutil

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.people.models import Membership, Shift
from app.people.roles import Role
from app.process_models.models import ProcessVersion
from tests import factories as f
from tests.conftest import FIXTURES, ROOT, make_app


def _csrf(html: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


def test_the_development_login_lists_demo_users_and_signs_in_at_the_chosen_unit(app, session, client):
    unit = f.unit(session, "Vårdcentralen Ekdalen")
    other = f.unit(session, "Rehab Linnea")
    frida = f.user(session, unit, Role.PHYSIOTHERAPIST, given="Frida", family="Lund")
    session.add(
        Membership(user_id=frida.id, unit_id=other.id, role=Role.PHYSIOTHERAPIST, valid_from=frida.created_at)
    )
    session.commit()

    page = client.get("/login")
    assert page.status_code == 200 and b"Frida Lund" in page.data
    choose = client.post("/login", data={"user_id": frida.id, "csrf_token": _csrf(page.data)})
    assert b"V\xc3\xa4lj enhet" in choose.data  # "Välj enhet": she works at two units
    done = client.post(
        "/login", data={"user_id": frida.id, "unit_id": other.id, "csrf_token": _csrf(page.data)}
    )
    assert done.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and b"Patientliggaren" in home.data
    session.expire_all()
    assert session.scalar(select(Shift.unit_id).where(Shift.user_id == frida.id)) == other.id
    assert "session:login" in {e.action for e in session.scalars(select(AuditEvent))}


def test_a_post_without_the_csrf_token_is_refused(app, session, client):
    unit = f.unit(session)
    user = f.user(session, unit, Role.NURSE)
    session.commit()
    assert client.post("/login", data={"user_id": user.id}).status_code == 400


def test_an_unknown_user_gets_a_clear_error_and_pages_need_a_signed_in_user(app, client):
    with client.session_transaction() as browser:
        browser["csrf_token"] = "token"
    response = client.post("/login", data={"user_id": 999, "csrf_token": "token"})
    assert response.status_code == 400 and "Okänd användare".encode() in response.data
    assert client.get("/").status_code == 302  # to the login page
    with client.session_transaction() as browser:
        browser["user_id"], browser["unit_id"] = 424242, 1
    assert client.get("/").status_code == 302  # a stale session for a user that does not exist


def test_the_development_login_is_off_unless_configured(db_url, clock):
    production = make_app(db_url, clock, DEV_LOGIN=False)
    client = production.test_client()
    assert b"SITHS" in client.get("/login").data
    token = "x"
    with client.session_transaction() as browser:
        browser["csrf_token"] = token
    assert client.post("/login", data={"user_id": 1, "csrf_token": token}).status_code == 404
    production.extensions["database"].dispose()


def test_production_configuration_forces_the_dev_tools_off(monkeypatch, db_url):
    from app.config import load_config

    monkeypatch.setenv("VARDFLODE_ENV", "production")
    monkeypatch.setenv("VARDFLODE_DEV_LOGIN", "1")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    config = load_config({"DATABASE_URL": db_url})
    assert (
        config["DEV_LOGIN"] is False
        and config["DEV_CLOCK_CONTROL"] is False
        and config["SESSION_COOKIE_SECURE"] is True
    )


def test_the_shared_dev_clock_moves_every_process_through_the_database(db_url):
    from app import clock

    first = make_app(db_url, None, CLOCK=None, DEV_CLOCK_CONTROL=True)
    second = make_app(db_url, None, CLOCK=None, DEV_CLOCK_CONTROL=True)
    try:
        response = first.test_client().post(
            "/dev/clock", json={"set": "2027-01-04T09:00:00+01:00", "freeze": True}
        )
        assert response.status_code == 200
        shared = second.extensions["dev_clock"]
        shared.sync()  # what a worker does at the start of each iteration
        assert shared.now().isoformat() == "2027-01-04T08:00:00+00:00"
        first.test_client().post("/dev/clock", json={"advance_minutes": 90, "freeze": True})
        shared.sync()
        assert shared.now().isoformat() == "2027-01-04T09:30:00+00:00"
    finally:
        clock.install_clock(clock.SystemClock())
        first.extensions["database"].dispose()
        second.extensions["database"].dispose()


def test_the_deploy_command_reports_each_file_and_fails_on_a_refusal(app, session, tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(FIXTURES / "bpmn", processes)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["processes", "deploy", str(processes / "simple_case.bpmn"), "--note", "first"]
    )
    assert result.exit_code == 0, result.output
    assert "deployed" in result.output and "simple_case v1" in result.output
    again = runner.invoke(args=["processes", "deploy", str(processes / "simple_case.bpmn")])
    assert "unchanged" in again.output
    (processes / "broken.bpmn").write_text("<bpmn:definitions", encoding="utf-8")
    refused = runner.invoke(args=["processes", "deploy", str(processes / "broken.bpmn")])
    assert refused.exit_code == 1 and "malformed XML" in refused.output
    assert session.scalar(select(ProcessVersion.change_note)) == "first"


def test_the_demo_seed_command_makes_the_world_and_its_cases_once(db_url, clock):
    """`flask demo seed` (what `make run` runs) on a new database: the world, the routines and the cases."""
    application = make_app(
        db_url, clock, PROCESSES_DIR=str(ROOT / "processes"), FORMS_DIR=str(ROOT / "forms")
    )
    try:
        runner = application.test_cli_runner()
        first = runner.invoke(args=["demo", "seed"])
        assert first.exit_code == 0, first.output
        assert "demo data ready" in first.output and "demo cases: 9 made on Friday 2026-11-20" in first.output
        again = runner.invoke(args=["demo", "seed"])
        assert again.exit_code == 0 and "demo cases: kept (made before)" in again.output
    finally:
        application.extensions["database"].dispose()
