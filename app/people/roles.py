"""Roles (yrkesroller) a membership grants at a unit. Lanes in BPMN name them in Swedish."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NURSE = "Sjuksköterska"
    DOCTOR = "Läkare"
    PSYCHOLOGIST = "Psykolog"
    PHYSIOTHERAPIST = "Fysioterapeut"
    MEDICAL_ADMIN = "Medicinsk admin"
    ADMIN_CONTACT = "Administrativ kontakt"
    LOCAL_SYSADMIN = "Lokal systemadministratör"
    PROCESS_OWNER = "Processägare"
    HEAD_OF_UNIT = "Verksamhetschef"
    DEVIATION_COORDINATOR = "Avvikelsesamordnare"


# Licensed care staff: they handle care cases and may hold the overall-responsible duty (OG-10.1-a).
CLINICAL_ROLES = frozenset({Role.NURSE, Role.DOCTOR, Role.PSYCHOLOGIST, Role.PHYSIOTHERAPIST})

# Roles that work cases in the patient list (the care and the administrative flow).
CASE_ROLES = CLINICAL_ROLES | {Role.MEDICAL_ADMIN, Role.ADMIN_CONTACT}
# In an Actor's roles while they hold the overall-responsible duty at the acting unit (OG-10.1-a): a duty, not a role.
DUTY = "duty:overall_responsible"
