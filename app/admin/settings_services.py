"""The unit's local routines (`Unit.settings`), read and changed by the unit's Lokal systemadministratör.

The catalogue (app.admin.unit_setting_catalog) says which keys exist and what they may hold; keys it
does not know are kept untouched. A change is refused (409) when the settings the page showed were
changed meanwhile, so nobody overwrites a colleague's change unseen: the page carries a hash of the
values it showed. Every change is audited with the old and new value of each key, in the same
transaction. A stored value of None in the audit means "not set: the default applies".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin import unit_setting_catalog as catalog
from app.admin.services import require_sysadmin
from app.audit.service import Actor, record
from app.errors import Conflict, NotFound, ValidationFailed
from app.people.models import Unit

ACTION_CHANGED = "unit:routine_settings_changed"


@dataclass(frozen=True)
class SettingState:
    """One setting as the page shows it: the unit's value if it set one, and what applies otherwise."""

    setting: catalog.Setting
    is_set: bool
    value: Any  # what the product uses now
    default: Any  # what applies without a unit value (derived from the name for sender and slug)


@dataclass(frozen=True)
class RoutineSettings:
    unit_id: int
    unit_name: str
    version: str  # hash of the catalogued values shown; sent back with a change
    shown: str  # those values as JSON, so a conflict can say what changed meanwhile
    states: list[SettingState]


@dataclass(frozen=True)
class Change:
    """A setting changed by someone else since the page was read (None: not set, the default)."""

    key: str
    seen: Any
    now: Any


class SettingsChangedMeanwhile(Conflict):
    """The settings were changed since the page was read: nothing was written."""

    def __init__(self, changes: list[Change], *, typed: dict | None = None):
        super().__init__(
            "the unit's routines were changed by someone else since you opened the page",
            changes=[c.key for c in changes],
        )
        self.changes = changes
        self.typed = typed or {}  # what the administrator typed, to keep in the form


def settings_version(settings: dict | None) -> str:
    """A short hash of the catalogued values (unknown keys do not count: the page never shows them)."""
    return hashlib.sha256(_canonical(catalog.stored(settings)).encode()).hexdigest()[:20]


def routine_settings(session: Session, *, actor: Actor) -> RoutineSettings:
    """Every catalogued setting of the sysadmin's unit with its value or default, and the page's version."""
    unit = require_sysadmin(session, actor=actor)
    return _state(unit)


def change_routine_settings(
    session: Session, *, actor: Actor, form: catalog.FormLike, expected_version: str, shown: str
) -> dict[str, dict[str, Any]]:
    """Save the submitted settings that differ from what applies now; returns {key: {old, new}}.

    Refused beside the fields (422, typed values in `details["typed"]`) or as a conflict (409) when the
    settings were changed since `expected_version`; a value equal to the default stays unset."""
    unit = _locked_unit(session, actor=actor)
    parsed = catalog.parse(form, unit_name=unit.name)
    if parsed.errors:
        raise ValidationFailed(
            "some routine settings are not valid",
            {key: [message] for key, message in parsed.errors.items()},
            typed=parsed.typed,
        )
    _check_version(unit, expected_version, shown, typed=parsed.typed)
    current = dict(unit.settings or {})
    updated = dict(current)
    for setting in catalog.CATALOG:
        value = parsed.values[setting.key]
        if value is None:
            updated.pop(setting.key, None)
        elif catalog.same_value(setting, value, catalog.effective(setting, current)):
            continue  # unchanged: a value equal to the default stays unset
        elif setting.key not in current and value == catalog.derived_default(setting, unit.name):
            continue  # what the product derives from the name anyway: it keeps following the name
        elif setting.kind is catalog.Kind.ROLE_MAP:
            others = {
                k: v for k, v in (current.get(setting.key) or {}).items() if k not in catalog.HANDOVER_ROLES
            }
            updated[setting.key] = {**others, **value}
        else:
            updated[setting.key] = value
    return _write(session, actor=actor, unit=unit, current=current, updated=updated)


def reset_routine_setting(
    session: Session, *, actor: Actor, key: str, expected_version: str, shown: str
) -> dict[str, dict[str, Any]]:
    """Remove the unit's value of one setting, so the default applies again (409 if changed meanwhile)."""
    if key not in catalog.BY_KEY:
        raise NotFound(f"no routine setting {key!r}")
    unit = _locked_unit(session, actor=actor)
    _check_version(unit, expected_version, shown)
    current = dict(unit.settings or {})
    updated = {k: v for k, v in current.items() if k != key}
    return _write(session, actor=actor, unit=unit, current=current, updated=updated)


# --- helpers -------------------------------------------------------------------------------------


def _state(unit: Unit) -> RoutineSettings:
    settings = unit.settings or {}
    states = [
        SettingState(
            setting=setting,
            is_set=setting.key in settings,
            value=catalog.effective(setting, settings),
            default=(
                catalog.derived_default(setting, unit.name)
                if setting.derived_from_name
                else catalog.effective(setting, {})
            ),
        )
        for setting in catalog.CATALOG
    ]
    return RoutineSettings(
        unit.id, unit.name, settings_version(settings), _canonical(catalog.stored(settings)), states
    )


def _locked_unit(session: Session, *, actor: Actor) -> Unit:
    unit = require_sysadmin(session, actor=actor)
    # The row lock (PostgreSQL; SQLite begins IMMEDIATE) makes check-then-write one step: two
    # administrators saving at once cannot both pass the version check.
    return session.execute(
        select(Unit).where(Unit.id == unit.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _check_version(unit: Unit, expected_version: str, shown: str, *, typed: dict | None = None) -> None:
    if expected_version == settings_version(unit.settings):
        return
    try:
        seen = json.loads(shown)
    except ValueError:
        seen = None
    if not isinstance(seen, dict) or settings_version(seen) != expected_version:
        seen = {}  # not what the page showed: every set value counts as changed
    now = catalog.stored(unit.settings)
    changes = [
        Change(key, seen.get(key), now.get(key)) for key in catalog.BY_KEY if seen.get(key) != now.get(key)
    ]
    raise SettingsChangedMeanwhile(changes, typed=typed)


def _write(
    session: Session, *, actor: Actor, unit: Unit, current: dict, updated: dict
) -> dict[str, dict[str, Any]]:
    changes = {
        key: {"old": current.get(key), "new": updated.get(key)}
        for key in catalog.BY_KEY
        if current.get(key) != updated.get(key) or (key in current) != (key in updated)
    }
    if not changes:
        return {}
    unit.settings = updated  # a new dict: the JSON column sees the change
    record(
        session,
        ACTION_CHANGED,
        actor=actor,
        subject=("unit", unit.id),
        changes=changes,
        reset=[key for key in changes if key not in updated],
    )
    session.flush()
    return changes


def _canonical(values: dict) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
