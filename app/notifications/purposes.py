"""Why a notification is sent: every message the routines can produce, with who may receive it and how.

Adding a purpose is one line: a value, the audiences it may go to, the channels it may use, the
guideline rule it serves (or "" when none) and a short description.
"""

from __future__ import annotations

from enum import StrEnum

SMS = frozenset({"sms"})
ANY_CHANNEL = frozenset({"sms", "email"})
PATIENT = frozenset({"patient"})
STAFF = frozenset({"staff"})
EVERYONE = PATIENT | STAFF


class NotificationPurpose(StrEnum):
    """A notification's purpose, stored on the outbox row; members carry audience, channels and rule."""

    audiences: frozenset[str]
    channels: frozenset[str]
    rule: str
    description: str

    def __new__(
        cls, value: str, audiences: frozenset[str], channels: frozenset[str], rule: str, description: str
    ):
        member = str.__new__(cls, value)
        member._value_ = value
        member.audiences = audiences
        member.channels = channels
        member.rule = rule
        member.description = description
        return member

    # fmt: off
    CASE_RECEIVED = "case_received", PATIENT, ANY_CHANNEL, "OG-6.1-c", "the case was received: handling has started"
    NEW_CHAT_MESSAGE = "new_chat_message", PATIENT, ANY_CHANNEL, "", "a message from staff waits in the chat"
    SMS_REMINDER = "sms_reminder", PATIENT, SMS, "HA-remind", "a reminder to answer the chat (a contact attempt)"
    CASE_CLOSED = "case_closed", PATIENT, ANY_CHANNEL, "OG-6.1-g", "the case was closed; seek care again if needed"
    NEXT_WEEKDAY = "next_weekday", PATIENT, ANY_CHANNEL, "OG-6.1-e", "the case is handled the next weekday"
    STANGNING = "stangning", PATIENT, ANY_CHANNEL, "HA-close-day", "the unit closes for the day (the Stängning phrase)"
    HIGH_LOAD = "high_load", PATIENT, ANY_CHANNEL, "OG-9.1", "response times may be longer than usual"
    HANDOVER = "handover", EVERYONE, ANY_CHANNEL, "", "the case was handed over to another role or person"
    CONSENT_REQUEST = "consent_request", PATIENT, ANY_CHANNEL, "OG-8.3", "consent asked for a meeting-form switch (with its cost) or a handover"
    FORM_SENT = "form_sent", PATIENT, ANY_CHANNEL, "", "a form or rating scale to fill in"
    IMAGE_REQUESTED = "image_requested", PATIENT, ANY_CHANNEL, "", "the patient is asked to upload images"
    PROTECTED_REDIRECT = "protected_redirect", PATIENT, ANY_CHANNEL, "HA-protected", "seek care via 1177.se or visit the clinic"
    WRONG_PATIENT = "wrong_patient", PATIENT, ANY_CHANNEL, "HA-behalf", "log in yourself to seek care for yourself"
    REOPEN_POSSIBLE = "reopen_possible", PATIENT, ANY_CHANNEL, "OG-6.5", "the closed case may be reopened until a date"
    STAFF_NEW_CASE = "staff_new_case", STAFF, SMS, "OG-8.7", "a new case arrived at the unit"
    STAFFING_GAP = "staffing_gap", STAFF, ANY_CHANNEL, "HA-chat-staff", "an opening-hours period has no one responsible for the chat"
    # fmt: on
