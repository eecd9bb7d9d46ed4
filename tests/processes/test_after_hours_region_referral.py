"""After closing, the region's routine decides (processes/after_hours_referral.dmn, chat_case.bpmn).

Region Halland (HA-after-hours) refers every priority to 1177 by phone or to 112 by severity; at a care
centre the resident may send the chat anyway, whatever its priority, and it is handled the next weekday.
Region Östergötland (OG-3) reads the priority: 112, 1177, self-care or the next day (labelled
placeholders). A case queued out of hours is told it is handled the next weekday (OG-6.1-e). Every
service call restores the routine from its saved state, so each walk-through serializes mid-way."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.cases.models import CaseState, ChatMessage
from app.notifications.models import Notification
from app.people.models import UnitKind
from app.phrases.models import PhraseStatus, PhraseTemplate

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY_EVENING = datetime(
    2026, 11, 23, 20, 0, tzinfo=STOCKHOLM
)  # both units closed; open again Tuesday 08:00
SATURDAY_NIGHT = datetime(2026, 11, 28, 3, 0, tzinfo=STOCKHOLM)  # open again Monday 30 November 08:00
ANSWERS = {  # the demo triage's answers for each priority
    1: {"breathing": True},
    2: {"high_fever": True},
    3: {},
    5: {"reason": "recept"},
}


def _messages(world, case) -> list[ChatMessage]:
    world.session.expire_all()
    return list(
        world.session.scalars(
            select(ChatMessage).where(ChatMessage.case_id == case.id).order_by(ChatMessage.id)
        )
    )


def _submit(world, unit: str, priority: int, **kwargs):
    case = world.submit("adult", unit=unit, **ANSWERS[priority], **kwargs)
    assert case.priority == priority
    return case


@pytest.mark.parametrize(
    ("priority", "referral"), [(1, "call_112"), (2, "call_1177"), (3, "call_1177"), (5, "call_1177")]
)
def test_HA_after_hours_OG_3_in_Halland_every_priority_after_closing_is_referred_to_1177_or_112(
    world, clock, priority, referral
):
    """HA-after-hours: never self-care advice and never queued silently, whatever the priority."""
    clock.set(MONDAY_EVENING)
    case = _submit(world, "ha", priority)
    assert (case.state, case.referral) == (CaseState.REFERRED, referral)
    assert world.titles(case) == []
    [message] = _messages(world, case)
    assert message.phrase_purpose == f"referral:{referral}" and referral[len("call_") :] in message.body


@pytest.mark.parametrize(("priority", "referral"), [(1, "call_112"), (2, "call_1177"), (3, "self_care")])
def test_OG_3_in_Ostergotland_after_closing_the_case_is_referred_by_priority(
    world, clock, priority, referral
):
    """OG-3: by priority (the table's labelled placeholder values for Östergötland)."""
    clock.set(MONDAY_EVENING)
    case = _submit(world, "og", priority)
    assert (case.state, case.referral) == (CaseState.REFERRED, referral)
    assert world.titles(case) == []


def test_OG_3_OG_6_1_e_in_Ostergotland_a_priority_five_case_after_closing_waits_and_is_told_the_next_weekday(
    world, clock
):
    """OG-3: taken care of the next day; OG-6.1-e: the patient is told so (phrase template, SMS notice)."""
    clock.set(MONDAY_EVENING)
    case = _submit(world, "og", 5)
    assert case.state == CaseState.NEW and case.referral is None
    assert world.titles(case) == ["Ta emot ärendet"]
    [told] = _messages(world, case)
    assert told.phrase_purpose == "next_weekday"
    assert "nästa vardag" in told.body and "24 november" in told.body and "1177" in told.body
    notices = world.session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.patient_id.is_not(None))
    ).all()
    assert [n.purpose.value for n in notices] == ["new_chat_message"]


@pytest.mark.parametrize("priority", [1, 2, 3, 5])
def test_HA_after_hours_OG_6_1_e_sent_anyway_in_Halland_any_priority_waits_and_is_told_the_next_weekday(
    world, clock, priority
):
    """HA-after-hours: at a care centre the resident may always send anyway, whatever the priority; it is
    handled the next weekday, and OG-6.1-e: the patient is told so, with advice to seek care if needed."""
    clock.set(SATURDAY_NIGHT)
    case = _submit(world, "ha", priority, send_anyway=True)
    assert case.state == CaseState.NEW and case.referral is None
    assert world.titles(case)[-1] == "Ta emot ärendet"
    told = [m for m in _messages(world, case) if m.phrase_purpose == "next_weekday"]
    assert len(told) == 1 and "30 november" in told[0].body and "112" in told[0].body


def test_HA_after_hours_send_anyway_is_not_offered_by_a_Halland_unit_that_is_no_care_centre(world, clock):
    """HA-after-hours: "at a care centre": elsewhere in Halland the resident is referred even if sent anyway."""
    world.units["ha"].kind = UnitKind.REHAB
    world.session.commit()
    clock.set(MONDAY_EVENING)
    case = _submit(world, "ha", 5, send_anyway=True)
    assert (case.state, case.referral) == (CaseState.REFERRED, "call_1177")


def test_OG_3_OG_6_1_e_a_case_sent_while_the_unit_is_open_gets_no_next_weekday_message(world, clock):
    """Within opening hours nothing is referred and nobody is told to wait for the next weekday."""
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM))
    for unit in ("og", "ha"):
        case = _submit(world, unit, 5)
        assert case.state == CaseState.NEW and world.titles(case) == ["Ta emot ärendet"]
        assert [m.phrase_purpose for m in _messages(world, case)] == []


def test_OG_3_OG_8_2_the_referral_text_is_the_regions_phrase_template(world, clock):
    """The referral the patient reads is the region's published template for it, not a text built into
    the code: a region that words its self-care advice its own way sends that wording."""
    own_words = "Mottagningen har stängt. Läs om egenvård på 1177.se. Ring 1177 om du blir sämre."
    region_id = world.units["og"].region_id
    template = world.session.scalar(
        select(PhraseTemplate).where(
            PhraseTemplate.region_id == region_id,
            PhraseTemplate.purpose == "referral_self_care",
            PhraseTemplate.status == PhraseStatus.PUBLISHED,
        )
    )
    template.text = own_words
    world.session.commit()
    clock.set(MONDAY_EVENING)
    case = _submit(world, "og", 3)
    [message] = _messages(world, case)
    assert (message.phrase_purpose, message.body) == ("referral:self_care", own_words)
