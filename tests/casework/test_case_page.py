"""Reading the case page: what it shows, who may read it, the access log, and the chat paged from the newest."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import insert, select

from app.audit.models import AuditEvent
from app.cases.models import ChatMessage, MessageAuthor
from app.patients.models import IdentityKind, Protection
from tests.casework.conftest import access_log, read, started, version_in


def test_the_page_shows_patient_age_search_reason_anamnesis_priority_state_and_owner(world, staff):
    case = world.submit("adult")
    html = staff("nurse").page(case.id)
    assert "Anna Andersson" in html and "<dt>Personnummer</dt><dd>19920301-2381</dd>" in html
    assert "34 år" in html  # born 1 March 1992, read on 23 November 2026
    assert "Halsont" in html and "Ont i halsen sedan tre dagar" in html
    assert "Prioritet 3" in html and "Nytt" in html
    assert "i kön för Sjuksköterska" in html
    started(world, case)
    html = staff("nurse").page(case.id)
    assert "Pågående" in html and "Nurse OG" in html


def test_a_case_a_guardian_submitted_names_the_guardian_and_a_protected_identity_is_marked(world, staff):
    case = world.submit("child", by="guardian", protected=True)
    html = staff("nurse").page(case.id)
    assert "vårdnadshavare Bertil Berg" in html
    assert "Skyddad identitet" in html and "uppgiven av patienten" in html
    world.patients["child"].protection = Protection.CONFIRMED
    world.session.commit()
    assert "bekräftad i journalsystemet" in staff("nurse").page(case.id)
    plain = world.submit("other")
    html = staff("nurse").page(plain.id)
    assert "Skyddad identitet" not in html and "Inskickat av" not in html


def test_every_read_of_the_case_writes_the_access_log_with_the_patient(world, staff):
    case = world.submit("adult")
    nurse = staff("nurse")
    nurse.page(case.id)
    nurse.page(case.id)
    rows = access_log(world, "case:view")
    assert rows == [(nurse.user.id, case.id, [case.patient_id])] * 2


def test_a_clinician_of_another_unit_gets_403_and_the_refused_read_is_logged(world, staff):
    case = world.submit("adult", unit="og")
    outsider = staff("ha_nurse")
    response = outsider.get(f"/cases/{case.id}")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Åtkomst nekad" in body and "Anna" not in body and "Halsont" not in body
    assert access_log(world, "case:view") == []
    assert access_log(world, "case:view_refused") == [(outsider.user.id, case.id, [case.patient_id])]
    assert read(world, select(AuditEvent.id).where(AuditEvent.action == "case:read_refused")) is not None
    # Every way into the case is refused alike: older messages, images, actions.
    assert (
        outsider.get(f"/cases/{case.id}/messages?before=5", headers={"HX-Request": "true"}).status_code == 403
    )
    assert outsider.post(f"/cases/{case.id}/remind").status_code == 403
    assert len(access_log(world, "case:view_refused")) == 3
    # A stale page version does not turn the refusal into a conflict that would confirm the case exists.
    stale = outsider.post(f"/cases/{case.id}/receive", {"expected_version": "0", "priority": "3"})
    assert stale.status_code == 403 and len(access_log(world, "case:view_refused")) == 4


def test_an_action_refused_to_a_reader_is_shown_with_the_reason_and_audited(world, staff):
    """A doctor may read the nurses' case but not receive it: the page says why, and the refusal is recorded."""
    case = world.submit("adult")
    version = version_in(staff("nurse").page(case.id), "receive")  # the doctor's page offers no such form
    doctor = staff("doctor")
    refused = doctor.post(f"/cases/{case.id}/receive", {"expected_version": str(version)})
    assert refused.status_code == 403 and "annan yrkesrolls kö" in refused.get_data(as_text=True)
    audited = read(world, select(AuditEvent.actor_user_id).where(AuditEvent.action == "case:action_refused"))
    assert audited == doctor.user.id


