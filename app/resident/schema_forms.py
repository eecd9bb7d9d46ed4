"""Forms described by JSON Schema (the triage questionnaire, forms and rating scales sent to the
patient), turned into accessible HTML fields and back into typed answers.

Each property becomes one question: a choice (an enum, a yes/no, or a small integer scale) is a
fieldset with a legend and radio buttons; anything else is a labelled input. The server validates
with the schema (`app.instances.service.validate_form_data`); the schema's own English messages are
replaced here by plain Swedish ones, per field.

A form's texts are Swedish (a routine's form definition) and marked lang="sv" on an English page,
unless the schema says it is in another language (`"x-lang": "en"`, as a triage adapter whose texts
are translated says on an English page): its questions then carry that language, and a yes/no
question's "Ja"/"Nej" is translated with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

SWEDISH = "sv"  # the language of a schema that does not say (a routine's form definition)
MAX_SCALE_STEPS = 11  # an integer 0..10 is still a scale of radio buttons; wider ranges are a number field
TEXTAREA_FROM = 200  # strings allowed longer than this get a multi-line field


@dataclass(frozen=True)
class Field:
    name: str
    title: str
    kind: str  # choice, text, textarea, number
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    default: Any = None
    description: str = ""
    lang: str = SWEDISH  # the language of its texts (the page marks them with it)

    @property
    def compact(self) -> bool:
        """A scale of short options (0..10): laid out as a grid instead of one option per line."""
        return len(self.options) > 5 and all(len(label) <= 3 for _value, label in self.options)


@dataclass(frozen=True)
class Text:
    text: str
    lang: str


def schema_language(schema: Mapping[str, Any]) -> str:
    """The language a schema's texts are written in: its `x-lang`, else Swedish."""
    return str(schema.get("x-lang") or SWEDISH)


def schema_title(schema: Mapping[str, Any]) -> Text:
    """A schema's own title, with its language."""
    return Text(str(schema.get("title") or ""), schema_language(schema))


def fields_of(schema: Mapping[str, Any]) -> list[Field]:
    """The questions of a form, in the schema's order."""
    required = set(schema.get("required") or [])
    lang = schema_language(schema)
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        fields.append(_field(name, prop, name in required, lang))
    return fields


def _field(name: str, prop: Mapping[str, Any], required: bool, lang: str) -> Field:
    kind_of = prop.get("type")
    common = {
        "name": name,
        "title": prop.get("title") or name,
        "required": required,
        "default": prop.get("default"),
        "description": prop.get("description", ""),
        "lang": lang,
    }
    labels = prop.get("x-labels") or {}
    if "enum" in prop:
        options = tuple((str(v), str(labels.get(str(v), v))) for v in prop["enum"])
        return Field(kind="choice", options=options, **common)
    if kind_of == "boolean":
        # In the language of the question it answers: Swedish beside a Swedish question, else translated
        # with it (a schema in another language is one translated into the interface's).
        yes_no = ("Ja", "Nej") if lang == SWEDISH else (_("Ja"), _("Nej"))
        return Field(kind="choice", options=(("true", yes_no[0]), ("false", yes_no[1])), **common)
    if kind_of == "integer":
        low, high = prop.get("minimum"), prop.get("maximum")
        if low is not None and high is not None and 0 < high - low + 1 <= MAX_SCALE_STEPS:
            options = tuple((str(v), str(labels.get(str(v), v))) for v in range(int(low), int(high) + 1))
            return Field(kind="choice", options=options, minimum=low, maximum=high, **common)
        return Field(kind="number", minimum=low, maximum=high, **common)
    max_length = prop.get("maxLength")
    kind = "textarea" if max_length is None or max_length > TEXTAREA_FROM else "text"
    return Field(kind=kind, min_length=prop.get("minLength"), max_length=max_length, **common)


def initial_values(schema: Mapping[str, Any]) -> dict[str, str]:
    """The schema's defaults as the form shows them (a default "no" is pre-chosen, not left blank)."""
    return {f.name: _as_text(f.default) for f in fields_of(schema) if f.default is not None}


def posted_values(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, str]:
    """What the resident typed or chose, as text, to show again if the form comes back with errors."""
    return {f.name: form.get(f.name, "") for f in fields_of(schema)}


def typed_answers(schema: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """The posted text converted to the schema's types; an empty answer is left out (required or default)."""
    answers: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        raw = (values.get(name) or "").strip()
        if raw == "":
            continue
        kind_of = prop.get("type")
        if kind_of == "integer":
            try:
                answers[name] = int(raw)
            except ValueError:
                answers[name] = raw  # the schema refuses it with a message for this field
        elif kind_of == "boolean":
            answers[name] = {"true": True, "false": False}.get(raw, raw)
        else:
            answers[name] = raw
    return answers


def field_messages(schema: Mapping[str, Any], field_errors: Mapping[str, list[str]]) -> dict[str, str]:
    """One plain message per field that has errors (in the interface language)."""
    by_name = {f.name: f for f in fields_of(schema)}
    messages: dict[str, str] = {}
    for path, errors in field_errors.items():
        name = path.split("/")[0]
        question = by_name.get(name)
        if question is None:
            continue
        if "required" in errors:
            messages[name] = _("Välj ett svar.") if question.kind == "choice" else _("Fyll i svaret.")
        elif question.kind == "choice":
            messages[name] = _("Välj ett av alternativen.")
        elif question.kind == "number":
            messages[name] = _(
                "Ange ett heltal från %(low)s till %(high)s.", low=question.minimum, high=question.maximum
            )
        elif question.min_length and any(e.startswith("minst") and "tecken" in e for e in errors):
            messages[name] = _("Skriv minst %(count)s tecken.", count=question.min_length)
        elif question.max_length:
            messages[name] = _("Texten får vara högst %(count)s tecken.", count=question.max_length)
        else:
            messages[name] = _("Kontrollera svaret.")
    return messages


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def answer_text(definition: Mapping[str, Any], name: str, value: Any) -> str:
    """How a stored answer reads: the option's label where there is one."""
    prop = (definition.get("properties") or {}).get(name, {})
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    labels = prop.get("x-labels") or {}
    return str(labels.get(str(value), value))
