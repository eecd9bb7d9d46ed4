"""Free text from the case page meets the same limits as the API (app/cases/limits.py): exactly the
limit is accepted; one character more is refused with 422, the typed text put back in the form, and
nothing stored. A chat message with an unknown phrase purpose is refused the same way, on PostgreSQL
too (where the too-long value used to be a 500 that lost the message)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.api import schemas
from app.audit.models import AuditEvent
from app.cases import chat, limits
from app.cases.models import AttemptKind, Case, ChatMessage, ContactAttempt, ImageRequest
from app.errors import ValidationFailed
from app.phrases.defaults import PURPOSES
from tests.casework.conftest import read, started, version_in


def _text(length: int, fill: str = "a") -> str:
    """Plain lower-case text of an exact length (no tone hints, nothing stripped)."""
    return fill * length


def _count(world, model, case_id: int) -> int:
    return read(world, select(func.count()).select_from(model).where(model.case_id == case_id))


def test_a_staff_message_of_exactly_the_limit_is_sent_and_one_character_more_is_refused_with_the_text_kept(
    world, staff
):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    longest = _text(limits.MESSAGE_BODY)
    assert nurse.post(f"/cases/{case.id}/chat", {"body": longest, "action": "send"}).status_code == 302
    assert (
        read(world, select(func.length(ChatMessage.body)).where(ChatMessage.body == longest))
        == limits.MESSAGE_BODY
    )
    too_long = _text(limits.MESSAGE_BODY + 1, "b")
    refused = nurse.post(f"/cases/{case.id}/chat", {"body": too_long, "action": "send"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert (
        f">{too_long}</textarea>" in html and 'id="chat-body-error"' in html and "Texten är för lång." in html
    )
    assert read(world, select(ChatMessage.id).where(ChatMessage.body == too_long)) is None


def test_OG_11_f_image_instructions_of_exactly_the_limit_are_sent_and_one_character_more_is_refused_with_the_text_kept(
    world, staff
):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    longest = _text(limits.IMAGE_INSTRUCTIONS)
    assert nurse.post(f"/cases/{case.id}/images/request", {"instructions": longest}).status_code == 302
    stored = read(world, select(ImageRequest.instructions).where(ImageRequest.case_id == case.id))
    assert stored == longest
    too_long = _text(limits.IMAGE_INSTRUCTIONS + 1, "b")
    refused = nurse.post(f"/cases/{case.id}/images/request", {"instructions": too_long})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f">{too_long}</textarea>" in html  # the typed text is put back
    assert 'id="images-instructions-error"' in html and "Texten är för lång." in html  # beside the field
    assert f"högst {limits.IMAGE_INSTRUCTIONS} tecken" in html
    assert _count(world, ImageRequest, case.id) == 1


def test_OG_11_f_blank_image_instructions_are_refused_by_the_service_as_by_the_api(world):
    case = world.submit("adult")
    actor = started(world, case)
    with pytest.raises(ValidationFailed) as refused:
        chat.request_images(world.session, actor=actor, case_id=case.id, instructions="  \n ")
    assert refused.value.field_errors == {"instructions": ["required"]}
    world.session.rollback()
    assert _count(world, ImageRequest, case.id) == 0


def test_OG_6_1_g_a_phone_note_of_exactly_the_limit_is_recorded_and_one_character_more_is_refused_with_the_text_kept(
    world, staff
):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    longest = _text(limits.PHONE_NOTE)
    assert nurse.post(f"/cases/{case.id}/phone", {"reached": "no", "note": longest}).status_code == 302
    phone = select(ContactAttempt.note).where(
        ContactAttempt.case_id == case.id, ContactAttempt.kind == AttemptKind.PHONE
    )
    assert read(world, phone) == longest
    too_long = _text(limits.PHONE_NOTE + 1, "b")
    refused = nurse.post(f"/cases/{case.id}/phone", {"reached": "no", "note": too_long})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f">{too_long}</textarea>" in html and 'value="no" checked' in html  # note and answer kept
    assert f"högst {limits.PHONE_NOTE} tecken" in html
    assert len(world.session.scalars(phone).all()) == 1
    world.session.commit()


def test_a_phone_note_past_the_limit_is_refused_even_when_the_patient_answered(world):
    """Reached, the note is not stored today; it is still refused, so pages and API answer alike."""
    case = world.submit("adult")
    actor = started(world, case)
    with pytest.raises(ValidationFailed) as refused:
        chat.phone_attempt(
            world.session, actor=actor, case_id=case.id, reached=True, note=_text(limits.PHONE_NOTE + 1)
        )
    assert list(refused.value.field_errors) == ["note"]
    world.session.rollback()


def test_HA_prio_b_a_priority_reason_of_exactly_the_limit_is_kept_and_one_character_more_is_refused_with_the_text_kept(
    world, staff
):
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    html = nurse.page(case.id)
    triage = read(world, select(Case.triage_priority).where(Case.id == case.id))
    new = 1 if triage != 1 else 2  # any priority but triage's
    too_long = _text(limits.PRIORITY_REASON + 1, "b")
    refused = nurse.post(
        f"/cases/{case.id}/priority",
        {"priority": str(new), "priority_reason": too_long, "expected_version": version_in(html, "priority")},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f">{too_long}</textarea>" in page or f'value="{too_long}"' in page  # the reason is put back
    assert 'id="priority-reason-error"' in page and f"högst {limits.PRIORITY_REASON} tecken" in page
    priority_changed = select(AuditEvent).where(AuditEvent.action == "case:priority_changed")
    assert read(world, priority_changed) is None
    longest = _text(limits.PRIORITY_REASON)
    done = nurse.post(
        f"/cases/{case.id}/priority",
        {"priority": str(new), "priority_reason": longest, "expected_version": version_in(html, "priority")},
    )
    assert done.status_code == 302
    assert read(world, priority_changed).details["reason"] == longest


def test_a_message_with_an_unknown_phrase_purpose_is_refused_and_the_text_kept(world, staff):
    """The hidden phrase_purpose is one of the known purposes or nothing. A 41-character value was a
    500 on PostgreSQL (the column holds 40) that lost the message; now it is a 422 that keeps it."""
    case = world.submit("adult")
    started(world, case)
    nurse = staff("nurse")
    before = _count(world, ChatMessage, case.id)
    body = "Hur mår du i dag?"
    for purpose in ("x" * 41, "not_a_purpose"):
        refused = nurse.post(
            f"/cases/{case.id}/chat", {"body": body, "phrase_purpose": purpose, "action": "send"}
        )
        assert refused.status_code == 422, purpose
        html = refused.get_data(as_text=True)
        assert f">{body}</textarea>" in html and "Okänd frasmall" in html
        assert _count(world, ChatMessage, case.id) == before  # nothing half-sent
    known = next(iter(PURPOSES))
    sent = nurse.post(f"/cases/{case.id}/chat", {"body": body, "phrase_purpose": known, "action": "send"})
    assert sent.status_code == 302
    assert read(world, select(ChatMessage.phrase_purpose).where(ChatMessage.body == body)) == known
    assert (
        nurse.post(f"/cases/{case.id}/chat", {"body": "Och i morgon?", "action": "send"}).status_code == 302
    )
    assert read(world, select(ChatMessage.phrase_purpose).where(ChatMessage.body == "Och i morgon?")) is None


def test_OG_6_5_a_search_reason_past_the_limit_is_refused_as_input_not_as_another_reason(world):
    from app.cases import handling

    case = world.submit("adult")
    nurse = started(world, case)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack."
    )
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        chat.reopen(
            world.session,
            world.engine,
            actor=world.resident("adult"),
            case_id=case.id,
            search_reason=_text(limits.SEARCH_REASON + 1),
        )
    assert list(refused.value.field_errors) == ["search_reason"]
    world.session.rollback()


@pytest.mark.parametrize(
    ("number", "declared"),
    [
        (limits.MESSAGE_BODY, lambda: schemas.component("MessageBody")["properties"]["body"]["maxLength"]),
        (limits.MESSAGE_BODY, lambda: schemas.form_field("start", "first_message")["maxLength"]),
        (
            limits.IMAGE_INSTRUCTIONS,
            lambda: schemas.component("ImageRequestBody")["properties"]["instructions"]["maxLength"],
        ),
        (limits.PHONE_NOTE, lambda: schemas.component("PhoneCallBody")["properties"]["note"]["maxLength"]),
        (limits.PHONE_NOTE, lambda: schemas.form_field("phone_attempt", "note")["maxLength"]),
        (limits.PRIORITY_REASON, lambda: schemas.form_field("receive", "priority_reason")["maxLength"]),
        (
            limits.SEARCH_REASON,
            lambda: schemas.component("ReopenBody")["properties"]["search_reason"]["maxLength"],
        ),
    ],
)
def test_the_api_and_the_routines_forms_declare_the_same_limits_as_the_services(number, declared):
    assert declared() == number
