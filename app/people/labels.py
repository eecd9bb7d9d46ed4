"""Display names of roles and weekdays, in the reader's language (lazy: rendered when shown)."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l

from app.people.roles import Role

ROLE_LABELS = {
    Role.NURSE.value: _l("Sjuksköterska"),
    Role.DOCTOR.value: _l("Läkare"),
    Role.PSYCHOLOGIST.value: _l("Psykolog"),
    Role.PHYSIOTHERAPIST.value: _l("Fysioterapeut"),
    Role.MEDICAL_ADMIN.value: _l("Medicinsk admin"),
    Role.ADMIN_CONTACT.value: _l("Administrativ kontakt"),
    Role.LOCAL_SYSADMIN.value: _l("Lokal systemadministratör"),
    Role.PROCESS_OWNER.value: _l("Processägare"),
    Role.HEAD_OF_UNIT.value: _l("Verksamhetschef"),
    Role.DEVIATION_COORDINATOR.value: _l("Avvikelsesamordnare"),
}
WEEKDAYS = (_l("Måndag"), _l("Tisdag"), _l("Onsdag"), _l("Torsdag"), _l("Fredag"), _l("Lördag"), _l("Söndag"))


def role_label(role) -> str:
    """A role's name in the interface language (translated once per request: a list asks per row);
    a value that is no role (a lane named otherwise) is shown as it is."""
    value = getattr(role, "value", role)
    cache = g.setdefault("role_labels", {})
    if value not in cache:
        cache[value] = str(ROLE_LABELS.get(value, value or ""))
    return cache[value]
