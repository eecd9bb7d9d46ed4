"""The chat and what happens beside the routine: messages with phrase templates and the tone hint,
phone attempts, images, forms sent after a preview, documenting a returned form, inviting a colleague."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.cases import chat
from app.cases.models import AttemptKind, CaseCollaborator, ChatMessage, ContactAttempt, PatientForm
from app.cases.patient_forms import form_definition
from app.phrases.models import PhraseLevel
from app.phrases.service import create_template
from tests.casework.conftest import access_log, read, started

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_staff_message_is_sent_and_an_empty_one_is_refused_beside_the_field(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    refused = nurse.post(f"/cases/{case.id}/chat", {"body": "   ", "action": "send"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert (
        'id="chat-body-error"' in html and "Skriv ett meddelande." in html and 'aria-invalid="true"' in html
    )
    response = nurse.post(f"/cases/{case.id}/chat", {"body": "Hur mår du i dag?", "action": "send"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.id}")
    html = nurse.page(case.id)
    assert "Meddelandet är skickat" in html and "Hur mår du i dag?" in html
    assert (
        read(world, select(ContactAttempt.kind).where(ContactAttempt.case_id == case.id)) == AttemptKind.CHAT
    )


def test_HA_tone_capitals_exclamation_marks_and_abbreviations_are_pointed_out_before_sending(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    text = "Ring OMEDELBART om det blir värre! Ta t.ex. paracetamol."
    held = nurse.post(f"/cases/{case.id}/chat", {"body": text, "action": "send"})
    assert held.status_code == 422
    html = held.get_data(as_text=True)
    assert "Versaler: OMEDELBART" in html and "Utropstecken" in html and "Förkortning: t.ex" in html
    assert (
        f">{text}</textarea>" in html and 'name="tone_confirmed"' in html
    )  # the text is kept; sending anyway is one tick away
    assert read(world, select(ChatMessage.id).where(ChatMessage.body == text)) is None
    assert (
        nurse.post(
            f"/cases/{case.id}/chat", {"body": text, "tone_confirmed": "1", "action": "send"}
        ).status_code
        == 302
    )
    assert read(world, select(ChatMessage.id).where(ChatMessage.body == text)) is not None
    # While writing (htmx), the same hint comes as a fragment for the live region.
    hint = nurse.post(f"/cases/{case.id}/tone", {"body": "HEJ!"}).get_data(as_text=True)
    assert "Versaler: HEJ" in hint and "<html" not in hint
    assert "Tänk på tonen" not in nurse.post(f"/cases/{case.id}/tone", {"body": "Hej, hur mår du?"}).get_data(
        as_text=True
    )


def test_OG_8_2_phrase_templates_are_inserted_filled_in_and_personal_ones_are_marked_not_recommended(
    world, staff
):
    case = world.submit("adult")
    started(world, case)
    personal = create_template(
        world.session,
        actor=world.actor("nurse"),
        level=PhraseLevel.PERSONAL,
        purpose="first_message",
        title="Min hälsning",
        text="Hej {patient_first_name}, {staff_first_name} här.",
    )
    world.session.commit()
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert "Min hälsning (personlig – inte rekommenderad)" in html
    assert "(regional)" in html
    # Without JavaScript: "Infoga" posts the form and the page comes back with the text added.
    inserted = nurse.post(
        f"/cases/{case.id}/chat",
        {"body": "Tack för svaret.", "template_id": str(personal.id), "action": "insert"},
    )
    assert inserted.status_code == 200
    assert "Tack för svaret.\nHej Anna, Nurse här.</textarea>" in inserted.get_data(as_text=True)
    assert (
        read(world, select(ChatMessage.id).where(ChatMessage.body.like("Tack för svaret%"))) is None
    )  # nothing sent
    # With JavaScript the option carries the same filled-in text.
    assert 'data-text="Hej Anna, Nurse här."' in html


def test_OG_8_2_a_placeholder_left_in_the_text_is_refused(world, staff):
    case = world.submit("adult")
    started(world, case)
    refused = staff("nurse").post(
        f"/cases/{case.id}/chat", {"body": "Ett besök kostar {cost} kronor.", "action": "send"}
    )
    assert refused.status_code == 422 and "Ersätt {cost} med rätt text" in refused.get_data(as_text=True)


def test_OG_6_1_g_a_phone_attempt_without_an_answer_is_a_contact_attempt(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    refused = nurse.post(f"/cases/{case.id}/phone", {"note": "Inget svar"})
    assert refused.status_code == 422 and "Ange om patienten svarade." in refused.get_data(as_text=True)
    assert nurse.post(f"/cases/{case.id}/phone", {"reached": "no", "note": "Inget svar"}).status_code == 302
    assert (
        read(
            world,
            select(ContactAttempt.kind)
            .where(ContactAttempt.case_id == case.id)
            .order_by(ContactAttempt.id.desc()),
        )
        == AttemptKind.PHONE
    )
    assert "Telefonförsök" in nurse.page(case.id)


def test_OG_11_f_images_are_asked_for_and_each_view_of_one_is_access_logged(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    assert nurse.post(f"/cases/{case.id}/images/request", {"instructions": ""}).status_code == 422
    assert (
        nurse.post(
            f"/cases/{case.id}/images/request", {"instructions": "Ta en bild på utslaget i dagsljus."}
        ).status_code
        == 302
    )
    html = nurse.page(case.id)
    assert "Ta en bild på utslaget i dagsljus." in html and "väntar på patienten" in html
    image = chat.upload_image(
        world.session,
        actor=world.resident("adult"),
        case_id=case.id,
        filename="utslag.png",
        content_type="image/png",
        content=PNG,
    )
    world.session.commit()
    html = nurse.page(case.id)
    assert (
        f'src="/cases/{case.id}/images/{image.id}"' in html
        and 'alt="Bild från patienten: utslag.png"' in html
    )
    served = nurse.get(f"/cases/{case.id}/images/{image.id}")
    assert served.status_code == 200 and served.data == PNG and served.headers["Content-Type"] == "image/png"
    assert served.headers["Cache-Control"] == "no-store"
    assert access_log(world, "case:image_view") == [(nurse.user.id, case.id, [case.patient_id])]
    outsider = staff("ha_nurse")
    assert outsider.get(f"/cases/{case.id}/images/{image.id}").status_code == 403
    assert access_log(world, "case:view_refused")[-1][2] == [case.patient_id]
    other = world.submit("other")
    assert nurse.get(f"/cases/{other.id}/images/{image.id}").status_code == 404  # an image of another case


def test_OG_8_1_the_form_is_previewed_exactly_as_the_patient_sees_it_and_only_then_sent(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert f'action="/cases/{case.id}/forms/preview"' in html and "Förhandsgranska" in html
    assert f'action="/cases/{case.id}/forms"' not in html  # no sending without the preview
    preview = nurse.get(f"/cases/{case.id}/forms/preview", query_string={"form_key": "demo_mood"})
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    definition = form_definition("demo_mood")
    for question in definition["properties"].values():
        assert question["title"] in page
    assert "Nästan varje dag" in page and definition["description"] in page
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', page).group(1)
    fragment = nurse.get(
        f"/cases/{case.id}/forms/preview",
        query_string={"form_key": "demo_mood"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "<html" not in fragment and digest in fragment
    assert (
        nurse.post(f"/cases/{case.id}/forms", {"form_key": "demo_mood", "digest": "0" * 32}).status_code
        == 409
    )
    assert (
        nurse.post(f"/cases/{case.id}/forms", {"form_key": "demo_mood", "digest": digest}).status_code == 302
    )
    form = read(world, select(PatientForm).where(PatientForm.case_id == case.id))
    assert form.definition == definition
    assert "inte besvarat ännu" in nurse.page(case.id)
    assert [row[2] for row in access_log(world, "case:form_preview")] == [[case.patient_id]] * 2


def test_HA_forms_a_returned_form_shows_its_answers_and_is_documented_either_way(world, staff):
    case = world.submit("adult")
    nurse_actor = started(world, case)
    form = chat.send_form(world.session, actor=nurse_actor, case_id=case.id, form_key="demo_mood")
    world.session.commit()
    chat.answer_form(
        world.session,
        actor=world.resident("adult"),
        form_id=form.id,
        answers={"q1": 1, "q2": 2, "q3": 0, "q4": 3},
    )
    world.session.commit()
    nurse = staff("nurse")
    html = nurse.page(case.id)
    assert (
        "poäng 6" in html
        and "Mer än hälften av dagarna" in html
        and "Känt dig nedstämd eller hopplös" in html
    )
    assert (
        nurse.post(f"/cases/{case.id}/forms/{form.id}/documented", {"how": "summarised"}).status_code == 302
    )
    html = nurse.page(case.id)
    assert "sparat här, med en anteckning i journalen" in html and "Formulär" in html
    assert read(world, select(PatientForm.documentation).where(PatientForm.id == form.id)) == "summarised"


def test_OG_8_5_a_colleague_is_invited_and_may_then_act(world, staff):
    case = world.submit("adult")
    started(world, case)
    nurse, nurse2 = staff("nurse"), staff("nurse2")
    assert nurse.post(f"/cases/{case.id}/invite", {}).status_code == 422
    assert nurse.post(f"/cases/{case.id}/invite", {"colleague_id": str(nurse2.user.id)}).status_code == 302
    assert (
        read(world, select(CaseCollaborator.user_id).where(CaseCollaborator.case_id == case.id))
        == nurse2.user.id
    )
    html = nurse2.page(case.id)
    assert "Inbjudna kollegor" in html and f'action="/cases/{case.id}/chat"' in html


def test_a_message_racing_a_colleagues_change_is_a_conflict_that_keeps_the_text(world, staff, monkeypatch):
    """The case changed between this request's read and its write (a colleague's action committed in
    between): 409 with the typed message still in the field, nothing saved — not a 500."""
    from sqlalchemy import update

    from app.cases.lookup import get_case
    from app.cases.models import Case

    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    real_staff_write = chat.staff_write

    def racing_staff_write(session, *, actor, case_id, **kwargs):
        get_case(session, case_id)  # read as the service does …
        table = Case.__table__  # … then a colleague's change commits: the row's version moves on
        session.execute(update(table).where(table.c.id == case_id).values(version=table.c.version + 1))
        return real_staff_write(session, actor=actor, case_id=case_id, **kwargs)

    monkeypatch.setattr(chat, "staff_write", racing_staff_write)
    before = read(world, select(func.count()).select_from(ChatMessage).where(ChatMessage.case_id == case.id))
    refused = nurse.post(
        f"/cases/{case.id}/chat", {"body": "Ett svar som inte får försvinna", "action": "send"}
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Någon annan har ändrat ärendet" in html and "Ett svar som inte får försvinna" in html
    assert (
        read(world, select(func.count()).select_from(ChatMessage).where(ChatMessage.case_id == case.id))
        == before
    )


def _picker(html: str, form_id: str) -> str:
    return re.search(rf'<select id="{form_id}-template".*?</select>', html, re.S).group(0)


def test_OG_8_2_the_phrase_picker_starts_on_no_template_and_infoga_without_a_choice_inserts_nothing(
    world, staff
):
    """Nothing is chosen for the clinician: the chat's picker starts on an empty choice (it used to start
    on the closing text, which "Infoga" then put into the message), and the start form's on the unit's
    first-message template, the text the hint above it promises."""
    waiting = world.submit("adult")
    world.session.commit()
    nurse = staff("nurse")
    from app.cases import handling

    handling.receive(world.session, world.engine, actor=world.actor("nurse"), case_id=waiting.id)
    world.session.commit()
    start_picker = _picker(nurse.page(waiting.id), "start")
    selected = re.findall(r"<option[^>]*selected[^>]*>([^<]*)<", start_picker)
    assert selected == ["Första meddelandet (regional)"], start_picker

    case = world.submit("adult")
    started(world, case)
    chat_picker = _picker(nurse.page(case.id), "chat")
    first = re.search(r"<option([^>]*)>([^<]*)<", chat_picker)
    assert 'value=""' in first.group(1) and "Välj frasmall" in first.group(2)
    assert "selected" not in chat_picker

    unchosen = nurse.post(f"/cases/{case.id}/chat", {"body": "Hej!", "template_id": "", "action": "insert"})
    html = unchosen.get_data(as_text=True)
    assert unchosen.status_code == 422 and "Välj en frasmall att infoga." in html
    assert ">Hej!</textarea>" in html  # the typed text is kept, nothing added
    assert read(world, select(ChatMessage.id).where(ChatMessage.body.like("Hej!%"))) is None


def test_a_message_sent_as_the_unit_leaves_the_patients_answer_waiting_for_a_clinician(world, staff):
    """The unit's own messages (a phrase template sent at day end, a high-load notice) are nobody's
    reply: the patient's answer still waits, marked "Har svarat", for a clinician (it was cleared)."""
    from app.cases import messaging
    from app.cases.models import Case
    from app.instances.models import HumanTask

    case = world.submit("adult")
    started(world, case)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Det är värre nu."
    )
    world.session.commit()
    messaging.tell_patient(world.session, world.session.get(Case, case.id), "high_load")
    world.session.commit()
    world.session.expire_all()
    assert world.session.get(Case, case.id).patient_answered is True
    assert read(world, select(HumanTask.patient_answered).where(HumanTask.case_id == case.id)) is True
