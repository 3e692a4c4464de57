"""Database engine and the one transaction helper used everywhere.

SQLite is the embedded default: WAL journal, a busy timeout, and IMMEDIATE
transactions for writes (a DEFERRED transaction that reads then writes fails
with "database is locked" under concurrency instead of waiting). PostgreSQL is
the production engine: a connection pool opened in the application lifespan.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
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
    close_arrow_connections()
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


# --- Arrow reads (ADBC) ----------------------------------------------------------------------
#
# Large reads (a campaign's answers) go through ADBC: Arrow columns that Polars adopts without a
# Python object per value. Opening an ADBC PostgreSQL connection costs ~80 ms (it loads the type
# catalogue), so a few are kept for reuse; SQLite connections cost ~1 ms and are opened per read.

_ADBC_IDLE: dict[str, queue.SimpleQueue] = {}
_ADBC_LOCK = threading.Lock()
ADBC_MAX_IDLE = 8  # a cold results page reads answers and comments on two at once


def _adbc_connect_postgres(dsn: str):
    import adbc_driver_postgresql.dbapi as adbc_pg

    return adbc_pg.connect(dsn, autocommit=True)


def acquire_postgres_arrow(dsn: str) -> tuple[Any, bool]:
    """An ADBC PostgreSQL connection: a kept one if any (reused=True), else a new one."""
    with _ADBC_LOCK:
        idle = _ADBC_IDLE.setdefault(dsn, queue.SimpleQueue())
    try:
        return idle.get_nowait(), True
    except queue.Empty:
        return _adbc_connect_postgres(dsn), False


def release_postgres_arrow(dsn: str, conn: Any, *, broken: bool = False) -> None:
    """Keep a connection for the next read (a few at most), or close it (always when broken)."""
    with _ADBC_LOCK:
        idle = _ADBC_IDLE.setdefault(dsn, queue.SimpleQueue())
        keep = not broken and idle.qsize() < ADBC_MAX_IDLE
        if keep:
            idle.put(conn)
    if not keep:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


def read_arrow(statements: list[tuple[str, list]]) -> list:
    """Blocking (call it in a worker thread): run each (sql, parameters) and return its result as a
    Polars DataFrame, on one connection. SQL placeholders: ``?`` on SQLite, ``$1`` on PostgreSQL."""
    import polars as pl

    db = engine()

    def run(conn) -> list:
        out = []
        for sql, params in statements:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                out.append(pl.DataFrame(cur.fetch_arrow()))
        return out

    if db.engine_type == "sqlite":
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        conn = adbc_sqlite.connect(str(db.path), autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")  # the driver sets none
            return run(conn)
        finally:
            conn.close()
    dsn = db.config["dsn"]
    conn, reused = acquire_postgres_arrow(dsn)
    try:
        result = run(conn)
    except Exception:
        release_postgres_arrow(dsn, conn, broken=True)
        if not reused:
            raise
        # A kept connection may have been closed by the server meanwhile: one retry on a new one.
        conn = _adbc_connect_postgres(dsn)
        try:
            result = run(conn)
        except Exception:
            release_postgres_arrow(dsn, conn, broken=True)
            raise
    release_postgres_arrow(dsn, conn)
    return result


def close_arrow_connections() -> None:
    """Close the kept ADBC connections (application shutdown)."""
    with _ADBC_LOCK:
        queues = list(_ADBC_IDLE.values())
        _ADBC_IDLE.clear()
    for idle in queues:
        while True:
            try:
                idle.get_nowait().close()
            except queue.Empty:
                break
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
