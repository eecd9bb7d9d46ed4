"""A message that never reaches the patient shows on its case, and in /metrics."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.notifications.delivery import deliver_pending
from app.notifications.models import Channel
from app.notifications.purposes import NotificationPurpose as P
from app.notifications.service import queue_to_patient
from app.notifications.transports import LogTransport, PermanentDeliveryError
from app.patients.models import Patient, Protection
from app.people.models import Unit
from tests.notifications.conftest import ScriptedTransport


def _queue(database, world, *, key: str, case_id: int | None) -> int:
    with database.transaction() as session:
        return queue_to_patient(
            session,
            purpose=P.NEW_CHAT_MESSAGE,
            patient=session.get(Patient, world.patient),
            unit=session.get(Unit, world.og_unit),
            text="Du har fått ett nytt meddelande från {unit}.",
            case_id=case_id,
            idempotency_key=key,
        ).id


def _events(database, action: str) -> list[tuple[str, str, dict]]:
    with database.transaction() as session:
        return [
            (e.subject_type, e.subject_id, e.details)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        ]


def test_a_permanently_failed_message_is_recorded_on_its_case(database, world, clock):
    on_case = _queue(database, world, key="a", case_id=world.case_id)
    without_case = _queue(database, world, key="b", case_id=None)
    refused = PermanentDeliveryError("gateway refused the number")
    deliver_pending(database, {Channel.SMS: ScriptedTransport(outcomes=[refused, refused])})
    events = _events(database, "notification:failed")
    assert [(subject, sid) for subject, sid, _ in events] == [
        ("case", str(world.case_id)),
        ("notification", str(without_case)),
    ]
    assert events[0][2]["notification_id"] == on_case and events[0][2]["channel"] == "sms"


def test_a_message_suppressed_at_delivery_is_recorded_on_its_case(database, world, clock):
    notification_id = _queue(database, world, key="a", case_id=world.case_id)
    with database.transaction() as session:
        session.get(Patient, world.patient).protection = Protection.CLAIMED  # after it was composed
    assert deliver_pending(database, {Channel.SMS: LogTransport(Channel.SMS)}).suppressed == 1
    [(subject, sid, details)] = _events(database, "notification:suppressed")
    assert (subject, sid, details["notification_id"]) == ("case", str(world.case_id), notification_id)
    assert "SEC-protected-sms" in details["reason"]


def test_a_message_suppressed_by_policy_when_queued_is_recorded_on_its_case(database, world, clock):
    with database.transaction() as session:
        row = queue_to_patient(
            session,
            purpose=P.CASE_RECEIVED,
            patient=session.get(Patient, world.protected),
            unit=session.get(Unit, world.ha_unit),
            text="Ditt ärende har tagits emot.",
            case_id=world.case_id,
            idempotency_key="ha",
        )
        notification_id = row.id
    [(subject, sid, details)] = _events(database, "notification:suppressed")
    assert (subject, sid, details["notification_id"]) == ("case", str(world.case_id), notification_id)


def test_metrics_count_notifications_by_status(database, world, client, clock):
    _queue(database, world, key="sent", case_id=world.case_id)
    _queue(database, world, key="failed", case_id=world.case_id)
    deliver_pending(
        database, {Channel.SMS: ScriptedTransport(outcomes=[None, PermanentDeliveryError("refused")])}
    )
    _queue(database, world, key="pending", case_id=None)
    text = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE vardflode_notifications gauge" in text
    found = dict(re.findall(r'^vardflode_notifications\{status="(\w+)"\} (\d+)$', text, flags=re.M))
    assert found == {"pending": "1", "sent": "1", "failed": "1", "suppressed": "0"}
