"""Queueing in the caller's transaction: idempotency, region policies for protected identity, OG-8.7."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.notifications.compose import ProtectedIdentityLeak
from app.notifications.delivery import deliver_pending
from app.notifications.models import Channel, Notification, NotificationStatus, RecipientKind
from app.notifications.purposes import NotificationPurpose as P
from app.notifications.service import notify_staff_of_new_case, queue_to_patient, queue_to_staff
from app.notifications.transports import LogTransport
from app.patients.models import Patient, Protection
from app.people.models import Unit
from app.people.roles import Role
from app.people.service import end_shift, sign_out
from tests import factories as f

RECEIVED = "Ditt ärende hos {unit} har tagits emot och handläggningen har börjat."


def _count(session, *where) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(*where))


def _log_transports() -> dict:
    return {Channel.SMS: LogTransport(Channel.SMS), Channel.EMAIL: LogTransport(Channel.EMAIL)}


def _queue(session, world, patient_id, unit_id=None, *, purpose=P.CASE_RECEIVED, key="k1", **kw):
    return queue_to_patient(
        session,
        purpose=purpose,
        patient=session.get(Patient, patient_id),
        unit=session.get(Unit, unit_id or world.og_unit),
        text=kw.pop("text", RECEIVED),
        idempotency_key=key,
        **kw,
    )


def test_a_message_is_queued_in_the_callers_transaction_and_only_flushed(database, world):
    """The message commits with the action that caused it; a rolled-back action leaves none."""
    session = database.new_session()
    row = _queue(session, world, world.patient, case_id=world.case_id, key="case:received")
    assert row.id is not None and row.status is NotificationStatus.PENDING
    assert (row.channel, row.purpose, row.recipient_kind, row.to_address, row.sender_id) == (
        Channel.SMS,
        P.CASE_RECEIVED,
        RecipientKind.PATIENT,
        "+46701234567",
        "VC Ekdalen",
    )
    assert row.body == "Ditt ärende hos Vårdcentralen Ekdalen har tagits emot och handläggningen har börjat."
    session.rollback()
    session.close()
    with database.transaction() as fresh:
        assert _count(fresh) == 0


def test_the_same_idempotency_key_queues_nothing_twice(database, world):
    with database.transaction() as session:
        first = _queue(session, world, world.patient, key="case:1:received").id
        assert _queue(session, world, world.patient, key="case:1:received").id == first
    with database.transaction() as session:  # a retried action, in a later transaction
        assert _queue(session, world, world.patient, key="case:1:received").id == first
        assert _count(session) == 1


def test_an_idempotency_key_reused_for_another_message_is_refused(database, world):
    with database.transaction() as session:
        _queue(session, world, world.patient, key="shared")
        with pytest.raises(ValueError, match="already names another notification"):
            _queue(session, world, world.patient, purpose=P.CASE_CLOSED, key="shared")


def test_HA_protected_no_sms_at_all_under_halland_policy(database, world):
    """HA-protected / SEC-protected-sms: under Halland policy a protected person gets no message at all."""
    with database.transaction() as session:
        rows = [
            _queue(session, world, world.protected, world.ha_unit, purpose=P.CASE_RECEIVED, key="a"),
            _queue(
                session,
                world,
                world.protected,
                world.ha_unit,
                purpose=P.PROTECTED_REDIRECT,
                key="b",
                text="Sök vård via 1177.se eller besök mottagningen.",
            ),
            _queue(
                session,
                world,
                world.confirmed,
                world.ha_unit,
                purpose=P.SMS_REMINDER,
                key="c",
                text="Svara gärna i chatten.",
            ),
            _queue(
                session,
                world,
                world.protected,
                world.ha_unit,
                purpose=P.NEW_CHAT_MESSAGE,
                key="d",
                channel=Channel.EMAIL,
            ),
            # Halland never composes for them, so even a phrase naming the unit cannot leak (or fail).
            _queue(
                session,
                world,
                world.protected,
                world.ha_unit,
                purpose=P.CASE_CLOSED,
                key="e",
                text="Hälsningar Vårdcentralen Havsbris",
            ),
        ]
        for row in rows:
            assert row.status is NotificationStatus.SUPPRESSED and "HA-protected" in row.last_error
            assert (row.to_address, row.sender_id, row.body, row.subject, row.signature, row.links) == (
                None,
                None,
                None,
                None,
                None,
                [],
            )
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "notification:suppressed")
        ).all()
        assert sorted(int(event.subject_id) for event in audited) == sorted(row.id for row in rows)
        unprotected = _queue(session, world, world.patient, world.ha_unit, key="f")
        assert unprotected.status is NotificationStatus.PENDING and unprotected.sender_id == "VC Havsbris"
    transports = _log_transports()
    stats = deliver_pending(database, transports)
    assert stats.sent == 1 and [m.notification_id for m in transports[Channel.SMS].sent] == [unprotected.id]
    assert transports[Channel.EMAIL].sent == []


def test_OG_6_3_protected_identity_messages_are_neutral_under_ostergotland_policy(database, world):
    """OG-6.3 / SEC-protected-sms: in Östergötland the messages go, naming and locating no unit."""
    with database.transaction() as session:
        claimed = _queue(
            session, world, world.protected, key="a", links=["https://e-tjanster.1177.se/{unit_slug}"]
        )
        confirmed = _queue(
            session, world, world.confirmed, key="b", text="Ring {unit_phone} om du har frågor."
        )
        mail = _queue(
            session, world, world.protected, key="c", channel=Channel.EMAIL, subject="Svar från {unit}"
        )
    for row in (claimed, confirmed, mail):
        assert row.status is NotificationStatus.PENDING and row.neutral and row.signature == "1177 direkt"
    assert (claimed.sender_id, claimed.body, claimed.links) == (
        "1177",
        "Ditt ärende hos din vårdgivare har tagits emot och handläggningen har börjat.",
        ["https://www.1177.se/"],
    )
    assert confirmed.body == "Ring om du har frågor."
    assert (mail.sender_id, mail.subject, mail.to_address) == (
        "1177 direkt",
        "Svar från din vårdgivare",
        "skydd@example.org",
    )
    transports = _log_transports()
    assert deliver_pending(database, transports).sent == 3
    for message in transports[Channel.SMS].sent + transports[Channel.EMAIL].sent:
        assert (
            "Ekdalen" not in message.text + message.sender_id + (message.subject or "")
            and "123456" not in message.text
        )


def test_SEC_protected_sms_a_phrase_naming_the_unit_queues_nothing(database, world):
    """SEC-protected-sms: the composer's refusal reaches the caller; no row, nothing sent."""
    with database.transaction() as session, pytest.raises(ProtectedIdentityLeak):
        _queue(session, world, world.protected, key="a", text="Välkommen till Vårdcentralen Ekdalen.")
    with database.transaction() as session:
        assert _count(session) == 0


