"""Registration of closed chats in the EHR's cash desk (HA-reg-a, HA-reg-b, HA-reg-c)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.documentation.models import RegistrationRecord
from app.documentation.registration import (
    ChatContact,
    FreeCard,
    mark_registered,
    registration_for_closed_chat,
)
from app.errors import Conflict, Forbidden, NotFound
from app.fees.models import VisitKind
from app.fees.service import set_tariff
from app.people.roles import Role
from tests import factories as f

ROUTINE = Actor.system("routine")


@pytest.fixture
def chat(session, clock):
    f.region(session, "HA", "Region Halland", journal_template="ha_besoksanteckning")
    unit = f.unit(session, "Vårdcentralen Havsbris", region_code="HA")
    nurse = f.user(session, unit, Role.NURSE, given="Nils", family="Åberg")
    doctor = f.user(session, unit, Role.DOCTOR, given="Eva", family="Falk")
    case = f.case(session, unit, f.patient(session))
    session.commit()
    return unit, case, nurse, doctor


def _register(session, case, contacts, **kw):
    defaults = dict(
        replaced_clinic_visit=True,
        care_service="Allmänmedicin",
        identification_method="E-legitimation",
        visit_type="Nybesök",
        patient_fee_ore=20000,
    )
    return registration_for_closed_chat(
        session, case=case, actor=ROUTINE, contacts=contacts, **(defaults | kw)
    )


def _fields(registration: RegistrationRecord) -> dict[str, str]:
    return {field["label"]: field["value"] for field in registration.data["fields"]}


def test_HA_reg_a_a_chat_that_did_not_replace_a_clinic_visit_is_not_registered(session, chat):
    _unit, case, nurse, _ = chat
    assert _register(session, case, [ChatContact(nurse.id, Role.NURSE)], replaced_clinic_visit=False) is None
    assert session.scalars(select(RegistrationRecord)).all() == []
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "registration:not_registered")
    ).one()
    assert event.details["rule"] == "HA-reg-a"


def test_HA_reg_b_a_nurse_handing_over_to_a_doctor_is_triage_only_the_doctor_is_registered(session, chat):
    _unit, case, nurse, doctor = chat
    registration = _register(
        session, case, [ChatContact(nurse.id, Role.NURSE), ChatContact(doctor.id, Role.DOCTOR)]
    )
    assert registration.clinician_user_id == doctor.id
    assert _fields(registration)["Vårdpersonal"] == "Eva Falk (Läkare)"
    assert registration.data["not_registered_user_ids"] == [nurse.id]
    assert registration.data["payment"] == "Faktura", "the doctor contact is billed"
    assert (
        session.scalar(select(RegistrationRecord.id).where(RegistrationRecord.clinician_user_id == nurse.id))
        is None
    )


def test_HA_reg_c_a_chat_replacing_a_visit_gets_an_unbooked_arrival_registration(session, chat):
    unit, case, nurse, _ = chat
    registration = _register(
        session, case, [ChatContact(nurse.id, Role.NURSE)], fee_reduction="Ålder 85 år eller äldre"
    )
    assert _fields(registration) == {
        "Kontakttyp": "Distansbesök - skriftlig",
        "Vårdande enhet": unit.name,
        "Vårdtjänst": "Allmänmedicin",
        "Kundavtal": "Primärvård",
        "Vårdpersonal": "Nils Åberg (Sjuksköterska)",
        "Legitimationssätt": "E-legitimation",
        "Besökstyp": "Nybesök",
        "Patientavgift": "200 kronor",
        "Avgiftsreducering": "Ålder 85 år eller äldre",
        "Frikort": "inget giltigt",
        "Betalsätt": "Faktura",
    }
    assert registration.data["needs"] == "kassabehörighet" and registration.done is False
    with pytest.raises(Conflict):
        _register(session, case, [ChatContact(nurse.id, Role.NURSE)])


def test_HA_reg_c_frikort_overrides_reduction(session, chat):
    """A free card (frikort) overrides any fee reduction, and nothing is invoiced."""
    _unit, case, nurse, _ = chat
    card = FreeCard("FK-123456", valid_until=date(2027, 3, 31))
    registration = _register(
        session,
        case,
        [ChatContact(nurse.id, Role.NURSE)],
        fee_reduction="Ålder 85 år eller äldre",
        free_card=card,
    )
    fields = _fields(registration)
    assert fields["Avgiftsreducering"] == "ingen, frikort" and registration.data["fee_reduction"] is None
    assert fields["Frikort"] == "FK-123456, giltigt till och med 2027-03-31"
    assert fields["Betalsätt"] == "ingen betalning" and registration.data["payment"] is None


def test_HA_reg_c_an_expired_frikort_does_not_apply(session, chat):
    _unit, case, nurse, _ = chat
    card = FreeCard("FK-1", valid_until=date(2026, 11, 22))  # the day before the chat
    registration = _register(
        session,
        case,
        [ChatContact(nurse.id, Role.NURSE)],
        fee_reduction="Ålder 85 år eller äldre",
        free_card=card,
    )
    assert (
        registration.data["free_card"] is None
        and registration.data["fee_reduction"] == "Ålder 85 år eller äldre"
    )
    assert registration.data["payment"] == "Faktura"


def test_HA_reg_c_the_patient_fee_comes_from_the_tariff_in_effect(session, chat):
    """OG-2-d: without a fee given, the region's digital-visit tariff of the chat's day applies."""
    unit, case, nurse, _ = chat
    with pytest.raises(NotFound, match="no tariff"):
        _register(session, case, [ChatContact(nurse.id, Role.NURSE)], patient_fee_ore=None)
    set_tariff(
        session,
        actor=Actor.system("test"),
        region_id=unit.region_id,
        visit_kind=VisitKind.DIGITAL_VISIT,
        amount_sek=150,
        effective_from=date(2026, 1, 1),
    )
    registration = _register(session, case, [ChatContact(nurse.id, Role.NURSE)], patient_fee_ore=None)
    assert (
        registration.data["patient_fee_ore"] == 15000
        and _fields(registration)["Patientavgift"] == "150 kronor"
    )


def test_a_registration_is_marked_done_by_someone_acting_for_its_unit(session, chat):
    unit, case, nurse, doctor = chat
    registration = _register(session, case, [ChatContact(nurse.id, Role.NURSE)])
    elsewhere = f.unit(session, "Vårdcentralen Annan", region_code="HA")
    stranger = f.user(session, elsewhere, Role.MEDICAL_ADMIN)
    with pytest.raises(Forbidden):
        mark_registered(
            session, registration_id=registration.id, actor=f.signed_in(session, stranger, elsewhere)
        )
    mark_registered(session, registration_id=registration.id, actor=f.signed_in(session, doctor, unit))
    assert registration.done and registration.done_by_user_id == doctor.id
    with pytest.raises(Conflict):
        mark_registered(session, registration_id=registration.id, actor=f.signed_in(session, doctor, unit))
