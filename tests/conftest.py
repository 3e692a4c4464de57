"""Test set-up: one scratch database per run, emptied before each test.

SQLite by default (a file in a temporary folder); PostgreSQL when DATABASE_URL
points to one (`.ci/run` creates and drops a scratch database). The schema is
built by running the real migrations through the real CLI, once per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Configure before any table class is imported: Piccolo binds the engine at class creation.
_RUN_DIR = Path(tempfile.mkdtemp(prefix="essp-test-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_RUN_DIR / 'test.sqlite'}")
os.environ["ESSP_VAR_DIR"] = str(_RUN_DIR / "var")
os.environ["ESSP_ENV"] = "test"
os.environ["DB_POOL"] = "0"
# Tests walk many survey pages from one address; the link limit itself is tested with its real value.
os.environ["LINK_RATE_PER_MINUTE"] = "100000"
os.environ["SECRET_KEY"] = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
os.environ["BASE_URL"] = "http://testserver.local"
os.environ.pop("SMTP_HOST", None)

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def migrated() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return os.environ["DATABASE_URL"]


async def _empty_all_tables() -> None:
    from piccolo.apps.migrations.tables import Migration
    from piccolo.conf.apps import Finder

    from api.db import engine

    tables = [t for t in Finder().get_table_classes() if t is not Migration]
    db = engine()
    names = [t._meta.tablename for t in tables]
    if db.engine_type == "postgres":
        await db.run_ddl("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
    else:
        import sqlite3

        with sqlite3.connect(db.path, timeout=30) as conn:  # one connection, so the pragma holds
            conn.execute("PRAGMA foreign_keys = OFF")
            for name in names:
                conn.execute(f'DELETE FROM "{name}"')


@pytest.fixture
async def db(migrated):
    await _empty_all_tables()
    from api.security import reset_rate_limits

    reset_rate_limits()
    yield


@pytest.fixture
async def client(db):
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as test_client:
        test_client.follow_redirects = False  # tests look at each redirect, as a browser's history would
        yield test_client
