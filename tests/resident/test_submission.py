"""Submitting a case from the resident's pages: Sök vård for self and child, administrative questions,
and every refusal of section E and after hours with its rule's message, the typed answers kept."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.cases.models import Case, CaseKind, CaseState, ImageRequest
from app.patients.models import Protection
from tests.resident.conftest import access_rows, audit, patient, post, read, sok_vard_form

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _cases(world) -> list[Case]:
    return read(world.session, select(Case).order_by(Case.id))


def test_the_triage_questions_are_presented_as_a_labelled_stand_in_not_clinical_triage(
    client, world, sign_in
):
    sign_in("adult")
    page = client.get("/resident/new").get_data(as_text=True)
    assert (
        "Ersättningsfrågor under utveckling" in page
        and "certifierade triagering" in page
        and "ingen medicinsk bedömning" in page
    )
    assert '<legend lang="sv">Vad söker du för?' in page  # each question a fieldset with a legend
    assert "Vårdcentralen Ekdalen" in page and "Öppen nu." in page


def test_the_red_flag_questions_are_not_answered_for_the_patient(client, world, sign_in):
    """No yes/no about breathing, self-harm or fever is pre-chosen: the patient answers each one."""
    sign_in("adult")
    page = client.get("/resident/new").get_data(as_text=True)
    for name in ("breathing", "self_harm", "high_fever"):
        radios = re.findall(rf'<input type="radio" id="q-{name}-\d+" name="{name}"[^>]*>', page)
        assert len(radios) == 2 and not any(" checked" in radio for radio in radios), radios
        legend = re.search(rf'<fieldset class="question" id="q-{name}">\s*<legend lang="sv">([^<]*)<', page)
        assert legend and "frivillig" not in legend.group(0)  # required: not offered as optional


def test_a_skipped_red_flag_question_is_refused_with_its_message_and_everything_else_kept(
    client, world, sign_in
):
    """A skipped safety question is never read as "no": the form comes back, each unanswered one marked,
    with what the patient typed and chose still in it."""
    sign_in("adult")
    form = sok_vard_form(world, "adult", high_fever="true", description="Tryck över bröstet", days="2")
    del form["breathing"], form["self_harm"]
    response = post(client, "/resident/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and _cases(world) == []
    for name, question in (
        ("breathing", "Har du svårt att andas eller ont i bröstet?"),
        ("self_harm", "Har du tankar på att skada dig själv?"),
    ):
        assert (
            f'<a href="#q-{name}-1"><span lang="sv">{question}</span> – <span>Välj ett svar.</span></a>'
            in page
        )
        assert f'id="q-{name}-error"' in page
    assert 'href="#q-high_fever-1"' not in page  # the question answered is not in the summary
    assert (
        'name="high_fever" value="true" checked' in page and 'name="reason" value="halsont" checked' in page
    )
    assert "Tryck över bröstet</textarea>" in page and 'name="days" value="2"' in page
    assert f'value="{world.patients["adult"].id}" checked' in page
    assert re.search(rf'name="unit_id" value="{world.units["og"].id}"[^>]* checked', page)


def test_a_resident_submits_a_sok_vard_case_for_themself_and_sees_the_result(client, world, sign_in):
    sign_in("adult")
    response = post(client, "/resident/new", sok_vard_form(world, "adult", high_fever="true"))
    [case] = _cases(world)
    assert response.status_code == 303 and response.headers["Location"] == f"/resident/cases/{case.id}?sent=1"
    assert (case.kind, case.patient_id, case.submitted_by_id, case.priority) == (
        CaseKind.SOK_VARD,
        world.patients["adult"].id,
        world.patients["adult"].id,
        2,
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ditt ärende är skickat till Vårdcentralen Ekdalen." in page
    assert "ingen medicinsk bedömning" in page and "sökorsak Halsont" in page
    assert "Feber över 39: ja" in page  # what the resident answered, as the triage summarised it


def test_a_form_sent_twice_makes_one_case_and_the_second_send_lands_on_it(client, world, sign_in):
    """A double click on "Skicka" (or a browser retrying the post) carries the same submission key."""
    sign_in("adult")
    page = client.get("/resident/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    form = {**sok_vard_form(world, "adult"), "submission_key": key}
    first, second = post(client, "/resident/new", form), post(client, "/resident/new", form)
    [case] = _cases(world)
    assert first.headers["Location"] == second.headers["Location"] == f"/resident/cases/{case.id}?sent=1"
    fresh = client.get("/resident/new").get_data(as_text=True)
    assert key not in fresh  # each form shown is a submission of its own


def test_OG_6_4_b_a_guardian_submits_for_their_child_under_13(client, world, sign_in):
    sign_in("guardian")
    assert "Cecilia Berg, 10 år" in client.get("/resident/new").get_data(as_text=True)
    response = post(client, "/resident/new", sok_vard_form(world, "child"))
    [case] = _cases(world)
    assert response.status_code == 303
    assert (case.patient_id, case.submitted_by_id) == (
        world.patients["child"].id,
        world.patients["guardian"].id,
    )
    assert "Gäller" in client.get(f"/resident/cases/{case.id}").get_data(as_text=True)


def test_OG_6_4_b_a_guardian_is_refused_for_a_child_of_13_with_the_rules_message_and_the_answers_kept(
    client, world, sign_in
):
    sign_in("guardian")
    response = post(
        client, "/resident/new", sok_vard_form(world, "teen", description="Hosta och feber i en vecka")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and _cases(world) == []
    assert "Från 13 års ålder företräder barnet sig självt" in page and 'role="alert"' in page
    assert 'id="who-error"' in page and 'aria-describedby="who-hint who-error"' in page
    assert "Hosta och feber i en vecka</textarea>" in page  # nothing typed is lost
    assert f'value="{world.patients["teen"].id}" checked' in page


def test_OG_6_4_a_OG_6_4_b_the_form_says_beside_each_child_what_the_age_rules_mean_before_sending(
    client, world, sign_in
):
    """The refusals stay (above), but the guardian reads the rule before choosing: a child of 13 or more
    seeks care themself, under one year not through this service; a child in between carries no note."""
    sign_in("guardian")
    page = client.get("/resident/new").get_data(as_text=True)
    hints = dict(
        re.findall(
            r'<label for="(who-\d+)">[^<]*</label>\s*<p class="hint option-hint" id="who-\d+-hint">([^<]+)</p>',
            page,
        )
    )
    labels = dict(re.findall(r'<label for="(who-\d+)">([^<]+)</label>', page))
    by_name = {labels[key].split(",")[0]: text for key, text in hints.items()}
    assert by_name == {
        "David Dahl": "Från 13 år söker barnet själv.",
        "Ebba Berg": "Under 1 år: ring 1177 eller kontakta vårdcentralen.",
    }


def test_OG_6_4_a_a_child_under_one_year_cannot_be_chosen_and_the_reason_stands_beside_the_name(
    client, world, sign_in
):
    """Choosing the child would only be refused on sending: the form shows the choice as not available
    here, with why, while the children who may be chosen stay choosable (the 13-year-old is refused on
    sending, OG-6.4-b, with the rule beside the name)."""
    sign_in("guardian")
    page = client.get("/resident/new").get_data(as_text=True)
    radios = {
        int(value): tag
        for tag, value in re.findall(
            r'(<input type="radio" id="who-\d+" name="patient_id" value="(\d+)"[^>]*>)', page
        )
    }
    infant = radios[world.patients["infant"].id]
    assert " disabled" in infant and " checked" not in infant
    hint_id = re.search(r'aria-describedby="(who-\d+-hint)"', infant).group(1)
    assert (
        f'<p class="hint option-hint" id="{hint_id}">Under 1 år: ring 1177 eller kontakta vårdcentralen.</p>'
        in page
    )
    assert not any(" disabled" in radios[world.patients[key].id] for key in ("guardian", "child", "teen"))


def test_OG_6_4_a_no_case_for_a_child_under_one_year(client, world, sign_in):
    sign_in("guardian")
    response = post(client, "/resident/new", sok_vard_form(world, "infant"))
    assert response.status_code == 422 and _cases(world) == []
    assert "under 1 år" in response.get_data(as_text=True)


def test_HA_behalf_seeking_care_for_someone_else_is_refused_and_the_attempt_is_audited(
    client, world, sign_in
):
    sign_in("adult")
    response = post(client, "/resident/new", sok_vard_form(world, "other"))
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and _cases(world) == []
    assert "Du kan söka vård för dig själv eller för ditt eget barn." in page
    assert "behöver personen logga in själv" in page  # said up front on the form as well
    [event] = audit(world.session, "resident:access_refused")
    assert event.actor_label == "Anna Andersson" and event.details["rule"] == "HA-behalf"


def test_the_triage_answers_are_checked_field_by_field_and_come_back_with_what_was_typed(
    client, world, sign_in
):
    sign_in("adult")
    form = sok_vard_form(world, "adult", days="många", description="Ont")
    del form["reason"]
    response = post(client, "/resident/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and _cases(world) == []
    assert 'class="error-summary" role="alert"' in page
    assert (
        '<a href="#q-reason-1"><span lang="sv">Vad söker du för?</span> – <span>Välj ett svar.</span></a>'
        in page
    )
    assert (
        "Ange ett heltal från 0 till 365." in page
        and 'value="många"' in page
        and 'aria-invalid="true"' in page
    )


def test_OG_3_after_closing_the_case_is_referred_by_priority_and_Ostergotland_offers_no_send_anyway(
    client, world, sign_in, clock
):
    clock.set(datetime(2026, 11, 23, 20, 0, tzinfo=STOCKHOLM))
    sign_in("adult")
    assert "Stängd nu. Öppnar 2026-11-24 08:00." in client.get("/resident/new").get_data(as_text=True)
    response = post(client, "/resident/new", sok_vard_form(world, "adult", unit="og", high_fever="true"))
    page = response.get_data(as_text=True)
    [case] = _cases(world)
    assert response.status_code == 200 and case.state == CaseState.REFERRED
    assert "bör du ringa 1177" in page and "Skicka ändå" not in page
    assert access_rows(world.session, action="resident:case", case_id=case.id)  # the referral shows the case


def test_HA_after_hours_the_resident_may_send_anyway_with_the_same_answers(client, world, sign_in, clock):
    clock.set(datetime(2026, 11, 28, 3, 0, tzinfo=STOCKHOLM))  # Saturday night
    sign_in("adult")
    form = sok_vard_form(world, "adult", unit="ha", high_fever="true", description="Feber och\nfrossa")
    shown = client.get("/resident/new").get_data(as_text=True)
    form["submission_key"] = re.search(r'name="submission_key" value="([^"]+)"', shown).group(1)
    page = post(client, "/resident/new", form).get_data(as_text=True)
    [referred] = _cases(world)
    assert referred.state == CaseState.REFERRED and "Skicka ändå" in page
    assert "Mottagningen öppnar 2026-11-30 08:00." in page  # handled from the next weekday's opening
    assert 'name="description" value="Feber och\nfrossa"' in page and 'name="send_anyway" value="1"' in page
    anyway_key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    response = post(client, "/resident/new", {**form, "send_anyway": "1", "submission_key": anyway_key})
    sent = _cases(world)[-1]
    assert response.status_code == 303 and sent.state == CaseState.NEW and sent.referral is None
    assert "Feber och\nfrossa" in sent.anamnesis


def test_HA_protected_a_claimed_protected_identity_in_Halland_is_not_handled_and_is_redirected(
    client, world, sign_in
):
    sign_in("adult")
    response = post(
        client, "/resident/new", {**sok_vard_form(world, "adult", unit="ha"), "claims_protected": "1"}
    )
    [case] = _cases(world)
    assert case.state == CaseState.REFUSED and patient(world, "adult").protection == Protection.CLAIMED
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sök vård via 1177.se eller besök din mottagning" in page and "kan inte hanteras här" in page
    assert "Vårdcentralen Havsbris" not in page  # SEC-protected-sms: not even on the resident's own page


def test_OG_6_3_a_claimed_protected_identity_in_Ostergotland_waits_for_staff_to_verify_it(
    client, world, sign_in
):
    sign_in("adult")
    post(client, "/resident/new", {**sok_vard_form(world, "adult", unit="og"), "claims_protected": "1"})
    [case] = _cases(world)
    assert case.state == CaseState.NEW and patient(world, "adult").protection == Protection.CLAIMED
    assert world.titles(case)  # a verification task for staff, not a refusal


def test_an_administrative_question_is_sent_with_its_message_and_no_priority(client, world, sign_in):
    sign_in("adult")
    page = client.get("/resident/new?kind=admin").get_data(as_text=True)
    assert "Administrativa frågor" in page and "Ersättningsfrågor" not in page
    empty = post(
        client,
        "/resident/new",
        {
            "kind": "admin",
            "patient_id": world.patients["adult"].id,
            "unit_id": world.units["og"].id,
            "subject": "Intyg",
            "message": " ",
        },
    )
    assert (
        empty.status_code == 422
        and "Skriv ditt meddelande." in empty.get_data(as_text=True)
        and 'value="Intyg"' in empty.get_data(as_text=True)
    )
    response = post(
        client,
        "/resident/new",
        {
            "kind": "admin",
            "patient_id": world.patients["adult"].id,
            "unit_id": world.units["og"].id,
            "subject": "Intyg",
            "message": "Jag behöver ett intyg för skolan.",
        },
    )
    [case] = _cases(world)
    assert response.status_code == 303 and (case.kind, case.priority, case.search_reason, case.anamnesis) == (
        CaseKind.ADMIN,
        None,
        "Intyg",
        "Jag behöver ett intyg för skolan.",
    )


def test_HA_functions_only_units_with_the_function_are_offered_and_a_forged_choice_is_refused(
    client, world, sign_in
):
    world.units["ha"].functions = ["chat_triage"]
    world.session.commit()
    sign_in("adult")
    page = client.get("/resident/new?kind=admin").get_data(as_text=True)
    assert "Vårdcentralen Ekdalen" in page and "Vårdcentralen Havsbris" not in page
    response = post(
        client,
        "/resident/new",
        {
            "kind": "admin",
            "patient_id": world.patients["adult"].id,
            "unit_id": world.units["ha"].id,
            "subject": "Intyg",
            "message": "Hej",
        },
    )
    assert response.status_code == 422 and "använder inte den här funktionen" in response.get_data(
        as_text=True
    )
    assert _cases(world) == []


def test_OG_11_f_a_triage_that_asks_for_images_shows_the_upload_in_the_case(client, world, sign_in):
    sign_in("adult")
    location = post(client, "/resident/new", sok_vard_form(world, "adult", reason="utslag")).headers[
        "Location"
    ]
    [case] = _cases(world)
    assert read(world.session, select(ImageRequest).where(ImageRequest.case_id == case.id))
    assert "Triageringen ber om bilder" in client.get(location).get_data(as_text=True)
