"""Outbox delivery: claim due messages under a lease, send them, record the outcome.

States of ``outbox_message.status``::

    pending ──claim──▶ sending ──▶ sent        accepted by the SMTP server (or captured); sent_at
       ▲                  │  ├───▶ bounced     refused for good by the recipient's server (5xx)
       │                  │  └───▶ failed      retries exhausted, or the message can't be built
       └──── 4xx / connection error / timeout: back to pending, next_attempt_at = now + backoff
             (a lease that expires — the worker died — makes the message claimable again)

A batch is claimed in one short write transaction: due messages (pending with
``next_attempt_at <= now``, or sending with an expired lease) become
``sending`` with ``lease_until = now + lease``, ``attempts + 1`` and the batch's
claim token in ``claimed_by``. On PostgreSQL the claim reads with
``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers never take the same
message; on SQLite the IMMEDIATE transaction serialises claims. Messages are
then sent outside that transaction, each outcome written by an update guarded
by the claim token (a batch whose lease was taken over cannot overwrite the
new owner's result).

A worker killed mid-batch loses nothing: its messages stay ``sending`` until
the lease expires, then the next batch takes them. Only the message that was
in flight may be sent twice; its ``Message-ID`` and ``Date`` are stable
(derived from the outbox row) so mail clients can collapse the duplicate.

Transports: ``SmtpTransport`` (aiosmtplib, one connection per batch, rate
limited) and ``FileCaptureTransport`` (``.eml`` files for the demo inbox).
Every function takes an explicit ``now=`` so tests control time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import io
import logging
import os
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

from api.db import engine, transaction
from api.settings import Settings, get_settings
from emails.tables import OutboxMessage

logger = logging.getLogger("esspratiques.mail")

__all__ = [
    "BACKOFF_SECONDS",
    "BOUNCED",
    "DEFAULT_LEASE_SECONDS",
    "FAILED",
    "MAX_ATTEMPTS",
    "PENDING",
    "SENDING",
    "SENT",
    "BatchResult",
    "CapturedMail",
    "Claim",
    "ClaimedMessage",
    "Envelope",
    "FileCaptureTransport",
    "InvalidMessage",
    "PermanentFailure",
    "RateLimiter",
    "SmtpTransport",
    "TemporaryFailure",
    "Transport",
    "backoff_delay",
    "build_envelope",
    "capture_dir",
    "claim_batch",
    "count_due",
    "deliver_batch",
    "demo_inbox_enabled",
    "list_captured",
    "read_captured",
]

PENDING, SENDING, SENT, BOUNCED, FAILED = "pending", "sending", "sent", "bounced", "failed"

# Delay before the next try after the n-th failed attempt (the last value repeats).
BACKOFF_SECONDS: tuple[int, ...] = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
# After this many attempts a temporary failure becomes "failed" (1 + 7 retries ≈ 45 h).
MAX_ATTEMPTS = 8
# How long a claimed batch belongs to its worker. Must exceed the time to send a batch.
DEFAULT_LEASE_SECONDS = 300.0
# A batch starts no new send when less than this is left on its lease (> SMTP timeout).
LEASE_MARGIN_SECONDS = 60.0
SMTP_TIMEOUT_SECONDS = 30.0
MAX_ERROR_LENGTH = 2000
MAX_KEPT_ERRORS = 100

# Structural headers the stored ``headers`` may not set: the delivery builds them.
_RESERVED_HEADERS = frozenset(
    {
        "from", "sender", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
        "return-path", "received", "resent-from", "resent-to", "resent-cc", "resent-bcc",
        "resent-date", "resent-message-id", "resent-sender",
    }
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 ftext: printable ASCII except ':'

# 7-bit output (quoted-printable / base64 bodies, encoded-word subjects) with CRLF, and
# refold_source="none": headers set with set_raw() are emitted verbatim. Python's default
# refolding would turn a long List-Unsubscribe URL into an RFC 2047 encoded-word, which
# mailbox providers don't decode in that header.
MIME_POLICY = email.policy.SMTP.clone(cte_type="7bit", refold_source="none")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    return value.astimezone(dt.timezone.utc)


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def backoff_delay(attempts: int) -> dt.timedelta:
    """Delay before the next try of a message that has failed ``attempts`` times (≥ 1)."""
    index = min(max(attempts, 1), len(BACKOFF_SECONDS)) - 1
    return dt.timedelta(seconds=BACKOFF_SECONDS[index])


# --------------------------------------------------------------------------- failures


class DeliveryError(Exception):
    """A message could not be delivered (this time)."""


class TemporaryFailure(DeliveryError):
    """4xx, connection error, timeout: retried later with a backoff.

    ``connection=True`` means the server can't be reached at all: the rest of
    the batch is deferred too instead of timing out once per message.
    """

    def __init__(self, message: str, *, connection: bool = False) -> None:
        super().__init__(message)
        self.connection = connection


class PermanentFailure(DeliveryError):
    """5xx for this recipient or this message: a bounce, never retried."""


class InvalidMessage(DeliveryError):
    """The stored message can't be turned into a valid email (bad header, bad address)."""


