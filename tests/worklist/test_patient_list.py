"""Patientliggaren at `/`: order, answered cases, filters and counts, the date filter, the
administrative contact's start page, self-refresh and the access log."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.cases import chat
from app.cases.models import CaseKind
from app.worklist.queries import open_tasks_for
from tests.worklist.conftest import access_rows, rows_of, start


def test_OG_10_1_g_HA_prio_a_OG_6_1_a_highest_priority_first_and_ongoing_before_new_of_the_same_or_lower_priority(
    world, pages, clock
):
    """HA-prio-a / OG-6.1-a: priority 1 on top. OG-10.1-g: an ongoing case comes before a new case of the same
    priority even when the new one has waited longer, and before every case of lower priority; then the
    longest waiting. Administrative cases carry no priority ("–") and come last."""
    low_old = world.submit("adult", days=20)  # priority 4, waited longest
    clock.advance(minutes=1)
    new_three = world.submit("guardian")  # priority 3, new, waited longer than the ongoing one
    clock.advance(minutes=1)
    ongoing_three = world.submit("other")  # priority 3, started below
    clock.advance(minutes=1)
    urgent = world.submit("teen", high_fever=True)  # priority 2, newest
    admin = world.submit("child", by="guardian", kind=CaseKind.ADMIN)
    start(world, ongoing_three)
    assert [
        low_old.priority,
        new_three.priority,
        ongoing_three.priority,
        urgent.priority,
        admin.priority,
    ] == [4, 3, 3, 2, None]

    html = pages.sign_in("nurse2").text(
        "/"
    )  # a colleague's list: the case is someone else's and still in order
    assert rows_of(html) == ["David Dahl", "Fredrik Fors", "Bertil Berg", "Anna Andersson"]
    assert [t.case_id for t in open_tasks_for(world.session, world.actor("nurse2"))] == [
        urgent.id,
        ongoing_three.id,
        new_three.id,
        low_old.id,
    ]

    whole_unit = pages.text("/?scope=unit")
    assert rows_of(whole_unit)[-1] == "Cecilia Berg"
    last_row = whole_unit.split("<tbody>")[1].split("<tr")[-1]
    assert "ingen prioritet" in last_row and "(Administrativt)" in last_row


def test_OG_10_1_h_the_whole_units_list_shows_every_unhandled_case_of_every_queue_most_urgent_first(
    world, pages
):
    """OG-10.1-h: anyone of the unit (the overall responsible first of all) reviews every unhandled case,
    whatever its queue, so no urgent case is left without action."""
    world.submit("adult")
    world.submit("child", by="guardian", kind=CaseKind.ADMIN)  # Administrativ kontakt's queue
    urgent = world.submit("other", breathing=True)  # priority 1
    assert urgent.priority == 1
    html = pages.sign_in("doctor").text("/?scope=unit")
    assert rows_of(html) == ["Fredrik Fors", "Anna Andersson", "Cecilia Berg"]
    assert 'Hela enheten <span class="count">(3)</span>' in html


def test_OG_10_1_g_sorting_by_waiting_time_is_a_choice_and_the_default_comes_back(world, pages, clock):
    first = world.submit("adult", days=20)  # priority 4, oldest
    clock.advance(minutes=5)
    world.submit("other", high_fever=True)  # priority 2
    pages.sign_in("nurse")
    assert rows_of(pages.text("/?sort=waiting"))[0] == "Anna Andersson"
    html = pages.text("/")
    assert rows_of(html)[0] == "Fredrik Fors"
    assert 'aria-sort="ascending"' in html and "?sort=waiting" in html and first.id


def test_patient_answered_is_a_column_a_sort_a_filter_and_a_notice_to_the_owner(world, pages, clock):
    """The owner sees a marker and a count of their cases whose patient has answered; colleagues see the column only."""
    quiet = world.submit("other", high_fever=True)  # priority 2, owned by the nurse, not answered
    answered = world.submit("adult")  # priority 3
    start(world, quiet)
    start(world, answered)
    clock.advance(minutes=2)
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=answered.id,
        body="Det känns bättre i dag.",
    )
    world.session.commit()

    html = pages.sign_in("nurse").text("/")
    assert "Patienten har svarat i 1 av dina ärenden." in html
    assert rows_of(html) == ["Fredrik Fors", "Anna Andersson"]
    assert rows_of(pages.text("/?sort=answered")) == ["Anna Andersson", "Fredrik Fors"]
    only = pages.text("/?answered=1")
    assert rows_of(only) == ["Anna Andersson"] and "Har svarat" in only
    assert 'Patienten har svarat <span class="count">(1)</span>' in html

    colleague = pages.sign_in("nurse2").text("/")
    assert "av dina ärenden" not in colleague and "Har svarat" in colleague


def test_filters_mine_role_and_whole_unit_with_counts_per_filter(world, pages):
    mine = world.submit("adult")
    world.submit("other")
    colleagues = world.submit("guardian")
    start(world, mine)
    start(world, colleagues, "nurse2")
    html = pages.sign_in("nurse").text("/")
    assert 'Mina ärenden <span class="count">(1)</span>' in html
    assert 'Mina yrkesrollers köer <span class="count">(3)</span>' in html
    assert rows_of(pages.text("/?scope=mine")) == ["Anna Andersson"]
    doctor_view = pages.sign_in("doctor").text("/")
    assert "Inga öppna uppgifter med de här filtren." in doctor_view
    assert 'Hela enheten <span class="count">(3)</span>' in doctor_view
    by_role = pages.text("/?scope=unit&role=Sjuksk%C3%B6terska")
    assert len(rows_of(by_role)) == 3 and "Sjuksköterska (3)" in by_role
    assert rows_of(pages.text("/?scope=unit&role=L%C3%A4kare")) == []


def test_OG_10_1_c_HA_day_end_the_date_filter_shows_all_of_the_days_cases_of_the_unit(world, pages, clock):
    """OG-10.1-c: filter by date so no case is missed; HA-day-end: before closing, today's date shows every case
    not yet treated, whatever its role queue; older open cases are counted beside it, not hidden."""
    yesterday = world.submit("adult")
    clock.advance(days=1)  # Tuesday: yesterday's case is still open
    today_nurse = world.submit("other")
    today_admin = world.submit("child", by="guardian", kind=CaseKind.ADMIN)  # another role's queue
    pages.sign_in("nurse")
    today = clock.now().date().isoformat()
    html = pages.text(f"/?date={today}")
    assert sorted(rows_of(html)) == ["Cecilia Berg", "Fredrik Fors"]
    assert "1 öppen uppgift från tidigare dagar" in html
    assert 'Dagens ärenden <span class="count">(2)</span>' in html
    assert f'value="{today}"' in html  # the chosen date stays in the form
    earlier = (clock.now() - timedelta(days=1)).date().isoformat()
    assert rows_of(pages.text(f"/?date={earlier}")) == ["Anna Andersson"]
    assert rows_of(pages.text(f"/?date={today}&scope=roles")) == ["Fredrik Fors"]  # narrowed on request
    assert yesterday.id and today_nurse.id and today_admin.id


def test_a_date_that_is_not_a_date_is_kept_and_explained_and_shows_nothing(world, pages):
    world.submit("adult")
    html = pages.sign_in("nurse").text("/?date=igår")
    assert 'value="igår"' in html and 'aria-invalid="true"' in html and "ÅÅÅÅ-MM-DD" in html
    assert rows_of(html) == []


def test_OG_7_a_the_administrative_contact_sees_administrative_cases_and_a_date_also_shows_sok_vard(
    world, pages, clock
):
    """OG-7-a: the start page of an Administrativ kontakt lists the administrative cases; with a date chosen,
    the unit's Sök vård cases of that day are there too."""
    world.submit("child", by="guardian", kind=CaseKind.ADMIN)
    world.submit("adult")
    html = pages.sign_in("admin").text("/")
    assert rows_of(html) == ["Cecilia Berg"] and "administrativa ärenden" in html
    dated = pages.text(f"/?date={clock.now().date().isoformat()}")
    assert sorted(rows_of(dated)) == ["Anna Andersson", "Cecilia Berg"]


