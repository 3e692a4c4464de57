"""A scratch database for the benchmarks: create, migrate, bulk-load, drop.

The schema is the real one, built by ``python -m api.cli migrate`` exactly as
the test suite does (tests/conftest.py). Data go straight into the tables with
bulk inserts — ``executemany`` in one transaction on SQLite, binary ``COPY``
(asyncpg ``copy_records_to_table``) on PostgreSQL — never through the web app.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.datagen import Campaign

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_PG_DATABASE = "essp_bench"

RESPONSE_COLUMNS = (
    "id", "campaign", "campaign_group", "language", "via_open_link", "submitted_on", "answer_codes", "importance_codes",
)
ANSWER_COLUMNS = (
    "id", "response", "campaign", "campaign_group", "practice_key", "answer", "level", "importance", "comment",
)


@dataclass
class ScratchDB:
    engine: str  # "sqlite" | "postgres"
    database_url: str
    workdir: Path
    pg_admin_dsn: str | None = None
    pg_database: str | None = None
    keep: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def drop(self) -> None:
        if self.keep:
            print(f"(kept: {self.database_url})", file=sys.stderr)
            return
        if self.engine == "postgres":
            asyncio.run(_pg_admin(self.pg_admin_dsn, f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)'))
        shutil.rmtree(self.workdir, ignore_errors=True)


async def _pg_admin(dsn: str | None, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn or DEFAULT_PG_ADMIN_DSN)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def create(
    engine: str,
    *,
    pg_admin_dsn: str = DEFAULT_PG_ADMIN_DSN,
    pg_database: str = DEFAULT_PG_DATABASE,
    keep: bool = False,
) -> ScratchDB:
    """Create an empty scratch database and run the project's migrations on it."""
    workdir = Path(tempfile.mkdtemp(prefix="essp-bench-"))
    if engine == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite'}"  # absolute path → sqlite:////tmp/...
        db = ScratchDB("sqlite", url, workdir, keep=keep)
    elif engine == "postgres":
        if not pg_database.replace("_", "").isalnum():
            raise ValueError(f"bad database name {pg_database!r}")
        asyncio.run(
            _pg_admin(
                pg_admin_dsn,
                f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)',
                f'CREATE DATABASE "{pg_database}"',
            )
        )
        base = pg_admin_dsn.rsplit("/", 1)[0]
        db = ScratchDB("postgres", f"{base}/{pg_database}", workdir, pg_admin_dsn, pg_database, keep=keep)
    else:
        raise ValueError(f"unknown engine {engine!r}")
    db.env = {
        "DATABASE_URL": db.database_url,
        "ESSP_VAR_DIR": str(workdir / "var"),
        "ESSP_ENV": "bench",
        "DB_POOL": "1",
    }
    env = {**os.environ, **db.env}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        db.drop()
        raise RuntimeError("migration failed:\n" + result.stdout + result.stderr)
    return db


# --------------------------------------------------------------------------
# Bulk load
# --------------------------------------------------------------------------


def _organisation_row(org_id: uuid.UUID) -> dict:
    return {
        "id": org_id,
        "slug": f"bench-{org_id.hex}",
        "name": "Association de banc d'essai",
        "legal_form": "association",
        "postcode": "69001",
        "region": "Auvergne-Rhône-Alpes",
        "headcount_band": "50-249",
    }


def _campaign_row(c: Campaign) -> dict:
    return {
        "id": c.campaign_id,
        "organisation": c.organisation_id,
        "title": c.title,
        "referentiel_key": "complet",
        "referentiel_version": "2026.1",
        "practice_keys": json.dumps(c.practice_keys),
        "threshold": 5,
        "status": "closed",
    }


def _shuffled_answers(campaigns: list[Campaign], seed: int) -> list[tuple]:
    """All answers of all campaigns, interleaved in random order (answers of
    several campaigns arrive mixed over time; the ballot box mixes them too)."""
    rows = [a for c in campaigns for a in c.answers]
    random.Random(seed).shuffle(rows)
    return rows


