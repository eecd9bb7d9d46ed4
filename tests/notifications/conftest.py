"""Fixtures for notification tests: units of both regions, patients, a real SMTP server and a real
SMS gateway on loopback, and a transport whose outcomes a test scripts."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.notifications.models import Channel
from app.notifications.transports import OutgoingMessage
from app.patients.models import Protection
from tests import factories as f

EKDALEN = {"phone": "013-12 34 56", "address": "Storgatan 5, 581 85 Linköping", "slug": "vc-ekdalen"}
HAVSBRIS = {"phone": "035-17 50 00", "address": "Strandvägen 2, 302 30 Halmstad"}
SMTP_USER, SMTP_PASSWORD = "vardflode", "hemligt-losen-42"  # smtplib AUTH is ASCII only


@dataclass(frozen=True)
class World:
    """Ids of the test world (load them in the test's own session)."""

    og_unit: int  # Vårdcentralen Ekdalen, Region Östergötland (OG-6.3 policy)
    ha_unit: int  # Vårdcentralen Havsbris, Region Halland (HA-protected policy)
    patient: int  # no protected identity; mobile 0701234567, e-mail
    protected: int  # protected identity claimed; mobile, e-mail
    confirmed: int  # protected identity confirmed by staff; mobile
    case_id: int  # a case of `patient` at Ekdalen


@pytest.fixture
def world(database, clock) -> World:
    return make_world(database)


def make_world(database) -> World:
    """Two regions with their policies, a unit in each, three patients and a case."""
    with database.transaction() as session:
        f.region(session, "OG", "Region Östergötland", protected_identity="verify_and_follow_routine")
        f.region(session, "HA", "Region Halland", protected_identity="refuse_and_redirect")
        og = f.unit(
            session,
            "Vårdcentralen Ekdalen",
            region_code="OG",
            settings=dict(EKDALEN),
            vtv_number="010-100 10 10",
        )
        ha = f.unit(
            session,
            "Vårdcentralen Havsbris",
            region_code="HA",
            settings=dict(HAVSBRIS),
            vtv_number="035-100 50 50",
        )
        patient = f.patient(session, "199203012381")
        patient.email = "testa@example.org"
        protected = f.patient(
            session, "198507142397", given="Skydd", family="Personsson", protection=Protection.CLAIMED
        )
        protected.email = "skydd@example.org"
        confirmed = f.patient(
            session, "197001012385", given="Bekräftad", family="Skyddsson", protection=Protection.CONFIRMED
        )
        case_id = f.case(session, og, patient).id
        return World(og.id, ha.id, patient.id, protected.id, confirmed.id, case_id)


class ScriptedTransport:
    """A transport whose outcomes the test lines up: None sends, an exception is raised."""

    def __init__(self, channel: Channel = Channel.SMS, outcomes=()):
        self.channel = channel
        self.outcomes = deque(outcomes)
        self.calls: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.calls.append(message)
        outcome = self.outcomes.popleft() if self.outcomes else None
        if outcome is not None:
            raise outcome


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a real SMTP server ------------------------------------------------------------------------


@dataclass
class SmtpInbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse_recipients: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    """An aiosmtpd server on 127.0.0.1 at a free port, offering AUTH (plain text: loopback only)."""
    inbox = SmtpInbox(port=free_port())
    controller = Controller(
        inbox, hostname=inbox.host, port=inbox.port, authenticator=inbox.authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


# --- a real HTTP SMS gateway -------------------------------------------------------------------


@dataclass
class GatewayRequest:
    path: str
    headers: dict[str, str]
    body: dict


class SmsGateway:
    def __init__(self):
        self.requests: list[GatewayRequest] = []
        self.statuses: deque[int] = deque()  # answers to give, in order; then 202
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/sms"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="sms-gateway", daemon=True
        )

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                gateway.requests.append(GatewayRequest(self.path, dict(self.headers.items()), body))
                status = gateway.statuses.popleft() if gateway.statuses else 202
                payload = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format, *args):  # keep test output clean
                pass

        return Handler


@pytest.fixture
def sms_gateway():
    """A local HTTP endpoint in a thread that records every POST and answers scripted statuses."""
    gateway = SmsGateway()
    gateway.thread.start()
    try:
        yield gateway
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()
        gateway.thread.join()
