"""Database → Polars read paths for one campaign's answers (benchmark a).

``campaign_responses_frame`` is the PROPOSED function for
``consultations/queries.py``: the fastest read path measured by
``python -m bench.campaign_analysis`` (see docs/performance.md). The other
``*_frame`` functions are the alternatives it was compared with; they return
the same frame and exist only for the benchmark.

Every reader returns exactly ``analytics.frames.RESPONSES_SCHEMA``:
response_id, group_id (the campaign_group id), practice_key, answer, level
(Int8, null unless answer == "level"), importance (Int8, nullable) — ids as
canonical lowercase UUID strings, in no particular row order (the analytics
functions sort explicitly).

Why the proposed path is fast:

* ADBC returns Arrow columns; Polars adopts them without a Python object per
  value (the ORM path builds ~2.4 million Python objects for 400 000 answers).
* The read is split into ``partitions`` ranges of practice_key (cut between
  the campaign's pinned ``practice_keys``; open-ended at both ends, so every
  answer is read exactly once whatever its key) and run in parallel threads,
  each on its own connection: the ADBC drivers release the GIL, so two cores
  decode rows at the same time. The ranges follow the existing index
  ``response_answer_campaign_idx (campaign, practice_key)``, so each partition
  reads only its own slice of it.
* The partitions see one and the same state of the database, so a ballot
  batch mixed in during the read is either entirely in the frame or not at
  all: on PostgreSQL they share an exported snapshot (``pg_export_snapshot``
  / ``SET TRANSACTION SNAPSHOT``, as ``pg_dump -j`` does); on SQLite (WAL) a
  third connection holds the write lock (``BEGIN IMMEDIATE``) for the instant
  it takes the readers to open their read transactions, then releases it.
* On SQLite the ADBC driver sets no busy timeout, so each connection runs
  ``PRAGMA busy_timeout`` first.

The blocking ADBC calls run in worker threads (``asyncio.to_thread``), so the
event loop stays free; this works under Litestar/anyio on asyncio.

SQLite index (proposal, docs/performance.md): response tables are WITHOUT
ROWID, so every row found through a secondary index costs one more
primary-key B-tree search; extending the existing index into a covering one,
``CREATE INDEX response_answer_campaign_idx ON response_answer (campaign,
practice_key, campaign_group, response, answer, level, importance)``, makes
the read a plain index range scan (about 3× faster).
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
import uuid
from typing import Any

import polars as pl

from analytics.frames import RESPONSES_SCHEMA

COLUMNS = list(RESPONSES_SCHEMA)
DEFAULT_PARTITIONS = 2
SQLITE_BUSY_TIMEOUT_MS = 30_000

# --------------------------------------------------------------------------
# SQL (ids come back as text; everything else as stored)
# --------------------------------------------------------------------------

SQLITE_SQL = (
    "SELECT response AS response_id, campaign_group AS group_id, practice_key, answer, level, importance "
    "FROM response_answer WHERE campaign = ?"
)
SQLITE_SNAPSHOT_SQL = "SELECT 1 AS x FROM response_answer LIMIT 1"
SQLITE_KEYS_SQL = "SELECT practice_keys AS keys FROM campaign WHERE id = ?"
POSTGRES_KEYS_SQL = "SELECT practice_keys::text AS keys FROM campaign WHERE id = $1::uuid"

POSTGRES_SQL = (
    "SELECT response::text AS response_id, campaign_group::text AS group_id, practice_key, answer, "
    "level::int2 AS level, importance::int2 AS importance "
    "FROM response_answer WHERE campaign = $1::uuid"
)

# asyncpg placeholders are the same as ADBC PostgreSQL's ($1...).
ASYNCPG_SQL = POSTGRES_SQL


def _campaign_key(campaign_id: Any) -> str:
    """Canonical text form of a campaign id (also validates it: no SQL is built from raw input)."""
    return str(campaign_id if isinstance(campaign_id, uuid.UUID) else uuid.UUID(str(campaign_id)))


def _bounds(practice_keys: list[str], partitions: int) -> list[tuple[str | None, str | None]]:
    """``partitions`` contiguous ranges [lo, hi) of practice_key, cut between the campaign's keys.

    The first range has no lower bound and the last no upper bound, so every
    answer falls in exactly one range whatever its key (a key missing from
    ``practice_keys`` only unbalances the split). Keys are ordered by code
    point, which is SQLite's BINARY collation and PostgreSQL's ``COLLATE "C"``.
    """
    keys = sorted(set(practice_keys))
    partitions = max(1, min(partitions, len(keys)))
    cuts = [keys[(i * len(keys)) // partitions] for i in range(1, partitions)]
    edges: list[str | None] = [None, *cuts, None]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _range_sql(base: str, lo: str | None, hi: str | None, *, engine: str, first_param: int) -> tuple[str, list[str]]:
    conds, params = [], []
    for op, value in ((">=", lo), ("<", hi)):
        if value is None:
            continue
        if engine == "sqlite":
            conds.append(f"practice_key {op} ?")  # BINARY collation: code point order
        else:
            conds.append(f'practice_key COLLATE "C" {op} ${first_param + len(params)}')
        params.append(value)
    return (base + "".join(f" AND {c}" for c in conds)), params


def _practice_keys(conn, sql: str, campaign: str) -> list[str]:
    rows = _fetch(conn, sql, [campaign])
    if rows.height == 0 or rows["keys"][0] is None:
        return []
    try:
        keys = json.loads(rows["keys"][0])
    except ValueError:
        return []
    return [k for k in keys if isinstance(k, str)]


def to_responses_schema(df: pl.DataFrame) -> pl.DataFrame:
    """Select RESPONSES_SCHEMA columns in order, cast them (Int64/Int16 → Int8, empty → typed)
    and make each column one contiguous chunk.

    ADBC streams record batches (1 024 rows each from SQLite): a 400 000-row
    read arrives as ~390 chunks, which made every later Polars operation
    slower (validate_responses ~25 %); ``rechunk()`` costs ~3 ms.
    """
    return df.select(pl.col(c).cast(t, strict=True) for c, t in RESPONSES_SCHEMA.items()).rechunk()


def empty_responses_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=RESPONSES_SCHEMA)


# --------------------------------------------------------------------------
# Engine helpers
# --------------------------------------------------------------------------


def _engine():
    from api.db import engine

    return engine()


def _sqlite_path() -> str:
    return str(_engine().path)


def _sqlite_connect(path: str):
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    conn = adbc_sqlite.connect(path, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    return conn


def _fetch(conn, sql: str, params: list[str]) -> pl.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return pl.DataFrame(cur.fetch_arrow())


def close_adbc_connections() -> None:
    """Close the kept ADBC PostgreSQL connections (the application's, api.db)."""
    from api.db import close_arrow_connections

    close_arrow_connections()


# --------------------------------------------------------------------------
# The proposed reader
# --------------------------------------------------------------------------


def _run_partitions(conns: list, queries: list[tuple[str, list[str]]], campaign: str) -> list:
    """Run query i on connection i, the first in this thread and the others in their own threads."""
    results: list[pl.DataFrame | BaseException] = [pl.DataFrame()] * len(queries)

    def work(i: int) -> None:
        sql, extra = queries[i]
        try:
            results[i] = _fetch(conns[i], sql, [campaign, *extra])
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, len(queries))]
    for t in threads:
        t.start()
    work(0)
    for t in threads:
        t.join()
    return results