def test_once_staff_clear_the_protection_messages_name_the_unit_again(database, world):
    with database.transaction() as session:
        session.get(Patient, world.protected).protection = Protection.CLEARED
        row = _queue(session, world, world.protected, world.ha_unit, key="a")
    assert row.status is NotificationStatus.PENDING and not row.neutral and row.sender_id == "VC Havsbris"


@pytest.mark.parametrize("mobile", [None, "", "12345"])
def test_a_patient_without_a_usable_mobile_number_gets_no_sms(database, world, mobile):
    with database.transaction() as session:
        session.get(Patient, world.patient).mobile = mobile
        row = _queue(session, world, world.patient, key="a")
        assert row.status is NotificationStatus.SUPPRESSED and row.last_error == "no usable mobile number"
        assert (
            session.scalar(select(AuditEvent.details).where(AuditEvent.action == "notification:suppressed"))[
                "reason"
            ]
            == "no usable mobile number"
        )
        mail = _queue(session, world, world.patient, key="b", channel=Channel.EMAIL)
        assert mail.status is NotificationStatus.PENDING and mail.to_address == "testa@example.org"


def _staff(session, unit, role, *, phone="070-111 22 33", present=True):
    user = f.user(session, unit, role)
    user.work_phone = phone
    if present:
        f.signed_in(session, user, unit)
    return user


