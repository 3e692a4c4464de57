"""Outbox delivery against a real SMTP server (aiosmtpd, see conftest.py), on SQLite and PostgreSQL.

Time is never waited for: every delivery function takes an explicit ``now=``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import re
import uuid
from email.utils import parseaddr
from html.parser import HTMLParser

import pytest

from api.db import engine, transaction
from api.settings import ConfigurationError, get_settings
from emails.delivery import (
    BACKOFF_SECONDS,
    DEFAULT_LEASE_SECONDS,
    BatchResult,
    Envelope,
    FileCaptureTransport,
    InvalidMessage,
    RateLimiter,
    SmtpTransport,
    Transport,
    _settle,
    build_envelope,
    capture_dir,
    claim_batch,
    count_due,
    deliver_batch,
    list_captured,
)
from emails.outbox import enqueue
from emails.tables import OutboxMessage
from emails.worker import TextProgress, choose_transport, default_batch_size, run_worker, send_outbox
from tests.helpers import post_form, sign_up

from .conftest import SMTP_PASSWORD, SMTP_USER, free_port

SURVEY_URL = "https://ess.example/r/AbC123?lang=fr&src=mail"
UNSUBSCRIBE_URL = "https://ess.example/desinscription/" + "Zx9" * 30 + "?org=42&t=zz"
LIST_UNSUBSCRIBE = f"<{UNSUBSCRIBE_URL}>, <mailto:desinscription@esspratiques.localhost?subject=stop-{'q' * 20}>"
HEADERS = {"List-Unsubscribe": LIST_UNSUBSCRIBE, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}

SURVEY_CONTEXT = {
    "org_name": "Les Jardins partagés du Val",
    "campaign_title": "Baromètre des bénévoles 2026",
    "survey_url": SURVEY_URL,
    "closes_on": "12 décembre 2026",
    "unsubscribe_url": UNSUBSCRIBE_URL,
    "threshold": 5,
    "duration_minutes": 8,
}


async def queue(to: str, headers: dict | None = None) -> uuid.UUID:
    return await enqueue(kind="invitation", to=to, lang="fr", context=SURVEY_CONTEXT, headers=HEADERS if headers is None else headers)


async def row(message_id: uuid.UUID) -> dict:
    return await OutboxMessage.select().where(OutboxMessage.id == message_id).first()


def smtp(server, **kwargs) -> SmtpTransport:
    return SmtpTransport(host=server.host, port=server.port, security="none", rate_per_minute=0, **kwargs)


def sender() -> str:
    return parseaddr(get_settings().mail_from)[1]


def mid(message_id: uuid.UUID) -> str:
    """The Message-ID the delivery gives an outbox message."""
    return f"<{message_id}@{sender().rpartition('@')[2]}>"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def message_ids(server) -> list[str]:
    return [r.message_id for r in server.handler.received]


class _WellFormed(HTMLParser):
    """Every non-void element is closed, in order."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.doctype: str | None = None
        self.hrefs: list[str] = []

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.hrefs += [value for name, value in attrs if name == "href" and value]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()


def well_formed(markup: str) -> _WellFormed:
    parser = _WellFormed()
    parser.feed(markup)
    parser.close()
    return parser


# --------------------------------------------------------------------------- it arrives


async def test_an_enqueued_invitation_arrives_as_text_and_html_with_list_unsubscribe(db, smtp_server):
    message_id = await queue("camille@example.org")
    now = now_utc()

    result = await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now)

    assert (result.claimed, result.sent) == (1, 1)
    [received] = smtp_server.handler.received
    settings = get_settings()
    assert received.mail_from == sender()
    assert received.rcpt_tos == ["camille@example.org"]
    # On the wire: 7-bit, CRLF, no line over 998, and the List-* headers verbatim — not turned into
    # RFC 2047 encoded-words, which is what Python's default folding does to a long URL.
    assert all(byte < 128 for byte in received.data)
    assert max(len(line) for line in received.data.split(b"\r\n")) <= 998
    unfolded = re.sub(rb"\r\n[ \t]", b" ", received.data)
    assert f"List-Unsubscribe: {LIST_UNSUBSCRIBE}\r\n".encode() in unfolded
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in unfolded

    mail = received.message
    stored = await row(message_id)
    assert mail["From"] == settings.mail_from
    assert mail["To"] == "camille@example.org"
    assert mail["Subject"] == stored["subject"] and "Baromètre des bénévoles 2026" in mail["Subject"]
    assert mail["Message-ID"] == mid(message_id)
    assert mail["Date"].datetime is not None
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert SURVEY_URL in text and "Les Jardins partagés du Val" in text
    parsed = well_formed(html)
    assert parsed.doctype and parsed.doctype.lower() == "doctype html"
    assert parsed.errors == [] and parsed.stack == []
    assert SURVEY_URL in parsed.hrefs and UNSUBSCRIBE_URL in parsed.hrefs

    assert stored["status"] == "sent"
    assert stored["sent_at"] == now
    assert stored["attempts"] == 1
    assert stored["lease_until"] is None and stored["last_error"] == ""


