"""Passwords, opaque tokens, the session cookie and rate limits.

- Passwords: argon2id (argon2-cffi, the reference binding), hashed in a worker
  thread so the event loop never blocks for the ~100 ms a hash takes.
- Session: a fresh random token is issued at every login and only its SHA-256
  is stored, so a session id chosen by a client is never accepted (Litestar's
  server-side session backend would accept one: stack notes §1.5).
- Rate limits: a fixed-window counter per bucket and client (IP or account).
"""

from __future__ import annotations

import hashlib
import secrets
import time

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException

SESSION_COOKIE = "essp_session"

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" defaults
# A hash for a password nobody has, so unknown emails cost the same time as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Fixed-window counters, in process memory. Updates happen without an `await`,
# so they are atomic under asyncio. One process serves the app (see README);
# several processes would each count separately.
_rate_counters: dict[tuple[str, str, int], int] = {}
_clock = time.time  # replaced in tests to keep attempts in one window


def client_address(connection: ASGIConnection) -> str:
    client = connection.scope.get("client")
    return client[0] if client else "unknown"


async def check_rate_limit(bucket: str, key: str, *, limit: int, period_seconds: int = 60) -> None:
    """Count one hit; raise 429 when more than `limit` hits fall in the current window."""
    now = _clock()
    window = int(now // period_seconds)
    if len(_rate_counters) > 50_000:
        for stale in [k for k in _rate_counters if k[2] < window]:
            del _rate_counters[stale]
    counter_key = (bucket, key, window)
    count = _rate_counters.get(counter_key, 0) + 1
    _rate_counters[counter_key] = count
    if count > limit:
        retry = period_seconds - int(now % period_seconds)
        raise TooManyRequestsException(
            detail="Trop de tentatives. Merci de patienter une minute avant de réessayer.",
            headers={"Retry-After": str(retry)},
        )


def reset_rate_limits() -> None:
    """For tests: forget every counter."""
    _rate_counters.clear()
