"""The key providers receive (gateway idempotency key, e-mail Message-ID): an HMAC of the outbox row's
guessable key under the installation's secret, so it names no case and differs between installations."""

from __future__ import annotations

import hashlib

from app.notifications.cli import notifications_cli
from app.notifications.models import Channel
from app.notifications.purposes import NotificationPurpose as P
from app.notifications.service import queue_to_patient
from app.notifications.transports import (
    DEVELOPMENT_KEY_SECRET,
    HttpSmsTransport,
    OutgoingMessage,
    SmtpTransport,
    build_transports,
    delivery_key,
    notification_settings,
)
from app.patients.models import Patient
from app.people.models import Unit
from tests.conftest import make_app
from tests.notifications.conftest import make_world

ROW_KEY = "case:17:received"


def _message(key: str = ROW_KEY) -> OutgoingMessage:
    return OutgoingMessage(1, Channel.EMAIL, "testa@example.org", "Vårdcentralen Ekdalen", "Hej", "Text", key)


def _smtp_key(config: dict) -> str:
    config = {"NOTIFY_EMAIL_TRANSPORT": "smtp", "SMTP_HOST": "h", "EMAIL_FROM": "a@b.example"} | config
    transport = build_transports(config)[Channel.EMAIL]
    return transport.build(_message())["Idempotency-Key"]


def test_the_provider_key_cannot_be_recomputed_from_a_guessed_case_key(clock):
    key = _smtp_key({"SECRET_KEY": "production-secret"})
    guesses = {hashlib.sha256(f"case:{n}:received".encode()).hexdigest()[:40] for n in range(1, 100)}
    assert key not in guesses and len(key) == 40


def test_installations_with_different_secrets_send_different_keys_for_the_same_row(clock):
    staging = _smtp_key({"SECRET_KEY": "staging-secret"})
    production = _smtp_key({"SECRET_KEY": "production-secret"})
    assert staging != production
    assert _smtp_key({"SECRET_KEY": "production-secret"}) == production  # stable across retries


def test_a_dedicated_secret_overrides_the_app_secret_key(clock):
    dedicated = _smtp_key({"SECRET_KEY": "rotated-1", "NOTIFY_KEY_SECRET": "outbox-secret"})
    assert dedicated == _smtp_key({"SECRET_KEY": "rotated-2", "NOTIFY_KEY_SECRET": "outbox-secret"})
    assert dedicated != _smtp_key({"SECRET_KEY": "rotated-1"})


def test_message_id_and_gateway_key_use_the_configured_secret(clock):
    settings = notification_settings({"SECRET_KEY": "app-secret"}, {"NOTIFY_KEY_SECRET": "from-env"})
    assert settings == {"NOTIFY_KEY_SECRET": "from-env"}  # SECRET_KEY is added by the worker command only
    mail = SmtpTransport(host="h", from_address="a@b.example", key_secret="from-env").build(_message())
    assert mail["Message-ID"] == f"<{mail['Idempotency-Key']}@b.example>"
    assert mail["Idempotency-Key"] == _smtp_key({"NOTIFY_KEY_SECRET": "from-env"})
    sms = build_transports(
        {"NOTIFY_SMS_TRANSPORT": "http", "SMS_GATEWAY_URL": "https://sms.example", "SMS_GATEWAY_TOKEN": "t"}
        | {"NOTIFY_KEY_SECRET": "from-env"}
    )[Channel.SMS]
    assert isinstance(sms, HttpSmsTransport) and sms.key_secret == "from-env"
    assert build_transports({})[Channel.SMS] is not None  # development: the documented default applies
    assert DEVELOPMENT_KEY_SECRET.startswith("dev-only")


def test_the_worker_command_keys_sms_with_the_apps_secret(db_url, clock, sms_gateway):
    app = make_app(
        db_url,
        clock,
        SECRET_KEY="installation-a",
        NOTIFY_SMS_TRANSPORT="http",
        SMS_GATEWAY_URL=sms_gateway.url,
        SMS_GATEWAY_TOKEN="t",
    )
    try:
        database = app.extensions["database"]
        world = make_world(database)
        with database.transaction() as session:
            queue_to_patient(
                session,
                purpose=P.CASE_RECEIVED,
                patient=session.get(Patient, world.patient),
                unit=session.get(Unit, world.og_unit),
                text="Ditt ärende har tagits emot av {unit}.",
                case_id=world.case_id,
                idempotency_key=f"case:{world.case_id}:received",
            )
        result = app.test_cli_runner().invoke(notifications_cli, ["run", "--once"])
        assert result.exit_code == 0, result.output
        [request] = sms_gateway.requests
        expected = delivery_key("installation-a", f"case:{world.case_id}:received")
        assert request.body["idempotency_key"] == request.headers["Idempotency-Key"] == expected
        assert expected != hashlib.sha256(f"case:{world.case_id}:received".encode()).hexdigest()[:40]
    finally:
        app.extensions["database"].dispose()
