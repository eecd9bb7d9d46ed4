"""Claiming on PostgreSQL: `FOR UPDATE SKIP LOCKED` lets workers share the outbox, each message sent once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from app.notifications.delivery import NotificationWorker, deliver_pending
from app.notifications.models import Channel, Notification, NotificationStatus
from app.notifications.purposes import NotificationPurpose as P
from app.notifications.service import queue_to_patient
from app.notifications.transports import LogTransport
from app.patients.models import Patient
from app.people.models import Unit
from tests.notifications.conftest import make_world

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_database(pg_app):
    return pg_app.extensions["database"]


def _queue_many(database, world, count: int) -> list[int]:
    with database.transaction() as session:
        patient, unit = session.get(Patient, world.patient), session.get(Unit, world.og_unit)
        return [
            queue_to_patient(
                session,
                purpose=P.NEW_CHAT_MESSAGE,
                patient=patient,
                unit=unit,
                text="Nytt meddelande från {unit}.",
                idempotency_key=f"k{n}",
            ).id
            for n in range(count)
        ]


def test_a_message_locked_by_another_worker_is_skipped_not_waited_for(pg_database, clock):
    ids = _queue_many(pg_database, make_world(pg_database), 2)
    transport = LogTransport(Channel.SMS)
    with pg_database.transaction() as other_worker:
        other_worker.scalar(select(Notification).where(Notification.id == ids[0]).with_for_update())
        assert deliver_pending(pg_database, {Channel.SMS: transport}).sent == 1
        assert [m.notification_id for m in transport.sent] == [ids[1]]
    assert deliver_pending(pg_database, {Channel.SMS: transport}).sent == 1
    assert sorted(m.notification_id for m in transport.sent) == sorted(ids)


def test_concurrent_workers_send_every_message_exactly_once(pg_database, clock):
    ids = _queue_many(pg_database, make_world(pg_database), 60)
    sent: list[int] = []
    lock = threading.Lock()

    class Recording(LogTransport):
        def send(self, message):
            with lock:
                sent.append(message.notification_id)

    workers = [
        NotificationWorker(pg_database, {Channel.SMS: Recording(Channel.SMS)}, name=f"w{n}", batch=10)
        for n in range(3)
    ]
    threads = [threading.Thread(target=worker.run_once) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(sent) == Counter(ids)
    with pg_database.transaction() as session:
        assert set(session.scalars(select(Notification.status))) == {NotificationStatus.SENT}