def test_an_unknown_case_is_404_and_the_page_needs_a_signed_in_user(world, staff, client):
    assert staff("nurse").get("/cases/999").status_code == 404
    assert client.get("/cases/1").status_code == 302  # to the login page


def _messages(world, case, count: int) -> None:
    base = world.session.get(type(case), case.id).started_at
    world.session.execute(
        insert(ChatMessage),
        [
            {
                "case_id": case.id,
                "author": MessageAuthor.PATIENT if i % 2 else MessageAuthor.STAFF,
                "author_user_id": None if i % 2 else world.staff["nurse"][0].id,
                "author_patient_id": case.patient_id if i % 2 else None,
                "body": f"Meddelande nummer {i}",
                "sent_at": base + timedelta(seconds=i),
            }
            for i in range(1, count + 1)
        ],
    )
    world.session.commit()


def test_the_chat_shows_only_the_latest_page_and_pages_back_with_and_without_javascript(world, staff):
    case = world.submit("adult")
    started(world, case)
    _messages(world, case, 75)  # 76 with the first message
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert "Meddelande nummer 75" in html and "Meddelande nummer 46" in html
    assert "Meddelande nummer 45<" not in html
    assert "Visa tidigare meddelanden" in html
    ids = [int(i) for i in __import__("re").findall(r'id="msg-(\d+)"', html)]
    assert len(ids) == 30 and ids == sorted(ids)
    # Without JavaScript: the page itself, one page back.
    older = nurse.page(case.id, query_string={"before": ids[0]})
    assert (
        "Meddelande nummer 45" in older
        and "Meddelande nummer 16" in older
        and "Meddelande nummer 46" not in older
    )
    assert "Till de senaste meddelandena" in older
    # With htmx: only the fragment, ending at the oldest.
    fragment = nurse.get(
        f"/cases/{case.id}/messages", query_string={"before": ids[0]}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and "Meddelande nummer 16" in fragment and "Visa tidigare" in fragment
    last = nurse.get(
        f"/cases/{case.id}/messages",
        query_string={"before": min(int(i) for i in __import__("re").findall(r'id="msg-(\d+)"', fragment))},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "Hej, jag heter Nurse" in last and "Visa tidigare" not in last
    assert [a for _, _, a in access_log(world, "case:messages")] == [[case.patient_id]] * 2


def test_only_the_actions_of_the_open_task_are_offered(world, staff):
    case = world.submit("adult")
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert f'action="/cases/{case.id}/receive"' in html
    for absent in ("start", "close", "handover", "chat", "remind"):
        assert f'action="/cases/{case.id}/{absent}"' not in html
    started(world, case)
    html = nurse.page(case.id)
    for present in (
        "close",
        "handover",
        "suicide-risk",
        "meeting-form",
        "chat",
        "remind",
        "phone",
        "images/request",
        "invite",
    ):
        assert f'action="/cases/{case.id}/{present}"' in html, present
    assert f'action="/cases/{case.id}/receive"' not in html and f'action="/cases/{case.id}/start"' not in html
    assert f'action="/cases/{case.id}/order-tests"' not in html  # a nurse orders no tests (OG-6.2)


def test_a_colleague_who_may_read_but_not_act_sees_the_case_without_its_forms(world, staff):
    case = world.submit("adult")
    started(world, case)  # owned by the nurse now
    html = staff("nurse2").page(case.id)
    assert "Du kan läsa ärendet men inte hantera det" in html
    assert f'action="/cases/{case.id}/close"' not in html and f'action="/cases/{case.id}/chat"' not in html
    assert "Hej, jag heter Nurse" in html


def test_a_case_page_marks_the_patient_list_as_its_area_in_the_header(world, staff):
    """Not "Att dokumentera", though both pages are the casework blueprint's: a case is opened from the list."""
    case = world.submit("adult")
    header = staff("nurse").page(case.id).split("</header>")[0]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', header) == ["/"]


def test_a_reservnummer_is_named_so_and_shown_as_written(world, staff):
    case = world.submit("other")
    patient = world.patients["other"]
    patient.identity_kind, patient.identity_number = IdentityKind.RESERVNUMMER, "RES-OG-000042"
    world.session.commit()
    html = staff("nurse").page(case.id)
    assert "<dt>Reservnummer</dt><dd>RES-OG-000042</dd>" in html


def test_the_tasks_role_is_named_in_the_readers_language(world, staff):
    case = world.submit("adult")
    client = staff("nurse")
    with client.client.session_transaction() as browser:
        browser["lang"] = "en"
    assert "Role: Nurse" in client.page(case.id)


def test_role_names_on_the_case_page_are_in_the_readers_language_everywhere(world, staff):
    """The queue, the chat author, the colleagues to invite or hand over to and the consent's recipient
    named the role in Swedish on the English page ("in the queue for Sjuksköterska")."""
    from app.cases import handling

    case = world.submit("adult")
    world.session.commit()
    client = staff("nurse")
    with client.client.session_transaction() as browser:
        browser["lang"] = "en"
    assert "Nobody – in the queue for Nurse" in client.page(case.id)
    started(world, case)
    html = client.page(case.id)
    assert "Nurse OG, Nurse" in html  # the first message's author
    assert re.search(r"Doctor OG \(Doctor\)", html)  # invite / hand over to a named colleague
    assert '<option value="Läkare">Doctor</option>' in html  # the handover role: value kept, label read
    handling.hand_over(
        world.session, world.engine, actor=world.actor("nurse"), case_id=case.id, role="Läkare", note=""
    )
    world.session.commit()
    html = client.page(case.id)
    assert "to Doctor" in html and "Sjuksköterska" not in html and "Läkare<" not in html


def test_a_state_has_one_name_on_the_case_page_the_patient_list_and_the_control_tower(world, staff):
    """The same started case read "Startad" on its page and "Pågående" in the list and the tower."""
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    assert "<dt>Status</dt><dd>Pågående</dd>" in nurse.page(case.id)
    listing = nurse.get("/").get_data(as_text=True)
    assert "Pågående" in listing and "Startad" not in listing
    with nurse.client.session_transaction() as browser:
        browser["lang"] = "en"
    assert "<dt>Status</dt><dd>Ongoing</dd>" in nurse.page(case.id)


def test_OG_6_5_a_case_reopened_without_a_message_is_not_said_to_have_an_answer(world, staff, clock):
    """Reopening (OG-6.5) and answering after closing both bring the case back; the page said "the patient
    has answered after closing" for a reopening with no message."""
    from app.cases import chat, handling

    case = world.submit("adult")
    started(world, case)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack!"
    )
    handling.close(
        world.session,
        world.engine,
        actor=world.actor("nurse"),
        case_id=case.id,
        concluded_in_dialogue=True,
        confirmed=True,
    )
    world.session.commit()
    clock.advance(hours=2)  # the next morning, say: the resident reopens without writing
    chat.reopen(
        world.session,
        world.engine,
        actor=world.resident("adult"),
        case_id=case.id,
        search_reason=case.search_reason,
    )
    world.session.commit()
    html = staff("nurse").page(case.id)
    assert "patienten har öppnat ärendet igen efter avslut" in html and "har svarat efter avslut" not in html


def test_OG_7_an_administrative_case_page_offers_the_chat_and_not_the_clinical_contact_tools(world, staff):
    """Its staff answer in the chat (the case is never started); reminders, phone attempts, images and
    forms are a started clinical case's, and were offered only to be refused."""
    from app.cases.models import CaseKind

    case = world.submit("adult", kind=CaseKind.ADMIN)
    world.session.commit()
    html = staff("admin").page(case.id)
    assert f'action="/cases/{case.id}/chat"' in html
    assert f'action="/cases/{case.id}/remind"' not in html and f'action="/cases/{case.id}/images"' not in html
