"""The unit's local routines ("Verksamheten beslutar om lokal rutin"): every known key of `Unit.settings`.

One declaration per setting (key, Swedish label and help naming the rule it serves, kind, bounds,
default) that the administration page shows and `parse` validates against. The defaults themselves
live with the readers' `unit_setting` in app/people/unit_settings.py.

No database access and no request: texts are lazy, so they render in the reader's language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l

from app.notifications.compose import (
    NEUTRAL_LINK,
    NEUTRAL_SIGNATURE,
    NEUTRAL_SMS_SENDER,
    NEUTRAL_UNIT,
    SMS_SENDER_MAX,
    ComposedMessage,
    ProtectedIdentityLeak,
    SenderUnit,
    check_neutral,
    slugify,
    sms_sender_id,
)
from app.notifications.models import Channel, RecipientKind
from app.notifications.purposes import NotificationPurpose
from app.notifications.service import normalise_phone
from app.people.roles import Role
from app.people.unit_settings import DEFAULTS


class Kind(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    TEXT = "text"
    PHONE = "phone"
    SMS_SENDER = "sms_sender"
    SLUG = "slug"
    ROLE_MAP = "role_map"  # from role -> the roles it may hand a case over to
    ROLE_SET = "role_set"  # some roles of the unit (ticked), e.g. the roles that may schedule


class Group(StrEnum):
    CASES = "cases"
    COLLABORATION = "collaboration"
    CARE = "care"
    CONTACT = "contact"
    TOWER = "tower"
    STAFFING = "staffing"


GROUP_LEGENDS = {
    Group.CASES: _l("Avslut och återöppning"),
    Group.COLLABORATION: _l("Samarbete och överlämning"),
    Group.CARE: _l("Beredskap och registrering"),
    Group.CONTACT: _l("Enhetens kontaktuppgifter i meddelanden"),
    Group.TOWER: _l("Flygledartornet"),
    Group.STAFFING: _l("Bemanning"),
}

# The roles that handle a chat case (the lanes of processes/chat_case.bpmn), in the order shown.
HANDOVER_ROLES: tuple[str, ...] = (
    Role.NURSE.value,
    Role.DOCTOR.value,
    Role.PSYCHOLOGIST.value,
    Role.PHYSIOTHERAPIST.value,
    Role.MEDICAL_ADMIN.value,
)
# Without a unit routine for a role, it may hand over to each of these (app.cases.handling).
HANDOVER_DEFAULT_TARGETS: tuple[str, ...] = HANDOVER_ROLES
# The roles a ROLE_SET setting offers, in the order shown: every role a membership can grant.
ROLE_SET_CHOICES: tuple[str, ...] = tuple(role.value for role in Role)


@dataclass(frozen=True)
class Setting:
    key: str
    kind: Kind
    group: Group
    label: Any  # lazy string
    help: Any  # lazy string, naming the rule the setting serves
    rule: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    suffix: Any = None  # lazy string after a number ("dagar")
    derived_from_name: bool = False  # no value: the product derives one from the unit's name

    @property
    def default(self) -> Any:
        """What applies while the unit has not set it (app.people.unit_settings, which the readers use)."""
        return DEFAULTS[self.key]


CATALOG: tuple[Setting, ...] = (
    Setting(
        "reopen_days", Kind.INTEGER, Group.CASES, _l("Dagar då patienten kan återöppna ett avslutat ärende"),
        _l("OG-6.5: patienten får veta hur länge ärendet kan återöppnas, för samma sökorsak. 0 betyder att ärenden inte kan återöppnas."),
        rule="OG-6.5", minimum=0, maximum=30, suffix=_l("dagar"),
    ),
    Setting(
        "hours_between_contact_attempts", Kind.DECIMAL, Group.CASES, _l("Timmar mellan två kontaktförsök"),
        _l("OG-6.1-g: innan ett obesvarat ärende avslutas görs två kontaktförsök med några timmars mellanrum."),
        rule="OG-6.1-g", minimum=1, maximum=8, suffix=_l("timmar"),
    ),
    Setting(
        "invite_colleague", Kind.BOOLEAN, Group.COLLABORATION, _l("Personalen får bjuda in en kollega i ett ärende"),
        _l("OG-8.5: att bjuda in en kollega i ett ärende följer enhetens rutin."),
        rule="OG-8.5",
    ),
    Setting(
        "handover_roles", Kind.ROLE_MAP, Group.COLLABORATION, _l("Överlämning mellan yrkesgrupper"),
        _l("OG-8.6: vilka roller varje roll får lämna över ärenden till. Överlämning vid misstänkt suicidrisk (HA-suicide-b) påverkas inte."),
        rule="OG-8.6",
    ),
    Setting(
        "on_call_number", Kind.TEXT, Group.CARE, _l("Beredskapsjour"),
        _l("HA-suicide-g: numret eller vägen till beredskapsjouren som visas för personalen när ett ärende med suicidrisk eskaleras."),
        rule="HA-suicide-g", max_length=80,
    ),
    Setting(
        "care_service", Kind.TEXT, Group.CARE, _l("Vårdtjänst vid registrering"),
        _l("HA-reg-c: vårdtjänsten i ankomstregistreringen när en chatt ersätter ett fysiskt besök."),
        rule="HA-reg-c", max_length=80,
    ),
    Setting(
        "phone", Kind.PHONE, Group.CONTACT, _l("Telefonnummer"),
        _l("Visas för patienter och i meddelanden. Aldrig för en patient med skyddad identitet (SEC-protected-sms)."),
        rule="SEC-protected-sms", max_length=30,
    ),
    Setting(
        "address", Kind.TEXT, Group.CONTACT, _l("Besöksadress"),
        _l("Visas för patienter och i meddelanden. Aldrig för en patient med skyddad identitet (SEC-protected-sms)."),
        rule="SEC-protected-sms", max_length=160,
    ),
    Setting(
        "sms_sender", Kind.SMS_SENDER, Group.CONTACT, _l("Avsändarnamn för sms"),
        _l("Högst 11 tecken: bokstäverna A–Z, siffror och mellanslag, minst en bokstav. Ett sms till en patient med skyddad identitet har alltid avsändaren 1177 (SEC-protected-sms)."),
        rule="SEC-protected-sms", max_length=SMS_SENDER_MAX, derived_from_name=True,
    ),
    Setting(
        "slug", Kind.SLUG, Group.CONTACT, _l("Enhetens namn i länkar"),
        _l("Små bokstäver a–z, siffror och bindestreck. En länk till en patient med skyddad identitet går alltid till 1177.se (SEC-protected-sms)."),
        rule="SEC-protected-sms", max_length=60, derived_from_name=True,
    ),
    Setting(
        "urgent_no_action_minutes", Kind.INTEGER, Group.TOWER, _l("Minuter innan ett brådskande ärende utan åtgärd visas"),
        _l("OG-10.1-h: ärenden med prioritet 1–2 som väntat längre än så utan åtgärd lyfts fram för den övergripande ansvarige."),
        rule="OG-10.1-h", minimum=5, maximum=120, suffix=_l("minuter"),
    ),
    Setting(
        "high_load_waiting_per_clinician", Kind.INTEGER, Group.TOWER, _l("Väntande patienter per närvarande vårdpersonal vid hög belastning"),
        _l("OG-9.1: över detta antal visar flygledartornet hög belastning, så att den övergripande ansvarige kan besluta om extra bemanning."),
        rule="OG-9.1", minimum=1, maximum=50,
    ),
    Setting(
        "schedulers", Kind.ROLE_SET, Group.STAFFING, _l("Roller som får lägga schema"),
        _l("OG-5: varje enhet beslutar vem som lägger schema. Den som har en av rollerna lägger till, ändrar och tar bort pass i enhetens schema. Ingen vald: verksamhetschefen."),
        rule="OG-5",
    ),
)  # fmt: skip
BY_KEY: dict[str, Setting] = {setting.key: setting for setting in CATALOG}


# --- reading -------------------------------------------------------------------------------------


def stored(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The catalogued keys the unit has set (absent: the default applies)."""
    settings = settings or {}
    return {key: settings[key] for key in BY_KEY if key in settings}


