"""The control tower's pages through the test client: who may see them (OG-10.1-j), the checks'
case lists with their access log, the actions with their confirmation, the heatmap and the region."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import handling
from app.cases.chat import answer_consent
from app.cases.models import Case, ChatMessage, Consent
from app.control_tower.queries import diagram_loads
from app.control_tower.routes import wait_text
from app.people.roles import Role
from tests.control_tower.conftest import absent, access_rows, on_duty, start, with_priority


def _refusals(world) -> list[AuditEvent]:
    world.session.expire_all()
    rows = list(world.session.scalars(select(AuditEvent).where(AuditEvent.action == "control_tower:refused")))
    world.session.commit()
    return rows


def test_OG_10_1_j_the_tower_is_for_the_overall_responsible_and_the_head_of_unit_others_are_refused_and_logged(
    world, pages
):
    response = pages.sign_in("nurse").get("/control-tower")
    assert response.status_code == 403
    nurse, _unit = world.staff["nurse"]
    assert [r.actor_user_id for r in _refusals(world)] == [nurse.id]
    on_duty(world, "nurse2")
    page = pages.sign_in("nurse2").text("/control-tower")
    assert "Flygledartornet" in page and "Nurse2 OG har det övergripande ansvaret sedan" in page
    assert "Vårdcentralen Ekdalen" in page
    assert pages.sign_in("head").get("/control-tower").status_code == 200
    assert pages.sign_in("ha_nurse").get("/control-tower/checks/absent-owner").status_code == 403


def test_OG_10_1_a_the_overview_shows_a_duty_gap_while_open_and_names_no_patient(world, pages):
    world.submit("adult")
    page = pages.sign_in("head").text("/control-tower")
    assert "Ingen har det övergripande ansvaret just nu, fast enheten har öppet." in page
    assert "Anna Andersson" not in page  # counts only: the overview is no patient list
    assert access_rows(world.session, "control_tower:urgent") == []


def test_OG_10_1_b_OG_6_1_j_the_drill_down_lists_the_absent_owners_case_logs_the_read_and_moves_it(
    world, pages
):
    case = world.submit("adult")
    start(world, case, "nurse")
    absent(world, "nurse")
    holder = on_duty(world, "nurse2")
    overview = pages.sign_in("nurse2").text("/control-tower")
    assert re.search(r"Ärenden hos någon som inte är på plats: <strong>1</strong>", overview)
    page = pages.text("/control-tower/checks/absent-owner")
    assert "Anna Andersson" in page and "Nurse OG" in page and "Flytta till yrkesrollens kö" in page
    assert (holder.user_id, {case.patient_id}) in access_rows(world.session, "control_tower:absent-owner")
    response = pages.post(f"/control-tower/cases/{case.id}/to-role-queue")
    assert response.status_code == 302
    world.session.expire_all()
    assert world.session.get(Case, case.id).owner_user_id is None
    world.session.commit()
    assert "Ärendet ligger nu i yrkesrollens kö." in pages.text("/control-tower/checks/absent-owner")


def test_OG_6_1_j_the_head_of_unit_sees_the_list_but_may_not_move_and_the_attempt_is_logged(world, pages):
    case = world.submit("adult")
    start(world, case, "nurse")
    absent(world, "nurse")
    page = pages.sign_in("head").text("/control-tower/checks/absent-owner")
    assert "Anna Andersson" in page and "Flytta till yrkesrollens kö" not in page
    assert pages.post(f"/control-tower/cases/{case.id}/to-role-queue").status_code == 403
    world.session.expire_all()
    assert world.session.get(Case, case.id).owner_user_id is not None
    world.session.commit()
    assert len(_refusals(world)) == 1


def test_OG_10_1_e_the_unheld_role_queue_list_names_the_case(world, pages):
    world.submit("adult")
    absent(world, "nurse")
    absent(world, "nurse2")
    page = pages.sign_in("head").text("/control-tower/checks/unheld-role")
    assert "Anna Andersson" in page and "Sjuksköterska" in page


def test_HA_day_end_the_days_filter_narrows_the_lists_and_a_bad_date_is_explained(world, pages):
    world.submit("adult")
    absent(world, "nurse")
    absent(world, "nurse2")
    pages.sign_in("head")
    assert "Anna Andersson" in pages.text("/control-tower/checks/unheld-role?day=today")
    assert "Anna Andersson" not in pages.text("/control-tower/checks/unheld-role?day=2026-11-20")
    page = pages.text("/control-tower?day=23-11-2026")
    assert (
        "Skriv datumet som ÅÅÅÅ-MM-DD." in page
        and 'aria-invalid="true"' in page
        and 'value="23-11-2026"' in page
    )


def test_OG_9_1_OG_10_1_d_high_load_is_sent_only_after_confirmation_by_the_overall_responsible(world, pages):
    world.submit("adult")
    world.submit("other")
    on_duty(world, "nurse2")
    pages.sign_in("nurse2")
    page = pages.text("/control-tower/high-load")
    assert "2 patienter väntar" in page and "Jag har beslutat att meddela patienterna" in page
    assert pages.post("/control-tower/high-load").status_code == 302  # not confirmed: back to the question
    assert world.session.scalar(select(ChatMessage).where(ChatMessage.phrase_purpose == "high_load")) is None
    world.session.commit()
    assert pages.post("/control-tower/high-load", {"confirmed": "1"}).status_code == 302
    world.session.expire_all()
    assert (
        len(world.session.scalars(select(ChatMessage).where(ChatMessage.phrase_purpose == "high_load")).all())
        == 2
    )
    world.session.commit()
    assert "2 väntande patienter har fått meddelandet om hög belastning." in pages.text("/control-tower")
    assert pages.sign_in("head").post("/control-tower/high-load", {"confirmed": "1"}).status_code == 403


def test_OG_10_1_j_the_overview_refresh_answers_204_when_nothing_changed(world, pages):
    pages.sign_in("head")
    page = pages.text("/control-tower")
    poll = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert pages.get(poll).status_code == 204
    world.submit("adult")
    changed = pages.get(poll)
    assert changed.status_code == 200 and 'id="tower-live"' in changed.get_data(as_text=True)


def test_the_region_view_is_for_heads_of_unit_and_names_no_patient(world, pages):
    world.submit("adult")
    page = pages.sign_in("head").text("/control-tower/region")
    assert "Vårdcentralen Ekdalen" in page and "Vårdcentralen Havsbris" not in page  # another region
    assert "Anna Andersson" not in page
    on_duty(world, "nurse2")
    assert 'href="/control-tower/region"' not in pages.sign_in("nurse2").text("/control-tower")  # not offered
    assert pages.get("/control-tower/region").status_code == 403
    assert [event.details["path"] for event in _refusals(world)] == ["/control-tower/region"]
    assert pages.sign_in("head").get("/control-tower/checks/no-such-check").status_code == 404


def test_the_region_heatmap_counts_only_the_heads_own_regions_units(world, pages):
    world.submit("adult")
    world.submit("other", unit="ha")  # Region Halland: not the Östergötland head's to count
    world.submit("guardian", unit="ha")
    pages.sign_in("head")
    region = pages.text("/control-tower/region")
    link = re.search(r'href="(/control-tower/diagrams/\d+\?scope=region)"', region).group(1)
    page = pages.text(link)
    assert 'data-element="Receive_nurse" data-count="1"' in page


def test_the_heatmap_counts_cases_at_each_element_with_a_table_and_the_diagram(world, pages):
    world.submit("adult")
    world.submit("other")
    pages.sign_in("head")
    overview = pages.text("/control-tower")
    link = re.search(r'href="(/control-tower/diagrams/\d+)"', overview).group(1)
    response = pages.get(link)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-element="Receive_nurse" data-count="2"' in page
    assert (
        "'unsafe-inline'" in response.headers["Content-Security-Policy"]
    )  # bpmn-js draws with style attributes
    assert "'unsafe-inline'" not in pages.get("/control-tower").headers["Content-Security-Policy"]
    xml = pages.get(link + ".bpmn")
    assert xml.status_code == 200 and 'id="Receive_nurse"' in xml.get_data(as_text=True)
    assert pages.sign_in("nurse").get(link).status_code == 403


def test_a_case_standing_at_two_elements_counts_once_in_its_routines_total(world, pages, clock):
    """A priority-2 case past its same-day deadline (OG-6.1-h) stands at two tasks: each element counts it,
    the routine's number of cases counts it once."""
    urgent = world.submit("other", high_fever=True)
    world.submit("adult")
    start(world, urgent)
    clock.set(datetime(2026, 11, 23, 16, 0, 1, tzinfo=ZoneInfo("Europe/Stockholm")))
    world.fire_due_timers()
    assert len(world.tasks(urgent)) == 2

    [chat] = [d for d in diagram_loads(world.session, unit_id=urgent.unit_id) if d.process_id == "chat_case"]
    assert sum(chat.elements.values()) == 3 and chat.total == 2
    overview = pages.sign_in("head").text("/control-tower")
    assert re.search(r"Sök vård[^<]*\(version \d+\)</a>: 2<", overview)
    assert "1 patient väntar på att handläggningen börjar" in overview  # one patient, in the singular


