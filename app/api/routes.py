"""JSON API endpoints (`/api/v1`): the blueprint, with every operation module registered on it."""

from __future__ import annotations

from app.api import account, openapi, problems, resident, staff  # noqa: F401  (each registers its routes or handlers on bp)
from app.api.operations import bp

__all__ = ["bp"]
