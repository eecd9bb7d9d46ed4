"""Delivering the outbox: once per message, retries with backoff, permanent failures, the worker and CLI."""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.notifications.cli import notifications_cli
from app.notifications.delivery import MAX_ATTEMPTS, NotificationWorker, deliver_pending
from app.notifications.models import Channel, Notification, NotificationStatus
from app.notifications.purposes import NotificationPurpose as P
from app.notifications.service import queue_to_patient
from app.notifications.transports import LogTransport, PermanentDeliveryError, TemporaryDeliveryError
from app.patients.models import Patient, Protection
from app.people.models import Unit
from tests.notifications.conftest import ScriptedTransport


def _queue(
    database,
    world,
    *,
    patient=None,
    key="k",
    channel=Channel.SMS,
    text="Du har fått ett nytt meddelande från {unit}.",
) -> int:
    with database.transaction() as session:
        return queue_to_patient(
            session,
            purpose=P.NEW_CHAT_MESSAGE,
            patient=session.get(Patient, patient or world.patient),
            unit=session.get(Unit, world.og_unit),
            text=text,
            channel=channel,
            links=["https://e-tjanster.1177.se/{unit_slug}"],
            case_id=world.case_id,
            idempotency_key=key,
        ).id


def _row(database, notification_id) -> Notification:
    with database.transaction() as session:
        return session.get(Notification, notification_id)


def test_a_pending_message_is_sent_once_with_its_links_and_signature(database, world, clock):
    notification_id = _queue(database, world)
    transport = LogTransport(Channel.SMS)
    assert deliver_pending(database, {Channel.SMS: transport}).sent == 1
    assert deliver_pending(database, {Channel.SMS: transport}).handled == 0  # nothing twice
    [message] = transport.sent
    assert (
        message.text
        == "Du har fått ett nytt meddelande från Vårdcentralen Ekdalen.\n\nhttps://e-tjanster.1177.se/vc-ekdalen\n\nVårdcentralen Ekdalen"
    )
    assert (message.to_address, message.sender_id, message.notification_id) == (
        "+46701234567",
        "VC Ekdalen",
        notification_id,
    )
    row = _row(database, notification_id)
    assert (row.status, row.attempts, row.sent_at, row.next_attempt_at) == (
        NotificationStatus.SENT,
        1,
        clock.now(),
        None,
    )


def test_temporary_failures_are_retried_after_1_5_30_and_120_minutes_then_failed(database, world, clock):
    notification_id = _queue(database, world)
    transport = ScriptedTransport(
        outcomes=[TemporaryDeliveryError("gateway answered HTTP 503")] * MAX_ATTEMPTS
    )
    transports = {Channel.SMS: transport}
    assert deliver_pending(database, transports).retried == 1
    for minutes in (1, 5, 30, 120):
        clock.advance(minutes=minutes - 0.5)
        assert deliver_pending(database, transports).handled == 0  # not yet due
        clock.advance(minutes=0.5)
        stats = deliver_pending(database, transports)
        assert (stats.retried, stats.failed) == ((1, 0) if minutes < 120 else (0, 1))
    row = _row(database, notification_id)
    assert (row.status, row.attempts, row.last_error) == (
        NotificationStatus.FAILED,
        MAX_ATTEMPTS,
        "gateway answered HTTP 503",
    )
    assert len(transport.calls) == MAX_ATTEMPTS and {m.idempotency_key for m in transport.calls} == {"k"}
    clock.advance(hours=24)
    assert deliver_pending(database, transports).handled == 0
    with database.transaction() as session:
        failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "notification:failed")).one()
        # recorded on the message's case, where the clinician sees it (test_case_outcomes.py)
        assert (failed.subject_type, failed.subject_id) == ("case", str(world.case_id))
        assert failed.details["notification_id"] == notification_id


def test_a_retried_message_is_sent_when_the_transport_recovers(database, world, clock):
    notification_id = _queue(database, world)
    transports = {Channel.SMS: ScriptedTransport(outcomes=[TemporaryDeliveryError("timeout"), None])}
    deliver_pending(database, transports)
    clock.advance(minutes=1)
    assert deliver_pending(database, transports).sent == 1
    row = _row(database, notification_id)
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 2, None)


def test_a_permanent_failure_fails_at_once(database, world):
    notification_id = _queue(database, world)
    transports = {Channel.SMS: ScriptedTransport(outcomes=[PermanentDeliveryError("HTTP 400")])}
    assert deliver_pending(database, transports).failed == 1
    row = _row(database, notification_id)
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.FAILED, 1, "HTTP 400")


def test_a_transport_bug_is_retried_like_a_network_error(database, world):
    notification_id = _queue(database, world)
    transports = {Channel.SMS: ScriptedTransport(outcomes=[KeyError("oops")])}
    assert deliver_pending(database, transports).retried == 1
    assert _row(database, notification_id).last_error == "KeyError: 'oops'"


def test_a_channel_without_a_transport_stays_pending(database, world):
    sms = _queue(database, world, key="a")
    mail = _queue(database, world, key="b", channel=Channel.EMAIL)
    transport = LogTransport(Channel.SMS)
    assert deliver_pending(database, {Channel.SMS: transport}).sent == 1
    assert _row(database, sms).status is NotificationStatus.SENT
    assert (_row(database, mail).status, _row(database, mail).attempts) == (NotificationStatus.PENDING, 0)


def test_SEC_protected_sms_protection_claimed_after_queueing_suppresses_the_message(database, world):
    """SEC-protected-sms: a message that names the unit is never sent once protection is claimed."""
    notification_id = _queue(database, world)
    with database.transaction() as session:
        session.get(Patient, world.patient).protection = Protection.CLAIMED
    transport = LogTransport(Channel.SMS)
    assert deliver_pending(database, {Channel.SMS: transport}).suppressed == 1
    assert transport.sent == []
    row = _row(database, notification_id)
    assert row.status is NotificationStatus.SUPPRESSED and "SEC-protected-sms" in row.last_error


def test_HA_protected_a_neutral_message_is_not_sent_under_halland_policy(database, world):
    """HA-protected: even a neutral message is held back when the unit's region refuses (moved rows, old data)."""
    notification_id = _queue(database, world, patient=world.protected)
    with database.transaction() as session:
        session.get(Notification, notification_id).unit_id = world.ha_unit
    transport = LogTransport(Channel.SMS)
    assert deliver_pending(database, {Channel.SMS: transport}).suppressed == 1 and transport.sent == []


def test_the_worker_delivers_everything_due_in_batches(database, world):
    ids = [_queue(database, world, key=f"k{n}") for n in range(5)]
    transport = LogTransport(Channel.SMS)
    worker = NotificationWorker(database, {Channel.SMS: transport}, name="test", batch=2)
    assert worker.run_once().sent == 5
    assert sorted(m.notification_id for m in transport.sent) == sorted(ids)
    assert worker.run_once().handled == 0


def test_the_worker_loop_sends_and_stops(database, world):
    delivered = threading.Event()

    class Signalling(LogTransport):
        def send(self, message):
            super().send(message)
            delivered.set()

    _queue(database, world)
    worker = NotificationWorker(
        database, {Channel.SMS: Signalling(Channel.SMS)}, name="test", max_idle_s=0.05
    )
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    try:
        assert delivered.wait(30)
    finally:
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_cli_run_once_delivers_with_the_configured_log_transports(app, database, world):
    notification_id = _queue(database, world)
    result = app.test_cli_runner().invoke(notifications_cli, ["run", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retrying 0, failed 0, suppressed 0" in result.output
    assert _row(database, notification_id).status is NotificationStatus.SENT
