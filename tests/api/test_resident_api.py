"""Resident endpoints: submitting with the demo triage's answers, reading and answering one's own case."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.cases import chat
from app.cases.models import Case, CaseImage
from tests.api.conftest import documented

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# The red-flag questions are answered explicitly: the triage has no default answer to them.
THROAT = {
    "reason": "halsont",
    "description": "Ont i halsen sedan tre dagar",
    "days": 3,
    "breathing": False,
    "self_harm": False,
    "high_fever": False,
}


def _submit(api, world, who: str = "adult", **body):
    payload = {"unit_id": world.units["og"].id, "answers": THROAT, **body}
    return api.post("/resident/cases", who, json=payload)


def test_a_resident_submits_a_sok_vard_case_with_the_demo_triages_answers(api, world):
    """The triage's answers give the priority and search reason; staff see it in their list; the resident in theirs."""
    questionnaire = api.get("/resident/triage", "adult")
    assert set(documented(questionnaire, "/resident/triage")["required"]) == {
        "reason",
        "description",
        "breathing",
        "self_harm",
        "high_fever",
    }
    units = documented(api.get("/resident/units", "adult"), "/resident/units")["items"]
    assert {"name": "Vårdcentralen Ekdalen", "send_anyway_allowed": False}.items() <= next(
        u for u in units if u["id"] == world.units["og"].id
    ).items()
    response = _submit(api, world, answers={**THROAT, "high_fever": True})
    case = documented(response, "/resident/cases", "post")["case"]
    assert response.status_code == 201 and (case["state"], case["search_reason"], case["unit"]["name"]) == (
        "new",
        "Halsont",
        "Vårdcentralen Ekdalen",
    )
    assert world.session.get(Case, case["id"]).priority == 2  # "high fever" in the demo stand-in
    [task] = api.get("/tasks", "nurse").json["items"]
    assert task["case_id"] == case["id"]
    mine = documented(api.get("/resident/cases", "adult"), "/resident/cases")["items"]
    assert [c["id"] for c in mine] == [case["id"]]
    assert ("api:resident:cases", None, [world.patients["adult"].id]) in api.access_log()


def test_the_triages_answers_are_validated_against_its_questionnaire_field_by_field(api, world):
    missing = _submit(api, world, answers={"reason": "halsont"})
    problem = documented(missing, "/resident/cases", "post")
    assert missing.status_code == 422 and problem["errors"] == {
        f"answers/{name}": ["required"] for name in ("description", "breathing", "self_harm", "high_fever")
    }  # a red-flag question left out is refused, never read as "no"
    unknown = _submit(api, world, answers={**THROAT, "reason": "trollkarl"})
    assert list(unknown.json["errors"]) == ["answers/reason"]
    no_answers = api.post("/resident/cases", "adult", json={"unit_id": world.units["og"].id})
    assert no_answers.json["errors"] == {"answers": ["required"]}
    assert world.session.scalar(select(Case.id)) is None


def test_OG_6_4_a_no_case_for_a_child_under_one_year(api, world):
    refused = _submit(api, world, "guardian", patient_id=world.patients["infant"].id)
    problem = documented(refused, "/resident/cases", "post")
    assert (refused.status_code, problem["code"], problem["rule"]) == (422, "guard_refused", "OG-6.4-a")


