"""Transports: how a composed message leaves the building, behind one small Protocol.

`LogTransport` (development default) logs and keeps what it was given; `SmtpTransport` sends e-mail;
`HttpSmsTransport` posts to an SMS gateway. A transport raises `PermanentDeliveryError` when retrying
cannot help (the message or address is refused) and `TemporaryDeliveryError` otherwise; anything
else it raises is treated as temporary too. Every send carries a key derived from the outbox row's
idempotency key, so a gateway can drop the duplicate of a send whose outcome we never learned.

The derived key (gateway `idempotency_key`, e-mail `Message-ID` and `Idempotency-Key`) is an HMAC of
the row's key under an installation secret: `NOTIFY_KEY_SECRET`, else the app's `SECRET_KEY` (required
in production), else, in development only, `DEVELOPMENT_KEY_SECRET`. Our keys are guessable
("case:17:received"); the HMAC reveals no case id and does not collide between installations (staging,
a restored copy, regions) sharing a gateway. Set NOTIFY_KEY_SECRET to keep keys stable when SECRET_KEY
is rotated: a retry after a change of secret carries a new key, so the gateway cannot drop its duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol

from app import clock
from app.notifications.models import Channel

log = logging.getLogger("vardflode.notifications")

SETTING_KEYS = (
    "NOTIFY_KEY_SECRET",
    "NOTIFY_SMS_TRANSPORT",
    "SMS_GATEWAY_URL",
    "SMS_GATEWAY_TOKEN",
    "NOTIFY_EMAIL_TRANSPORT",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "EMAIL_FROM",
)
DEFAULT_EMAIL_FROM = "no-reply@vardflode.invalid"
DEVELOPMENT_KEY_SECRET = "dev-only-notification-key-secret"
_KEY_LABEL = b"vardflode notification delivery key\x00"  # SECRET_KEY also signs sessions: separate uses


class DeliveryError(Exception):
    permanent = False


class TemporaryDeliveryError(DeliveryError):
    """Try again later: network, timeout, 5xx, 429, the provider's credentials."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the provider refused this message or address."""

    permanent = True


@dataclass(frozen=True)
class OutgoingMessage:
    """What a transport needs, copied off the outbox row (transports never see the database)."""

    notification_id: int
    channel: Channel
    to_address: str
    sender_id: str
    subject: str | None
    text: str
    idempotency_key: str


def delivery_key(secret: str, idempotency_key: str) -> str:
    """The key sent to providers: an HMAC of ours under the installation's secret, revealing no case or
    patient ids and differing between installations."""
    digest = hmac.new(secret.encode(), _KEY_LABEL + idempotency_key.encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


class Transport(Protocol):
    channel: Channel

    def send(self, message: OutgoingMessage) -> None:
        """Hand the message over, or raise a DeliveryError."""
        ...


class LogTransport:
    """Development: log the message (not its text, not the whole address) and keep it in `sent`."""

    def __init__(self, channel: Channel):
        self.channel = Channel(channel)
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)
        log.info(
            "%s notification %s to %s from %r (%d characters, not sent: log transport)",
            self.channel,
            message.notification_id,
            _masked(message.to_address),
            message.sender_id,
            len(message.text),
        )


def _masked(address: str) -> str:
    return address[:4] + "…" + address[-2:] if len(address) > 8 else "…"


