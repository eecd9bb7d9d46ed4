"""OG-11-f: images are asked for by the automatic triage or by staff during an ongoing chat, and the
patient uploads what was asked for into the case: nothing unrequested, nothing into a case no longer
handled."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.cases import chat, handling
from app.cases.models import CaseImage, CaseState, ImageRequest
from app.errors import GuardRefused
from tests.casework.conftest import read, started

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _upload(world, case, request_id=None, who="adult"):
    return chat.upload_image(
        world.session,
        actor=world.resident(who),
        case_id=case.id,
        filename="bild.png",
        content_type="image/png",
        content=PNG,
        request_id=request_id,
    )


def _refused(call) -> GuardRefused:
    with pytest.raises(GuardRefused) as refused:
        call()
    return refused.value


def _count(world, model, case) -> int:
    world.session.rollback()
    return read(world, select(func.count(model.id)).where(model.case_id == case.id))


def test_OG_11_f_an_upload_nobody_asked_for_is_refused(world):
    case = world.submit("adult")  # a sore throat: the triage asks for no image
    started(world, case)
    refused = _refused(lambda: _upload(world, case))
    assert refused.rule == "OG-11-f" and "inte bett om någon bild" in refused.message
    assert _count(world, CaseImage, case) == 0


def test_OG_11_f_each_request_is_answered_once_and_the_triages_request_before_handling_starts(world):
    case = world.submit("adult", reason="utslag")  # the triage asks for images at once
    [triage_request] = world.session.scalars(select(ImageRequest).where(ImageRequest.case_id == case.id))
    assert case.state == CaseState.NEW and triage_request.requested_by is None
    image = _upload(world, case, triage_request.id)
    world.session.commit()
    assert image.request_id == triage_request.id and triage_request.fulfilled_at is not None
    refused = _refused(lambda: _upload(world, case, triage_request.id))
    assert refused.rule == "OG-11-f" and "redan uppladdad" in refused.message
    world.session.rollback()
    nurse = started(world, case)
    asked = chat.request_images(world.session, actor=nurse, case_id=case.id, instructions="Bild på armen.")
    world.session.commit()
    assert _upload(world, case).request_id == asked.id  # without an id: the open request it answers
    world.session.commit()
    assert _count(world, CaseImage, case) == 2


def test_OG_11_f_staff_ask_for_images_only_during_an_ongoing_chat(world):
    case = world.submit("adult")
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    refused = _refused(
        lambda: chat.request_images(world.session, actor=nurse, case_id=case.id, instructions="Bild")
    )
    assert refused.rule == "OG-11-f" and "starta ärendet" in refused.message
    assert _count(world, ImageRequest, case) == 0


def test_OG_11_f_a_closed_case_takes_no_image_and_no_new_image_request(world):
    case = world.submit("adult")
    nurse = started(world, case)
    asked = chat.request_images(world.session, actor=nurse, case_id=case.id, instructions="Bild på halsen.")
    world.session.commit()
    chat.patient_write(world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Ok")
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    refused = _refused(lambda: _upload(world, case, asked.id))
    assert refused.rule == "OG-11-f" and "hanteras inte längre" in refused.message
    world.session.rollback()
    refused = _refused(
        lambda: chat.request_images(world.session, actor=nurse, case_id=case.id, instructions="Bild")
    )
    assert refused.rule == "OG-11-f" and "inte längre en pågående chatt" in refused.message
    assert _count(world, CaseImage, case) == 0 and _count(world, ImageRequest, case) == 1


def test_OG_11_f_a_referred_case_takes_no_image_even_when_the_triage_asked_for_one(world, clock):
    clock.set(datetime(2026, 11, 23, 20, 0, tzinfo=ZoneInfo("Europe/Stockholm")))  # after hours
    case = world.submit("adult", reason="utslag", high_fever=True)
    assert case.state == CaseState.REFERRED
    [triage_request] = world.session.scalars(select(ImageRequest).where(ImageRequest.case_id == case.id))
    refused = _refused(lambda: _upload(world, case, triage_request.id))
    assert refused.rule == "OG-11-f"
    world.session.rollback()
    refused = _refused(
        lambda: chat.request_images(
            world.session, actor=world.actor("nurse"), case_id=case.id, instructions="Bild"
        )
    )
    assert refused.rule == "OG-11-f"
    assert _count(world, CaseImage, case) == 0 and _count(world, ImageRequest, case) == 1
