"""The mail worker (`esspratiques worker`) and the one-shot drain (`esspratiques send-outbox`).

The worker loops: claim a batch, send it, and when nothing is due wait
``poll_seconds`` (or until stopped). SIGINT/SIGTERM stop it gracefully: the
message in flight is finished, the rest of the batch is given back to the
outbox at once. A second signal cancels it; claimed messages then come back
when their lease expires — nothing is lost either way.

SMTP is used when ``SMTP_HOST`` is set; otherwise mail is captured as ``.eml``
files under ``$ESSP_VAR_DIR/mail`` and shown by the demo inbox
(``/demo/boite-de-reception``). Production refuses to capture.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TextIO

from api.settings import ConfigurationError, Settings, get_settings
from emails.delivery import (
    DEFAULT_LEASE_SECONDS,
    BatchResult,
    FileCaptureTransport,
    SmtpTransport,
    Transport,
    capture_dir,
    count_due,
    deliver_batch,
)

logger = logging.getLogger("esspratiques.mail")

DEFAULT_BATCH_SIZE = 50


def choose_transport(settings: Settings | None = None) -> Transport:
    settings = settings or get_settings()
    if settings.smtp_host:
        return SmtpTransport.from_settings(settings)
    if settings.production:
        raise ConfigurationError(
            "SMTP_HOST est obligatoire en production (ESSP_ENV=production) : "
            "sans serveur SMTP, les e-mails ne seraient que capturés localement."
        )
    return FileCaptureTransport(capture_dir(settings))


def default_batch_size(transport: Transport) -> int:
    """Up to 50, but never more than the rate limit lets the worker send in half a lease."""
    interval = transport.limiter.interval if isinstance(transport, SmtpTransport) else 0.0
    if not interval:
        return DEFAULT_BATCH_SIZE
    return max(1, min(DEFAULT_BATCH_SIZE, int(DEFAULT_LEASE_SECONDS / 2 / interval)))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _install_signal_handlers(stop: asyncio.Event, on_second: Callable[[], None]) -> Callable[[], None]:
    """SIGINT/SIGTERM set ``stop``; a second one calls ``on_second``. Returns the uninstaller."""
    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def handle(signame: str) -> None:
        if stop.is_set():
            on_second()
            return
        print(f"\n{signame} reçu : arrêt après le message en cours…", file=sys.stderr)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handle, sig.name)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass

    def uninstall() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return uninstall


SCHEDULE_EVERY_SECONDS = 600


async def run_worker(
    *,
    once: bool = False,
    poll_seconds: float = 2.0,
    batch_size: int | None = None,
    transport: Transport | None = None,
    worker_id: str | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    on_progress: Callable[[BatchResult], None] | None = None,
) -> BatchResult:
    """Deliver the outbox until stopped (``once=True``: until nothing is due, then return).

    Returns the totals of every batch. Database or transport errors outside a
    message's own outcome are logged and retried after ``poll_seconds`` (with
    ``once=True`` they propagate).
    """
    transport = transport or choose_transport()
    batch_size = batch_size or default_batch_size(transport)
    worker_id = worker_id or default_worker_id()
    stop = stop or asyncio.Event()
    total = BatchResult()
    current = asyncio.current_task()
    uninstall = _install_signal_handlers(stop, current.cancel if current else (lambda: None)) if handle_signals else (lambda: None)
    kind = type(transport).__name__
    logger.info("mail worker %s started (%s)", worker_id, kind)
    try:
        def progress(batch: BatchResult) -> None:
            if on_progress is not None:  # running totals: previous batches + this one so far
                snapshot = BatchResult()
                snapshot.add(total)
                snapshot.add(batch)
                on_progress(snapshot)

        next_schedule = 0.0
        while not stop.is_set():
            if not once and time.monotonic() >= next_schedule:
                # Scheduled campaign reminders are queued here (they then go out like any mail).
                next_schedule = time.monotonic() + SCHEDULE_EVERY_SECONDS
                try:
                    from consultations.reminders import run_due_reminders

                    await run_due_reminders()
                except Exception:
                    logger.exception("scheduled reminders failed; retrying at the next round")
            try:
                result = await deliver_batch(
                    worker_id=worker_id, limit=batch_size, transport=transport, stop=stop, on_progress=progress
                )
            except Exception:
                if once:
                    raise
                logger.exception("mail worker: batch failed; retrying in %.0f s", poll_seconds)
                result = BatchResult()
            else:
                total.add(result)
                if result.claimed:
                    logger.info(
                        "batch: %d claimed, %d sent, %d deferred, %d bounced, %d failed",
                        result.claimed, result.sent, result.deferred, result.bounced, result.failed,
                    )
            if result.claimed:
                continue  # more may be due: no pause between full batches
            if once:
                break
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except asyncio.TimeoutError:
                pass
    finally:
        uninstall()
        logger.info("mail worker %s stopped", worker_id)
    return total


class TextProgress:
    """A plain-text progress bar on a stream (stderr): redrawn in place on a terminal,
    one line every 10 % otherwise (logs, CI). No dependency."""

    def __init__(self, total: int, *, label: str = "", stream: TextIO | None = None, width: int = 30) -> None:
        self.total = max(total, 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._last_line = ""

    def render(self, done: int, detail: str = "") -> str:
        total = max(self.total, done, 1) if self.total or done else 0
        fraction = done / total if total else 1.0
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"{self.label} [{bar}] {done}/{total} {fraction:4.0%}".lstrip()
        return f"{text} {detail}".rstrip()

    def update(self, done: int, detail: str = "") -> None:
        if done > self.total:
            self.total = done
        line = self.render(done, detail)
        if self.interactive:
            padding = " " * max(len(self._last_line) - len(line), 0)
            self.stream.write("\r" + line + padding)
            self.stream.flush()
        else:
            decile = int(10 * done / self.total) if self.total else 10
            if decile != self._last_decile:
                self.stream.write(line + "\n")
                self.stream.flush()
                self._last_decile = decile
        self._last_line = line

    def finish(self, done: int, detail: str = "") -> None:
        line = self.render(done, detail)
        if self.interactive:
            self.stream.write("\r" + line + " " * max(len(self._last_line) - len(line), 0) + "\n")
        elif line != self._last_line:
            self.stream.write(line + "\n")
        self.stream.flush()


def _detail(result: BatchResult) -> str:
    parts = [f"{result.sent} envoyé(s)"]
    if result.deferred:
        parts.append(f"{result.deferred} reporté(s)")
    if result.bounced:
        parts.append(f"{result.bounced} rejeté(s)")
    if result.failed:
        parts.append(f"{result.failed} en échec")
    return "· " + ", ".join(parts)


async def send_outbox(
    *,
    batch_size: int | None = None,
    transport: Transport | None = None,
    stream: TextIO | None = None,
    handle_signals: bool = True,
) -> BatchResult:
    """Send everything due now, with a progress bar on ``stream`` (stderr). Returns the totals.

    Messages that fail temporarily are rescheduled (backoff), not retried in this run.
    """
    transport = transport or choose_transport()
    progress = TextProgress(await count_due(), label="Envoi des e-mails", stream=stream)
    progress.update(0)

    def on_progress(result: BatchResult) -> None:
        progress.update(result.settled, _detail(result))

    total = await run_worker(
        once=True, batch_size=batch_size, transport=transport, on_progress=on_progress, handle_signals=handle_signals
    )
    progress.finish(total.settled, _detail(total))
    return total


async def _with_database(coroutine):
    from api import db

    await db.start_pool()
    try:
        return await coroutine
    finally:
        await db.close_pool()


def main_worker(args: argparse.Namespace) -> None:
    """`esspratiques worker [--once] [--poll SECONDS] [--batch N]`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    transport = choose_transport(settings)
    if isinstance(transport, FileCaptureTransport):
        print(
            f"Aucun SMTP_HOST : les e-mails sont capturés dans {transport.directory} "
            f"et visibles sur {settings.base_url}/demo/boite-de-reception",
            file=sys.stderr,
        )
    else:
        print(f"Envoi par SMTP via {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security}).", file=sys.stderr)
    try:
        asyncio.run(
            _with_database(
                run_worker(
                    once=bool(getattr(args, "once", False)),
                    poll_seconds=float(getattr(args, "poll", None) or 2.0),
                    batch_size=int(getattr(args, "batch", None) or 0) or None,
                    transport=transport,
                )
            )
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("Worker interrompu : les messages en cours seront repris à l'expiration de leur bail.", file=sys.stderr)
        raise SystemExit(130) from None


def main_send_outbox(args: argparse.Namespace) -> None:
    """`esspratiques send-outbox [--batch N]`: drain what is due now, progress bar on stderr."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    transport = choose_transport()
    try:
        total = asyncio.run(
            _with_database(send_outbox(batch_size=int(getattr(args, "batch", None) or 0) or None, transport=transport))
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("Envoi interrompu : les messages en cours seront repris à l'expiration de leur bail.", file=sys.stderr)
        raise SystemExit(130) from None
    if total.bounced or total.failed:
        print(f"{total.bounced} rejet(s) définitif(s), {total.failed} échec(s) : voir outbox_message.last_error.", file=sys.stderr)