async def test_one_smtp_connection_serves_the_whole_batch(db, smtp_server):
    for n in range(4):
        await queue(f"personne{n}@example.org")
    transport = smtp(smtp_server)

    result = await deliver_batch(worker_id="w1", limit=10, transport=transport, now=now_utc())

    assert result.sent == 4
    assert transport.connections_opened == 1
    assert len({r.connection for r in smtp_server.handler.received}) == 1


# --------------------------------------------------------------------------- 4xx, 5xx


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
async def test_a_4xx_is_retried_with_backoff_then_delivered(db, smtp_server, stage):
    message_id = await queue("lent@example.org")
    answer = smtp_server.handler.answer_rcpt if stage == "RCPT" else smtp_server.handler.answer_data
    answer("lent@example.org", "451 4.3.0 Try later", times=1)
    now = now_utc()

    first = await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now)

    assert (first.sent, first.deferred) == (0, 1)
    stored = await row(message_id)
    assert stored["status"] == "pending"
    assert stored["attempts"] == 1
    assert stored["next_attempt_at"] == now + dt.timedelta(seconds=BACKOFF_SECONDS[0])
    assert "451" in stored["last_error"] and "Try later" in stored["last_error"]
    assert stored["lease_until"] is None
    # Not due before its backoff.
    early = await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now + dt.timedelta(seconds=30))
    assert early.claimed == 0

    second = await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now + dt.timedelta(seconds=61))

    assert second.sent == 1
    assert len(smtp_server.handler.messages_to("lent@example.org")) == 1
    stored = await row(message_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("sent", 2, "")


async def test_backoff_grows_and_gives_up_after_max_attempts(db, smtp_server):
    message_id = await queue("toujours-plein@example.org")
    smtp_server.handler.answer_rcpt("toujours-plein@example.org", "452 4.2.2 Mailbox full", times=None)
    now = now_utc()
    delays = []
    for _ in range(3):
        await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now, max_attempts=3)
        stored = await row(message_id)
        if stored["status"] != "pending":
            break
        delays.append((stored["next_attempt_at"] - now).total_seconds())
        now = stored["next_attempt_at"]

    assert delays == [BACKOFF_SECONDS[0], BACKOFF_SECONDS[1]]
    stored = await row(message_id)
    assert stored["status"] == "failed" and stored["attempts"] == 3
    assert "Abandon après 3 tentatives" in stored["last_error"] and "452" in stored["last_error"]
    assert await count_due(now=now + dt.timedelta(days=30)) == 0


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("RCPT", "550 5.1.1 No such user"), ("DATA", "554 5.7.1 Message refused")],
)
async def test_a_5xx_is_a_bounce_and_the_connection_goes_on(db, smtp_server, stage, reply):
    bad = await queue("inconnu@example.org")
    good = await queue("connu@example.org")
    answer = smtp_server.handler.answer_rcpt if stage == "RCPT" else smtp_server.handler.answer_data
    answer("inconnu@example.org", reply, times=None)
    transport = smtp(smtp_server)
    now = now_utc()

    result = await deliver_batch(worker_id="w1", limit=10, transport=transport, now=now)

    assert (result.bounced, result.sent) == (1, 1)
    bounced = await row(bad)
    assert bounced["status"] == "bounced"
    assert reply in bounced["last_error"] and stage in bounced["last_error"]
    assert (await row(good))["status"] == "sent"
    assert transport.connections_opened == 1  # RSET after the refusal, same connection
    # A bounce is never retried.
    assert (await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now + dt.timedelta(days=3))).claimed == 0