def _read_sqlite_parallel(path: str, campaign: str, partitions: int) -> pl.DataFrame:
    """Blocking. ``partitions`` connections, same snapshot, each reads one practice_key range."""
    if partitions <= 1:
        conn = _sqlite_connect(path)
        try:
            return _fetch(conn, SQLITE_SQL, [campaign])
        finally:
            conn.close()
    conns = [_sqlite_connect(path) for _ in range(partitions)]
    gate = _sqlite_connect(path)
    try:
        # One snapshot for all partitions: hold the write lock for the instant it
        # takes every reader to open its read transaction, so no write (e.g. a
        # ballot batch being mixed in) can land between two of them.
        with gate.cursor() as cur:
            cur.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout for a running writer
        try:
            for conn in conns:
                with conn.cursor() as cur:
                    cur.execute("BEGIN")
                _fetch(conn, SQLITE_SNAPSHOT_SQL, [])  # the first read pins the WAL snapshot
        finally:
            with gate.cursor() as cur:
                cur.execute("ROLLBACK")
        bounds = _bounds(_practice_keys(conns[0], SQLITE_KEYS_SQL, campaign), partitions)
        queries = [_range_sql(SQLITE_SQL, lo, hi, engine="sqlite", first_param=2) for lo, hi in bounds]
        results = _run_partitions(conns, queries, campaign)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return pl.concat([to_responses_schema(r) for r in results], rechunk=False)  # type: ignore[arg-type]
    finally:
        for conn in conns:
            conn.close()
        gate.close()


