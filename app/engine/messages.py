"""The messages the product sends to running routines: the one list senders and deploy checks share.

A routine that waits for a message (a catch event, a receive task, a boundary message event) waits
for one of these names; anything else would never arrive and the case would wait forever, so
validation refuses it. Senders name their message from here (`Message.PATIENT_REPLY`);
tests/test_owner_message_waits.py proves every sender's name is listed, so the list cannot drift.
"""

from __future__ import annotations

from enum import StrEnum


class Message(StrEnum):
    PATIENT_REPLY = "patient_reply"  # the resident writes in a closed case (app/cases/chat.py)
    CASE_REOPENED = "case_reopened"  # the resident reopens a closed case (app/cases/chat.py)
    CONSENT_GIVEN = "consent_given"  # the resident answers a consent question (app/cases/chat.py)
    CONSENT_DECLINED = "consent_declined"
    SUICIDE_RISK_RAISED = "suicide_risk_raised"  # staff raise suicide risk (app/cases/handling.py)
    # A product deadline's message: set by the `set_working_hours_deadline` service task (its
    # `message` parameter) and sent by the timer worker when the deadline is due.
    PRIO_SAME_DAY = "prio_same_day"


SENT_MESSAGES: frozenset[str] = frozenset(m.value for m in Message)