@pytest.mark.parametrize(
    ("minutes", "swedish", "english"),
    [
        (0, "0 min", "0 min"),
        (59, "59 min", "59 min"),
        (60, "1 tim 0 min", "1 h 0 min"),
        (1439, "23 tim 59 min", "23 h 59 min"),
        (1440, "1 dygn 0 tim", "1 d 0 h"),
        (4341, "3 dygn 0 tim", "3 d 0 h"),
    ],
)
def test_a_wait_reads_in_minutes_under_an_hour_then_hours_then_days_in_both_languages(
    app, minutes, swedish, english
):
    now = datetime(2026, 12, 7, 8, 10, tzinfo=UTC)
    with app.test_request_context():
        assert wait_text(now - timedelta(minutes=minutes), now) == swedish
        with force_locale("en"):
            assert wait_text(now - timedelta(minutes=minutes), now) == english


def test_OG_10_1_j_the_tower_the_region_and_a_check_show_a_three_day_wait_in_days_and_hours(
    world, pages, clock
):
    with_priority(world, world.submit("adult"), 2)
    clock.advance(days=3, minutes=21)  # 4341 minutes
    for lang, wait in (("sv", "3 dygn 0 tim"), ("en", "3 d 0 h")):
        pages.sign_in("head", lang=lang)
        for path in ("/control-tower", "/control-tower/region", "/control-tower/checks/urgent"):
            page = pages.text(path)
            assert wait in page and "4341" not in page, (lang, path)


