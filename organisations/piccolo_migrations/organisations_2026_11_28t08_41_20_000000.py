"""One membership per user and organisation.

A unique index rather than a table constraint: SQLite can't ALTER TABLE ADD CONSTRAINT.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T08:41:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique membership per user and organisation"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="organisations", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(
            'CREATE UNIQUE INDEX IF NOT EXISTS membership_user_organisation_uniq ON membership ("user", organisation)'
        )

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS membership_user_organisation_uniq")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
