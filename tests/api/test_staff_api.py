"""Staff endpoints: the patient list, reading a case, and the actions on it, through the same services,
guards and access log as the pages."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.cases.models import AttemptKind, CaseState, ChatMessage, Consent, ContactAttempt
from app.instances.models import HumanTask
from tests.api.conftest import documented


def _receive_and_start(api, case_id: int, who: str = "nurse") -> None:
    assert api.post(f"/cases/{case_id}/receive", who, json={}).status_code == 200
    assert (
        api.post(f"/cases/{case_id}/start", who, json={"first_message": "Hej! Hur mår du?"}).status_code
        == 200
    )


def test_HA_prio_a_the_patient_list_comes_in_handling_order_and_is_access_logged(api, world):
    """HA-prio-a, OG-10.1-g: priority 1 first; one access-log row names every patient listed (HA-logcheck)."""
    ordinary = world.submit("adult")
    urgent = world.submit("other", breathing=True)
    response = api.get("/tasks", "nurse")
    body = documented(response, "/tasks")
    assert [(t["case_id"], t["priority"]) for t in body["items"]] == [(urgent.id, 1), (ordinary.id, 3)]
    assert body["items"][0]["patient"]["name"] == "Fredrik Fors" and body["items"][0]["version"] >= 1
    [row] = api.access_log()
    assert row == (
        "api:worklist:list",
        world.staff["nurse"][0].id,
        sorted([world.patients["adult"].id, world.patients["other"].id]),
    )
    # Another unit's staff sees none of them.
    assert api.get("/tasks", "ha_nurse").json["items"] == []


def test_HA_logcheck_reading_a_case_shows_its_tasks_and_chat_and_writes_the_access_log(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    response = api.get(f"/cases/{case.id}", "nurse")
    body = documented(response, "/cases/{case_id}")
    assert body["case"]["state"] == "started" and body["case"]["patient"]["identity_number"] == "199203012381"
    assert [t["title"] for t in body["open_tasks"]] == ["Handlägg ärendet"]
    assert body["open_tasks"][0]["version"] == body["case"]["version"]
    assert (
        body["messages"]["items"][-1]["body"] == "Hej! Hur mår du?"
        and body["messages"]["next_before_id"] is None
    )
    assert body["closing"]["earliest"] is not None and "kontaktförsök" in body["closing"]["missing"]
    assert ("api:case:read", world.staff["nurse"][0].id, [case.patient_id]) in api.access_log(case.id)


def test_HA_logcheck_another_units_case_is_refused_with_403_and_the_attempt_is_in_the_access_log(api, world):
    case = world.submit("adult")  # at Vårdcentralen Ekdalen (Östergötland)
    response = api.get(f"/cases/{case.id}", "ha_nurse")
    problem = documented(response, "/cases/{case_id}")
    assert (
        response.status_code == 403
        and problem["code"] == "forbidden"
        and problem["type"] == "urn:vardflode:problem:forbidden"
    )
    assert "patient_id" not in problem
    assert api.access_log(case.id) == [
        ("api:get_case:refused", world.staff["ha_nurse"][0].id, [case.patient_id])
    ]
    # The same for its chat and for acting on it.
    assert api.get(f"/cases/{case.id}/messages", "ha_nurse").status_code == 403
    assert api.post(f"/cases/{case.id}/receive", "ha_nurse", json={}).status_code == 403
    assert [a for a, _, _ in api.access_log(case.id)][1:] == [
        "api:list_messages:refused",
        "api:receive_case:refused",
    ]
    assert world.session.get(type(case), case.id).state == CaseState.NEW


def test_OG_6_1_b_c_d_receive_start_write_and_close_in_dialogue_through_the_api(api, world, clock):
    """OG-6.1-b receive (priority changed, HA-prio-b), OG-6.1-d start, chat, HA-close-confirm, then closed."""
    case = world.submit("adult")
    received = api.post(
        f"/cases/{case.id}/receive", "nurse", json={"new_priority": 2, "priority_reason": "Hög feber"}
    )
    summary = documented(received, "/cases/{case_id}/receive", "post")["case"]
    assert (
        summary["state"] == "received"
        and summary["priority"] == 2
        and summary["owner_user_id"] == world.staff["nurse"][0].id
    )
    started = api.post(
        f"/cases/{case.id}/start",
        "nurse",
        json={
            "first_message": "Hej Anna, hur länge har du haft ont?",
            "expected_version": summary["version"],
        },
    )
    assert documented(started, "/cases/{case_id}/start", "post")["case"]["state"] == "started"
    clock.advance(minutes=5)
    assert (
        api.post(
            f"/resident/cases/{case.id}/messages", "adult", json={"body": "Sedan i fredags."}
        ).status_code
        == 201
    )
    written = api.post(f"/cases/{case.id}/messages", "nurse", json={"body": "Tack. Vila och drick varmt."})
    assert documented(written, "/cases/{case_id}/messages", "post")["message"]["author"] == "staff"
    clock.advance(minutes=5)
    api.post(f"/resident/cases/{case.id}/messages", "adult", json={"body": "Tack!"})

    refused = api.post(f"/cases/{case.id}/close", "nurse", json={"concluded_in_dialogue": True})
    problem = documented(refused, "/cases/{case_id}/close", "post")
    assert (
        refused.status_code == 422
        and problem["code"] == "guard_refused"
        and problem["rule"] == "HA-close-confirm"
    )
    closed = api.post(
        f"/cases/{case.id}/close", "nurse", json={"concluded_in_dialogue": True, "confirmed": True}
    )
    assert documented(closed, "/cases/{case_id}/close", "post")["case"]["state"] == "closed"
    page = api.get(f"/cases/{case.id}/messages", "nurse", query_string={"limit": 2})
    messages = documented(page, "/cases/{case_id}/messages")
    assert [m["phrase_purpose"] for m in messages["items"]] == ["closing", "reopen_possible"] and messages[
        "next_before_id"
    ] == messages["items"][0]["id"]
    assert "{unit}" not in messages["items"][0]["body"]  # phrase placeholders are filled for reading
    older = api.get(
        f"/cases/{case.id}/messages",
        "nurse",
        query_string={"limit": 50, "before_id": messages["next_before_id"]},
    ).json
    assert older["items"][0]["body"].startswith("Hej Anna") and older["next_before_id"] is None


def test_OG_6_1_f_g_closing_an_unanswered_case_too_early_is_refused_with_the_rule_and_earliest_time(
    api, world, clock
):
    """OG-6.1-g: no contact attempts yet; OG-6.1-f: attempts made, six working hours not yet: the earliest time."""
    case = world.submit("adult")
    _receive_and_start(api, case.id)  # started Monday 09:01 Stockholm
    first = api.post(f"/cases/{case.id}/close", "nurse", json={"confirmed": True})
    problem = documented(first, "/cases/{case_id}/close", "post")
    assert (first.status_code, problem["rule"]) == (422, "OG-6.1-g") and "earliest" in problem
    clock.advance(hours=1)
    reminded = api.post(f"/cases/{case.id}/remind", "nurse")
    assert documented(reminded, "/cases/{case_id}/remind", "post")["attempt"]["kind"] == "sms_reminder"
    clock.advance(hours=2)
    api.post(f"/cases/{case.id}/messages", "nurse", json={"body": "Hej igen, hur mår du nu?"})
    second = api.post(f"/cases/{case.id}/close", "nurse", json={"confirmed": True})
    problem = documented(second, "/cases/{case_id}/close", "post")
    assert (
        problem["rule"] == "OG-6.1-f" and problem["earliest"] == "2026-11-23T14:01:00+00:00"
    )  # 15:01 Stockholm
    assert api.get(f"/cases/{case.id}", "nurse").json["closing"] == {
        "earliest": "2026-11-23T14:01:00+00:00",
        "missing": None,
    }
    clock.advance(hours=3, minutes=1)
    assert (
        api.post(f"/cases/{case.id}/close", "nurse", json={"confirmed": True}).json["case"]["state"]
        == "closed"
    )


def test_HA_remind_an_sms_reminder_is_refused_once_the_patient_has_answered(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    assert api.post(f"/cases/{case.id}/remind", "nurse").status_code == 201
    api.post(f"/resident/cases/{case.id}/messages", "adult", json={"body": "Hej, jag är här."})
    refused = api.post(f"/cases/{case.id}/remind", "nurse")
    assert documented(refused, "/cases/{case_id}/remind", "post")["rule"] == "HA-remind"
    attempts = world.session.scalars(
        select(ContactAttempt.kind).where(ContactAttempt.case_id == case.id).order_by(ContactAttempt.id)
    ).all()
    assert [a.value for a in attempts] == [
        "chat",
        "sms_reminder",
    ]  # the first message; the refused one added nothing


def test_a_stale_expected_version_is_a_409_conflict_and_changes_nothing(api, world):
    case = world.submit("adult")
    version = api.get(f"/cases/{case.id}", "nurse").json["case"]["version"]
    assert (
        api.post(f"/cases/{case.id}/receive", "nurse", json={"expected_version": version}).status_code == 200
    )
    stale = api.post(f"/cases/{case.id}/start", "nurse", json={"expected_version": version})
    problem = documented(stale, "/cases/{case_id}/start", "post")
    assert stale.status_code == 409 and problem["code"] == "conflict" and problem["current_version"] > version
    assert world.session.get(type(case), case.id).state == CaseState.RECEIVED
    # Doing a step twice is a conflict as well: the routine no longer waits for it.
    again = api.post(f"/cases/{case.id}/receive", "nurse", json={})
    assert again.status_code == 409 and again.json["code"] == "conflict"


def test_HA_handover_consent_a_handover_waits_for_the_residents_consent_given_through_the_api(api, world):
    """HA-handover-consent, OG-8.6: handed over to Läkare, the case waits; the resident consents; the doctor's queue."""
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    handed = api.post(
        f"/cases/{case.id}/handover", "nurse", json={"role": "Läkare", "note": "Behöver läkarbedömning"}
    )
    assert documented(handed, "/cases/{case_id}/handover", "post")["case"]["state"] == "handed_over"
    assert api.get("/tasks", "doctor").json["items"] == []
    view = api.get(f"/resident/cases/{case.id}", "adult").json
    [consent] = [c for c in view["consents"] if c["answer"] == "pending"]
    assert consent["kind"] == "handover"
    answered = api.post(f"/resident/consents/{consent['id']}/answer", "adult", json={"given": True})
    assert (
        documented(answered, "/resident/consents/{consent_id}/answer", "post")["consent"]["answer"] == "given"
    )
    [task] = api.get("/tasks", "doctor").json["items"]
    assert (task["case_id"], task["role"], task["title"]) == (case.id, "Läkare", "Handlägg ärendet")
    twice = api.post(f"/resident/consents/{consent['id']}/answer", "adult", json={"given": False})
    assert twice.status_code == 409
    assert world.session.get(Consent, consent["id"]).answer.value == "given"


