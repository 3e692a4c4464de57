"""A covering index for reading one campaign's answers (docs/performance.md).

The response tables are WITHOUT ROWID on SQLite, so every row found through a
secondary index costs one more primary-key search; an index holding every column
the analytics read turns the read into a plain index range scan (~3× faster).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T10:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Covering index on response_answer for campaign reads"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="consultations", description=DESCRIPTION)

    async def covering():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS response_answer_campaign_idx")
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS response_answer_campaign_idx ON response_answer "
            "(campaign, practice_key, campaign_group, response, answer, level, importance)"
        )

    async def narrow():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS response_answer_campaign_idx")
        await engine_finder().run_ddl("CREATE INDEX IF NOT EXISTS response_answer_campaign_idx ON response_answer (campaign, practice_key)")

    manager.add_raw(covering)
    manager.add_raw_backwards(narrow)
    return manager