def effective(setting: Setting, settings: Mapping[str, Any] | None) -> Any:
    """The value the product uses: the unit's, else the default (as `unit_setting` reads it)."""
    value = (settings or {}).get(setting.key, setting.default)
    if setting.kind is Kind.ROLE_MAP:
        value = value or {}
        return {role: list(value.get(role, HANDOVER_DEFAULT_TARGETS)) for role in HANDOVER_ROLES}
    if setting.kind is Kind.ROLE_SET:
        return list(value or setting.default)
    return value


def derived_default(setting: Setting, unit_name: str) -> str | None:
    """What the product derives from the unit's name when the setting is not set."""
    if setting.key == "sms_sender":
        return sms_sender_id(SenderUnit(unit_id=None, name=unit_name, slug=slugify(unit_name)))
    if setting.key == "slug":
        return slugify(unit_name)
    return None


# --- parsing a submitted form --------------------------------------------------------------------


class FormLike(Protocol):
    def get(self, key: str, default: Any = ...) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Parsed:
    """The submitted values by key (None: use the default), and messages by key for the ones refused."""

    values: dict[str, Any]
    errors: dict[str, Any]
    typed: dict[str, Any]  # what was typed, to show again beside an error


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SENDER = re.compile(r"^[A-Za-z0-9 ]+$")
_PHONE_CHARACTERS = re.compile(r"^[0-9 +\-()]+$")


