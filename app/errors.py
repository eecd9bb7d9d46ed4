"""Domain errors raised by services; routes turn them into pages or problem+json responses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a refusal with a message a user can read."""

    status = 400
    code = "refused"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


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

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None, **details: Any):
        super().__init__(message, **details)
        self.field_errors = field_errors or {}


class GuardRefused(DomainError):
    """A routine's rule refuses the action now; `rule` names the guideline rule, if any."""

    status = 422
    code = "guard_refused"

    def __init__(self, message: str, *, rule: str | None = None, **details: Any):
        super().__init__(message, rule=rule, **details)
        self.rule = rule
