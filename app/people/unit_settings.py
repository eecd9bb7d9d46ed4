"""A unit's local routines ("Verksamheten beslutar om lokal rutin"): their defaults and the one reader.

`Unit.settings` holds what the unit has set; a key it has not set takes the default here. The
administration page's catalogue (app/admin/unit_setting_catalog.py) describes each key (label, rule,
bounds) around these defaults, so a reader and the page can never disagree about what applies.
"""

from __future__ import annotations

from typing import Any

from app.people.models import Unit
from app.people.roles import Role

DEFAULTS: dict[str, Any] = {
    "reopen_days": 3,  # OG-6.5
    "hours_between_contact_attempts": 2,  # OG-6.1-g
    "invite_colleague": True,  # OG-8.5
    "handover_roles": {},  # OG-8.6: from role -> roles it may hand over to; a role not named: all
    "on_call_number": "beredskapsjouren via växeln",  # HA-suicide-g
    "care_service": "Distanskontakt",  # HA-reg-c
    "phone": None,  # SEC-protected-sms: never shown to a protected identity
    "address": None,
    "sms_sender": None,  # None: derived from the unit's name
    "slug": None,
    "urgent_no_action_minutes": 15,  # OG-10.1-h
    "high_load_waiting_per_clinician": 4,  # OG-9.1
    "schedulers": [Role.HEAD_OF_UNIT.value],  # OG-5: the roles that may schedule the unit's staff
}


def unit_setting(unit: Unit, key: str) -> Any:
    """The unit's value for a local routine, else its default; an unknown key is a bug, not a default."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown unit setting {key!r}")
    return (unit.settings or {}).get(key, DEFAULTS[key])