async def test_an_unreachable_server_defers_the_whole_batch_without_bouncing(db):
    ids = [await queue(f"p{n}@example.org") for n in range(3)]
    port = free_port()  # nothing listens there
    transport = SmtpTransport(host="127.0.0.1", port=port, security="none", rate_per_minute=0, timeout=5)
    now = now_utc()

    result = await deliver_batch(worker_id="w1", limit=10, transport=transport, now=now)

    assert (result.deferred, result.sent, result.bounced) == (3, 0, 0)
    for message_id in ids:
        stored = await row(message_id)
        assert stored["status"] == "pending" and stored["attempts"] == 1
        assert "injoignable" in stored["last_error"]
        assert stored["next_attempt_at"] == now + dt.timedelta(seconds=BACKOFF_SECONDS[0])


# --------------------------------------------------------------------------- TLS and AUTH


async def test_starttls_and_authentication(db, starttls_server, client_tls_context):
    await queue("tls@example.org")
    transport = SmtpTransport(
        host=starttls_server.host,
        port=starttls_server.port,
        security="starttls",
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        rate_per_minute=0,
        tls_context=client_tls_context,
    )

    result = await deliver_batch(worker_id="w1", limit=10, transport=transport, now=now_utc())

    assert result.sent == 1
    [received] = starttls_server.handler.received
    assert received.authenticated_as == SMTP_USER


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_implicit_tls_and_authentication(db, implicit_tls_server, client_tls_context):
    await queue("tls@example.org")
    transport = SmtpTransport(
        host=implicit_tls_server.host,
        port=implicit_tls_server.port,
        security="tls",
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        rate_per_minute=0,
        tls_context=client_tls_context,
    )

    result = await deliver_batch(worker_id="w1", limit=10, transport=transport, now=now_utc())

    assert result.sent == 1
    assert implicit_tls_server.handler.received[0].authenticated_as == SMTP_USER


async def test_a_wrong_smtp_password_defers_and_never_bounces(db, starttls_server, client_tls_context):
    message_id = await queue("tls@example.org")
    transport = SmtpTransport(
        host=starttls_server.host,
        port=starttls_server.port,
        security="starttls",
        username=SMTP_USER,
        password="pas le bon",
        rate_per_minute=0,
        tls_context=client_tls_context,
    )

    result = await deliver_batch(worker_id="w1", limit=10, transport=transport, now=now_utc())

    assert (result.deferred, result.bounced) == (1, 0)
    stored = await row(message_id)
    assert stored["status"] == "pending" and "authentification" in stored["last_error"]
    assert starttls_server.handler.received == []


async def test_starttls_required_means_no_clear_text_fallback(db, smtp_server):
    # The plain test server does not offer STARTTLS: the transport refuses to go on in clear.
    message_id = await queue("clair@example.org")
    transport = SmtpTransport(host=smtp_server.host, port=smtp_server.port, security="starttls", rate_per_minute=0)

    result = await deliver_batch(worker_id="w1", limit=10, transport=transport, now=now_utc())

    assert result.deferred == 1 and smtp_server.handler.received == []
    assert (await row(message_id))["status"] == "pending"


# --------------------------------------------------------------------------- crashes


class CrashingTransport(Transport):
    """Delivers through ``inner``; on message number ``crash_on`` it delivers it, then dies with
    ``exc`` before the outcome is recorded — the worst moment for a crash."""

    def __init__(self, inner: Transport, crash_on: int, exc: BaseException) -> None:
        self.inner, self.crash_on, self.exc, self.count = inner, crash_on, exc, 0

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, envelope: Envelope) -> str:
        self.count += 1
        answer = await self.inner.send(envelope)
        if self.count == self.crash_on:
            raise self.exc
        return answer


