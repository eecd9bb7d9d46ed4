"""Database ids as the pages take them from a URL: positive and within a signed 32-bit integer.

Every id (and version number) column is an INTEGER: on PostgreSQL a larger value is a DataError
("integer out of range"), past 2**63 - 1 SQLite overflows too; either would be a 500. So such an id
matches no route (404) and, as a query argument, counts as not given. The JSON API bounds its own ids
to the same range (app/api/operations.py).
"""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER, the type of every id column


class IdConverter(IntegerConverter):
    """`<id:name>` in a page route: 1 .. MAX_ID, anything else is no match (404)."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> int:
        try:
            return super().to_python(value)
        except ValidationError:
            # Not a ValidationError: Werkzeug turns that into 405 when the path also has a rule for
            # another method (GET and POST /resident/cases/<id>/messages); the id is simply not there.
            raise NotFound() from None


def bounded_id(text: str) -> int:
    """An id from a query argument, `request.args.get("before", type=bounded_id)`: out of range it raises
    ValueError, so the argument reads as not given (None)."""
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"not an id: {text}")
    return value


def bounded_cursor(text: str) -> int:
    """A "newer than" id from a query argument, where 0 means "from the start"; out of range as bounded_id."""
    value = int(text)
    if not 0 <= value <= MAX_ID:
        raise ValueError(f"not an id: {text}")
    return value


def bounded_version(text: str) -> int:
    """An expected version from a form: out of range it is one no row has (a conflict, never "unchecked")."""
    value = int(text)
    return value if 0 <= value <= MAX_ID else -1


def bounded_big_version(text: str) -> int:
    """As bounded_version, for a BIGINT version (a unit's calendar version: 62 random bits)."""
    value = int(text)
    return value if 0 <= value <= 2**63 - 1 else -1
