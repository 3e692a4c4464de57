"""Database engine and the one transaction helper used everywhere.

SQLite is the embedded default: WAL journal, a busy timeout, and IMMEDIATE
transactions for writes (a DEFERRED transaction that reads then writes fails
with "database is locked" under concurrency instead of waiting). PostgreSQL is
the production engine: a connection pool opened in the application lifespan.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from api.settings import get_settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def build_engine() -> Engine:
    settings = get_settings()
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    _enable_wal(str(path))
    # `timeout` is sqlite3's busy timeout: a writer waits for the lock instead of failing.
    return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)


def _enable_wal(path: str) -> None:
    # WAL is a persistent property of the database file: set it once, synchronously.
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")


def engine() -> Engine:
    from piccolo.engine.finder import engine_finder

    found = engine_finder()
    assert found is not None, "piccolo_conf.DB is not configured"
    return found


@asynccontextmanager
async def transaction() -> AsyncIterator[Any]:
    """A write transaction: all or nothing.

    Nested calls join the outer transaction. On SQLite the transaction is
    IMMEDIATE, so concurrent writers queue on the busy timeout.
    """
    db = engine()
    if db.engine_type == "sqlite":
        async with db.transaction(transaction_type=TransactionType.immediate) as tx:
            yield tx
    else:
        async with db.transaction() as tx:
            yield tx


def in_transaction() -> bool:
    return engine().current_transaction.get() is not None


async def start_pool() -> None:
    db = engine()
    # DB_POOL=0 (the test suite) opens a connection per query instead: the test
    # client runs the lifespan in another event loop than the requests.
    if db.engine_type == "postgres" and os.environ.get("DB_POOL", "1") != "0":
        await db.start_connection_pool(min_size=1, max_size=10)


async def close_pool() -> None:
    db = engine()
    if db.engine_type == "postgres" and os.environ.get("DB_POOL", "1") != "0":
        await db.close_connection_pool()


async def check() -> bool:
    try:
        await engine().run_ddl("SELECT 1")
    except Exception:  # noqa: BLE001 - health check reports any failure
        return False
    return True


def is_unique_violation(exc: BaseException) -> bool:
    """A unique constraint or index refused a row (SQLite or PostgreSQL)."""
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc).upper()