@pytest.mark.parametrize("exc", [SystemExit(1), asyncio.CancelledError()], ids=["SystemExit", "CancelledError"])
async def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_at_most_the_message_in_flight(db, smtp_server, exc):
    ids = [await queue(f"p{n}@example.org") for n in range(5)]
    now = now_utc()

    with pytest.raises(type(exc)):
        await deliver_batch(worker_id="mort", limit=10, transport=CrashingTransport(smtp(smtp_server), 2, exc), now=now)

    statuses = [(await row(i))["status"] for i in ids]
    assert statuses == ["sent", "sending", "pending", "pending", "pending"]  # the unattempted ones are given back
    in_flight = await row(ids[1])
    assert in_flight["lease_until"] == now + dt.timedelta(seconds=DEFAULT_LEASE_SECONDS)

    # Restarted before the lease expires: it sends the given-back messages, not the leased one.
    restarted = await deliver_batch(worker_id="neuf", limit=10, transport=smtp(smtp_server), now=now + dt.timedelta(seconds=10))
    assert restarted.sent == 3
    assert (await row(ids[1]))["status"] == "sending"

    # Once the lease has expired, the message in flight is retried.
    after_lease = now + dt.timedelta(seconds=DEFAULT_LEASE_SECONDS + 1)
    late = await deliver_batch(worker_id="neuf", limit=10, transport=smtp(smtp_server), now=after_lease)
    assert late.sent == 1

    assert [(await row(i))["status"] for i in ids] == ["sent"] * 5
    counts = {mid(i): message_ids(smtp_server).count(mid(i)) for i in ids}
    # Each message arrived; only the one in flight twice, with the same Message-ID (and Date) both times.
    assert list(counts.values()) == [1, 2, 1, 1, 1]
    twice = [r for r in smtp_server.handler.received if r.message_id == mid(ids[1])]
    assert twice[0].message["Date"] == twice[1].message["Date"]


async def test_a_batch_claimed_by_a_worker_that_died_at_once_is_sent_after_its_lease(db, smtp_server):
    # kill -9 right after the claim: nothing is given back, the leases must expire.
    ids = [await queue(f"p{n}@example.org") for n in range(3)]
    now = now_utc()
    claim = await claim_batch(worker_id="mort", limit=10, now=now)
    assert len(claim.messages) == 3

    assert (await deliver_batch(worker_id="neuf", limit=10, transport=smtp(smtp_server), now=now + dt.timedelta(seconds=DEFAULT_LEASE_SECONDS - 1))).claimed == 0
    result = await deliver_batch(worker_id="neuf", limit=10, transport=smtp(smtp_server), now=now + dt.timedelta(seconds=DEFAULT_LEASE_SECONDS + 1))

    assert result.sent == 3
    assert sorted(message_ids(smtp_server)) == sorted(mid(i) for i in ids)
    assert {(await row(i))["attempts"] for i in ids} == {2}


async def test_a_message_that_kills_every_worker_is_given_up_after_max_attempts(db):
    message_id = await queue("poison@example.org")
    now = now_utc()
    for n in range(3):
        claim = await claim_batch(worker_id="mort", limit=10, now=now, max_attempts=3)
        assert [m.id for m in claim.messages] == [message_id]
        now = claim.lease_until + dt.timedelta(seconds=1)

    assert (await claim_batch(worker_id="neuf", limit=10, now=now, max_attempts=3)).messages == []
    stored = await row(message_id)
    assert stored["status"] == "failed" and "bail a expiré" in stored["last_error"]


async def test_a_worker_whose_lease_was_taken_over_cannot_overwrite_the_outcome(db):
    message_id = await queue("p@example.org")
    now = now_utc()
    old = await claim_batch(worker_id="lent", limit=10, now=now)
    new = await claim_batch(worker_id="neuf", limit=10, now=old.lease_until + dt.timedelta(seconds=1))
    assert [m.id for m in new.messages] == [message_id]

    assert await _settle(message_id, new.token, {OutboxMessage.status: "sent"}) is True
    assert await _settle(message_id, old.token, {OutboxMessage.status: "bounced"}) is False
    assert (await row(message_id))["status"] == "sent"


async def test_stop_finishes_the_message_in_flight_and_gives_the_rest_back(db, smtp_server):
    ids = [await queue(f"p{n}@example.org") for n in range(4)]
    stop = asyncio.Event()

    def stop_after_first(result: BatchResult) -> None:
        if result.sent == 1:
            stop.set()

    result = await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now_utc(), stop=stop, on_progress=stop_after_first)

    assert (result.sent, result.released) == (1, 3)
    rows = [await row(i) for i in ids]
    assert [r["status"] for r in rows] == ["sent", "pending", "pending", "pending"]
    assert [r["attempts"] for r in rows] == [1, 0, 0, 0]  # given back: the attempt is not counted


# --------------------------------------------------------------------------- concurrency