def test_protected_identity_is_marked_in_the_list(world, pages):
    world.submit("adult", protected=True)
    html = pages.sign_in("nurse").text("/")
    assert "Skyddad identitet" in html


def test_HA_logcheck_every_render_of_the_list_is_access_logged_with_every_patient_shown(world, pages):
    """One access-log row per render, naming each patient shown; nothing shown, nothing logged."""
    pages.sign_in("nurse").text("/")
    assert access_rows(world.session, "worklist:list") == []
    a = world.submit("adult")
    b = world.submit("other")
    pages.text("/")
    pages.text("/?scope=mine")
    nurse, _unit = world.staff["nurse"]
    assert access_rows(world.session, "worklist:list") == [(nurse.id, {a.patient_id, b.patient_id})]


def test_the_self_refresh_keeps_the_filters_answers_204_when_nothing_changed_and_logs_only_what_it_shows(
    world, pages, clock
):
    world.submit("adult")
    pages.sign_in("nurse")
    html = pages.text("/?scope=unit&sort=waiting")
    poll = _poll_url(html)
    assert "scope=unit" in poll and "sort=waiting" in poll and "fragment=live" in poll
    before = len(access_rows(world.session, "worklist:list"))
    unchanged = pages.get(poll, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204
    assert len(access_rows(world.session, "worklist:list")) == before  # nothing shown, nothing logged
    world.submit("other")
    changed = pages.get(poll, headers={"HX-Request": "true"})
    fragment = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "Fredrik Fors" in fragment and "<h1>" not in fragment
    assert 'id="worklist-alerts"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "scope=unit" in _poll_url(fragment) and _poll_url(fragment) != poll
    assert len(access_rows(world.session, "worklist:list")) == before + 1


def test_a_refresh_after_signing_out_sends_the_whole_page_to_the_login(pages, client):
    response = client.get("/?fragment=live&since=x", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/login"
    assert client.get("/").status_code == 302


def test_without_javascript_the_update_link_reloads_the_same_view(world, pages):
    html = pages.sign_in("nurse").text("/?scope=mine&answered=1")
    assert '<a href="/?scope=mine&amp;answered=1">Uppdatera</a>' in html


def _poll_url(html: str) -> str:
    return html.split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_the_clinicians_pages_speak_english_when_chosen(world, pages):
    world.submit("adult")
    html = pages.sign_in("nurse", lang="en").text("/")
    assert '<html lang="en">' in html and "<h1>Patient list</h1>" in html
    assert "Queue: Nurse" in html and "Showing 1–1 of 1 open tasks." in html
    for path, heading in (
        ("/inbox", "Acknowledgement inbox"),
        ("/phrases", "Phrase templates"),
        ("/phrases/new", "New personal phrase template"),
        ("/profile", "My profile"),
        ("/duty", "Overall responsibility"),
        ("/shift/end", "End shift"),
    ):
        assert f"<h1>{heading}</h1>" in pages.text(path), path


def test_an_answer_reaches_the_owner_by_the_self_refresh_and_is_announced_in_the_status_region(
    world, pages, clock
):
    """The in-app notice to the owner: a refresh after the patient answered swaps in the notice and says
    it in the status region (role="status"), so a screen-reader user hears it too."""
    case = world.submit("adult")
    start(world, case)
    html = pages.sign_in("nurse").text("/")
    assert "av dina ärenden" not in html
    clock.advance(minutes=1)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Nu är det värre."
    )
    world.session.commit()
    fragment = pages.get(_poll_url(html), headers={"HX-Request": "true"}).get_data(as_text=True)
    status = fragment.split('id="worklist-status"', 1)[1].split("</span>", 1)[0]
    assert "Listan uppdaterades" in status and "Patienten har svarat i 1 av dina ärenden." in status
    alerts = fragment.split('id="worklist-alerts"', 1)[1]
    assert "Patienten har svarat i 1 av dina ärenden." in alerts


def test_HA_day_end_within_the_last_hour_before_closing_the_list_reminds_to_review_todays_cases(
    world, pages, clock
):
    """HA-day-end: before the unit becomes unstaffed (Ekdalen closes 17:00), the start page of everyone
    reminds them to review today's cases not yet treated, with the whole unit's count and the date filter."""
    world.submit("adult")
    world.submit("child", by="guardian", kind=CaseKind.ADMIN)  # another queue: counted all the same
    pages.sign_in("nurse")
    assert "Enheten stänger" not in pages.text("/")  # 09:00: not yet
    clock.advance(hours=7, minutes=15)  # 16:15
    html = pages.text("/")
    today = clock.now().date().isoformat()
    assert "Enheten stänger 17:00." in html
    assert f'<a href="/?scope=unit&amp;date={today}">Dagens ärenden (2)</a>' in html
    clock.advance(minutes=50)  # 17:05: closed, nothing more to remind of
    assert "Enheten stänger" not in pages.text("/")


def _answered_urgent_case_past_its_deadline(world, pages, clock) -> str:
    """A priority-2 case the patient answered, past its same-day deadline (OG-6.1-h): two open tasks of
    its owner, "Handlägg ärendet" and the phone task. Returns the owner's patient list."""
    urgent = world.submit("other", high_fever=True)
    start(world, urgent)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("other"), case_id=urgent.id, body="Febern är kvar."
    )
    world.session.commit()
    clock.set(datetime(2026, 11, 23, 16, 0, 1, tzinfo=ZoneInfo("Europe/Stockholm")))
    world.fire_due_timers()
    assert len(world.tasks(urgent)) == 2

    html = pages.sign_in("nurse").text("/")
    assert rows_of(html) == ["Fredrik Fors", "Fredrik Fors"]
    return html


def test_the_owners_notice_counts_answered_cases_not_their_tasks(world, pages, clock):
    """A priority-2 case past its same-day deadline (OG-6.1-h) has two open tasks of its owner, "Handlägg
    ärendet" and the phone task: the patient answered in one case, and the notice says one."""
    html = _answered_urgent_case_past_its_deadline(world, pages, clock)
    assert "Patienten har svarat i 1 av dina ärenden." in html


def test_the_quick_filters_count_cases_and_the_summary_counts_the_tasks_listed(world, pages, clock):
    """The choices name cases ("Mina ärenden", "Patienten har svarat"): a case past its same-day deadline
    (OG-6.1-h) with two open tasks counts once there, while the summary counts the two rows listed."""
    html = _answered_urgent_case_past_its_deadline(world, pages, clock)
    assert 'Mina ärenden <span class="count">(1)</span>' in html
    assert 'Patienten har svarat <span class="count">(1)</span>' in html
    assert "Visar 1–2 av 2 öppna uppgifter." in html
