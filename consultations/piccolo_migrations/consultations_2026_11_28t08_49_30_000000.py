"""Anonymous response tables without insertion order, and uniqueness for drafts.

On SQLite, a table with a non-integer primary key still has a hidden rowid that
grows with insertion order. `response`, `response_answer` and `response_ballot`
are rebuilt as WITHOUT ROWID tables (empty at this point), so rows are stored in
the order of their random ids and nothing records which came first. PostgreSQL
has no rowid; physical order there is broken by the shuffled ballot mixing (and
`CLUSTER` at close, see consultations/services.py).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T08:49:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "WITHOUT ROWID response tables on SQLite"

TABLES = ("response_ballot", "response", "response_answer")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="consultations", description=DESCRIPTION)

    async def without_rowid():
        engine = engine_finder()
        if engine.engine_type != "sqlite":
            return
        for table in TABLES:
            rows = await engine._run_in_new_connection(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
            )
            create_sql = rows[0]["sql"]
            if "WITHOUT ROWID" in create_sql.upper():
                continue
            await engine._run_in_new_connection(f'DROP TABLE "{table}"')
            await engine._run_in_new_connection(create_sql + " WITHOUT ROWID")

    async def unique_invitation():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS invitation_campaign_contact_uniq ON invitation (campaign, contact)"
        )
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS response_answer_campaign_idx ON response_answer (campaign, practice_key)"
        )

    manager.add_raw(without_rowid)
    manager.add_raw(unique_invitation)
    return manager