async def test_concurrent_batches_never_send_the_same_message_twice(db, smtp_server):
    ids = [await queue(f"p{n:02d}@example.org") for n in range(24)]
    now = now_utc()
    transports = [smtp(smtp_server) for _ in range(3)]
    claimed: list[int] = []
    while True:
        results = await asyncio.gather(
            *(deliver_batch(worker_id=f"w{n}", limit=5, transport=t, now=now) for n, t in enumerate(transports))
        )
        claimed += [r.claimed for r in results]
        if not any(r.claimed for r in results):
            break

    expected = sorted(mid(i) for i in ids)
    assert sorted(message_ids(smtp_server)) == expected  # every message once, none twice
    assert sum(claimed) == 24
    assert {(await row(i))["attempts"] for i in ids} == {1}


async def test_concurrent_claims_are_disjoint(db):
    ids = {await queue(f"p{n:02d}@example.org") for n in range(15)}
    now = now_utc()

    claims = await asyncio.gather(*(claim_batch(worker_id=f"w{n}", limit=6, now=now) for n in range(4)))

    taken = [m.id for c in claims for m in c.messages]
    assert len(taken) == len(set(taken)) == 15
    assert set(taken) == ids


async def test_postgres_claims_skip_rows_locked_by_another_worker(db):
    if engine().engine_type != "postgres":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises claims with IMMEDIATE transactions")
    ids = [await queue(f"p{n}@example.org") for n in range(4)]
    locked = asyncio.Event()
    release = asyncio.Event()

    async def other_worker_mid_claim() -> None:
        async with transaction():
            await OutboxMessage.select(OutboxMessage.id).where(OutboxMessage.id.is_in(ids[:2])).lock_rows("UPDATE")
            locked.set()
            await release.wait()

    holder = asyncio.create_task(other_worker_mid_claim())
    await locked.wait()
    try:
        # Returns at once with the unlocked rows: it neither waits for nor takes the locked ones.
        claim = await asyncio.wait_for(claim_batch(worker_id="w2", limit=10, now=now_utc()), timeout=20)
    finally:
        release.set()
        await holder
    assert sorted(m.id for m in claim.messages) == sorted(ids[2:])


# --------------------------------------------------------------------------- the message itself


def _envelope(headers: dict) -> Envelope:
    return build_envelope(
        outbox_id=uuid.uuid4(),
        to="a@example.org",
        subject="Objet",
        text="texte",
        html="<p>html</p>",
        headers=headers,
        created_at=now_utc(),
        mail_from="ESS Pratiques <no-reply@esspratiques.localhost>",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"List-Unsubscribe": "<https://x.example/u>\r\nBcc: victim@example.org"},
        {"List-Unsubscribe": "<https://x.example/u>\nX-Evil: 1"},
        {"Bcc": "victim@example.org"},
        {"From": "someone@else.example"},
        {"Content-Type": "text/plain"},
        {"Bad Name": "x"},
        {"X-Accent": "é"},
    ],
)
def test_stored_headers_cannot_inject_or_override(headers):
    with pytest.raises(InvalidMessage):
        _envelope(headers)


def test_a_subject_with_a_line_break_stays_one_header():
    envelope = build_envelope(
        outbox_id=uuid.uuid4(), to="a@example.org", subject="Bonjour\r\nBcc: victim@example.org", text="t", html="<p>h</p>",
        headers={}, created_at=now_utc(), mail_from="ESS Pratiques <no-reply@esspratiques.localhost>",
    )
    assert b"\r\nBcc:" not in envelope.as_bytes()


async def test_an_invalid_message_fails_without_stopping_the_batch(db, smtp_server):
    bad = await queue("a@example.org", headers={"List-Unsubscribe": "<https://x.example/u>\r\nBcc: victim@example.org"})
    good = await queue("b@example.org")

    result = await deliver_batch(worker_id="w1", limit=10, transport=smtp(smtp_server), now=now_utc())

    assert (result.failed, result.sent) == (1, 1)
    stored = await row(bad)
    assert stored["status"] == "failed" and "retour à la ligne" in stored["last_error"]
    assert (await row(good))["status"] == "sent"
    assert all(b"victim" not in r.data for r in smtp_server.handler.received)