def test_OG_10_1_f_the_state_table_names_the_consent_column_and_points_to_the_handed_over_cases(
    world, pages, engine
):
    """A case handed over after the patient's consent is back under its own state: the column counts
    only those waiting for consent, and the tower says where the handed-over cases are counted."""
    case = world.submit("adult")
    nurse = start(world, case, "nurse")
    handling.hand_over(world.session, engine, actor=nurse, case_id=case.id, role=Role.DOCTOR.value)
    world.session.commit()
    pages.sign_in("head", lang="en")
    page = pages.text("/control-tower")
    assert '<th scope="col">Waiting for consent to hand over</th>' in page
    assert '<th scope="col">Handed over</th>' not in page
    assert re.search(r"Handed-over cases nobody has taken: <strong>1</strong></a></p>", page)
    listed = pages.text("/control-tower/checks/handed-over")
    assert "waiting for the patient" in listed, re.findall(r"<td>[^<]*<br>.*?</td>", listed)
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    answer_consent(world.session, engine, actor=world.resident("adult"), consent_id=consent.id, given=True)
    world.session.commit()
    assert re.search(
        r"Handed-over cases nobody has taken: <strong>1</strong></a></p>", pages.text("/control-tower")
    )
    listed = pages.text("/control-tower/checks/handed-over")
    assert (
        "Anna Andersson" in listed
        and '<td>Ongoing<br><span class="detail">handed to Doctor</span></td>' in listed
    )
