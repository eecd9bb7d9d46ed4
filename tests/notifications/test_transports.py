"""Transports against real servers on loopback: an aiosmtpd SMTP server and an http.server SMS gateway."""

from __future__ import annotations

import pytest

from app.notifications.delivery import deliver_pending
from app.notifications.models import Channel, Notification, NotificationStatus
from app.notifications.purposes import NotificationPurpose as P
from app.notifications.service import queue_to_patient
from app.notifications.transports import (
    DEVELOPMENT_KEY_SECRET,
    HttpSmsTransport,
    LogTransport,
    SmtpTransport,
    build_transports,
    delivery_key,
    notification_settings,
)
from app.patients.models import Patient
from app.people.models import Unit
from tests.notifications.conftest import SMTP_PASSWORD, SMTP_USER, free_port

TOKEN = "test-token-123"
FROM = "no-reply@1177direkt.example"


def _queue(database, world, *, patient=None, key="case:1:chat:1", channel=Channel.SMS) -> int:
    with database.transaction() as session:
        return queue_to_patient(
            session,
            purpose=P.NEW_CHAT_MESSAGE,
            patient=session.get(Patient, patient or world.patient),
            unit=session.get(Unit, world.og_unit),
            text="Du har fått ett nytt meddelande från {unit}. Logga in på 1177.se för att läsa det.",
            channel=channel,
            subject="Nytt meddelande från {unit}",
            case_id=world.case_id,
            idempotency_key=key,
        ).id


def _row(database, notification_id) -> Notification:
    with database.transaction() as session:
        return session.get(Notification, notification_id)


def _derived(key: str) -> str:
    # An HMAC under the installation secret (the development default here): test_delivery_keys.py
    return delivery_key(DEVELOPMENT_KEY_SECRET, key)


# --- SMTP ----------------------------------------------------------------------------------------


def _smtp(server, **kw) -> dict:
    options = {
        "host": server.host,
        "port": server.port,
        "user": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_address": FROM,
    }
    return {Channel.EMAIL: SmtpTransport(**(options | kw))}


def test_email_is_delivered_through_a_real_smtp_server_with_idempotency_headers(database, world, smtp_server):
    notification_id = _queue(database, world, channel=Channel.EMAIL)
    assert deliver_pending(database, _smtp(smtp_server)).sent == 1
    [mail] = smtp_server.messages
    assert smtp_server.logins == [SMTP_USER]
    assert (
        mail["From"].addresses[0].display_name == "Vårdcentralen Ekdalen"
        and mail["From"].addresses[0].addr_spec == FROM
    )
    assert (mail["To"], mail["Subject"]) == (
        "testa@example.org",
        "Nytt meddelande från Vårdcentralen Ekdalen",
    )
    assert (
        mail["Idempotency-Key"] == _derived("case:1:chat:1")
        and mail["Message-ID"] == f"<{_derived('case:1:chat:1')}@1177direkt.example>"
    )
    assert "case:1" not in str(mail)  # the derived key reveals no case id
    assert (
        mail.get_content()
        .replace("\r\n", "\n")
        .strip()
        .endswith("Logga in på 1177.se för att läsa det.\n\nVårdcentralen Ekdalen")
    )
    assert _row(database, notification_id).status is NotificationStatus.SENT
    assert deliver_pending(database, _smtp(smtp_server)).handled == 0 and len(smtp_server.messages) == 1


def test_SEC_protected_sms_protected_email_from_subject_and_signature_are_neutral_on_the_wire(
    database, world, smtp_server
):
    """SEC-protected-sms: e-mail From, subject and signature name no unit, as received by the server."""
    _queue(database, world, patient=world.protected, channel=Channel.EMAIL)
    assert deliver_pending(database, _smtp(smtp_server)).sent == 1
    [mail] = smtp_server.messages
    assert (
        mail["From"].addresses[0].display_name == "1177 direkt"
        and mail["Subject"] == "Nytt meddelande från din vårdgivare"
    )
    assert "Ekdalen" not in mail.as_string() and "Ekdalen" not in mail.get_content()


