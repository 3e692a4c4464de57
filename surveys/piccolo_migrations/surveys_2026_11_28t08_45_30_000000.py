"""One answer per member and practice in a diagnosis; one custom key per organisation.

Unique indexes rather than table constraints: SQLite can't ALTER TABLE ADD CONSTRAINT.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T08:45:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique indexes for diagnosis answers and custom practices"

INDEXES = {
    "diagnosis_answer_member_practice_uniq": "diagnosis_answer (diagnosis, member, practice_key)",
    "custom_practice_org_key_uniq": "custom_practice (organisation, key)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="surveys", description=DESCRIPTION)

    async def create_indexes():
        for name, target in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop_indexes():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
