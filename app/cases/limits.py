"""How much free text a case action takes: one set of numbers for the services, so the clinician's
pages, the resident's pages and the API refuse the same input the same way (422, nothing stored).

The API's request schemas (app/api/schemas.py) and the routines' forms (forms/*.schema.json) declare
these numbers too; tests/casework/test_input_limits.py fails when one of them drifts.
"""

from __future__ import annotations

from app.errors import Message, ValidationFailed

MESSAGE_BODY = 4000  # a chat message, staff or patient (API MessageBody, forms/start first_message)
IMAGE_INSTRUCTIONS = 2000  # what image the patient is asked for (API ImageRequestBody)
PHONE_NOTE = 2000  # a note on a phone call (API PhoneCallBody, forms/phone_attempt)
PRIORITY_REASON = 500  # why the clinician changed the priority, HA-prio-b (forms/receive)
SEARCH_REASON = 200  # a case's search reason: care_case.search_reason is String(200) (API ReopenBody)
IMAGE_BYTES = 10 * 1024 * 1024  # an uploaded image


def check_length(text: str, limit: int, *, field: str, message: Message) -> str:
    """Refuse text longer than `limit` before anything is written; returns the text unchanged.

    The field error is a code the case page shows beside the field as "Texten är för lång."."""
    if len(text) > limit:
        raise ValidationFailed(message, {field: [f"at most {limit} characters"]})
    return text
