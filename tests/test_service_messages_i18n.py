"""The services' refusals in the reader's language: English when the reader chose English, Swedish by
default, and Swedish in the audit trail and wherever no request has a reader (a worker, the CLI)."""

from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import Actor, record
from app.cases import chat
from app.cases.lookup import get_case
from app.errors import GuardRefused, NotFound, source_text
from tests.api.conftest import api as api  # noqa: F401  (the API client fixture, shared)
from tests.casework.conftest import read, started, version_in
from tests.casework.conftest import staff as staff  # the signed-in staff fixture, shared
from tests.processes.conftest import world as world  # noqa: F401  (the care world fixture, shared)


def _in_english(client) -> None:
    client.post("/language", {"lang": "en", "next": "/"})


def _answered_case(world):
    """A started case the patient has written in: closing it only needs the confirmation."""
    case = world.submit("adult")
    started(world, case)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack, det räcker."
    )
    world.session.commit()
    return case


def _refused_close(nurse, case_id: int) -> str:
    response = nurse.post(
        f"/cases/{case_id}/close",
        {"concluded_in_dialogue": "on", "expected_version": version_in(nurse.page(case_id), "close")},
    )
    assert response.status_code == 422
    return response.get_data(as_text=True)


def test_HA_close_confirm_the_refusal_reads_in_english_on_the_english_case_page(world, staff):
    case = _answered_case(world)
    nurse = staff("nurse")
    _in_english(nurse)
    html = _refused_close(nurse, case.id)
    assert "Confirm that you want to close the case." in html and "HA-close-confirm" in html
    assert "Bekräfta att du vill avsluta" not in html
    # Translated, so no longer marked as Swedish for a screen reader (it was <strong lang="sv">).
    assert "<strong>Confirm that you want to close the case.</strong>" in html


def test_HA_close_confirm_the_refusal_stays_swedish_on_the_swedish_case_page(world, staff):
    case = _answered_case(world)
    html = _refused_close(staff("nurse"), case.id)
    assert "Bekräfta att du vill avsluta ärendet." in html and "Confirm that" not in html


def test_OG_6_1_g_what_is_missing_before_closing_reads_in_english(world, staff):
    """The closing box of an unanswered case names the missing attempt in the reader's language."""
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    _in_english(nurse)
    html = nurse.page(case.id)
    assert "one more contact attempt, at 2026-11-23 11:01 at the earliest" in html  # the first message is one
    assert "kontaktförsök till" not in html


def test_the_403_page_of_another_units_case_reads_in_english(world, staff):
    case = world.submit("adult")
    stranger = staff("ha_nurse")
    _in_english(stranger)
    response = stranger.get(f"/cases/{case.id}")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "You are not authorised to access this case." in html and "behörighet" not in html


def test_the_audit_row_of_a_refused_action_stays_swedish_when_the_user_reads_english(world, staff):
    case = _answered_case(world)  # owned by the nurse: a colleague may read it, not close it
    version = version_in(staff("nurse").page(case.id), "close")  # the colleague's page has no such form
    colleague = staff("nurse2")
    _in_english(colleague)
    response = colleague.post(f"/cases/{case.id}/close", {"confirmed": "on", "expected_version": version})
    assert "The case is owned by a colleague" in response.get_data(as_text=True)
    details = read(
        world, select(AuditEvent.details).where(AuditEvent.action == "case:action_refused").limit(1)
    )
    assert details["reason"] == "Ärendet ägs av en kollega eller ligger i en annan yrkesrolls kö."


def test_HA_close_confirm_a_refusal_through_the_json_api_serialises_its_message(world, api):
    case = _answered_case(world)
    refused = api.post(f"/cases/{case.id}/close", "nurse", json={"concluded_in_dialogue": True})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.json["detail"] == "Bekräfta att du vill avsluta ärendet."
    assert refused.json["rule"] == "HA-close-confirm"


def test_a_refusal_as_problem_json_from_the_web_serialises_in_the_readers_language(world, staff):
    nurse = staff("nurse")
    _in_english(nurse)
    response = nurse.get("/cases/999999", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.json["detail"] == "The case does not exist."


def test_a_refusal_raised_outside_any_request_is_swedish(app, world):
    with pytest.raises(NotFound) as outside:
        get_case(world.session, 999999)
    assert str(outside.value) == "Ärendet finns inte." == str(outside.value.message)
    with app.app_context():  # a worker or a CLI command: an application, no request, no session
        with pytest.raises(NotFound) as in_worker:
            get_case(world.session, 999999)
        assert str(in_worker.value) == "Ärendet finns inte."
        assert source_text(in_worker.value.message) == "Ärendet finns inte."


def test_a_lazy_message_read_in_a_worker_is_swedish(app):
    with app.app_context():
        assert str(GuardRefused(_l("Ärendet finns inte.")).message) == "Ärendet finns inte."


def test_the_audit_trail_keeps_a_lazy_text_in_swedish_whatever_the_readers_language(app, world):
    with app.test_request_context("/"):
        from flask import session

        session["lang"] = "en"
        reason = _l("Ärendet finns inte.")
        assert str(reason) == "The case does not exist."  # the reader's language…
        record(world.session, "case:action_refused", actor=Actor(label="test"), reason=reason)
    details = read(world, select(AuditEvent.details).where(AuditEvent.action == "case:action_refused"))
    assert details["reason"] == "Ärendet finns inte."  # …but the trail's is Swedish
