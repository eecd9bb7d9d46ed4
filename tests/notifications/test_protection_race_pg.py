"""SEC-protected-sms under concurrency (PostgreSQL, READ COMMITTED): the worker reads the patient FOR SHARE,
so a protection claim committed by another connection is either seen before the send or waits for it."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from app.audit.service import Actor
from app.notifications.delivery import deliver_pending
from app.notifications.models import Channel, Notification, NotificationStatus
from app.notifications.purposes import NotificationPurpose as P
from app.notifications.service import queue_to_patient
from app.notifications.transports import LogTransport
from app.patients.models import Patient, Protection
from app.patients.service import claim_protection
from app.people.models import Unit
from tests.notifications.conftest import make_world

pytestmark = pytest.mark.postgres

RESIDENT = Actor.system("resident-under-test")


@pytest.fixture
def pg_database(pg_app):
    return pg_app.extensions["database"]


def _queue_unit_naming_sms(database, world) -> int:
    with database.transaction() as session:
        patient, unit = session.get(Patient, world.patient), session.get(Unit, world.og_unit)
        row = queue_to_patient(
            session,
            purpose=P.NEW_CHAT_MESSAGE,
            patient=patient,
            unit=unit,
            text="Nytt meddelande från {unit}.",
            idempotency_key="race",
        )
        assert not row.neutral
        return row.id


def _waiting_on_a_lock(database) -> bool:
    with database.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def test_SEC_protected_sms_claim_in_flight_when_the_worker_reads_is_waited_for(pg_database, clock):
    world = make_world(pg_database)
    notification_id = _queue_unit_naming_sms(pg_database, world)
    transport = LogTransport(Channel.SMS)
    results = []
    with pg_database.transaction() as claiming:
        claim_protection(claiming, patient=claiming.get(Patient, world.patient), actor=RESIDENT)
        claiming.flush()  # the patient row is updated, not yet committed
        worker = threading.Thread(
            target=lambda: results.append(deliver_pending(pg_database, {Channel.SMS: transport}))
        )
        worker.start()
        deadline = time.monotonic() + 10
        while worker.is_alive() and not _waiting_on_a_lock(pg_database) and time.monotonic() < deadline:
            time.sleep(0.02)
    worker.join(30)
    assert not worker.is_alive()
    assert transport.sent == []
    assert results[0].suppressed == 1
    with pg_database.transaction() as session:
        row = session.get(Notification, notification_id)
        assert row.status == NotificationStatus.SUPPRESSED
        assert "SEC-protected-sms" in (row.last_error or "")


def test_SEC_protected_sms_no_claim_commits_while_the_message_is_being_handed_over(pg_database, clock):
    world = make_world(pg_database)
    _queue_unit_naming_sms(pg_database, world)
    committed_during_send: list[bool] = []

    class ClaimingMeanwhile(LogTransport):
        """The resident claims protection (another connection) while the gateway call is in flight."""

        def send(self, message):
            super().send(message)
            try:
                with pg_database.transaction() as other:
                    other.execute(text("SET LOCAL lock_timeout = '300ms'"))
                    claim_protection(other, patient=other.get(Patient, world.patient), actor=RESIDENT)
                    other.flush()
                committed_during_send.append(True)
            except Exception as exc:  # the claim waits for the delivery's commit: lock_timeout fires
                assert "lock timeout" in str(exc).lower()
                committed_during_send.append(False)

    stats = deliver_pending(pg_database, {Channel.SMS: ClaimingMeanwhile(Channel.SMS)})
    assert stats.sent == 1
    # Had the claim committed here, an SMS naming the unit would have gone to a protected person.
    assert committed_during_send == [False]
    with pg_database.transaction() as session:
        claim_protection(session, patient=session.get(Patient, world.patient), actor=RESIDENT)
    with pg_database.transaction() as session:
        assert session.get(Patient, world.patient).protection == Protection.CLAIMED
