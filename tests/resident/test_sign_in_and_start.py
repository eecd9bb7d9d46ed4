"""Signing in as a resident (the development stand-in for e-ID) and the start page."""

from __future__ import annotations

import re

from app.cases.models import CaseState
from tests.conftest import make_app
from tests.resident.conftest import access_rows, audit, logged_patients, post


def test_the_development_sign_in_lists_demo_patients_and_is_labelled_as_a_stand_in_for_e_id(client, world):
    page = client.get("/resident/login").get_data(as_text=True)
    assert "Utvecklingsinloggning" in page and "e-legitimation (BankID)" in page
    assert "Anna Andersson" in page and "vårdnadshavare för" in page
    response = post(
        client, "/resident/login", {"patient_id": world.patients["adult"].id, "next": "/resident/new"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/resident/new"
    assert [e.actor_label for e in audit(world.session, "resident:signed_in")] == ["Anna Andersson"]


def test_without_the_development_login_sign_in_goes_through_the_e_id_service(db_url, clock, world):
    app = make_app(db_url, clock, DEV_LOGIN=False)
    try:
        client = app.test_client()
        page = client.get("/resident/login").get_data(as_text=True)
        assert "e-legitimation (BankID)" in page and "Anna Andersson" not in page
        assert post(client, "/resident/login", {"patient_id": world.patients["adult"].id}).status_code == 404
    finally:
        app.extensions["database"].dispose()


def test_pages_need_a_signed_in_resident_and_send_them_to_the_resident_sign_in(client, world):
    response = client.get("/resident/")
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/resident/login?next=/resident/"
    )
    assert client.get("/resident/cases/1").headers["Location"].startswith("/resident/login")


def _brand_link(page: str) -> str:
    return re.search(r'<p class="brand"><a href="([^"]*)">Vårdflöde</a></p>', page).group(1)


def test_the_logo_leads_to_the_residents_start_page_never_to_the_staff_sign_in(client, world, sign_in):
    assert _brand_link(client.get("/resident/login").get_data(as_text=True)) == "/resident/login"
    sign_in("adult")
    for url in ("/resident/", "/resident/new", "/resident/new?kind=admin"):
        assert _brand_link(client.get(url).get_data(as_text=True)) == "/resident/", url
    assert client.get("/resident/").status_code == 200  # where the logo leads, signed in


def test_signing_out_forgets_the_resident(client, world, sign_in):
    sign_in("adult")
    assert client.get("/resident/").status_code == 200
    assert post(client, "/resident/logout").status_code == 303
    assert client.get("/resident/").status_code == 302


def test_OG_6_4_b_the_start_page_shows_own_cases_and_the_childrens_under_13_and_is_access_logged(
    client, world, sign_in
):
    own = world.submit("guardian")
    child = world.submit("child", by="guardian")
    world.submit("teen")  # the guardian's 14-year-old represents themself: not on the guardian's page
    other = world.submit("adult")
    sign_in("guardian")
    page = client.get("/resident/").get_data(as_text=True)
    assert f"/resident/cases/{own.id}" in page and f"/resident/cases/{child.id}" in page
    assert "Gäller Cecilia Berg" in page and "Skickat, väntar på att tas emot" in page
    assert f"/resident/cases/{other.id}" not in page and "David Dahl, 14 år" in page
    assert "Från 13 år söker barnet vård" in page
    [row] = access_rows(world.session, action="resident:cases")
    assert row.actor_label == "Bertil Berg" and row.user_id is None and row.context == "/resident/"
    shown = logged_patients(world.session, row)
    assert {world.patients[k].id for k in ("guardian", "child", "teen", "infant")} <= shown
    assert own.state == CaseState.NEW


def test_a_residents_session_ends_after_the_idle_timeout_and_the_sign_in_says_why(
    app, client, world, monkeypatch
):
    from app.auth import current

    now = [1_800_000_000.0]
    monkeypatch.setattr(current.time, "time", lambda: now[0])
    post(client, "/resident/login", {"patient_id": world.patients["adult"].id})
    assert client.get("/resident/").status_code == 200
    now[0] += app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    answer = client.get("/resident/new")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/resident/login?next=/resident/new&expired=1"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Du loggades ut efter en stund utan aktivitet" in page