def test_OG_6_4_b_a_guardian_acts_for_a_child_under_13_and_no_longer_from_the_13th_birthday(
    api, world, clock
):
    refused = _submit(api, world, "guardian", patient_id=world.patients["teen"].id)
    assert refused.json["rule"] == "OG-6.4-b"
    submitted = _submit(api, world, "guardian", patient_id=world.patients["child"].id)
    case_id = submitted.json["case"]["id"]
    assert submitted.status_code == 201 and submitted.json["case"]["patient"]["name"] == "Cecilia Berg"
    assert api.get(f"/resident/cases/{case_id}", "guardian").status_code == 200
    assert api.get(f"/resident/cases/{case_id}", "child").status_code == 200  # the child reads their own case
    clock.set(datetime(2029, 1, 1, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm")))  # Cecilia is 13
    api.tokens.clear()  # the old tokens have expired meanwhile
    assert api.get(f"/resident/cases/{case_id}", "guardian").status_code == 403
    assert api.get("/resident/cases", "guardian").json["items"] == []


def test_HA_behalf_a_resident_cannot_seek_care_for_someone_else(api, world):
    refused = _submit(api, world, "adult", patient_id=world.patients["other"].id)
    problem = documented(refused, "/resident/cases", "post")
    assert (refused.status_code, problem["code"]) == (403, "forbidden")


def test_a_resident_reads_only_their_own_case_and_a_refused_read_is_access_logged(api, world):
    case = world.submit("adult")
    mine = api.get(f"/resident/cases/{case.id}", "adult")
    view = documented(mine, "/resident/cases/{case_id}")
    assert view["case"]["state"] == "new" and "anamnesis" not in view["case"]
    refused = api.get(f"/resident/cases/{case.id}", "other")
    assert documented(refused, "/resident/cases/{case_id}").get("code") == "forbidden"
    log = api.access_log(case.id)
    assert log == [
        ("api:resident:case:read", None, [case.patient_id]),
        ("api:resident_get_case:refused", None, [case.patient_id]),
    ]


def test_tokens_reach_only_their_side_of_the_api(api, world):
    case = world.submit("adult")
    staff_only = api.get(f"/cases/{case.id}", "adult")
    assert (staff_only.status_code, staff_only.json["code"]) == (403, "staff_only")
    resident_only = api.get(f"/resident/cases/{case.id}", "nurse")
    assert (resident_only.status_code, resident_only.json["code"]) == (403, "resident_only")


def test_OG_11_f_a_resident_uploads_an_image_into_the_case(api, world):
    """OG-11-f: the triage asked for images (rash); the resident uploads one (multipart), staff see it."""
    case = world.submit("adult", reason="utslag")
    view = api.get(f"/resident/cases/{case.id}", "adult").json
    [wanted] = view["image_requests"]
    uploaded = api.post(
        f"/resident/cases/{case.id}/images",
        "adult",
        data={"file": (_png(), "utslag.png", "image/png"), "request_id": str(wanted["id"])},
        content_type="multipart/form-data",
    )
    image = documented(uploaded, "/resident/cases/{case_id}/images", "post")["image"]
    assert uploaded.status_code == 201 and (image["filename"], image["size"], image["request_id"]) == (
        "utslag.png",
        len(PNG),
        wanted["id"],
    )
    assert world.session.scalar(select(CaseImage.content).where(CaseImage.id == image["id"])) == PNG
    staff = api.get(f"/cases/{case.id}", "nurse").json
    assert [i["id"] for i in staff["images"]] == [image["id"]] and staff["image_requests"][0][
        "fulfilled_at"
    ] is not None
    wrong_type = api.post(
        f"/resident/cases/{case.id}/images",
        "adult",
        data={"file": (_png(), "virus.exe", "application/octet-stream")},
        content_type="multipart/form-data",
    )
    assert wrong_type.status_code == 422 and list(wrong_type.json["errors"]) == ["file"]
    no_file = api.post(
        f"/resident/cases/{case.id}/images", "adult", data={}, content_type="multipart/form-data"
    )
    assert no_file.status_code == 422 and no_file.json["errors"] == {"file": ["required"]}
    for foreign in (wanted["id"] + 1000, _request_of_another_case(world)):
        refused = api.post(
            f"/resident/cases/{case.id}/images",
            "adult",
            data={"file": (_png(), "a.png", "image/png"), "request_id": str(foreign)},
            content_type="multipart/form-data",
        )
        assert refused.status_code == 422 and list(refused.json["errors"]) == ["request_id"]
    others = api.post(
        f"/resident/cases/{case.id}/images",
        "other",
        data={"file": (_png(), "a.png", "image/png")},
        content_type="multipart/form-data",
    )
    assert others.status_code == 403


def test_OG_8_1_a_resident_answers_a_form_sent_to_them_once_and_validated(api, world):
    case = world.submit("adult")
    chat.send_form(world.session, actor=world.actor("nurse"), case_id=case.id, form_key="demo_mood")
    world.session.commit()
    [form] = api.get(f"/resident/cases/{case.id}", "adult").json["forms"]
    assert form["answered_at"] is None and form["definition"]["required"] == ["q1", "q2", "q3", "q4"]
    invalid = api.post(f"/resident/forms/{form['id']}/answer", "adult", json={"answers": {"q1": 7}})
    problem = documented(invalid, "/resident/forms/{form_id}/answer", "post")
    assert invalid.status_code == 422 and set(problem["errors"]) == {"q1", "q2", "q3", "q4"}
    answered = api.post(
        f"/resident/forms/{form['id']}/answer",
        "adult",
        json={"answers": {"q1": 1, "q2": 2, "q3": 0, "q4": 3}},
    )
    assert documented(answered, "/resident/forms/{form_id}/answer", "post")["form"]["answered_at"] is not None
    assert api.get(f"/cases/{case.id}", "nurse").json["forms"][0]["score"] == 6
    assert (
        api.post(
            f"/resident/forms/{form['id']}/answer",
            "adult",
            json={"answers": {"q1": 0, "q2": 0, "q3": 0, "q4": 0}},
        ).status_code
        == 409
    )
    assert api.post(f"/resident/forms/{form['id']}/answer", "other", json={"answers": {}}).status_code == 403


def test_OG_6_5_a_closed_case_reopens_only_for_the_same_search_reason(api, world, clock):
    case = world.submit("adult")
    api.post(f"/cases/{case.id}/receive", "nurse", json={})
    api.post(f"/cases/{case.id}/start", "nurse", json={})
    clock.advance(minutes=5)
    api.post(f"/resident/cases/{case.id}/messages", "adult", json={"body": "Tack, nu vet jag."})
    assert (
        api.post(
            f"/cases/{case.id}/close", "nurse", json={"concluded_in_dialogue": True, "confirmed": True}
        ).status_code
        == 200
    )
    other_reason = api.post(f"/resident/cases/{case.id}/reopen", "adult", json={"search_reason": "Feber"})
    assert (other_reason.status_code, other_reason.json["rule"]) == (422, "OG-6.5")
    reopened = api.post(f"/resident/cases/{case.id}/reopen", "adult", json={"search_reason": "halsont"})
    assert documented(reopened, "/resident/cases/{case_id}/reopen", "post")["case"]["id"] == case.id
    # The answer shows the case: access-logged like a read.
    assert ("api:resident:case:reopened", None, [case.patient_id]) in api.access_log(case.id)
    messages = documented(
        api.get(f"/resident/cases/{case.id}/messages", "adult"), "/resident/cases/{case_id}/messages"
    )
    assert all("{unit" not in m["body"] for m in messages["items"])


def test_SEC_protected_sms_a_protected_resident_is_never_shown_the_units_name(api, world):
    response = _submit(api, world, "adult", claims_protected=True)
    case = response.json["case"]
    assert response.status_code == 201 and case["unit"]["name"] == "din vårdgivare"
    texts = [m["body"] for m in api.get(f"/resident/cases/{case['id']}", "adult").json["messages"]["items"]]
    assert not any("Ekdalen" in text for text in texts)


def _request_of_another_case(world) -> int:
    from app.cases.models import ImageRequest

    other = world.submit("adult", reason="utslag")
    return world.session.scalar(select(ImageRequest.id).where(ImageRequest.case_id == other.id))


def _png():
    import io

    return io.BytesIO(PNG)


def test_an_administrative_matter_says_what_it_concerns_and_has_a_message_as_on_the_residents_form(
    api, world
):
    """The same input rules as the resident's submission form: subject and message are required."""
    admin = {"unit_id": world.units["og"].id, "kind": "admin"}
    blank = api.post("/resident/cases", "adult", json={**admin, "search_reason": " ", "message": ""})
    problem = documented(blank, "/resident/cases", "post")
    assert blank.status_code == 422 and set(problem["errors"]) == {"search_reason", "message"}
    sent = _submit(
        api, world, kind="admin", search_reason="Intyg", message="Jag behöver ett intyg för skolan."
    )
    case = documented(sent, "/resident/cases", "post")["case"]
    assert sent.status_code == 201 and (case["kind"], case["search_reason"]) == ("admin", "Intyg")
