"""A real SMTP server for the delivery tests: aiosmtpd on 127.0.0.1, a free port per test.

The handler records every accepted message (raw bytes, envelope, connection)
and answers 4xx/5xx on demand, per recipient, at RCPT or at DATA.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "essp-worker"
SMTP_PASSWORD = "mot-de-passe-smtp"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly as received on the wire
    connection: int  # one value per SMTP connection
    authenticated_as: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    # address -> [reply, remaining times (None: always)]
    rcpt_replies: dict[str, list] = field(default_factory=dict)
    data_replies: dict[str, list] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_rcpt(self, address: str, reply: str, times: int | None = 1) -> None:
        """Answer RCPT TO for ``address`` with ``reply`` (e.g. '451 4.3.0 Try later'), ``times`` times."""
        with self.lock:
            self.rcpt_replies[address] = [reply, times]

    def answer_data(self, address: str, reply: str, times: int | None = 1) -> None:
        with self.lock:
            self.data_replies[address] = [reply, times]

    def _take(self, table: dict[str, list], address: str) -> str | None:
        with self.lock:
            entry = table.get(address)
            if entry is None:
                return None
            reply, times = entry
            if times is not None:
                if times <= 1:
                    del table[address]
                else:
                    entry[1] = times - 1
            return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        reply = self._take(self.rcpt_replies, address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        for address in envelope.rcpt_tos:
            reply = self._take(self.data_replies, address)
            if reply:
                return reply
        login = getattr(session, "auth_data", None)
        with self.lock:
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=envelope.original_content or envelope.content,
                    connection=id(session),
                    authenticated_as=login.login.decode() if isinstance(login, LoginPassword) else None,
                )
            )
        return "250 2.0.0 Message accepted for delivery"

    def messages_to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler


def _start(handler: RecordingHandler, **kwargs) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def smtp_server():
    """A plain SMTP server (no TLS, no AUTH)."""
    handler = RecordingHandler()
    controller, port = _start(handler)
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    # handled=False: aiosmtpd then answers 535 itself (its default, handled=True, answers nothing).
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def client_tls_context(tls_files) -> ssl.SSLContext:
    """What the worker would use with a private CA: trusts exactly our test certificate."""
    cert, _key = tls_files
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture
def starttls_server(tls_files):
    """STARTTLS required, then AUTH required (as a submission server on port 587)."""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler = RecordingHandler()
    controller, port = _start(
        handler, tls_context=context, require_starttls=True, auth_required=True, authenticator=_authenticator
    )
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@pytest.fixture
def implicit_tls_server(tls_files):
    """TLS from the first byte (as on port 465), AUTH required."""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    handler = RecordingHandler()
    # auth_require_tls=False: aiosmtpd only counts STARTTLS as TLS; here the whole connection is.
    controller, port = _start(
        handler, ssl_context=context, auth_required=True, auth_require_tls=False, authenticator=_authenticator
    )
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()
