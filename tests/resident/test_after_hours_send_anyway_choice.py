"""HA-after-hours on the resident's form: when a care centre whose region allows it is closed, the choice
to send the chat anyway is offered before the case is sent, not only after a referral."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.cases.models import Case, CaseState
from app.people.models import UnitKind
from tests.resident.conftest import post, read, sok_vard_form

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SATURDAY_NIGHT = datetime(2026, 11, 28, 3, 0, tzinfo=STOCKHOLM)
CHOICE = 'name="send_anyway" value="1"'


def test_HA_after_hours_a_closed_Halland_care_centre_offers_send_anyway_on_the_form_before_sending(
    client, world, sign_in, clock
):
    clock.set(SATURDAY_NIGHT)
    sign_in("adult")
    page = client.get("/resident/new").get_data(as_text=True)
    assert CHOICE in page and "Skicka ärendet ändå om mottagningen har stängt" in page
    assert "Gäller nu: Vårdcentralen Havsbris." in page  # not Östergötland's Ekdalen (OG-3)
    form = {**sok_vard_form(world, "adult", unit="ha", reason="recept"), "send_anyway": "1"}
    response = post(client, "/resident/new", form)
    [case] = read(world.session, select(Case))
    assert response.status_code == 303 and case.priority == 5
    assert case.state == CaseState.NEW and case.referral is None


def test_HA_after_hours_without_the_choice_a_closed_Halland_care_centre_refers_every_priority(
    client, world, sign_in, clock
):
    """A priority 5 case is referred to 1177 (never queued silently), with "send anyway" offered again."""
    clock.set(SATURDAY_NIGHT)
    sign_in("adult")
    page = post(client, "/resident/new", sok_vard_form(world, "adult", unit="ha", reason="recept"))
    [case] = read(world.session, select(Case))
    assert (case.state, case.referral) == (CaseState.REFERRED, "call_1177")
    assert "ringa 1177" in page.get_data(as_text=True) and "Skicka ändå" in page.get_data(as_text=True)


def test_OG_3_HA_after_hours_no_send_anyway_choice_when_open_in_Ostergotland_or_at_a_unit_not_a_care_centre(
    client, world, sign_in, clock
):
    sign_in("adult")
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM))  # both open
    assert CHOICE not in client.get("/resident/new").get_data(as_text=True)
    clock.set(SATURDAY_NIGHT)
    assert CHOICE not in client.get("/resident/new?kind=admin").get_data(as_text=True)  # not a chat
    world.units["ha"].kind = UnitKind.REHAB  # "at a care centre"
    world.session.commit()
    page = client.get("/resident/new").get_data(as_text=True)
    assert CHOICE not in page  # closed Ekdalen is in Östergötland: referred by priority (OG-3)
