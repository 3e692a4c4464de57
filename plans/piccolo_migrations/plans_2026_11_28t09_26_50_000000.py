"""One cycle per organisation and year (a unique index: SQLite can't ALTER TABLE ADD CONSTRAINT),
and indexes on the foreign keys the plan's pages read by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T09:26:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique cycle per organisation and year; foreign-key indexes"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS plan_cycle_organisation_year_uniq ON plan_cycle (organisation, year)",
    "CREATE INDEX IF NOT EXISTS plan_action_organisation_idx ON plan_action (organisation)",
    "CREATE INDEX IF NOT EXISTS plan_indicator_action_idx ON plan_indicator (action)",
    "CREATE INDEX IF NOT EXISTS plan_review_organisation_idx ON plan_review (organisation)",
    "CREATE INDEX IF NOT EXISTS plan_review_entry_action_idx ON plan_review_entry (action)",
    "CREATE INDEX IF NOT EXISTS plan_indicator_value_indicator_idx ON plan_indicator_value (indicator)",
)
NAMES = (
    "plan_cycle_organisation_year_uniq", "plan_action_organisation_idx", "plan_indicator_action_idx",
    "plan_review_organisation_idx", "plan_review_entry_action_idx", "plan_indicator_value_indicator_idx",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="plans", description=DESCRIPTION)

    async def create_indexes():
        for ddl in INDEXES:
            await engine_finder().run_ddl(ddl)

    async def drop_indexes():
        for name in NAMES:
            await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