def role_field(from_role: str) -> str:
    """The form field holding the targets ticked for one role (checkboxes, one value each)."""
    return f"handover_roles:{HANDOVER_ROLES.index(from_role)}"


def parse(form: FormLike, *, unit_name: str) -> Parsed:
    """Every catalogued setting from the form; an empty text means the default."""
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    typed: dict[str, Any] = {}
    for setting in CATALOG:
        if setting.kind is Kind.ROLE_MAP:
            raw_map = {role: form.getlist(role_field(role)) for role in HANDOVER_ROLES}
            typed[setting.key] = raw_map
            value, error = _role_map(raw_map)
        elif setting.kind is Kind.ROLE_SET:
            ticked = [role for role in form.getlist(setting.key) if role]
            typed[setting.key] = ticked
            value, error = _role_set(ticked)
        elif setting.kind is Kind.BOOLEAN:
            typed[setting.key] = form.get(setting.key) is not None
            value, error = typed[setting.key], None
        else:
            raw = " ".join(str(form.get(setting.key, "") or "").split())
            typed[setting.key] = raw
            value, error = _one(setting, raw, unit_name=unit_name)
        if error is not None:
            errors[setting.key] = error
        else:
            values[setting.key] = value
    return Parsed(values, errors, typed)


def _one(setting: Setting, raw: str, *, unit_name: str) -> tuple[Any, Any]:
    if setting.kind in (Kind.INTEGER, Kind.DECIMAL):
        return _number(setting, raw)
    if not raw:
        return None, None  # the default (for a text without one: nothing shown)
    if setting.max_length is not None and len(raw) > setting.max_length:
        return None, _l("Högst %(count)s tecken.", count=setting.max_length)
    error = _format_error(setting, raw)
    if error is not None:
        return None, error
    if setting.key in ("phone", "address", "sms_sender", "slug") and _stops_neutral_messages(
        setting.key, raw, unit_name=unit_name
    ):
        return None, _l(
            "Värdet liknar den neutrala avsändaren 1177 direkt. Då kan inga meddelanden skickas till patienter med skyddad identitet (SEC-protected-sms). Välj ett annat värde."
        )
    return raw, None