def test_a_refused_recipient_fails_permanently(database, world, smtp_server):
    smtp_server.refuse_recipients = True
    notification_id = _queue(database, world, channel=Channel.EMAIL)
    assert deliver_pending(database, _smtp(smtp_server)).failed == 1
    row = _row(database, notification_id)
    assert (row.status, row.last_error) == (NotificationStatus.FAILED, "SMTP recipient refused (550)")


def test_wrong_smtp_credentials_are_retried_not_failed(database, world, smtp_server):
    notification_id = _queue(database, world, channel=Channel.EMAIL)
    assert deliver_pending(database, _smtp(smtp_server, password="fel")).retried == 1
    row = _row(database, notification_id)
    assert (
        row.status is NotificationStatus.PENDING
        and row.last_error == "SMTP authentication failed (535)"
        and smtp_server.messages == []
    )


def test_an_unreachable_smtp_server_is_retried(database, world):
    notification_id = _queue(database, world, channel=Channel.EMAIL)
    transports = {
        Channel.EMAIL: SmtpTransport(host="127.0.0.1", port=free_port(), from_address=FROM, timeout=5)
    }
    assert deliver_pending(database, transports).retried == 1
    assert _row(database, notification_id).last_error.startswith("SMTP: ConnectionRefusedError")


# --- HTTP SMS gateway ----------------------------------------------------------------------------


def _http(gateway, token: str = TOKEN) -> dict:
    return {Channel.SMS: HttpSmsTransport(url=gateway.url, token=token, timeout=5)}


def test_sms_is_posted_to_a_real_http_gateway_with_bearer_token_and_idempotency_key(
    database, world, sms_gateway
):
    notification_id = _queue(database, world)
    assert deliver_pending(database, _http(sms_gateway)).sent == 1
    [request] = sms_gateway.requests
    assert request.path == "/v1/sms"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}" and request.headers[
        "Idempotency-Key"
    ] == _derived("case:1:chat:1")
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.body == {
        "to": "+46701234567",
        "from": "VC Ekdalen",
        "text": "Du har fått ett nytt meddelande från Vårdcentralen Ekdalen. Logga in på 1177.se för att läsa det.\n\nVårdcentralen Ekdalen",
        "idempotency_key": _derived("case:1:chat:1"),
    }
    assert _row(database, notification_id).status is NotificationStatus.SENT
    assert (
        deliver_pending(database, _http(sms_gateway)).handled == 0 and len(sms_gateway.requests) == 1
    )  # no double send


def test_a_gateway_500_is_retried_with_the_same_idempotency_key_then_sent_once(
    database, world, sms_gateway, clock
):
    notification_id = _queue(database, world)
    sms_gateway.statuses.extend([500])
    assert deliver_pending(database, _http(sms_gateway)).retried == 1
    row = _row(database, notification_id)
    assert (row.status, row.attempts, row.last_error) == (
        NotificationStatus.PENDING,
        1,
        "SMS gateway answered HTTP 500",
    )
    assert deliver_pending(database, _http(sms_gateway)).handled == 0  # backoff: not due yet
    clock.advance(minutes=1)
    assert deliver_pending(database, _http(sms_gateway)).sent == 1
    clock.advance(hours=1)
    assert deliver_pending(database, _http(sms_gateway)).handled == 0
    assert [r.headers["Idempotency-Key"] for r in sms_gateway.requests] == [_derived("case:1:chat:1")] * 2


@pytest.mark.parametrize("status", [429, 503, 401])
def test_rate_limits_server_errors_and_rejected_tokens_are_retried(database, world, sms_gateway, status):
    notification_id = _queue(database, world)
    sms_gateway.statuses.append(status)
    assert deliver_pending(database, _http(sms_gateway)).retried == 1
    assert _row(database, notification_id).status is NotificationStatus.PENDING


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_gateway_4xx_fails_permanently_and_is_not_retried(database, world, sms_gateway, clock, status):
    notification_id = _queue(database, world)
    sms_gateway.statuses.append(status)
    assert deliver_pending(database, _http(sms_gateway)).failed == 1
    clock.advance(hours=3)
    assert deliver_pending(database, _http(sms_gateway)).handled == 0 and len(sms_gateway.requests) == 1
    row = _row(database, notification_id)
    assert (row.status, row.last_error) == (
        NotificationStatus.FAILED,
        f"SMS gateway refused the message (HTTP {status})",
    )