# --------------------------------------------------------------------------- claim


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: uuid.UUID
    to_address: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    attempts: int  # including the attempt this claim is for
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Claim:
    token: str
    lease_until: dt.datetime
    messages: list[ClaimedMessage]


def _due(now: dt.datetime, max_attempts: int):
    pending_due = (OutboxMessage.status == PENDING) & (OutboxMessage.next_attempt_at <= now)
    lease_expired = (
        (OutboxMessage.status == SENDING)
        & (OutboxMessage.lease_until < now)
        & (OutboxMessage.attempts < max_attempts)
    )
    return pending_due | lease_expired


async def count_due(*, now: dt.datetime | None = None, max_attempts: int = MAX_ATTEMPTS) -> int:
    """How many messages a worker could claim right now."""
    return await OutboxMessage.count().where(_due(_utc(now), max_attempts))


async def claim_batch(
    *,
    worker_id: str,
    limit: int,
    now: dt.datetime | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    max_attempts: int = MAX_ATTEMPTS,
) -> Claim:
    """Lease up to ``limit`` due messages to a new claim token, in one short transaction."""
    now = _utc(now)
    token = f"{worker_id[:100]}/{secrets.token_hex(6)}"
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    if limit <= 0:
        return Claim(token=token, lease_until=lease_until, messages=[])
    columns = (
        OutboxMessage.id,
        OutboxMessage.to_address,
        OutboxMessage.subject,
        OutboxMessage.html,
        OutboxMessage.text,
        OutboxMessage.headers,
        OutboxMessage.attempts,
        OutboxMessage.created_at,
    )
    async with transaction():
        # A message whose lease expired on its last allowed attempt (its worker died each
        # time: a "poison" message) is given up rather than claimed for ever.
        await OutboxMessage.update(
            {
                OutboxMessage.status: FAILED,
                OutboxMessage.lease_until: None,
                OutboxMessage.last_error: f"Abandon : le bail a expiré après {max_attempts} tentatives (worker interrompu).",
            }
        ).where(
            (OutboxMessage.status == SENDING)
            & (OutboxMessage.lease_until < now)
            & (OutboxMessage.attempts >= max_attempts)
        )
        query = (
            OutboxMessage.select(OutboxMessage.id)
            .where(_due(now, max_attempts))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
            .limit(limit)
        )
        if engine().engine_type == "postgres":
            # Rows another worker is claiming are skipped, not waited for nor taken twice.
            query = query.lock_rows("UPDATE", skip_locked=True)
        ids = [row["id"] for row in await query]
        if not ids:
            return Claim(token=token, lease_until=lease_until, messages=[])
        await OutboxMessage.update(
            {
                OutboxMessage.status: SENDING,
                OutboxMessage.lease_until: lease_until,
                OutboxMessage.claimed_by: token,
                OutboxMessage.attempts: OutboxMessage.attempts + 1,
            }
        ).where(OutboxMessage.id.is_in(ids))
        rows = (
            await OutboxMessage.select(*columns)
            .where(OutboxMessage.id.is_in(ids) & (OutboxMessage.claimed_by == token))
            .order_by(OutboxMessage.created_at)
            .output(load_json=True)
        )
    messages = [
        ClaimedMessage(
            id=row["id"],
            to_address=row["to_address"],
            subject=row["subject"],
            html=row["html"],
            text=row["text"],
            headers=dict(row["headers"] or {}),
            attempts=row["attempts"],
            created_at=row["created_at"],
        )
        for row in rows
    ]
    return Claim(token=token, lease_until=lease_until, messages=messages)