def test_OG_8_7_new_case_sms_only_to_present_staff_on_work_phones(database, world, clock):
    """OG-8.7: new-case notifications go only by SMS, only to signed-in staff, only to work phones."""
    with database.transaction() as session:
        unit, other = session.get(Unit, world.og_unit), session.get(Unit, world.ha_unit)
        present_nurse = _staff(session, unit, Role.NURSE, phone="070-111 22 33")
        present_doctor = _staff(session, unit, Role.DOCTOR, phone="+46 70 444 55 66")
        _staff(session, unit, Role.NURSE, phone=None)  # present, but no work phone
        _staff(session, unit, Role.PSYCHOLOGIST)  # present, but not a role the case is for
        _staff(session, unit, Role.NURSE, present=False)  # not signed in
        away = _staff(session, unit, Role.NURSE)
        sign_out(session, actor=f.signed_in(session, away, unit))  # logged out (a break): not present
        gone = _staff(session, unit, Role.NURSE)
        end_shift(session, actor=f.signed_in(session, gone, unit))  # ended the shift
        elsewhere = f.user(session, other, Role.NURSE)
        elsewhere.work_phone = "070-999 99 99"
        f.signed_in(session, elsewhere, other)  # present, but at another unit
        clock.advance(minutes=1)
        rows = notify_staff_of_new_case(
            session, unit=unit, case_id=world.case_id, roles=[Role.NURSE, Role.DOCTOR]
        )
        assert sorted((r.user_id, r.to_address) for r in rows) == sorted(
            [(present_nurse.id, "+46701112233"), (present_doctor.id, "+46704445566")]
        )
        for row in rows:
            assert (row.channel, row.purpose, row.recipient_kind, row.case_id, row.status) == (
                Channel.SMS,
                P.STAFF_NEW_CASE,
                RecipientKind.STAFF,
                world.case_id,
                NotificationStatus.PENDING,
            )
            assert (
                row.body
                == "Ett nytt ärende har kommit in till Vårdcentralen Ekdalen. Logga in för att läsa det."
            )
            assert "Testa" not in row.body and "Patientsson" not in row.body  # no patient data by SMS
    with database.transaction() as session:  # the same action again queues nothing new
        again = notify_staff_of_new_case(
            session,
            unit=session.get(Unit, world.og_unit),
            case_id=world.case_id,
            roles=["Sjuksköterska", "Läkare"],
        )
        assert sorted(r.id for r in again) == sorted(r.id for r in rows) and _count(session) == 2


def test_OG_8_7_new_case_notifications_are_never_e_mail(database, world):
    """OG-8.7: only by SMS."""
    with database.transaction() as session:
        user = _staff(session, session.get(Unit, world.og_unit), Role.NURSE)
        user.email = "sara@example.org"
        with pytest.raises(ValueError, match="may not be sent by email"):
            queue_to_staff(
                session,
                purpose=P.STAFF_NEW_CASE,
                user=user,
                unit=session.get(Unit, world.og_unit),
                text="Nytt ärende.",
                channel=Channel.EMAIL,
                idempotency_key="x",
            )


def test_a_staffing_gap_warning_goes_to_the_head_of_unit_by_e_mail(database, world):
    """Staff e-mail goes to the work address, from the unit."""
    with database.transaction() as session:
        unit = session.get(Unit, world.ha_unit)
        head = f.user(session, unit, Role.HEAD_OF_UNIT)
        head.email = "chef@example.org"
        row = queue_to_staff(
            session,
            purpose=P.STAFFING_GAP,
            user=head,
            unit=unit,
            text="Ingen är ansvarig för chatten i eftermiddag på {unit}.",
            channel=Channel.EMAIL,
            subject="Bemanning {unit}",
            idempotency_key="gap:1",
        )
    assert (row.to_address, row.sender_id, row.subject) == (
        "chef@example.org",
        "Vårdcentralen Havsbris",
        "Bemanning Vårdcentralen Havsbris",
    )