async def test_the_rate_limiter_spaces_sends_evenly():
    clock = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(120, clock=lambda: clock[0], sleep=fake_sleep)
    for _ in range(4):
        await limiter.wait()
    assert slept == [0.5, 0.5, 0.5]
    clock[0] += 10  # idle: no catching-up burst beyond the interval, no wait either
    await limiter.wait()
    assert slept == [0.5, 0.5, 0.5]
    unlimited = RateLimiter(0, clock=lambda: clock[0], sleep=fake_sleep)
    await unlimited.wait()
    await unlimited.wait()
    assert slept == [0.5, 0.5, 0.5]


# --------------------------------------------------------------------------- worker and CLI helpers


async def test_run_worker_once_drains_the_outbox(db, smtp_server):
    for n in range(7):
        await queue(f"p{n}@example.org")

    total = await run_worker(once=True, batch_size=3, transport=smtp(smtp_server), handle_signals=False)

    assert (total.claimed, total.sent) == (7, 7)
    assert len(smtp_server.handler.received) == 7


async def test_run_worker_stops_when_asked(db):
    stop = asyncio.Event()
    stop.set()
    total = await run_worker(transport=FileCaptureTransport(capture_dir()), stop=stop, handle_signals=False, poll_seconds=0.01)
    assert total.claimed == 0


async def test_send_outbox_draws_a_progress_bar(db, smtp_server):
    for n in range(3):
        await queue(f"p{n}@example.org")
    smtp_server.handler.answer_rcpt("p2@example.org", "550 5.1.1 No such user", times=None)
    stream = io.StringIO()

    total = await send_outbox(batch_size=2, transport=smtp(smtp_server), stream=stream, handle_signals=False)

    assert (total.sent, total.bounced) == (2, 1)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("Envoi des e-mails [---") and "0/3" in lines[0]
    assert lines[-1] == "Envoi des e-mails [" + "#" * 30 + "] 3/3 100% · 2 envoyé(s), 1 rejeté(s)"


def test_text_progress_redraws_in_place_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    bar = TextProgress(4, label="Export", stream=stream, width=8)
    for done in range(5):
        bar.update(done)
    bar.finish(4)
    output = stream.getvalue()
    assert output.count("\r") == 6 and output.endswith("\n") and output.count("\n") == 1
    assert "Export [####----] 2/4  50%" in output


def test_a_slow_rate_means_smaller_batches_so_the_lease_covers_them():
    assert default_batch_size(SmtpTransport(host="h", port=25, rate_per_minute=120)) == 50
    assert default_batch_size(SmtpTransport(host="h", port=25, rate_per_minute=10)) == 25  # 6 s apart, 150 s of lease
    assert default_batch_size(SmtpTransport(host="h", port=25, rate_per_minute=0)) == 50
    assert default_batch_size(FileCaptureTransport(capture_dir())) == 50


def test_the_worker_captures_without_smtp_and_refuses_to_in_production():
    settings = get_settings()
    assert isinstance(choose_transport(dataclasses.replace(settings, smtp_host=None)), FileCaptureTransport)
    smtp_transport = choose_transport(dataclasses.replace(settings, smtp_host="smtp.example.org", smtp_user="u", smtp_password="p"))
    assert isinstance(smtp_transport, SmtpTransport) and smtp_transport.username == "u"
    with pytest.raises(ConfigurationError):
        choose_transport(dataclasses.replace(settings, smtp_host=None, env="production"))


# --------------------------------------------------------------------------- capture and demo inbox


@pytest.fixture
def mail_dir():
    directory = capture_dir()
    if directory.exists():
        for path in directory.iterdir():
            path.unlink()
    yield directory


class _Frame(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.iframes: list[dict] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.iframes.append(dict(attrs))
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]


def frame(markup: str) -> _Frame:
    parser = _Frame()
    parser.feed(markup)
    return parser