def test_OG_8_6_a_handover_outside_the_units_routine_is_refused_with_the_rule(api, world):
    unit = world.units["og"]
    unit.settings = {**unit.settings, "handover_roles": {"Sjuksköterska": ["Läkare"]}}
    world.session.commit()
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    refused = api.post(f"/cases/{case.id}/handover", "nurse", json={"role": "Fysioterapeut"})
    assert documented(refused, "/cases/{case_id}/handover", "post")["rule"] == "OG-8.6"
    invalid = api.post(f"/cases/{case.id}/handover", "nurse", json={"role": "Trollkarl"})
    assert (
        invalid.status_code == 422
        and invalid.json["code"] == "validation_failed"
        and "role" in invalid.json["errors"]
    )


def test_completing_a_task_validates_its_form_data_field_by_field_and_a_valid_completion_moves_the_case(
    api, world
):
    """The generic completion: the task's own form (forms/receive.schema.json) validates the data."""
    case = world.submit("adult")
    [task] = api.get("/tasks", "nurse").json["items"]
    detail = documented(api.get(f"/tasks/{task['id']}", "nurse"), "/tasks/{task_id}")
    assert (
        detail["form_schema"]["title"] == "Ta emot ärendet"
        and detail["task"]["form"] == "receive.schema.json"
    )
    invalid = api.post(f"/tasks/{task['id']}/complete", "nurse", json={"data": {"new_priority": 9}})
    problem = documented(invalid, "/tasks/{task_id}/complete", "post")
    assert invalid.status_code == 422 and problem["code"] == "validation_failed"
    assert set(problem["errors"]) == {"new_priority", "priority_checked"}
    assert world.session.get(type(case), case.id).state == CaseState.NEW  # nothing changed
    done = api.post(
        f"/tasks/{task['id']}/complete",
        "nurse",
        json={"data": {"priority_checked": True}, "expected_version": detail["task"]["version"]},
    )
    result = documented(done, "/tasks/{task_id}/complete", "post")
    assert result["case"]["state"] == "received" and result["instance_version"] > detail["task"]["version"]
    gone = api.post(f"/tasks/{task['id']}/complete", "nurse", json={"data": {"priority_checked": True}})
    assert gone.status_code == 409