def _read_postgres_parallel(dsn: str, campaign: str, partitions: int) -> pl.DataFrame:
    """Blocking. ``partitions`` kept ADBC connections (api.db's) sharing one exported snapshot."""
    from api.db import acquire_postgres_arrow, release_postgres_arrow

    if partitions <= 1:
        conn, _ = acquire_postgres_arrow(dsn)
        broken = True
        try:
            out = _fetch(conn, POSTGRES_SQL, [campaign])
            broken = False
            return out
        finally:
            release_postgres_arrow(dsn, conn, broken=broken)
    conns = [acquire_postgres_arrow(dsn)[0] for _ in range(partitions)]
    broken = True
    try:
        with conns[0].cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = _fetch(conns[0], "SELECT pg_export_snapshot() AS s", [])["s"][0]
        for conn in conns[1:]:
            with conn.cursor() as cur:
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cur.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # server-generated token
        bounds = _bounds(_practice_keys(conns[0], POSTGRES_KEYS_SQL, campaign), partitions)
        queries = [_range_sql(POSTGRES_SQL, lo, hi, engine="postgres", first_param=2) for lo, hi in bounds]
        results = _run_partitions(conns, queries, campaign)
        for conn in conns:
            with conn.cursor() as cur:
                cur.execute("COMMIT")
        for r in results:
            if isinstance(r, BaseException):
                raise r
        broken = False
        return pl.concat([to_responses_schema(r) for r in results], rechunk=False)  # type: ignore[arg-type]
    finally:
        for conn in conns:
            release_postgres_arrow(dsn, conn, broken=broken)


async def campaign_responses_frame(campaign_id: Any, *, partitions: int = DEFAULT_PARTITIONS) -> pl.DataFrame:
    """All answers of one campaign as a RESPONSES_SCHEMA frame (proposed for consultations/queries.py).

    Works on SQLite (the app's file, ``api.db.engine().path``) and PostgreSQL
    (``api.db.engine().config["dsn"]``), from inside the running event loop:
    the blocking ADBC reads run in worker threads. ``partitions`` parallel
    reads (default 2, the number of cores of the reference machine; 1 = a
    single connection) see one consistent state of the database.
    Row order is unspecified. Needs ``adbc-driver-sqlite`` /
    ``adbc-driver-postgresql`` (no pyarrow needed).
    """
    campaign = _campaign_key(campaign_id)
    db = _engine()
    if db.engine_type == "sqlite":
        df = await asyncio.to_thread(_read_sqlite_parallel, str(db.path), campaign, partitions)
    elif db.engine_type == "postgres":
        df = await asyncio.to_thread(_read_postgres_parallel, db.config["dsn"], campaign, partitions)
    else:  # pragma: no cover - only two engines exist
        raise RuntimeError(f"unsupported engine {db.engine_type!r}")
    return to_responses_schema(df)


async def campaign_groups_frame(campaign_id: Any) -> pl.DataFrame:
    """The campaign's stakeholder groups as GROUPS_SCHEMA (a handful of rows: the ORM is fine here)."""
    from analytics.frames import GROUPS_SCHEMA
    from consultations.tables import CampaignGroup

    rows = await CampaignGroup.select(
        CampaignGroup.id, CampaignGroup.name, CampaignGroup.category, CampaignGroup.weight,
        CampaignGroup.shared_link_nonce,
    ).where(CampaignGroup.campaign == _campaign_key(campaign_id))
    return pl.DataFrame(
        {
            "group_id": [str(r["id"]) for r in rows],
            "group_name": [r["name"] for r in rows],
            "category": [r["category"] for r in rows],
            "weight": [float(r["weight"]) for r in rows],
            "open_link": [r["shared_link_nonce"] is not None for r in rows],
        },
        schema=GROUPS_SCHEMA,
    )


# --------------------------------------------------------------------------
# Alternatives measured by the benchmark (not for the app)
# --------------------------------------------------------------------------


async def orm_rows_frame(campaign_id: Any) -> pl.DataFrame:
    """(1) Piccolo select → Python lists → DataFrame (the idiom of surveys/queries.py).

    UUID columns come back as ``uuid.UUID`` (an Object column in Polars), so
    they are turned into strings one by one.
    """
    from consultations.tables import ResponseAnswer as RA

    rows = await RA.select(RA.response, RA.campaign_group, RA.practice_key, RA.answer, RA.level, RA.importance).where(
        RA.campaign == _campaign_key(campaign_id)
    )
    return pl.DataFrame(
        {
            "response_id": [str(r["response"]) for r in rows],
            "group_id": [str(r["campaign_group"]) for r in rows],
            "practice_key": [r["practice_key"] for r in rows],
            "answer": [r["answer"] for r in rows],
            "level": [r["level"] for r in rows],
            "importance": [r["importance"] for r in rows],
        },
        schema=RESPONSES_SCHEMA,
    )


