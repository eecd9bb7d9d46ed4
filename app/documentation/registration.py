"""Registration of a closed chat in the EHR's cash desk (HA-reg-a, HA-reg-b, HA-reg-c).

A chat that did not replace a clinic visit is not registered (HA-reg-a). When a nurse hands a chat
on, the nurse's part counts as triage: only the contact of the one who took over (a doctor, when a
doctor took part) is registered and billed (HA-reg-b). A chat that replaced a physical visit gets an
unbooked arrival registration, prepared here field by field for someone with cash-desk permission
(HA-reg-c); a free card (frikort) overrides any fee reduction, and a patient who pays gets an invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases.models import Case
from app.documentation.models import RegistrationRecord
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.fees.models import VisitKind
from app.fees.service import fee_for
from app.people.models import Unit, User
from app.people.roles import Role
from app.phrases.rendering import format_value

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CONTACT_TYPE = "Distansbesök - skriftlig"
AGREEMENT = "Primärvård"
PAYMENT_BY_INVOICE = "Faktura"


@dataclass(frozen=True)
class ChatContact:
    """A clinician who took part in the chat, in the order they did."""

    user_id: int
    role: Role


@dataclass(frozen=True)
class FreeCard:
    """The patient's free card (frikort) as the EHR shows it."""

    number: str
    valid_until: date


def registration_for_closed_chat(
    session: Session,
    *,
    case: Case,
    actor: Actor,
    replaced_clinic_visit: bool,
    contacts: Sequence[ChatContact],
    care_service: str,
    identification_method: str,
    visit_type: str,
    patient_fee_ore: int | None = None,
    fee_reduction: str | None = None,
    free_card: FreeCard | None = None,
) -> RegistrationRecord | None:
    """Prepare the arrival registration of a closed chat, or None when it is not registered as a visit."""
    if not replaced_clinic_visit:
        record(
            session, "registration:not_registered", actor=actor, subject=("case", case.id), rule="HA-reg-a"
        )
        return None
    if not contacts:
        raise ValidationFailed(
            "a registered chat names the clinician who chatted", {"contacts": ["required"]}
        )
    if session.scalar(select(RegistrationRecord.id).where(RegistrationRecord.case_id == case.id)) is not None:
        raise Conflict("the chat already has a registration")
    clinician = _registered_clinician(contacts)
    user = session.get(User, clinician.user_id)
    unit = session.get(Unit, case.unit_id)
    if user is None or unit is None:
        raise NotFound("the clinician or the unit no longer exists")
    visit_day = (case.closed_at or clock.now()).astimezone(STOCKHOLM).date()
    if patient_fee_ore is None:
        patient_fee_ore = fee_for(
            session, region_id=unit.region_id, visit_kind=VisitKind.DIGITAL_VISIT, on=visit_day
        ).amount_ore
    card_applies = free_card is not None and free_card.valid_until >= visit_day
    if card_applies:
        fee_reduction = None  # the free card overrides: no reduction can be chosen
    to_pay = not card_applies and patient_fee_ore > 0
    fields = [
        ("Kontakttyp", CONTACT_TYPE),
        ("Vårdande enhet", unit.name),
        ("Vårdtjänst", care_service),
        ("Kundavtal", AGREEMENT),
        ("Vårdpersonal", f"{user.display_name} ({clinician.role.value})"),
        ("Legitimationssätt", identification_method),
        ("Besökstyp", visit_type),
        ("Patientavgift", f"{format_value(Decimal(patient_fee_ore) / 100)} kronor"),
        ("Avgiftsreducering", fee_reduction or ("ingen, frikort" if card_applies else "ingen")),
        (
            "Frikort",
            f"{free_card.number}, giltigt till och med {free_card.valid_until.isoformat()}"
            if card_applies
            else "inget giltigt",
        ),
        ("Betalsätt", PAYMENT_BY_INVOICE if to_pay else "ingen betalning"),
    ]
    registration = RegistrationRecord(
        case_id=case.id,
        unit_id=case.unit_id,
        clinician_user_id=clinician.user_id,
        data={
            "fields": [{"label": label, "value": value} for label, value in fields],
            "patient_fee_ore": patient_fee_ore,
            "fee_reduction": fee_reduction,
            "free_card": {"number": free_card.number, "valid_until": free_card.valid_until.isoformat()}
            if card_applies
            else None,
            "payment": PAYMENT_BY_INVOICE if to_pay else None,
            "not_registered_user_ids": [c.user_id for c in contacts if c.user_id != clinician.user_id],
            "needs": "kassabehörighet",
        },
        created_at=clock.now(),
    )
    session.add(registration)
    session.flush()
    record(
        session,
        "registration:prepared",
        actor=actor,
        subject=("registration", registration.id),
        case_id=case.id,
        clinician_user_id=clinician.user_id,
        free_card=card_applies,
    )
    return registration


def mark_registered(session: Session, *, registration_id: int, actor: Actor) -> RegistrationRecord:
    """Record that the registration was entered in the EHR (by someone acting for its unit)."""
    registration = session.get(RegistrationRecord, registration_id)
    if registration is None:
        raise NotFound(_l("Registreringen finns inte."), registration_id=registration_id)
    if actor.user_id is None or actor.unit_id != registration.unit_id:
        raise Forbidden(_l("En registrering markeras som klar av någon som arbetar för dess enhet."))
    if registration.done:
        raise Conflict(_l("Registreringen är redan markerad som klar."))
    registration.done, registration.done_at, registration.done_by_user_id = True, clock.now(), actor.user_id
    session.flush()
    record(
        session,
        "registration:done",
        actor=actor,
        subject=("registration", registration.id),
        case_id=registration.case_id,
    )
    return registration


def _registered_clinician(contacts: Sequence[ChatContact]) -> ChatContact:
    # HA-reg-b: a nurse who hands on has triaged; the doctor's contact (else the last one) is the visit.
    doctors = [c for c in contacts if c.role == Role.DOCTOR]
    return doctors[-1] if doctors else contacts[-1]