def test_an_unreachable_gateway_is_retried(database, world):
    notification_id = _queue(database, world)
    transports = {
        Channel.SMS: HttpSmsTransport(url=f"http://127.0.0.1:{free_port()}/sms", token=TOKEN, timeout=5)
    }
    assert deliver_pending(database, transports).retried == 1
    assert _row(database, notification_id).last_error.startswith("SMS gateway unreachable")


def test_SEC_protected_sms_the_gateway_receives_only_neutral_sender_and_text(database, world, sms_gateway):
    """SEC-protected-sms: sender ID and text as the SMS gateway receives them."""
    _queue(database, world, patient=world.protected)
    assert deliver_pending(database, _http(sms_gateway)).sent == 1
    [request] = sms_gateway.requests
    assert request.body["from"] == "1177" and "Ekdalen" not in request.body["text"]
    assert (
        request.body["text"]
        == "Du har fått ett nytt meddelande från din vårdgivare. Logga in på 1177.se för att läsa det.\n\n1177 direkt"
    )


# --- configuration -------------------------------------------------------------------------------


def test_transports_default_to_logging():
    transports = build_transports({})
    assert isinstance(transports[Channel.SMS], LogTransport) and isinstance(
        transports[Channel.EMAIL], LogTransport
    )


def test_transports_are_built_from_configuration():
    transports = build_transports(
        {
            "NOTIFY_SMS_TRANSPORT": "http",
            "SMS_GATEWAY_URL": "https://sms.example/v1/messages",
            "SMS_GATEWAY_TOKEN": "t",
            "NOTIFY_EMAIL_TRANSPORT": "smtp",
            "SMTP_HOST": "smtp.example",
            "SMTP_STARTTLS": "false",
            "SMTP_USER": "u",
            "SMTP_PASSWORD": "p",
            "EMAIL_FROM": FROM,
        }
    )
    sms, mail = transports[Channel.SMS], transports[Channel.EMAIL]
    assert isinstance(sms, HttpSmsTransport) and (sms.url, sms.token) == (
        "https://sms.example/v1/messages",
        "t",
    )
    assert isinstance(mail, SmtpTransport) and (
        mail.host,
        mail.port,
        mail.starttls,
        mail.user,
        mail.from_address,
    ) == ("smtp.example", 25, False, "u", FROM)
    starttls = build_transports(
        {"NOTIFY_EMAIL_TRANSPORT": "smtp", "SMTP_HOST": "h", "SMTP_PORT": "2525", "EMAIL_FROM": FROM}
    )[Channel.EMAIL]
    assert (starttls.port, starttls.starttls) == (2525, True)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"NOTIFY_SMS_TRANSPORT": "http", "SMS_GATEWAY_URL": "https://sms.example"}, "SMS_GATEWAY_TOKEN"),
        ({"NOTIFY_EMAIL_TRANSPORT": "smtp", "EMAIL_FROM": FROM}, "SMTP_HOST"),
        ({"NOTIFY_SMS_TRANSPORT": "carrier-pigeon"}, "'log' or 'http'"),
    ],
)
def test_incomplete_transport_configuration_is_refused(config, message):
    with pytest.raises(ValueError, match=message):
        build_transports(config)


def test_settings_come_from_the_app_configuration_before_the_environment():
    settings = notification_settings(
        {"SMTP_HOST": "from-config", "SECRET_KEY": "x"},
        {"SMTP_HOST": "from-env", "SMTP_PORT": "2525", "PATH": "/bin"},
    )
    assert settings == {"SMTP_HOST": "from-config", "SMTP_PORT": "2525"}
