"""Patient fees: tariffs by effective date (OG-2-d), free contacts (OG-2-a, OG-2-c), the stated cost (OG-8.3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.errors import Forbidden, NotFound, ValidationFailed
from app.fees import service as fees
from app.fees.models import Tariff, VisitKind
from app.fees.service import ContactKind, MeetingForm
from app.people.roles import Role
from app.phrases.service import seed_regional_defaults
from tests import factories as f

SYSTEM = Actor.system("test")


@pytest.fixture
def region_unit(session, clock):
    unit = f.unit(session, "Vårdcentralen Ekdalen")
    session.commit()
    return unit.region, unit


def _set(session, region, kind, amount, effective_from, actor=SYSTEM):
    return fees.set_tariff(
        session,
        actor=actor,
        region_id=region.id,
        visit_kind=kind,
        amount_sek=amount,
        effective_from=effective_from,
    )


def test_OG_2_d_tariff_in_effect_on_the_date(session, region_unit):
    """Fees change mid-year and each new year: the tariff in effect that day applies."""
    region, _unit = region_unit
    _set(session, region, VisitKind.DIGITAL_VISIT, 100, date(2026, 1, 1))
    _set(session, region, VisitKind.DIGITAL_VISIT, Decimal("112.50"), date(2026, 7, 1))
    _set(session, region, VisitKind.DIGITAL_VISIT, 125, date(2027, 1, 1))
    _set(session, region, VisitKind.PHYSICAL_VISIT, 200, date(2026, 1, 1))

    def amount(on: date) -> Decimal:
        return fees.fee_for(
            session, region_id=region.id, visit_kind=VisitKind.DIGITAL_VISIT, on=on
        ).amount_sek

    assert amount(date(2026, 6, 30)) == 100
    assert amount(date(2026, 7, 1)) == Decimal("112.50")
    assert amount(date(2026, 12, 31)) == Decimal("112.50")
    assert amount(date(2027, 1, 1)) == 125
    fee = fees.fee_for(session, region_id=region.id, visit_kind=VisitKind.DIGITAL_VISIT, on=date(2026, 8, 1))
    assert (fee.amount_ore, fee.effective_from, fee.rule) == (11250, date(2026, 7, 1), "OG-2-b")
    with pytest.raises(NotFound, match="no tariff"):
        amount(date(2025, 12, 31))
    with pytest.raises(NotFound):
        fees.fee_for(session, region_id=region.id, visit_kind=VisitKind.PHONE_VISIT, on=date(2026, 8, 1))


def test_OG_2_d_a_tariff_set_again_for_the_same_date_is_corrected_and_audited(session, region_unit):
    region, _unit = region_unit
    first = _set(session, region, VisitKind.DIGITAL_VISIT, 100, date(2026, 1, 1))
    again = _set(session, region, VisitKind.DIGITAL_VISIT, 110, date(2026, 1, 1))
    assert first.id == again.id and again.amount_ore == 11000
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "tariff:set").order_by(AuditEvent.id)
    ).all()
    assert [(e.details["amount_ore"], e.details["previous_amount_ore"]) for e in events] == [
        (10000, None),
        (11000, 10000),
    ]


def test_OG_2_a_chat_contacts_are_free(session, region_unit):
    """Sök vård and Administrativa frågor are free, image or video in the advisory phase included."""
    region, _unit = region_unit
    _set(session, region, VisitKind.DIGITAL_VISIT, 100, date(2026, 1, 1))
    today = date(2026, 11, 23)
    fee = fees.fee_for_contact(session, region_id=region.id, contact=ContactKind.CHAT_ADVICE, on=today)
    assert fee.free and fee.amount_sek == 0 and fee.rule == "OG-2-a"


def test_OG_2_b_a_contact_that_leads_to_a_visit_costs_the_regions_tariff(session, region_unit):
    region, _unit = region_unit
    for kind, amount in (
        (VisitKind.DIGITAL_VISIT, 100),
        (VisitKind.PHYSICAL_VISIT, 200),
        (VisitKind.PHONE_VISIT, 150),
    ):
        _set(session, region, kind, amount, date(2026, 1, 1))
    today = date(2026, 11, 23)
    for contact, amount in (("digital_visit", 100), ("physical_visit", 200), ("phone_visit", 150)):
        visit = fees.fee_for_contact(session, region_id=region.id, contact=contact, on=today)
        assert visit.amount_sek == amount and visit.rule == "OG-2-b" and not visit.free


@pytest.mark.parametrize(
    "contact",
    ["test_results", "booking", "prescription_renewal", "phone_advice", "letter", "care_guarantee_contact"],
)
def test_OG_2_c_contacts_that_stay_free(session, region_unit, contact):
    region, _unit = region_unit
    fee = fees.fee_for_contact(session, region_id=region.id, contact=contact, on=date(2026, 11, 23))
    assert fee.free and fee.rule == "OG-2-c"


def test_OG_8_3_switching_meeting_form_states_the_cost(session, region_unit):
    """The consent question always states the cost; the fee comes back to be recorded with the consent."""
    region, unit = region_unit
    seed_regional_defaults(session, region=region)
    _set(session, region, VisitKind.DIGITAL_VISIT, Decimal("112.50"), date(2026, 1, 1))
    _set(session, region, VisitKind.PHONE_VISIT, 100, date(2026, 1, 1))
    notice = fees.fee_notice(session, unit_id=unit.id, meeting_form=MeetingForm.VIDEO, on=date(2026, 11, 23))
    assert "via video" in notice.text and "kostar 112,50 kronor" in notice.text
    assert notice.fee.amount_ore == 11250
    phone = fees.fee_notice(session, unit_id=unit.id, meeting_form="phone", on=date(2026, 11, 23))
    assert "via telefon" in phone.text and "kostar 100 kronor" in phone.text


def test_tariffs_are_set_by_a_process_owner_or_sysadmin_of_the_region(session, region_unit):
    region, unit = region_unit
    elsewhere = f.unit(session, "Vårdcentralen Havsbris", region_code="HA")
    nurse = f.signed_in(session, f.user(session, unit, Role.NURSE), unit)
    owner = f.signed_in(session, f.user(session, unit, Role.PROCESS_OWNER), unit)
    halland_owner = f.signed_in(session, f.user(session, elsewhere, Role.PROCESS_OWNER), elsewhere)
    with pytest.raises(Forbidden):
        _set(session, region, VisitKind.DIGITAL_VISIT, 100, date(2026, 1, 1), actor=nurse)
    with pytest.raises(Forbidden, match="region you act in"):
        _set(session, region, VisitKind.DIGITAL_VISIT, 100, date(2026, 1, 1), actor=halland_owner)
    tariff = _set(session, region, VisitKind.DIGITAL_VISIT, 100, date(2026, 1, 1), actor=owner)
    assert tariff.created_by_user_id == owner.user_id


def test_amounts_are_exact(session, region_unit):
    region, _unit = region_unit
    for bad in (99.5, Decimal("-1"), Decimal("10.005")):
        with pytest.raises(ValidationFailed):
            _set(session, region, VisitKind.DIGITAL_VISIT, bad, date(2026, 1, 1))


def test_demo_tariffs_are_labelled_placeholders_and_seeded_once(session, region_unit):
    region, _unit = region_unit
    seeded = fees.seed_demo_tariffs(session, region=region)
    assert {t.visit_kind for t in seeded} == set(VisitKind)
    assert all("Platshållare" in t.note and t.effective_from == date(2026, 1, 1) for t in seeded)
    assert fees.seed_demo_tariffs(session, region=region) == []
    assert len(session.scalars(select(Tariff)).all()) == 3
