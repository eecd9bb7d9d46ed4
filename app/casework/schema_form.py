"""A task's form, rendered generically from its JSON Schema (2020-12) and optional UI hints.

`fields(...)` turns a schema into the fields a template renders (kind, label, constraints, the typed
value, errors); `parse(...)` turns posted form values back into typed data for
`app.instances.service.complete_task`, which validates against the same schema on the server.
Parsing never validates the rules of the form (that is the schema's job on the server); it only
converts types, and reports what it cannot convert (a date that is not a date) as a field error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from app.errors import ValidationFailed

STOCKHOLM = ZoneInfo("Europe/Stockholm")
RADIO_LIMIT = 6  # up to this many choices show as radio buttons, more as a list box
TEXTAREA_FROM = 500  # strings allowed this long get a text area


@dataclass
class Field:
    """One input of a generic form, ready for the template."""

    name: str
    label: str
    kind: str  # radio, select, checkbox, yesno, integer, number, datetime, textarea, text
    required: bool = False
    description: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    nullable: bool = False
    must_tick: bool = False  # a boolean whose only valid value is true ("const": true)
    phrases: str | None = None  # a phrase-template purpose offered for insertion (ui:phrases)
    value: Any = None  # what the input shows: the typed text, or a bool for check boxes
    errors: list[str] = field(default_factory=list)

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"

    @property
    def error_id(self) -> str:
        return f"f-{self.name}-error"


def _types(spec: Mapping[str, Any]) -> list[str]:
    kind = spec.get("type", "string")
    return list(kind) if isinstance(kind, list) else [kind]


def _main_type(spec: Mapping[str, Any]) -> str:
    return next((t for t in _types(spec) if t != "null"), "string")


def ordered_names(schema: Mapping[str, Any], ui: Mapping[str, Any] | None) -> list[str]:
    """Property names in the UI schema's order, then the rest in the schema's order."""
    properties = list((schema.get("properties") or {}).keys())
    order = [name for name in (ui or {}).get("ui:order", []) if name in properties]
    return order + [name for name in properties if name not in order]


def _kind(spec: Mapping[str, Any], hints: Mapping[str, Any]) -> str:
    main = _main_type(spec)
    if "enum" in spec and main == "string":
        return "radio" if len(spec["enum"]) <= RADIO_LIMIT else "select"
    if main == "boolean":
        # A check box says "true" or "false" and nothing else: right for a box that must be ticked
        # and for a yes/no with a default. A yes/no without a default must be answered either way.
        return "checkbox" if spec.get("const") is True or "default" in spec else "yesno"
    if main in ("integer", "number"):
        return main
    if spec.get("format") == "date-time":
        return "datetime"
    if hints.get("ui:widget") == "textarea" or (spec.get("maxLength") or 0) >= TEXTAREA_FROM:
        return "textarea"
    return "text"


def fields(
    schema: Mapping[str, Any],
    ui: Mapping[str, Any] | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> list[Field]:
    """The form's fields; `values` are the posted (raw) values to show again, else the schema's defaults."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    result = []
    for name in ordered_names(schema, ui):
        spec = properties[name]
        hints = (ui or {}).get(name) or {}
        kind = _kind(spec, hints)
        item = Field(
            name=name,
            label=spec.get("title") or name,
            kind=kind,
            required=name in required,
            description=spec.get("description"),
            minimum=spec.get("minimum"),
            maximum=spec.get("maximum"),
            max_length=spec.get("maxLength"),
            nullable="null" in _types(spec),
            must_tick=spec.get("const") is True,
            phrases=hints.get("ui:phrases"),
        )
        if "enum" in spec:
            labels = spec.get("x-labels") or {}
            item.options = [(str(v), labels.get(str(v), str(v))) for v in spec["enum"]]
        item.value = _shown_value(item, spec, values)
        item.errors = [friendly_error(item, message) for message in (errors or {}).get(name, [])]
        result.append(item)
    return result


def _shown_value(item: Field, spec: Mapping[str, Any], values: Mapping[str, Any] | None) -> Any:
    if values is None:
        default = spec.get("default")
        if item.kind == "checkbox":
            return bool(default)
        if item.kind == "yesno":
            return "" if default is None else ("true" if default else "false")
        return "" if default is None else str(default)
    raw = values.get(item.name)
    if item.kind == "checkbox":
        return raw in ("on", "true", "1", True)
    return "" if raw is None else str(raw)


def friendly_error(item: Field, message: str) -> str:
    """A reader's message for a schema error on this field (the server's messages are technical)."""
    if item.kind == "checkbox" and item.must_tick:
        return _("Kryssa i rutan för att fortsätta.")
    if message == "required":
        return _("Välj ett alternativ.") if item.kind in ("radio", "select", "yesno") else _("Fyll i fältet.")
    if item.kind in ("radio", "select"):
        return _("Välj ett av alternativen.")
    if item.kind in ("integer", "number"):
        whole = item.kind == "integer"
        if item.minimum is not None and item.maximum is not None:
            text = (
                _("Ange ett heltal från %(low)s till %(high)s.")
                if whole
                else _("Ange ett tal från %(low)s till %(high)s.")
            )
            return text % {"low": _number(item.minimum), "high": _number(item.maximum)}
        return _("Ange ett heltal.") if whole else _("Ange ett tal.")
    if item.kind == "datetime":
        return _("Ange datum och klockslag.")
    if item.max_length is not None and message.startswith("högst") and "tecken" in message:
        return _("Högst %(count)s tecken.") % {"count": item.max_length}
    return _("Värdet är inte giltigt.")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse(schema: Mapping[str, Any], ui: Mapping[str, Any] | None, form: Mapping[str, str]) -> dict[str, Any]:
    """Posted values as typed data for the schema's properties; unconvertible values fail as field errors.

    A value that does not convert (a number field holding "abc") is passed on as typed, so the
    server's schema validation reports it beside its field with everything else.
    """
    properties = schema.get("properties") or {}
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in ordered_names(schema, ui):
        spec = properties[name]
        kind = _kind(spec, (ui or {}).get(name) or {})
        raw = form.get(name)
        if kind == "checkbox":
            data[name] = raw in ("on", "true", "1")
            continue
        text = (raw or "").strip() if kind != "textarea" and kind != "text" else (raw or "")
        if text.strip() == "":
            if "null" in _types(spec):
                data[name] = None
            elif kind in ("text", "textarea") and raw is not None:
                data[name] = text
            continue  # left out: the schema's default applies, or "required" is reported
        if kind == "yesno":
            data[name] = {"true": True, "false": False}.get(text, text)
        elif kind == "integer":
            data[name] = _to_int(text)
        elif kind == "number":
            data[name] = _to_float(text)
        elif kind == "datetime":
            moment = to_moment(text)
            if moment is None:
                errors[name] = ["not a date-time"]
            else:
                data[name] = moment
        else:
            data[name] = text
    if errors:
        raise ValidationFailed(_("Formuläret har fel."), errors)
    return data


def _to_int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def _to_float(text: str) -> Any:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def to_moment(text: str) -> str | None:
    """A `datetime-local` value (Stockholm time) as an ISO 8601 time with its offset, or None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment.isoformat()
