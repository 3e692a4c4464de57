"""One contact per email address in an organisation (a unique index: see the first raw migration)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T08:46:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique contact email per organisation"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="organisations", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS contact_organisation_email_uniq ON contact (organisation, email)"
        )

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS contact_organisation_email_uniq")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
