"""Patients from the registry, guardianship, and protected identity as claimed or recorded."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.errors import NotFound
from app.patients.models import Guardianship, IdentityKind, Patient, Protection
from app.patients.registry import PopulationRegistry, RegistryPerson
from app.people.identity import parse_identity_number


def patient_by_identity(session: Session, identity_number: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.identity_number == identity_number))


def sync_patient(session: Session, registry: PopulationRegistry, identity_number: str) -> Patient:
    """Create or refresh a patient (and their guardianship) from the population registry."""
    person = registry.lookup(identity_number)
    if person is None:
        raise NotFound("the population registry has no person with that identity number")
    patient = _upsert(session, person)
    now = clock.now()
    wanted = []
    for guardian_number in person.guardians:
        guardian_person = registry.lookup(guardian_number)
        if guardian_person is None:
            continue
        wanted.append(_upsert(session, guardian_person).id)
    existing = {
        g.guardian_id: g
        for g in session.scalars(select(Guardianship).where(Guardianship.child_id == patient.id))
    }
    for guardian_id, row in existing.items():
        if guardian_id not in wanted:
            session.delete(row)
    for guardian_id in wanted:
        if guardian_id not in existing:
            session.add(
                Guardianship(guardian_id=guardian_id, child_id=patient.id, source="registry", synced_at=now)
            )
    session.flush()
    return patient


def _upsert(session: Session, person: RegistryPerson) -> Patient:
    if person.reservnummer:
        number, kind = person.identity_number, IdentityKind.RESERVNUMMER
    else:
        parsed = parse_identity_number(person.identity_number)  # checksum and date checked
        number, kind = parsed.value, IdentityKind(parsed.kind.value)
    patient = patient_by_identity(session, number)
    if patient is None:
        patient = Patient(
            identity_number=number,
            identity_kind=kind,
            birth_date=person.birth_date,
            given_name=person.given_name,
            family_name=person.family_name,
        )
        session.add(patient)
    patient.given_name = person.given_name
    patient.family_name = person.family_name
    patient.birth_date = person.birth_date
    patient.mobile = person.mobile or patient.mobile
    if person.protected and patient.protection != Protection.CONFIRMED:
        patient.protection = Protection.CONFIRMED
    patient.registry_synced_at = clock.now()
    session.flush()
    return patient


def guardians_of(session: Session, child_id: int) -> list[Patient]:
    return list(
        session.scalars(
            select(Patient)
            .join(Guardianship, Guardianship.guardian_id == Patient.id)
            .where(Guardianship.child_id == child_id)
        )
    )


def children_of(session: Session, guardian_id: int) -> list[Patient]:
    return list(
        session.scalars(
            select(Patient)
            .join(Guardianship, Guardianship.child_id == Patient.id)
            .where(Guardianship.guardian_id == guardian_id)
        )
    )


def claim_protection(session: Session, *, patient: Patient, actor: Actor) -> None:
    """The resident says they have protected identity: treat it as protected until staff record otherwise."""
    if patient.protection in (Protection.NONE, Protection.CLEARED):
        patient.protection = Protection.CLAIMED
        record(session, "patient:protection_claimed", actor=actor, subject=("patient", patient.id))
        _mark_open_tasks(session, patient)


def record_protection(session: Session, *, patient: Patient, actor: Actor, confirmed: bool) -> None:
    """Staff record what the EHR says (OG-6.3): confirmed protected identity, or cleared."""
    patient.protection = Protection.CONFIRMED if confirmed else Protection.CLEARED
    patient.protection_recorded_by = actor.user_id
    patient.protection_recorded_at = clock.now()
    record(
        session,
        "patient:protection_recorded",
        actor=actor,
        subject=("patient", patient.id),
        confirmed=confirmed,
    )
    _mark_open_tasks(session, patient)


def _mark_open_tasks(session: Session, patient: Patient) -> None:
    """The open task rows copy whether the patient is protected (the list's badge, the API): all of the
    patient's cases show it from now on, not only the one where it was claimed or recorded."""
    from app.instances.models import HumanTask

    session.execute(
        update(HumanTask)
        .where(HumanTask.patient_id == patient.id)
        .values(patient_protected=patient.is_protected)
        .execution_options(synchronize_session=False)
    )