def load_sqlite(path: Path, campaigns: list[Campaign]) -> None:
    import sqlite3

    s = str
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        with conn:
            orgs = {c.organisation_id for c in campaigns}
            for org_id in orgs:
                row = _organisation_row(org_id)
                row["id"] = s(org_id)
                conn.execute(
                    f"INSERT INTO organisation ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()),
                )
            for c in campaigns:
                row = _campaign_row(c)
                row["id"], row["organisation"] = s(c.campaign_id), s(c.organisation_id)
                conn.execute(
                    f"INSERT INTO campaign ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()),
                )
                conn.executemany(
                    'INSERT INTO campaign_group (id, campaign, name, category, weight, shared_link_nonce) '
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (s(g["id"]), s(c.campaign_id), g["name"], g["category"], g["weight"], g["shared_link_nonce"])
                        for g in c.groups
                    ],
                )
                conn.executemany(
                    f"INSERT INTO response ({', '.join(RESPONSE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(s(r[0]), s(r[1]), s(r[2]), r[3], r[4], r[5].isoformat(), *r[6:]) for r in c.responses],
                )
            conn.executemany(
                f"INSERT INTO response_answer ({', '.join(ANSWER_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                # WITHOUT ROWID: rows are stored in primary-key order whatever the insert
                # order, so insert in that order (a B-tree append, much faster).
                sorted((s(a[0]), s(a[1]), s(a[2]), s(a[3]), *a[4:]) for c in campaigns for a in c.answers),
            )
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def load_postgres(dsn: str, campaigns: list[Campaign]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for org_id in {c.organisation_id for c in campaigns}:
                row = _organisation_row(org_id)
                await conn.execute(
                    f"INSERT INTO organisation ({', '.join(row)}) "
                    f"VALUES ({', '.join(f'${i + 1}' for i in range(len(row)))})",
                    *row.values(),
                )
            for c in campaigns:
                row = _campaign_row(c)
                await conn.execute(
                    f"INSERT INTO campaign ({', '.join(row)}) "
                    f"VALUES ({', '.join(f'${i + 1}' for i in range(len(row)))})",
                    *row.values(),
                )
                await conn.executemany(
                    "INSERT INTO campaign_group (id, campaign, name, category, weight, shared_link_nonce) "
                    "VALUES ($1, $2, $3, $4, $5, $6)",
                    [
                        (g["id"], c.campaign_id, g["name"], g["category"], g["weight"], g["shared_link_nonce"])
                        for g in c.groups
                    ],
                )
                await conn.copy_records_to_table("response", records=c.responses, columns=list(RESPONSE_COLUMNS))
            await conn.copy_records_to_table(
                "response_answer", records=_shuffled_answers(campaigns, 3), columns=list(ANSWER_COLUMNS)
            )
        await conn.execute("VACUUM ANALYZE response_answer")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def postgres_version(dsn: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return (await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()


async def add_self_diagnosis(organisation_id: uuid.UUID, self_answers, practice_keys: list[str]) -> None:
    """The organisation's closed self-diagnosis (SELF_ANSWERS_SCHEMA frame), through the ORM: a few
    hundred rows. Call it inside the benchmark's event loop, once DATABASE_URL points to the scratch database."""
    from surveys.tables import Diagnosis, DiagnosisAnswer
    from organisations.tables import User

    members = {m: uuid.uuid4() for m in self_answers.get_column("member_id").unique(maintain_order=True).to_list()}
    await User.insert(*[User(id=uid, email=f"membre-{uid.hex}@bench.example", name="Membre", password_hash="x") for uid in members.values()])
    diagnosis = Diagnosis(
        organisation=organisation_id, title="Autodiagnostic 2026", referentiel_key="complet", referentiel_version="2026.1",
        practice_keys=practice_keys, status="closed",
    )
    await diagnosis.save()
    await DiagnosisAnswer.insert(
        *[
            DiagnosisAnswer(diagnosis=diagnosis.id, member=members[r["member_id"]], practice_key=r["practice_key"],
                            answer=r["answer"], level=r["level"], importance=r["importance"])
            for r in self_answers.iter_rows(named=True)
        ]
    )