async def orm_cast_frame(campaign_id: Any) -> pl.DataFrame:
    """(1b) Piccolo select with the UUIDs cast to text in SQL, then ``pl.DataFrame(rows)`` directly."""
    from piccolo.columns import Varchar
    from piccolo.query.functions.type_conversion import Cast

    from consultations.tables import ResponseAnswer as RA

    rows = await RA.select(
        Cast(RA.response, Varchar(), alias="response_id"),
        Cast(RA.campaign_group, Varchar(), alias="group_id"),
        RA.practice_key, RA.answer, RA.level, RA.importance,
    ).where(RA.campaign == _campaign_key(campaign_id))
    return to_responses_schema(pl.DataFrame(rows, schema=COLUMNS, orient="row") if not rows else pl.DataFrame(rows))


def _adbc_uri() -> str:
    db = _engine()
    if db.engine_type == "sqlite":
        return f"sqlite:///{db.path}"  # db.path is absolute here → four slashes
    return db.config["dsn"]


async def adbc_uri_frame(campaign_id: Any) -> pl.DataFrame:
    """(2) ``pl.read_database_uri(engine="adbc")`` in a worker thread: one connection per call, one stream."""
    db = _engine()
    sql = SQLITE_SQL if db.engine_type == "sqlite" else POSTGRES_SQL
    uri = _adbc_uri()
    df = await asyncio.to_thread(
        pl.read_database_uri, sql, uri, engine="adbc", execute_options={"parameters": [_campaign_key(campaign_id)]}
    )
    return to_responses_schema(df)


def _sqlite3_rows(path: str, campaign: str) -> pl.DataFrame:
    import sqlite3

    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        rows = conn.execute(SQLITE_SQL, (campaign,)).fetchall()
    finally:
        conn.close()
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


async def sqlite3_rows_frame(campaign_id: Any) -> pl.DataFrame:
    """(3) Standard-library sqlite3 ``fetchall()`` in a worker thread → ``pl.DataFrame(rows, orient="row")``."""
    df = await asyncio.to_thread(_sqlite3_rows, _sqlite_path(), _campaign_key(campaign_id))
    return to_responses_schema(df)


async def _pg_connection():
    """A connection from Piccolo's pool when it is running, else a fresh one."""
    db = _engine()
    pool = getattr(db, "pool", None)
    if pool is not None:
        return pool, await pool.acquire()
    return None, await db.get_new_connection()


async def _pg_release(pool, conn) -> None:
    if pool is not None:
        await pool.release(conn)
    else:
        await conn.close()


async def asyncpg_fetch_frame(campaign_id: Any) -> pl.DataFrame:
    """(3) asyncpg ``fetch`` on the app's pool → records → ``pl.DataFrame(orient="row")``."""
    pool, conn = await _pg_connection()
    try:
        records = await conn.fetch(ASYNCPG_SQL, _campaign_key(campaign_id))
    finally:
        await _pg_release(pool, conn)
    return to_responses_schema(pl.DataFrame([tuple(r) for r in records], schema=COLUMNS, orient="row"))


async def asyncpg_copy_csv_frame(campaign_id: Any) -> pl.DataFrame:
    """(3b) asyncpg ``COPY (query) TO STDOUT (FORMAT csv)`` on the app's pool → ``pl.read_csv``.

    Fully async (no thread) and Polars' CSV reader is multi-threaded.
    """
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    pool, conn = await _pg_connection()
    try:
        await conn.copy_from_query(ASYNCPG_SQL, _campaign_key(campaign_id), output=sink, format="csv")
    finally:
        await _pg_release(pool, conn)
    if not chunks:
        return empty_responses_frame()
    df = pl.read_csv(
        io.BytesIO(b"".join(chunks)),
        has_header=False,
        new_columns=COLUMNS,
        schema_overrides={"level": pl.Int8, "importance": pl.Int8},
    )
    return to_responses_schema(df)


async def adbc_single_frame(campaign_id: Any) -> pl.DataFrame:
    """(2b) The proposed reader with one partition (one connection, no parallelism)."""
    return await campaign_responses_frame(campaign_id, partitions=1)