def _format_error(setting: Setting, raw: str) -> Any:
    if setting.kind is Kind.PHONE and (not _PHONE_CHARACTERS.match(raw) or normalise_phone(raw) is None):
        return _l("Skriv ett svenskt telefonnummer, till exempel 013-12 34 56, eller +46 13 12 34 56.")
    if setting.kind is Kind.SMS_SENDER and (not _SENDER.match(raw) or not any(c.isalpha() for c in raw)):
        # The SMS standard's alphanumeric sender ID: at most 11 characters, ASCII letters and digits.
        return _l(
            "Högst 11 tecken: bokstäverna A–Z utan å, ä och ö, siffror och mellanslag, minst en bokstav."
        )
    if setting.kind is Kind.SLUG and (len(raw) < 2 or not _SLUG.match(raw)):
        return _l("Minst 2 tecken: små bokstäver a–z, siffror och bindestreck mellan orden.")
    return None


def _number(setting: Setting, raw: str) -> tuple[Any, Any]:
    text = raw.replace(",", ".").replace(" ", "")
    try:
        number = float(text) if setting.kind is Kind.DECIMAL else int(text)
    except ValueError:
        if setting.kind is Kind.INTEGER:
            return None, _l("Skriv ett heltal.")
        return None, _l("Skriv ett tal, till exempel 2 eller 2,5.")
    if not math.isfinite(number) or not (setting.minimum <= number <= setting.maximum):
        return None, _l(
            "Skriv ett tal från %(minimum)s till %(maximum)s.",
            minimum=_plain(setting.minimum),
            maximum=_plain(setting.maximum),
        )
    if setting.kind is Kind.DECIMAL and number.is_integer():
        number = int(number)  # stored as the readers' defaults are: 2, not 2.0
    return number, None


def _plain(number: float | None) -> str:
    return "" if number is None else (f"{number:g}")


def _role_map(raw: dict[str, list[str]]) -> tuple[Any, Any]:
    empty = [role for role, targets in raw.items() if not targets]
    if any(target not in HANDOVER_ROLES for targets in raw.values() for target in targets):
        return None, _l("Välj bland rollerna i listan.")
    if empty:
        # A role with nowhere to hand over to would keep every case it cannot finish.
        return None, _l(
            "Varje roll behöver minst en roll att lämna över till: %(roles)s.", roles=", ".join(empty)
        )
    return {role: [t for t in HANDOVER_ROLES if t in raw[role]] for role in HANDOVER_ROLES}, None


def _role_set(ticked: list[str]) -> tuple[Any, Any]:
    if any(role not in ROLE_SET_CHOICES for role in ticked):
        return None, _l("Välj bland rollerna i listan.")
    if not ticked:
        return None, None  # none ticked: the default applies (nobody at all would leave the task unowned)
    return [role for role in ROLE_SET_CHOICES if role in ticked], None


def _stops_neutral_messages(key: str, value: str, *, unit_name: str) -> bool:
    """Would this value make every neutral message to a protected patient look like a leak?

    The composer replaces the unit's phone, address, SMS sender and slug by the neutral 1177 wording
    for a protected recipient and then refuses any message that still contains one of them
    (app.notifications.compose.check_neutral). A value that is itself part of the neutral wording
    ("1177", "direkt") would therefore stop every message to a protected patient."""
    fields = {"slug": slugify(unit_name), key: value}
    unit = SenderUnit(unit_id=None, name=unit_name, **fields)
    probe = ComposedMessage(
        purpose=NotificationPurpose.SMS_REMINDER,
        channel=Channel.SMS,
        recipient_kind=RecipientKind.PATIENT,
        patient_id=None,
        user_id=None,
        unit_id=None,
        to_address="",
        sender_id=NEUTRAL_SMS_SENDER,
        subject=None,
        body=NEUTRAL_UNIT,
        links=(NEUTRAL_LINK,),
        signature=NEUTRAL_SIGNATURE,
        neutral=True,
    )
    try:
        check_neutral(probe, unit)
    except ProtectedIdentityLeak:
        return True
    return False


def same_value(setting: Setting, a: Any, b: Any) -> bool:
    """Equal as the product reads them (2 and 2.0 are the same number of hours)."""
    if setting.kind in (Kind.INTEGER, Kind.DECIMAL) and a is not None and b is not None:
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return a == b
