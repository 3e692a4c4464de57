from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T11:22:35:651684"
VERSION = "1.38.0"
DESCRIPTION = "Packed answer codes on response"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="consultations", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Response",
        tablename="response",
        column_name="answer_codes",
        db_column_name="answer_codes",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="Response",
        tablename="response",
        column_name="importance_codes",
        db_column_name="importance_codes",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