class SmtpTransport:
    """E-mail over SMTP; From is the composed sender name at the configured (neutral) address."""

    channel = Channel.EMAIL

    def __init__(
        self,
        *,
        host: str,
        port: int = 25,
        starttls: bool = False,
        user: str | None = None,
        password: str | None = None,
        from_address: str = DEFAULT_EMAIL_FROM,
        timeout: float = 10.0,
        key_secret: str = DEVELOPMENT_KEY_SECRET,
    ):
        self.key_secret = key_secret
        self.host, self.port, self.starttls = host, port, starttls
        self.user, self.password = user, password
        self.from_address = from_address
        self.timeout = timeout

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The e-mail as it will be sent (headers derived from the idempotency key)."""
        local, _, domain = self.from_address.partition("@")
        email = EmailMessage()
        email["From"] = Address(display_name=message.sender_id, username=local, domain=domain)
        email["To"] = message.to_address
        email["Subject"] = message.subject or ""
        email["Date"] = format_datetime(clock.now())
        key = delivery_key(self.key_secret, message.idempotency_key)
        email["Message-ID"] = f"<{key}@{domain or 'vardflode.invalid'}>"
        email["Idempotency-Key"] = key
        email.set_content(message.text)
        return email

    def send(self, message: OutgoingMessage) -> None:
        email = self.build(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise _by_smtp_code(min(codes), "recipient refused") from exc
        except smtplib.SMTPAuthenticationError as exc:  # our credentials, not this message
            raise TemporaryDeliveryError(f"SMTP authentication failed ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_smtp_code(exc.smtp_code, "refused") from exc
        except (smtplib.SMTPException, OSError, UnicodeEncodeError) as exc:  # smtplib's AUTH is ASCII only
            raise TemporaryDeliveryError(f"SMTP: {type(exc).__name__}: {exc}") from exc


def _by_smtp_code(code: int, what: str) -> DeliveryError:
    error = PermanentDeliveryError if 500 <= code < 600 else TemporaryDeliveryError
    return error(f"SMTP {what} ({code})")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would carry the bearer token to wherever the gateway points: never follow.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpSmsTransport:
    """SMS through an HTTP gateway: POST JSON {to, from, text, idempotency_key} with a bearer token."""

    channel = Channel.SMS

    def __init__(
        self, *, url: str, token: str, timeout: float = 10.0, key_secret: str = DEVELOPMENT_KEY_SECRET
    ):
        self.url, self.token, self.timeout, self.key_secret = url, token, timeout, key_secret
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, message: OutgoingMessage) -> None:
        key = delivery_key(self.key_secret, message.idempotency_key)
        payload = {
            "to": message.to_address,
            "from": message.sender_id,
            "text": message.text,
            "idempotency_key": key,
        }
        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": key,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (urllib.error.URLError, OSError) as exc:  # refused, DNS, timeout
            raise TemporaryDeliveryError(f"SMS gateway unreachable: {exc}") from exc
        if 200 <= status < 300:
            return
        # 4xx refuses this message, except: 429 (slow down), 408 (timeout), 401/403 (our token).
        if 400 <= status < 500 and status not in (401, 403, 408, 429):
            raise PermanentDeliveryError(f"SMS gateway refused the message (HTTP {status})")
        raise TemporaryDeliveryError(f"SMS gateway answered HTTP {status}")


def notification_settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The transport settings: the app's configuration first, then the environment."""
    return {
        key: config[key] if key in config else environ[key]
        for key in SETTING_KEYS
        if key in config or key in environ
    }


def build_transports(config: Mapping[str, Any]) -> dict[Channel, Transport]:
    """The transport per channel from NOTIFY_SMS_TRANSPORT ('log'|'http') and NOTIFY_EMAIL_TRANSPORT ('log'|'smtp')."""
    transports: dict[Channel, Transport] = {}
    secret = key_secret(config)
    sms = str(config.get("NOTIFY_SMS_TRANSPORT") or "log").lower()
    if sms == "log":
        transports[Channel.SMS] = LogTransport(Channel.SMS)
    elif sms == "http":
        transports[Channel.SMS] = HttpSmsTransport(
            url=_required(config, "SMS_GATEWAY_URL"),
            token=_required(config, "SMS_GATEWAY_TOKEN"),
            key_secret=secret,
        )
    else:
        raise ValueError(f"NOTIFY_SMS_TRANSPORT must be 'log' or 'http', not {sms!r}")
    email = str(config.get("NOTIFY_EMAIL_TRANSPORT") or "log").lower()
    if email == "log":
        transports[Channel.EMAIL] = LogTransport(Channel.EMAIL)
    elif email == "smtp":
        starttls = _flag(config.get("SMTP_STARTTLS", True))
        transports[Channel.EMAIL] = SmtpTransport(
            host=_required(config, "SMTP_HOST"),
            port=int(config.get("SMTP_PORT") or (587 if starttls else 25)),
            starttls=starttls,
            user=config.get("SMTP_USER") or None,
            password=config.get("SMTP_PASSWORD") or None,
            from_address=_required(config, "EMAIL_FROM"),
            key_secret=secret,
        )
    else:
        raise ValueError(f"NOTIFY_EMAIL_TRANSPORT must be 'log' or 'smtp', not {email!r}")
    return transports


def key_secret(config: Mapping[str, Any]) -> str:
    """The secret the delivery keys are derived with: NOTIFY_KEY_SECRET, else SECRET_KEY (the app refuses
    to start in production without one), else the development default."""
    return str(config.get("NOTIFY_KEY_SECRET") or config.get("SECRET_KEY") or DEVELOPMENT_KEY_SECRET)


def _required(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    if not value:
        raise ValueError(f"{key} must be set for this notification transport")
    return str(value)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