def test_a_task_in_another_roles_queue_cannot_be_completed(api, world):
    case = world.submit("adult")
    task = world.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    refused = api.post(f"/tasks/{task.id}/complete", "admin", json={"data": {"priority_checked": True}})
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    assert api.get(f"/tasks/{task.id}", "ha_nurse").status_code == 403


def test_input_errors_are_problem_json_with_field_errors(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    blank = api.post(f"/cases/{case.id}/messages", "nurse", json={"body": ""})
    assert blank.status_code == 422 and blank.json["errors"] == {"body": ["minst 1 tecken"]}
    unknown = api.post(f"/cases/{case.id}/close", "nurse", json={"confirmed": True, "surprise": 1})
    assert unknown.status_code == 422 and unknown.json["code"] == "validation_failed"
    not_json = api.post(
        f"/cases/{case.id}/messages",
        "nurse",
        data="body=hej",
        content_type="application/x-www-form-urlencoded",
    )
    assert not_json.status_code == 415 and not_json.mimetype == "application/problem+json"
    broken = api.post(f"/cases/{case.id}/messages", "nurse", data="{", content_type="application/json")
    assert broken.status_code == 400 and broken.json["code"] == "bad_request"
    bad_query = api.get(f"/cases/{case.id}/messages", "nurse", query_string={"limit": "many"})
    assert bad_query.status_code == 422 and bad_query.json["errors"] == {"limit": ["expected an integer"]}
    missing = api.get("/cases/999999", "nurse")
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    assert world.session.scalar(select(ChatMessage.id).where(ChatMessage.body == "")) is None


def test_a_routine_that_fails_mid_action_rolls_the_action_back_and_records_an_incident(
    api, world, monkeypatch
):
    from app.api import staff
    from app.cases.lookup import case_instance
    from app.instances.incidents import RoutineFailed
    from app.instances.models import Incident

    case = world.submit("adult")
    instance_id, nurse_id, submitted = (
        case_instance(world.session, case.id).id,
        world.staff["nurse"][0].id,
        case.submitted_at,
    )

    def broken(session, engine, **kwargs):
        # The real service would have written rows by now: they must not survive the failure.
        session.add(
            ContactAttempt(case_id=kwargs["case_id"], kind=AttemptKind.PHONE, made_by=nurse_id, at=submitted)
        )
        raise RoutineFailed(
            "script failed", instance_id=instance_id, element_id="Receive_case", error_type="ScriptError"
        )

    monkeypatch.setattr(staff.actions.handling, "receive", broken)
    response = api.post(f"/cases/{case.id}/receive", "nurse", json={})
    assert (
        response.status_code == 500
        and response.json["code"] == "routine_failed"
        and "script failed" not in response.json["detail"]
    )
    [incident] = world.session.scalars(select(Incident)).all()
    assert (incident.instance_id, incident.element_id) == (instance_id, "Receive_case")
    assert world.session.scalar(select(ContactAttempt.id)) is None  # the action's own writes were rolled back


def test_a_concurrent_change_detected_at_write_time_is_a_409(api, world, monkeypatch):
    from sqlalchemy.orm.exc import StaleDataError

    from app.api import staff

    case = world.submit("adult")

    def raced(*args, **kwargs):
        raise StaleDataError(
            "UPDATE statement on table 'care_case' expected to update 1 row(s); 0 were matched."
        )

    monkeypatch.setattr(staff.actions.handling, "receive", raced)
    response = api.post(f"/cases/{case.id}/receive", "nurse", json={})
    assert (response.status_code, response.json["code"]) == (409, "conflict")


def test_HA_suicide_b_suspected_suicide_risk_goes_to_the_psychologist_at_once_without_a_consent(api, world):
    """HA-suicide-b (no HA-handover-consent step): the psychologist's queue has the case at once."""
    case = world.submit("adult", reason="nedstamdhet")
    _receive_and_start(api, case.id)
    version = api.get(f"/cases/{case.id}", "nurse").json["case"]["version"]
    handed = api.post(
        f"/cases/{case.id}/suicide-risk",
        "nurse",
        json={"note": "Uttrycker hopplöshet", "expected_version": version},
    )
    assert documented(handed, "/cases/{case_id}/suicide-risk", "post")["case"]["handling_role"] == "Psykolog"
    assert world.session.scalar(select(Consent.id).where(Consent.case_id == case.id)) is None
    [task] = [t for t in api.get("/tasks", "psychologist").json["items"] if t["case_id"] == case.id]
    assert task["role"] == "Psykolog"


def test_HA_prio_b_a_changed_priority_needs_its_reason_as_on_the_case_page(api, world):
    case = world.submit("adult")
    refused = api.post(f"/cases/{case.id}/receive", "nurse", json={"new_priority": 2})
    problem = documented(refused, "/cases/{case_id}/receive", "post")
    assert refused.status_code == 422 and problem["errors"] == {"priority_reason": ["required"]}
    assert world.session.get(type(case), case.id).state == CaseState.NEW


def test_a_stale_handover_is_a_409_with_the_version_now_and_hands_nothing_over(api, world):
    case = world.submit("adult")
    version = api.get(f"/cases/{case.id}", "nurse").json["case"]["version"]
    _receive_and_start(api, case.id)
    stale = api.post(
        f"/cases/{case.id}/handover", "nurse", json={"role": "Läkare", "expected_version": version}
    )
    problem = documented(stale, "/cases/{case_id}/handover", "post")
    assert stale.status_code == 409 and problem["current_version"] > version
    assert world.session.get(type(case), case.id).state == CaseState.STARTED
    # Someone who may not read the case is not told its version.
    foreign = api.post(
        f"/cases/{case.id}/handover", "ha_nurse", json={"role": "Läkare", "expected_version": version}
    )
    assert "current_version" not in foreign.json


def test_OG_11_f_staff_ask_for_an_image_and_the_residents_upload_answers_that_request(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    blank = api.post(f"/cases/{case.id}/image-requests", "nurse", json={"instructions": "   "})
    assert blank.status_code == 422 and "instructions" in blank.json["errors"]
    asked = api.post(
        f"/cases/{case.id}/image-requests",
        "nurse",
        json={"instructions": "Ta en bild på utslaget i dagsljus."},
    )
    wanted = documented(asked, "/cases/{case_id}/image-requests", "post")["image_request"]
    assert asked.status_code == 201 and wanted["fulfilled_at"] is None
    [shown] = api.get(f"/resident/cases/{case.id}", "adult").json["image_requests"]
    assert shown["instructions"] == "Ta en bild på utslaget i dagsljus."
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    uploaded = api.post(
        f"/resident/cases/{case.id}/images",
        "adult",
        data={"file": (io.BytesIO(png), "utslag.png", "image/png"), "request_id": str(wanted["id"])},
    )
    assert uploaded.status_code == 201
    [request] = api.get(f"/cases/{case.id}", "nurse").json["image_requests"]
    assert request["fulfilled_at"] is not None
    assert (
        api.post(f"/cases/{case.id}/image-requests", "ha_nurse", json={"instructions": "Bild"}).status_code
        == 403
    )


def test_OG_8_1_a_form_is_sent_exactly_as_previewed_and_a_changed_form_needs_a_new_preview(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    preview = documented(
        api.get(f"/cases/{case.id}/form-preview?form_key=symptom_diary", "nurse"),
        "/cases/{case_id}/form-preview",
    )
    assert preview["definition"]["title"] == "Besvärsdagbok"
    assert ("case:form_preview", world.staff["nurse"][0].id, [case.patient_id]) in api.access_log(case.id)
    changed = api.post(
        f"/cases/{case.id}/forms", "nurse", json={"form_key": "symptom_diary", "digest": "0" * 32}
    )
    assert documented(changed, "/cases/{case_id}/forms", "post")["code"] == "conflict"
    sent = api.post(
        f"/cases/{case.id}/forms", "nurse", json={"form_key": "symptom_diary", "digest": preview["digest"]}
    )
    form = documented(sent, "/cases/{case_id}/forms", "post")["form"]
    [seen] = api.get(f"/resident/cases/{case.id}", "adult").json["forms"]
    assert seen["id"] == form["id"] and seen["definition"] == preview["definition"]


def test_a_message_with_an_unfilled_template_placeholder_is_refused_as_on_the_case_page(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    refused = api.post(f"/cases/{case.id}/messages", "nurse", json={"body": "Besöket kostar {cost}."})
    assert refused.status_code == 422 and refused.json["errors"] == {"body": ["placeholder"]}


def test_every_refusal_is_in_the_audit_trail_even_without_a_case(api, world):
    """A staff token on a resident endpoint is refused (403) and the attempt is recorded."""
    from app.audit.models import AuditEvent

    refused = api.get("/resident/cases", "nurse")
    assert refused.status_code == 403 and refused.json["code"] == "resident_only"
    [event] = world.session.scalars(select(AuditEvent).where(AuditEvent.action == "api:access_refused")).all()
    assert (
        event.actor_user_id == world.staff["nurse"][0].id
        and event.details["path"] == "/api/v1/resident/cases"
    )


def test_OG_8_3_a_meeting_form_switch_states_its_cost_and_waits_for_the_residents_consent(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    no_cost = api.post(f"/cases/{case.id}/meeting-form", "nurse", json={"meeting_form": "video", "cost": " "})
    assert documented(no_cost, "/cases/{case_id}/meeting-form", "post")["code"] == "validation_failed"
    asked = api.post(
        f"/cases/{case.id}/meeting-form", "nurse", json={"meeting_form": "video", "cost": "200 kr"}
    )
    assert documented(asked, "/cases/{case_id}/meeting-form", "post")["case"]["id"] == case.id
    [consent] = [
        c for c in api.get(f"/resident/cases/{case.id}", "adult").json["consents"] if c["answer"] == "pending"
    ]
    assert consent["kind"] == "meeting_form" and "200 kr" in str(consent["details"])


def test_OG_6_1_g_a_phone_call_not_reached_counts_as_a_contact_attempt(api, world):
    case = world.submit("adult")
    _receive_and_start(api, case.id)
    before = world.session.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case.id)).all()
    called = api.post(f"/cases/{case.id}/phone-calls", "nurse", json={"reached": False})
    documented(called, "/cases/{case_id}/phone-calls", "post")
    assert called.status_code == 204
    after = world.session.scalars(select(ContactAttempt).where(ContactAttempt.case_id == case.id)).all()
    assert [a.kind for a in after[len(before) :]] == [AttemptKind.PHONE]
    assert api.post(f"/cases/{case.id}/phone-calls", "ha_nurse", json={"reached": True}).status_code == 403