async def _settle(message_id: uuid.UUID, token: str, values: dict) -> bool:
    """Write an outcome, only if this claim still holds the message. False: the lease was lost."""
    changed = (
        await OutboxMessage.update(values)
        .where((OutboxMessage.id == message_id) & (OutboxMessage.claimed_by == token) & (OutboxMessage.status == SENDING))
        .returning(OutboxMessage.id)
    )
    if not changed:
        logger.warning("outbox %s: lease lost before its outcome was recorded (claim %s)", message_id, token)
    return bool(changed)


async def _release(ids: list[uuid.UUID], token: str) -> None:
    """Give back claimed messages that were never attempted: due again at once, attempt not counted."""
    if not ids:
        return
    await OutboxMessage.update(
        {OutboxMessage.status: PENDING, OutboxMessage.lease_until: None, OutboxMessage.attempts: OutboxMessage.attempts - 1}
    ).where(OutboxMessage.id.is_in(ids) & (OutboxMessage.claimed_by == token) & (OutboxMessage.status == SENDING))


# --------------------------------------------------------------------------- MIME


@dataclass(frozen=True, slots=True)
class Envelope:
    outbox_id: uuid.UUID
    sender: str  # bare address for MAIL FROM
    recipient: str  # bare address for RCPT TO
    message: EmailMessage

    def as_bytes(self) -> bytes:
        """The exact bytes sent over SMTP (and captured): 7-bit, CRLF."""
        buffer = io.BytesIO()
        BytesGenerator(buffer, policy=MIME_POLICY).flatten(self.message)
        return buffer.getvalue()