async def test_a_newcomer_reads_a_captured_email_in_the_demo_inbox_and_follows_its_link(client, mail_dir):
    await sign_up(client, email="nouvelle@example.org")  # queues the address verification email
    result = await deliver_batch(worker_id="demo", limit=10, transport=FileCaptureTransport(mail_dir), now=now_utc())
    assert result.sent == 1
    [path] = mail_dir.glob("*.eml")

    inbox = await client.get("/demo/boite-de-reception")
    assert inbox.status_code == 200
    assert "Boîte de réception de démonstration" in inbox.text and "aucun e-mail ne quitte cette machine" in inbox.text
    assert "nouvelle@example.org" in inbox.text
    assert inbox.headers["cache-control"] == "no-store"
    detail_url = f"/demo/boite-de-reception/{path.stem}"
    assert detail_url in inbox.text

    detail = await client.get(detail_url)
    assert detail.status_code == 200
    assert "ce message n'a pas été envoyé" in detail.text
    [iframe] = frame(detail.text).iframes
    assert iframe["sandbox"] == "allow-popups allow-popups-to-escape-sandbox"  # no scripts, no same-origin
    srcdoc = iframe["srcdoc"]  # html.parser unescapes the attribute: this is the email's HTML
    assert '<base target="_blank">' in srcdoc
    links = [link for link in well_formed(srcdoc).hrefs if "/compte/verifier/" in link]
    assert links, "the verification link is in the HTML part"
    assert any(link.startswith("http://testserver.local/compte/verifier/") for link in frame(detail.text).links)  # text part, clickable

    # Follow it, as the newcomer does.
    path_only = links[0].removeprefix("http://testserver.local")
    confirm = await client.get(path_only)
    assert confirm.status_code == 200 and "Confirmer mon adresse" in confirm.text
    verified = await post_form(client, path_only, {})
    assert verified.status_code == 200 and "Adresse vérifiée" in verified.text


async def test_the_demo_inbox_lists_newest_first_and_escapes_the_email_html(client, mail_dir):
    older = OutboxMessage(
        kind="verify_email", to_address="ancien@example.org", subject="Ancien", text="t", html="<p>ancien</p>",
        created_at=now_utc() - dt.timedelta(hours=2),
    )
    await older.save()
    evil_html = '<html><head></head><body><p title="x">"&gt;</iframe><script>alert(1)</script></p><a href="https://ess.example/r/1?a=1&amp;b=2">lien</a></body></html>'
    newer = OutboxMessage(kind="verify_email", to_address="recent@example.org", subject="Récent", text="Voir https://ess.example/r/1?a=1&b=2.", html=evil_html)
    await newer.save()
    await deliver_batch(worker_id="demo", limit=10, transport=FileCaptureTransport(mail_dir), now=now_utc())

    assert [m.subject for m in list_captured(mail_dir)] == ["Récent", "Ancien"]
    inbox = await client.get("/demo/boite-de-reception")
    assert inbox.text.index("Récent") < inbox.text.index("Ancien")

    detail = await client.get(f"/demo/boite-de-reception/{newer.id}")
    assert "<script>alert(1)" not in detail.text  # only ever inside the escaped srcdoc attribute
    [iframe] = frame(detail.text).iframes
    assert iframe["srcdoc"].rstrip("\n") == evil_html.replace("<head>", '<head><base target="_blank">')
    assert "allow-scripts" not in iframe["sandbox"] and "allow-same-origin" not in iframe["sandbox"]
    # The text part's link is clickable, its trailing full stop left out, its "&" escaped.
    assert '<a href="https://ess.example/r/1?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">' in detail.text

    assert (await client.get(f"/demo/boite-de-reception/{uuid.uuid4()}")).status_code == 404


async def test_the_demo_inbox_says_when_mail_waits_for_the_worker(client, mail_dir):
    await queue("attente@example.org")
    inbox = await client.get("/demo/boite-de-reception")
    assert "1 message en attente d'envoi" in inbox.text and "Aucun message pour l'instant" in inbox.text


@pytest.fixture
def reconfigure(monkeypatch):
    """Change the environment, then rebuild the settings (they are cached)."""

    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("env", [{"SMTP_HOST": "smtp.example.org"}, {"ESSP_ENV": "production"}], ids=["smtp", "production"])
async def test_the_demo_inbox_is_404_with_smtp_or_in_production(client, mail_dir, reconfigure, env):
    await queue("p@example.org")
    await deliver_batch(worker_id="demo", limit=10, transport=FileCaptureTransport(mail_dir), now=now_utc())
    [path] = mail_dir.glob("*.eml")
    assert (await client.get("/demo/boite-de-reception")).status_code == 200

    reconfigure(**env)

    for url in ("/demo/boite-de-reception", f"/demo/boite-de-reception/{path.stem}"):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert "p@example.org" not in response.text
