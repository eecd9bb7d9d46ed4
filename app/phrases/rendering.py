"""Filling a phrase text's placeholders. The unit's own placeholders are left for the composer.

`{unit}`, `{unit_phone}` and `{unit_address}` pass through untouched: the notification composer fills
them, and leaves them out for a protected identity, so no text can name the unit by accident
(SEC-protected-sms). Every other placeholder must be known and given a value, or rendering fails:
a message with a literal "{date}" in it must never reach a patient.
"""

from __future__ import annotations

import string
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.errors import ValidationFailed

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# name -> what it stands for (Swedish: shown to those who write templates)
PLACEHOLDERS: dict[str, str] = {
    "patient_first_name": "patientens förnamn",
    "staff_first_name": "förnamnet på den som skriver",
    "staff_role": "yrkesrollen på den som skriver",
    "handed_to": "vem ärendet lämnas över till",
    "date": "ett datum",
    "time": "ett klockslag",
    "earliest": "tidigaste tidpunkt",
    "cost": "kostnad i kronor",
    "meeting_form": "mötesform (chatt, video eller telefon)",
    "form_name": "formulärets namn",
    "reopen_until": "sista dag att svara i ärendet",
}

# Filled by the notification composer only (never for a protected identity).
UNIT_PLACEHOLDERS: dict[str, str] = {
    "unit": "enhetens namn",
    "unit_phone": "enhetens telefonnummer",
    "unit_address": "enhetens adress",
}

Value = str | int | Decimal | date | datetime | time

_WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
_MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
_PARSER = string.Formatter()


class PlaceholderError(ValidationFailed):
    """A template's placeholder is unknown, malformed or without a value."""


def placeholders_in(text: str) -> set[str]:
    """The placeholder names a text uses; refuses unknown names, formatting and literal braces."""
    try:
        parsed = list(_PARSER.parse(text))
    except ValueError as error:
        raise PlaceholderError(f"the text has an unmatched brace: {error}") from None
    names: set[str] = set()
    for literal, name, spec, conversion in parsed:
        if "{" in literal or "}" in literal:
            # "{{" would come out as "{" and could later be read as a placeholder by the composer.
            raise PlaceholderError("braces may only surround a placeholder, for example {patient_first_name}")
        if name is None:
            continue
        if spec or conversion:
            raise PlaceholderError(f"placeholder {{{name}}} may not carry formatting")
        if name not in PLACEHOLDERS and name not in UNIT_PLACEHOLDERS:
            raise PlaceholderError(f"unknown placeholder {{{name}}}", placeholder=name)
        names.add(name)
    return names


def render(text: str, /, **fields: Value) -> str:
    """Fill the text's placeholders from `fields`, leaving {unit}, {unit_phone} and {unit_address} as they are."""
    for name in fields:
        if name in UNIT_PLACEHOLDERS:
            raise PlaceholderError(
                f"{{{name}}} is filled by the notification composer, not here", placeholder=name
            )
        if name not in PLACEHOLDERS:
            raise PlaceholderError(f"unknown placeholder {{{name}}}", placeholder=name)
    placeholders_in(text)  # validates the whole text before anything is filled
    parts: list[str] = []
    for literal, name, _spec, _conversion in _PARSER.parse(text):
        parts.append(literal)
        if name is None:
            continue
        if name in UNIT_PLACEHOLDERS:
            parts.append(f"{{{name}}}")
        elif name in fields:
            parts.append(format_value(fields[name]))
        else:
            raise PlaceholderError(f"no value given for {{{name}}}", placeholder=name)
    return "".join(parts)


def format_value(value: Value) -> str:
    """A value as Swedish text: "måndag 23 november klockan 09.00", "1 200", "112,50"."""
    if isinstance(value, bool):
        raise PlaceholderError("a yes/no value has no text form")
    if isinstance(value, str):
        if "{" in value or "}" in value:
            # A value must not smuggle a placeholder in for the composer to fill later.
            raise PlaceholderError("a placeholder value may not contain braces")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PlaceholderError("naive datetime refused: give a timezone-aware time")
        local = value.astimezone(STOCKHOLM)
        return f"{format_value(local.date())} klockan {format_value(local.time())}"
    if isinstance(value, date):
        return f"{_WEEKDAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]}"
    if isinstance(value, time):
        return value.strftime("%H.%M")
    if isinstance(value, int | Decimal):
        return _format_number(Decimal(value))
    raise PlaceholderError(f"no text form for a value of type {type(value).__name__}")


def _format_number(number: Decimal) -> str:
    # Swedish: a space between thousands (non-breaking, so a sum never wraps) and a decimal comma.
    if number == number.to_integral_value():
        return f"{int(number):,}".replace(",", "\u00a0")
    whole, _, fraction = f"{number.quantize(Decimal('0.01')):,}".partition(".")
    return f"{whole.replace(',', chr(0xA0))},{fraction}"