def _bare_address(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise InvalidMessage(f"{what} : retour à la ligne interdit dans l'adresse")
    _name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or not domain or " " in address:
        raise InvalidMessage(f"{what} : adresse invalide {value!r}")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidMessage(f"{what} : domaine invalide {domain!r}") from exc
    if not local.isascii():
        raise InvalidMessage(f"{what} : partie locale non ASCII non prise en charge {value!r}")
    return f"{local}@{domain}"


def _fold_verbatim(name: str, value: str) -> str:
    """Fold a header at its own spaces (lossless: unfolding removes only the CRLF)."""
    words = value.split(" ")
    lines: list[str] = []
    current = words[0]
    width = len(name) + 2
    for word in words[1:]:
        if width + len(current) + 1 + len(word) > 78:
            lines.append(current)
            current, width = word, 1
        else:
            current += " " + word
    lines.append(current)
    return "\r\n ".join(lines)


def _check_header(name: Any, value: Any) -> tuple[str, str]:
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidMessage(f"en-tête {name!r} : nom et valeur doivent être des textes")
    if not _HEADER_NAME.match(name):
        raise InvalidMessage(f"en-tête {name!r} : nom invalide")
    lowered = name.lower()
    if lowered in _RESERVED_HEADERS or lowered.startswith("content-"):
        raise InvalidMessage(f"en-tête {name!r} : réservé, construit par l'envoi")
    if "\r" in value or "\n" in value or "\0" in value:
        raise InvalidMessage(f"en-tête {name!r} : retour à la ligne interdit dans la valeur")
    if not value.isascii():
        raise InvalidMessage(f"en-tête {name!r} : valeur non ASCII")
    if not value.strip():
        raise InvalidMessage(f"en-tête {name!r} : valeur vide")
    if any(len(word) + len(name) + 2 > 998 for word in value.split(" ")):
        raise InvalidMessage(f"en-tête {name!r} : valeur trop longue")
    return name, value


def build_envelope(
    *,
    outbox_id: uuid.UUID,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: Mapping[str, str] | None,
    created_at: dt.datetime,
    mail_from: str,
) -> Envelope:
    """The MIME message: multipart/alternative (text, then HTML) and the stored headers verbatim.

    ``Message-ID`` and ``Date`` come from the outbox row, so a message sent twice
    (a worker died in flight) is recognisably the same message.
    """
    sender = _bare_address(mail_from, "MAIL_FROM")
    recipient = _bare_address(to, "destinataire")
    checked = [_check_header(name, value) for name, value in (headers or {}).items()]
    message = EmailMessage(policy=MIME_POLICY)
    message["From"] = mail_from
    message["To"] = recipient
    message["Subject"] = " ".join(subject.split())  # no CR/LF can reach the header
    message["Date"] = format_datetime(_utc(created_at))
    message["Message-ID"] = f"<{outbox_id}@{sender.rpartition('@')[2]}>"
    for name, value in checked:
        message.set_raw(name, _fold_verbatim(name, value))
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return Envelope(outbox_id=outbox_id, sender=sender, recipient=recipient, message=message)


def _envelope_for(message: ClaimedMessage, settings: Settings) -> Envelope:
    return build_envelope(
        outbox_id=message.id,
        to=message.to_address,
        subject=message.subject,
        text=message.text,
        html=message.html,
        headers=message.headers,
        created_at=message.created_at,
        mail_from=settings.mail_from,
    )


# --------------------------------------------------------------------------- transports


class Transport:
    """Sends envelopes. Used as ``async with transport:`` around one batch."""

    async def open(self) -> None:  # pragma: no cover - trivial default
        return None

    async def close(self) -> None:  # pragma: no cover - trivial default
        return None

    async def send(self, envelope: Envelope) -> str:
        """Deliver one envelope; return the server's answer. Raise a DeliveryError on failure."""
        raise NotImplementedError

    async def __aenter__(self) -> Transport:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class RateLimiter:
    """At most ``per_minute`` sends a minute, evenly spaced (0 or less: unlimited)."""

    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    async def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        if self._next is not None and now < self._next:
            await self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def _classify(code: int, message: str, what: str) -> DeliveryError:
    text = _truncate(f"{code} {message}".strip() + f" ({what})")
    if 500 <= code < 600:
        return PermanentFailure(text)
    return TemporaryFailure(text)


class SmtpTransport(Transport):
    """aiosmtplib: STARTTLS, implicit TLS or none; AUTH when a user is set; one connection
    reused for the whole batch (reopened if the server drops it); rate limited across batches."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        rate_per_minute: float = 120,
        timeout: float = SMTP_TIMEOUT_SECONDS,
        tls_context: Any = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in {"starttls", "tls", "none"}:
            raise ValueError(f"SMTP_SECURITY inconnu : {security!r} (starttls, tls ou none)")
        self.host, self.port, self.security = host, port, security
        self.username, self.password = username, password
        self.timeout = timeout
        self.tls_context = tls_context
        self.local_hostname = local_hostname
        self.limiter = RateLimiter(rate_per_minute)
        self._smtp: Any = None
        self.connections_opened = 0  # observable connection reuse

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SmtpTransport:
        settings = settings or get_settings()
        assert settings.smtp_host, "SMTP_HOST is not set"
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_user,
            password=settings.smtp_password,
            rate_per_minute=settings.mail_rate_per_minute,
        )

    async def _connection(self) -> Any:
        import aiosmtplib

        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        self._smtp = None
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.security == "tls",
            # True: STARTTLS is required (never log in or send in clear when it was asked for).
            start_tls=True if self.security == "starttls" else False,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            tls_context=self.tls_context,
            local_hostname=self.local_hostname,
        )
        try:
            await smtp.connect()  # EHLO, STARTTLS and AUTH as configured
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(_truncate(f"authentification SMTP refusée : {exc.code} {exc.message}"), connection=True) from exc
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise TemporaryFailure(_truncate(f"serveur SMTP injoignable ({self.host}:{self.port}) : {exc}"), connection=True) from exc
        self._smtp = smtp
        self.connections_opened += 1
        return smtp

    async def send(self, envelope: Envelope) -> str:
        import aiosmtplib

        await self.limiter.wait()
        smtp = await self._connection()
        try:
            _errors, response = await smtp.sendmail(envelope.sender, [envelope.recipient], envelope.as_bytes())
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            raise _classify(refused.code, refused.message, "RCPT TO") from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            # The sender address is refused: our configuration, not this recipient. Retry, never bounce.
            raise TemporaryFailure(_truncate(f"{exc.code} {exc.message} (MAIL FROM {exc.sender})")) from exc
        except aiosmtplib.SMTPDataError as exc:
            raise _classify(exc.code, exc.message, "DATA") from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self._drop()
            raise _classify(exc.code, exc.message, "SMTP") from exc
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            await self._drop()
            raise TemporaryFailure(_truncate(f"connexion SMTP interrompue : {exc}")) from exc
        return response

    async def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if smtp.is_connected:
                await smtp.quit()
        except Exception:  # noqa: BLE001 - the batch is done; a failed QUIT changes nothing
            smtp.close()


def capture_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).var_dir / "mail"


def demo_inbox_enabled(settings: Settings | None = None) -> bool:
    """Mail is captured locally and shown in the demo inbox: no SMTP, not production."""
    settings = settings or get_settings()
    return not settings.smtp_host and not settings.production


class FileCaptureTransport(Transport):
    """Demo and development without SMTP: each message becomes ``<outbox id>.eml``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or capture_dir()

    async def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    async def send(self, envelope: Envelope) -> str:
        data = envelope.as_bytes()
        target = self.directory / f"{envelope.outbox_id}.eml"
        temporary = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
        try:
            temporary.write_bytes(data)
            os.replace(temporary, target)  # atomic: the inbox never shows half a message
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TemporaryFailure(f"écriture impossible dans {self.directory} : {exc}", connection=True) from exc
        return f"250 captured {target.name}"


# --------------------------------------------------------------------------- reading captures


@dataclass(frozen=True, slots=True)
class CapturedMail:
    id: uuid.UUID
    date: dt.datetime | None
    sender: str
    to: str
    subject: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    html: str = ""


def _captured(path: Path, *, body: bool) -> CapturedMail | None:
    try:
        message_id = uuid.UUID(path.stem)
        with path.open("rb") as handle:
            parser = BytesParser(policy=email.policy.default)
            message = parser.parse(handle, headersonly=not body)
    except (ValueError, OSError):
        return None
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    text = html = ""
    if body:
        plain_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        text = plain_part.get_content() if plain_part is not None else ""
        html = html_part.get_content() if html_part is not None else ""
    return CapturedMail(
        id=message_id,
        date=date,
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        subject=str(message["Subject"] or ""),
        headers=[(name, str(value)) for name, value in message.items() if not name.lower().startswith("content-")],
        text=text,
        html=html,
    )


def list_captured(directory: Path | None = None) -> list[CapturedMail]:
    """Captured messages, newest first (headers only)."""
    directory = directory or capture_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob("*.eml"):
        mail = _captured(path, body=False)
        if mail is not None:
            try:
                mtime = path.stat().st_mtime_ns
            except OSError:
                continue
            found.append((mail, mtime))
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    found.sort(key=lambda item: (item[0].date or epoch, item[1]), reverse=True)
    return [mail for mail, _ in found]


def read_captured(message_id: uuid.UUID, directory: Path | None = None) -> CapturedMail | None:
    directory = directory or capture_dir()
    return _captured(directory / f"{uuid.UUID(str(message_id))}.eml", body=True)


# --------------------------------------------------------------------------- the batch


@dataclass(slots=True)
class BatchResult:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0  # temporary failure: back to pending with a backoff
    bounced: int = 0
    failed: int = 0
    released: int = 0  # claimed, never attempted (stop requested, lease running out)
    lease_lost: int = 0  # outcome not recorded: another worker had taken the message over
    errors: list[str] = field(default_factory=list)

    @property
    def settled(self) -> int:
        return self.sent + self.deferred + self.bounced + self.failed + self.lease_lost

    def add(self, other: BatchResult) -> None:
        for name in ("claimed", "sent", "deferred", "bounced", "failed", "released", "lease_lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors = (self.errors + other.errors)[-MAX_KEPT_ERRORS:]  # a long-running worker's totals stay small


async def deliver_batch(
    *,
    worker_id: str,
    limit: int,
    transport: Transport,
    now: dt.datetime | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    max_attempts: int = MAX_ATTEMPTS,
    stop: asyncio.Event | None = None,
    on_progress: Callable[[BatchResult], None] | None = None,
    settings: Settings | None = None,
) -> BatchResult:
    """Claim up to ``limit`` due messages and send them through ``transport``.

    ``now`` fixes the clock for the whole batch (tests); by default each step
    reads the real UTC time. ``stop`` (set by SIGINT/SIGTERM) ends the batch
    after the message in flight; unattempted messages are given back at once.
    """
    settings = settings or get_settings()

    def clock() -> dt.datetime:
        return _utc(now)

    result = BatchResult()
    claim = await claim_batch(
        worker_id=worker_id, limit=limit, now=clock(), lease_seconds=lease_seconds, max_attempts=max_attempts
    )
    result.claimed = len(claim.messages)
    if not claim.messages:
        return result
    started = time.monotonic()
    queue: deque[ClaimedMessage] = deque(claim.messages)
    try:
        async with transport:
            while queue:
                if stop is not None and stop.is_set():
                    break
                if time.monotonic() - started > lease_seconds - min(LEASE_MARGIN_SECONDS, lease_seconds / 2):
                    break  # don't start a send the lease may not cover: another worker could take it
                message = queue.popleft()
                unreachable = await _deliver_one(message, claim.token, transport, clock, max_attempts, settings, result)
                if on_progress is not None:
                    on_progress(result)
                if unreachable:
                    # The server can't be reached: defer the rest now rather than time out on each.
                    while queue:
                        await _defer(queue.popleft(), claim.token, clock(), unreachable, max_attempts, result)
                    if on_progress is not None:
                        on_progress(result)
    except BaseException:
        # Cancelled or killed: give back what was never attempted. The message in flight (if
        # any) keeps its lease and is retried once it expires — at most one duplicate.
        try:
            await _release([m.id for m in queue], claim.token)
        except Exception:  # noqa: BLE001 - best effort; the leases expire anyway
            logger.exception("could not release %d claimed messages", len(queue))
        raise
    if queue:
        await _release([m.id for m in queue], claim.token)
        result.released += len(queue)
        if on_progress is not None:
            on_progress(result)
    return result


async def _deliver_one(
    message: ClaimedMessage,
    token: str,
    transport: Transport,
    clock: Callable[[], dt.datetime],
    max_attempts: int,
    settings: Settings,
    result: BatchResult,
) -> str | None:
    """Send one message and record its outcome. Returns the error when the server is unreachable."""
    try:
        envelope = _envelope_for(message, settings)
        await transport.send(envelope)
    except InvalidMessage as exc:
        await _finish(message, token, FAILED, f"Message invalide : {exc}", result)
    except PermanentFailure as exc:
        await _finish(message, token, BOUNCED, str(exc), result)
    except TemporaryFailure as exc:
        await _defer(message, token, clock(), str(exc), max_attempts, result)
        return str(exc) if exc.connection else None
    except Exception as exc:  # noqa: BLE001 - an unexpected transport error is retried like a 4xx
        logger.exception("outbox %s: unexpected transport error", message.id)
        await _defer(message, token, clock(), f"erreur inattendue : {exc!r}", max_attempts, result)
    else:
        values = {OutboxMessage.status: SENT, OutboxMessage.sent_at: clock(), OutboxMessage.lease_until: None, OutboxMessage.last_error: ""}
        _record(result, SENT, await _settle(message.id, token, values))
    return None


async def _finish(message: ClaimedMessage, token: str, status: str, error: str, result: BatchResult) -> None:
    result.errors.append(f"{message.id}: {error}")
    values = {OutboxMessage.status: status, OutboxMessage.lease_until: None, OutboxMessage.last_error: _truncate(error)}
    _record(result, status, await _settle(message.id, token, values))


async def _defer(
    message: ClaimedMessage, token: str, now: dt.datetime, error: str, max_attempts: int, result: BatchResult
) -> None:
    result.errors.append(f"{message.id}: {error}")
    if message.attempts >= max_attempts:
        values = {
            OutboxMessage.status: FAILED,
            OutboxMessage.lease_until: None,
            OutboxMessage.last_error: _truncate(f"Abandon après {message.attempts} tentatives : {error}"),
        }
        _record(result, FAILED, await _settle(message.id, token, values))
        return
    values = {
        OutboxMessage.status: PENDING,
        OutboxMessage.lease_until: None,
        OutboxMessage.next_attempt_at: now + backoff_delay(message.attempts),
        OutboxMessage.last_error: _truncate(error),
    }
    _record(result, "deferred", await _settle(message.id, token, values))


def _record(result: BatchResult, outcome: str, settled: bool) -> None:
    if settled:
        setattr(result, outcome, getattr(result, outcome) + 1)
    else:
        result.lease_lost += 1

