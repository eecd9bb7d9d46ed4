"""Page sessions: idle timeout, the way back after signing in again, and requests the shell refuses early."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth import current
from app.people.models import SessionEvent, SessionEventKind
from app.people.roles import Role
from app.people.service import present
from tests import factories as f


def _csrf(html: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


class WallClock:
    """Stands in for time.time in app.auth.current: the idle timeout reads the wall clock, not the product's."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall(monkeypatch):
    clock = WallClock()
    monkeypatch.setattr(current.time, "time", clock)
    return clock


@pytest.fixture
def nurse(session):
    unit = f.unit(session, "Vårdcentralen Ekdalen")
    user = f.user(session, unit, Role.NURSE, given="Sara", family="Lind")
    session.commit()
    return user


def _sign_in(client, user, next_page: str | None = None):
    page = client.get("/login" + (f"?next={next_page}" if next_page else ""))
    data = {"user_id": user if isinstance(user, int) else user.id, "csrf_token": _csrf(page.data)}
    if next_page:
        data["next"] = next_page
    return client.post("/login", data=data)


def test_a_session_ends_after_the_idle_timeout_and_the_login_says_why_and_leads_back(
    app, client, session, nurse, wall
):
    nurse_id = nurse.id  # read now: the test's session must not hold SQLite's lock while requests write
    assert _sign_in(client, nurse_id).status_code == 302
    assert client.get("/inbox").status_code == 200
    wall.now += app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    assert client.get("/inbox").status_code == 200  # activity just before the limit keeps the session
    wall.now += app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    timed_out = client.get("/inbox")
    assert timed_out.status_code == 302
    session.expire_all()
    [idle] = session.scalars(select(SessionEvent).where(SessionEvent.kind == SessionEventKind.IDLE)).all()
    assert idle.user_id == nurse_id and present(session, nurse_id, idle.unit_id)  # idle, still at work
    session.rollback()  # SQLite: let the requests below write
    assert timed_out.headers["Location"] == "/login?next=/inbox&expired=1"
    login = client.get(timed_out.headers["Location"]).get_data(as_text=True)
    assert "Du loggades ut efter en stund utan aktivitet" in login and 'name="next" value="/inbox"' in login
    back = _sign_in(client, nurse_id, next_page="/inbox")
    assert back.status_code == 302 and back.headers["Location"] == "/inbox"


def test_a_page_polling_by_itself_does_not_keep_an_idle_session_alive(app, client, nurse, wall):
    _sign_in(client, nurse)
    poll = {"HX-Request": "true", current.POLL_HEADER: "1", "HX-Current-URL": "http://localhost/?mine=1"}
    for _ in range(4):
        wall.now += app.config["SESSION_IDLE_MINUTES"] * 60 / 3
        answer = client.get("/", headers=poll)
        if answer.status_code != 200:
            break
    # htmx gets a whole-page redirect to the login, never the login page drawn inside the patient list
    assert answer.status_code == 401 and answer.headers["HX-Redirect"] == "/login?next=/&expired=1"


def test_the_session_also_ends_after_the_longest_shift_however_active(app, client, nurse, wall):
    _sign_in(client, nurse)
    for _ in range(app.config["SESSION_MAX_HOURS"] * 4 + 1):
        wall.now += 15 * 60
        answer = client.get("/inbox")
    assert answer.status_code == 302 and "expired=1" in answer.headers["Location"]


def test_a_post_after_the_session_ended_returns_to_the_page_it_came_from_never_to_another_site(
    app, client, nurse, wall
):
    _sign_in(client, nurse)
    token = client.get("/inbox").get_data(as_text=True)
    wall.now += app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', token).group(1)
    answer = client.post(
        "/phrases/new", data={"csrf_token": csrf}, headers={"Referer": "http://localhost/phrases"}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/login?next=/phrases&expired=1"
    page = client.get("/login")
    evil = client.post(
        "/login", data={"user_id": nurse.id, "next": "//evil.example/x", "csrf_token": _csrf(page.data)}
    )
    assert evil.status_code == 302 and evil.headers["Location"] == "/"


def test_a_stale_form_is_refused_in_swedish_and_an_oversized_upload_before_it_is_read(app, client, nurse):
    _sign_in(client, nurse)
    stale = client.post("/phrases/new", data={"csrf_token": "not-the-token"})
    assert stale.status_code == 400 and "Formuläret var för gammalt" in stale.get_data(as_text=True)
    huge = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    refused = client.post("/phrases/new", data=huge, content_type="multipart/form-data; boundary=b")
    assert refused.status_code == 413 and "för stort (högst 16 MB)" in refused.get_data(as_text=True)


def test_OG_8_7_OG_6_1_j_the_users_own_requests_keep_them_present_a_polling_page_does_not(
    app, client, session, nurse, clock
):
    """Presence expires without a sign of life (SESSION_IDLE_MINUTES); every request of the user's own
    is one, also on pages that show no patient (at most one row every few minutes), a poll is not."""
    nurse_id, unit_id = nurse.id, nurse.memberships[0].unit_id
    session.commit()  # the test's session must not hold SQLite's lock while requests write
    _sign_in(client, nurse_id)
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    assert not present(session, nurse_id, unit_id)
    session.commit()
    poll = {"HX-Request": "true", current.POLL_HEADER: "1", "HX-Current-URL": "http://localhost/profile"}
    client.get("/profile", headers=poll)
    assert not present(session, nurse_id, unit_id)
    session.commit()
    assert client.get("/profile").status_code == 200
    assert present(session, nurse_id, unit_id)
    session.commit()
    client.get("/profile")
    active = session.scalars(
        select(SessionEvent).where(
            SessionEvent.user_id == nurse_id, SessionEvent.kind == SessionEventKind.ACTIVE
        )
    ).all()
    assert len(active) == 1  # the second request minutes later wrote nothing more
