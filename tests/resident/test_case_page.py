"""The resident's case page: following and answering the chat, images, forms and rating scales,
consents, reopening; every read access-logged; other people's cases refused (403) and logged."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.cases import chat, handling
from app.cases.models import CaseState, ChatMessage, Consent, ConsentAnswer, PatientForm
from tests.resident.conftest import access_rows, audit, csrf, logged_patients, post, read

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f7a6b30000000049454e44ae426082"
)


def _started(world, patient="adult", by=None, **answers):
    case = world.submit(patient, by=by, **answers)
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(
        world.session,
        world.engine,
        actor=nurse,
        case_id=case.id,
        first_message="Hej, hur länge har du haft ont?",
    )
    world.session.commit()
    return case, nurse


def test_the_resident_follows_and_answers_the_chat_and_every_read_is_access_logged(client, world, sign_in):
    case, _nurse = _started(world)
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert "Hej, hur länge har du haft ont?" in page and "Pågår" in page
    response = post(client, f"/resident/cases/{case.id}/messages", {"body": "Sedan i fredags."})
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/resident/cases/{case.id}#chat"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ditt meddelande är skickat." in page and "Sedan i fredags." in page and ">Du<" in page
    rows = access_rows(world.session, action="resident:case", case_id=case.id)
    assert (
        len(rows) == 2
        and {r.actor_label for r in rows} == {"Anna Andersson"}
        and all(r.user_id is None for r in rows)
    )
    assert logged_patients(world.session, rows[0]) == {world.patients["adult"].id}


def test_an_empty_message_comes_back_with_its_error_and_htmx_gets_the_chat_alone(client, world, sign_in):
    case, _nurse = _started(world)
    sign_in("adult")
    refused = post(client, f"/resident/cases/{case.id}/messages", {"body": "   "})
    page = refused.get_data(as_text=True)
    assert (
        refused.status_code == 422
        and "Skriv ett meddelande." in page
        and 'aria-invalid="true"' in page
        and 'id="error-summary"' in page
    )
    swapped = post(
        client,
        f"/resident/cases/{case.id}/messages",
        {"body": "Det gör ont när jag sväljer."},
        headers={"HX-Request": "true"},
    )
    fragment = swapped.get_data(as_text=True)
    assert swapped.status_code == 200 and fragment.lstrip().startswith('<section id="chat"')
    assert (
        'data-announce="Ditt meddelande är skickat."' in fragment
        and "Det gör ont när jag sväljer." in fragment
    )
    assert access_rows(world.session, action="resident:chat", case_id=case.id)


def test_the_chat_pages_backwards_with_show_earlier(client, world, sign_in):
    case, nurse = _started(world)
    for n in range(1, 26):
        chat.staff_write(world.session, actor=nurse, case_id=case.id, body=f"Meddelande nummer {n:02d}")
    world.session.commit()
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert (
        "Meddelande nummer 25" in page
        and "Meddelande nummer 06" in page
        and "Meddelande nummer 05" not in page
    )
    assert "Visa tidigare meddelanden" in page
    first_shown = read(
        world.session, select(ChatMessage.id).where(ChatMessage.body == "Meddelande nummer 06")
    )[0]
    older = client.get(
        f"/resident/cases/{case.id}/messages?before={first_shown}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert (
        "Meddelande nummer 05" in older and "Hej, hur länge" in older and "Meddelande nummer 06" not in older
    )
    assert 'hx-swap-oob="true"' in older and "Visa tidigare meddelanden" not in older  # nothing earlier left
    without_js = client.get(f"/resident/cases/{case.id}/messages?before={first_shown}")
    assert without_js.status_code == 302 and f"before={first_shown}" in without_js.headers["Location"]
    assert "Visa de senaste meddelandena" in client.get(without_js.headers["Location"]).get_data(as_text=True)


def test_OG_11_f_the_resident_uploads_the_images_asked_for_and_size_or_type_errors_are_shown(
    client, world, sign_in
):
    case, nurse = _started(world)
    request = chat.request_images(
        world.session, actor=nurse, case_id=case.id, instructions="Ta en bild på halsen i dagsljus."
    )
    world.session.commit()
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert (
        "Ta en bild på halsen i dagsljus." in page
        and 'type="file"' in page
        and 'enctype="multipart/form-data"' in page
    )
    url = f"/resident/cases/{case.id}/images?request_id={request.id}"
    wrong = post(
        client,
        url,
        {"image": (_file(b"MZ not an image"), "virus.exe", "application/octet-stream")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422 and "JPEG-, PNG-, HEIC- eller WebP-fil" in wrong.get_data(as_text=True)
    empty = post(client, url, {"image": (_file(b""), "", "image/png")}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "Välj en bild att ladda upp." in empty.get_data(as_text=True)
    big = _raw_upload(client, url, "stor.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 1))
    assert big.status_code in (413, 422) and "högst 10 MB" in big.get_data(as_text=True)
    done = post(
        client, url, {"image": (_file(PNG), "hals.png", "image/png")}, content_type="multipart/form-data"
    )
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert (
        "Bilden är uppladdad i ärendet." in page and "hals.png" in page and 'type="file"' not in page
    )  # request fulfilled
    [event] = audit(world.session, "chat:image_uploaded")
    assert event.actor_label == "Anna Andersson"


def _file(content: bytes):
    return BytesIO(content)


def _raw_upload(client, url: str, filename: str, content: bytes):
    """A multipart post built here: the test client would spool a body this large to a file it never closes."""
    boundary = "resident-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf(client)}\r\n'
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return client.post(
        url,
        input_stream=BytesIO(body),
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_OG_8_1_a_rating_scale_is_shown_as_sent_each_item_a_fieldset_with_radio_buttons(
    client, world, sign_in
):
    case, nurse = _started(world)
    form = chat.send_form(world.session, actor=nurse, case_id=case.id, form_key="demo_mood")
    world.session.commit()
    sign_in("adult")
    assert f"/resident/forms/{form.id}" in client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    page = client.get(f"/resident/forms/{form.id}").get_data(as_text=True)
    assert page.count("<fieldset") == 4 and page.count('type="radio"') == 16
    assert '<legend lang="sv">Känt dig nedstämd eller hopplös' in page and "Mer än hälften av dagarna" in page
    missing = post(client, f"/resident/forms/{form.id}", {"q1": "1", "q2": "2", "q3": "0"})
    text = missing.get_data(as_text=True)
    assert (
        missing.status_code == 422
        and '<a href="#f-q4-1"><span lang="sv">Känt dig trött eller energilös</span> – <span>Välj ett svar.</span></a>'
        in text
    )
    assert 'name="q2" value="2" checked' in text  # the answers given are kept
    done = post(client, f"/resident/forms/{form.id}", {"q1": "1", "q2": "2", "q3": "0", "q4": "3"})
    assert done.status_code == 303 and done.headers["Location"].endswith("#forms")
    [stored] = read(world.session, select(PatientForm).where(PatientForm.id == form.id))
    assert stored.answers == {"q1": 1, "q2": 2, "q3": 0, "q4": 3} and stored.score == 6
    answered = client.get(f"/resident/forms/{form.id}").get_data(as_text=True)
    assert (
        "Du skickade dina svar" in answered
        and "Nästan varje dag" in answered
        and 'type="radio"' not in answered
    )
    assert (
        post(client, f"/resident/forms/{form.id}", {"q1": "0", "q2": "0", "q3": "0", "q4": "0"}).status_code
        == 409
    )


def test_OG_8_1_a_form_with_text_and_a_0_to_10_scale_is_labelled_and_validated(client, world, sign_in):
    case, nurse = _started(world)
    form = chat.send_form(world.session, actor=nurse, case_id=case.id, form_key="symptom_diary")
    world.session.commit()
    sign_in("adult")
    page = client.get(f"/resident/forms/{form.id}").get_data(as_text=True)
    assert '<label for="f-since"' in page and "(frivillig)" in page and page.count('name="worst"') == 11
    done = post(client, f"/resident/forms/{form.id}", {"since": "I måndags", "worst": "7", "medicines": ""})
    assert done.status_code == 303
    [stored] = read(world.session, select(PatientForm).where(PatientForm.id == form.id))
    assert stored.answers == {"since": "I måndags", "worst": 7}


def test_OG_8_3_a_meeting_form_switch_asks_for_consent_with_the_stated_cost(client, world, sign_in):
    case, nurse = _started(world)
    handling.switch_meeting_form(
        world.session, world.engine, actor=nurse, case_id=case.id, form="video", cost="200"
    )
    world.session.commit()
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert (
        "Vill du att ärendet fortsätter via video?" in page
        and "Kostnad: 200 kronor." in page
        and "avgiftsbelagt" in page
    )
    [consent] = read(world.session, select(Consent).where(Consent.case_id == case.id))
    assert post(client, f"/resident/consents/{consent.id}", {}).status_code == 422  # neither yes nor no
    response = post(client, f"/resident/consents/{consent.id}", {"answer": "yes"})
    assert response.status_code == 303
    [consent] = read(world.session, select(Consent).where(Consent.case_id == case.id))
    assert (
        consent.answer == ConsentAnswer.GIVEN and consent.answered_by_patient_id == world.patients["adult"].id
    )
    [case_now] = read(world.session, select(type(case)).where(type(case).id == case.id))
    assert (case_now.meeting_form, case_now.chargeable) == ("video", True)
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert "Du svarade ja." in page and "kostnad 200 kronor" in page
    again = post(client, f"/resident/consents/{consent.id}", {"answer": "no"})
    assert again.status_code == 409 and "redan besvarat" in again.get_data(as_text=True)


def test_HA_handover_consent_the_resident_is_asked_before_a_handover_and_may_decline(client, world, sign_in):
    case, nurse = _started(world)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    world.session.commit()
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert "Går det bra att ditt ärende lämnas över till läkare?" in page and "Lämnas över" in page
    [consent] = read(world.session, select(Consent).where(Consent.case_id == case.id))
    assert post(client, f"/resident/consents/{consent.id}", {"answer": "no"}).status_code == 303
    [consent] = read(world.session, select(Consent).where(Consent.case_id == case.id))
    assert consent.answer == ConsentAnswer.DECLINED
    assert [t.role.value for t in world.tasks(case)] == ["Sjuksköterska"]  # stays where it was


def _closed(world, clock):
    case, nurse = _started(world)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack, nu vet jag."
    )
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    return case


def test_OG_6_5_a_closed_case_is_reopened_within_the_window_for_the_same_search_reason_only(
    client, world, sign_in, clock
):
    case = _closed(world, clock)
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    until = case.reopen_until.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    assert "Återuppta ärendet" in page and f"till och med {until}" in page
    new_reason = post(client, f"/resident/cases/{case.id}/reopen", {"search_reason": ""})
    text = new_reason.get_data(as_text=True)
    assert new_reason.status_code == 422 and "samma sökorsak" in text and "Sök vård för något nytt" in text
    assert post(client, f"/resident/cases/{case.id}/reopen", {"search_reason": "Halsont"}).status_code == 303
    [event] = audit(world.session, "case:reopen_requested")
    assert event.actor_label == "Anna Andersson"
    [case_now] = read(world.session, select(type(case)).where(type(case).id == case.id))
    assert case_now.state == CaseState.STARTED and case_now.after_close


def test_OG_6_5_after_the_window_the_case_can_no_longer_be_reopened_or_answered(
    client, world, sign_in, clock
):
    case = _closed(world, clock)
    clock.advance(days=4)
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert (
        "Återuppta ärendet" not in page and 'name="body"' not in page and "skapar du ett nytt ärende" in page
    )
    late = post(client, f"/resident/cases/{case.id}/reopen", {"search_reason": "Halsont"})
    assert late.status_code == 422 and "kan inte längre återupptas" in late.get_data(as_text=True)


def test_a_resident_cannot_read_or_act_in_someone_elses_case_and_the_attempt_is_logged(
    client, world, sign_in
):
    case, nurse = _started(world, "other")
    form = chat.send_form(world.session, actor=nurse, case_id=case.id, form_key="demo_mood")
    world.session.commit()
    sign_in("adult")
    for response in (
        client.get(f"/resident/cases/{case.id}"),
        client.get(f"/resident/forms/{form.id}"),
        post(client, f"/resident/cases/{case.id}/messages", {"body": "Hej"}),
        post(client, f"/resident/forms/{form.id}", {"q1": "0"}),
    ):
        assert response.status_code == 403 and "Åtkomst nekad" in response.get_data(as_text=True)
    refused = access_rows(world.session, action="resident:refused", case_id=case.id)
    assert len(refused) == 4 and {r.actor_label for r in refused} == {"Anna Andersson"}
    assert logged_patients(world.session, refused[0]) == {world.patients["other"].id}
    assert len(audit(world.session, "resident:access_refused")) == 4
    assert not access_rows(world.session, action="resident:case", case_id=case.id)
    assert "Hej" not in read(world.session, select(ChatMessage.body).where(ChatMessage.case_id == case.id))


def test_OG_6_4_b_the_guardian_loses_access_on_the_childs_13th_birthday_and_the_child_takes_over(
    client, world, sign_in, clock
):
    today = clock.now().astimezone(STOCKHOLM).date()
    world.patients["child"].birth_date = date(today.year - 13, today.month, today.day) + timedelta(days=2)
    world.session.commit()
    case, _nurse = _started(world, "child", by="guardian")
    sign_in("guardian")
    assert client.get(f"/resident/cases/{case.id}").status_code == 200
    clock.advance(days=2)
    assert client.get(f"/resident/cases/{case.id}").status_code == 403
    assert post(client, f"/resident/cases/{case.id}/messages", {"body": "Hej"}).status_code == 403
    assert f"/resident/cases/{case.id}" not in client.get("/resident/").get_data(as_text=True)
    sign_in("child")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert "Hej, hur länge har du haft ont?" in page
    assert (
        post(client, f"/resident/cases/{case.id}/messages", {"body": "Jag svarar själv nu."}).status_code
        == 303
    )


def test_OG_6_5_HA_close_plus1_an_answer_after_closing_within_the_window_goes_back_to_the_unit(
    client, world, sign_in, clock
):
    case = _closed(world, clock)
    sign_in("adult")
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert "Ärendet är avslutat, men du kan svara till och med" in page and 'name="body"' in page
    assert (
        post(
            client, f"/resident/cases/{case.id}/messages", {"body": "En fråga till om samma sak."}
        ).status_code
        == 303
    )
    [case_now] = read(world.session, select(type(case)).where(type(case).id == case.id))
    assert case_now.state == CaseState.STARTED and case_now.after_close


def test_the_pages_read_in_english_when_chosen_with_swedish_content_marked_as_such(client, world, sign_in):
    case, _nurse = _started(world)
    sign_in("adult")
    post(client, "/language", {"lang": "en", "next": "/resident/"})
    start = client.get("/resident/").get_data(as_text=True)
    assert '<html lang="en">' in start and "My cases" in start and "Ongoing" in start
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert (
        "Write a message" in page
        and '<p class="message-body" lang="sv">Hej, hur länge har du haft ont?</p>' in page
    )


def test_htmx_requests_without_a_resident_are_sent_to_sign_in_as_a_whole_page(client, world):
    response = client.post(
        "/resident/cases/1/messages",
        data={"body": "Hej"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf(client)},
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/resident/login")


def test_the_chat_follows_itself_new_messages_arrive_without_a_reload_and_each_showing_is_logged(
    client, world, sign_in
):
    case, nurse = _started(world)
    sign_in("adult")
    last = read(world.session, select(ChatMessage.id).where(ChatMessage.case_id == case.id))[-1]
    page = client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    assert (
        f'hx-get="/resident/cases/{case.id}/messages/new?after={last}" hx-headers=\'{{"X-Vardflode-Poll": "1"}}\' hx-trigger="every 20s"'
        in page
    )
    poll = f"/resident/cases/{case.id}/messages/new?after={last}"
    quiet = client.get(poll, headers={"HX-Request": "true"})
    assert quiet.status_code == 204 and not access_rows(world.session, action="resident:chat_new")
    chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Har du feber?")
    world.session.commit()
    news = client.get(poll, headers={"HX-Request": "true"})
    fragment = news.get_data(as_text=True)
    newest = read(world.session, select(ChatMessage.id).where(ChatMessage.case_id == case.id))[-1]
    assert news.status_code == 200 and "Har du feber?" in fragment
    assert 'hx-swap-oob="beforeend:#message-list"' in fragment and "Hej, hur länge" not in fragment
    assert f"messages/new?after={newest}" in fragment  # the next poll asks only for what is newer still
    assert 'data-announce="Nytt meddelande i ärendet."' in fragment and "data-focus" not in fragment
    [logged] = access_rows(world.session, action="resident:chat_new", case_id=case.id)
    assert logged_patients(world.session, logged) == {world.patients["adult"].id}
    without_js = client.get(poll)
    assert without_js.status_code == 302 and without_js.headers["Location"].endswith(f"/cases/{case.id}#chat")


def test_the_chat_poll_refuses_someone_elses_case_logged_and_stops_quietly_when_signed_out(
    client, world, sign_in
):
    case, _nurse = _started(world, "other")
    sign_in("adult")
    refused = client.get(f"/resident/cases/{case.id}/messages/new?after=0", headers={"HX-Request": "true"})
    assert refused.status_code == 403 and "Hej, hur länge" not in refused.get_data(as_text=True)
    assert access_rows(world.session, action="resident:refused", case_id=case.id)
    post(client, "/resident/logout")
    # 286 makes htmx stop polling; the page (and anything typed in it) stays where it is.
    stopped = client.get(f"/resident/cases/{case.id}/messages/new?after=0", headers={"HX-Request": "true"})
    assert stopped.status_code == 286 and stopped.get_data() == b""


def test_OG_6_5_a_closed_case_past_its_window_no_longer_asks_for_new_messages(client, world, sign_in, clock):
    case = _closed(world, clock)
    sign_in("adult")
    assert 'id="chat-poll"' in client.get(f"/resident/cases/{case.id}").get_data(as_text=True)
    clock.advance(days=30)
    assert 'id="chat-poll"' not in client.get(f"/resident/cases/{case.id}").get_data(as_text=True)


def test_an_answer_after_closing_that_the_routine_fails_to_take_keeps_the_text_and_records_an_incident(
    client, world, sign_in, clock, monkeypatch
):
    """The routine fails while catching the patient's answer (a bare SpiffWorkflow error): nothing is
    saved, the resident gets plain words and the typed text back, and operations get an incident."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    from app.instances.models import Incident

    case = _closed(world, clock)
    sign_in("adult")

    def broken(workflow, event):
        raise KeyError("lost")

    monkeypatch.setattr(BpmnWorkflow, "send_event", broken)
    response = post(client, f"/resident/cases/{case.id}/messages", {"body": "En fråga till efteråt."})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "ingenting sparades" in page and "En fråga till efteråt." in page and "KeyError" not in page
    assert read(world.session, select(ChatMessage).where(ChatMessage.body == "En fråga till efteråt.")) == []
    [incident] = read(world.session, select(Incident))
    assert incident.error_type == "KeyError" and incident.instance_id is not None
