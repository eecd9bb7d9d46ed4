"""Domain errors raised by services; routes turn them into pages or problem+json responses.

A message a user reads is a lazy text (`lazy_gettext`): `error.message` is shown in the reader's
language, while `str(error)` and the audit trail keep the Swedish source text. Interpolate nothing a
user typed into a lazy text: Jinja and Markup take it as safe HTML (LazyString has `__html__`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString, force_locale

from app.i18n import DEFAULT_LANGUAGE

Message = str | LazyString


def source_text(message: Message) -> str:
    """The message in Swedish whatever the reader's language: for the audit trail, logs and incidents.
    Also outside a request (a worker, the CLI), where the language selector has no session to read."""
    if isinstance(message, LazyString):
        with force_locale(DEFAULT_LANGUAGE):
            return str(message)
    return message


class DomainError(Exception):
    """Base class: a refusal with a message a user can read."""

    status = 400
    code = "refused"

    def __init__(self, message: Message, **details: Any):
        super().__init__(message)
        self.message = message  # kept lazy: resolved when shown, in the reader's language
        self.details = details

    def __str__(self) -> str:
        return source_text(self.message)


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Conflict(DomainError):
    """Someone else changed the object since the caller read it: nothing was overwritten."""

    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    """Input broke its schema; `field_errors` maps a field path to its messages."""

    status = 422
    code = "validation_failed"

    def __init__(self, message: Message, field_errors: dict[str, list[str]] | None = None, **details: Any):
        super().__init__(message, **details)
        self.field_errors = field_errors or {}


class GuardRefused(DomainError):
    """A routine's rule refuses the action now; `rule` names the guideline rule, if any."""

    status = 422
    code = "guard_refused"

    def __init__(self, message: Message, *, rule: str | None = None, **details: Any):
        super().__init__(message, rule=rule, **details)
        self.rule = rule
