"""Packed answers on `response` (consultations/answer_codes.py) and the indexes that read them.

1. Fill `answer_codes` / `importance_codes` of the responses that exist, from their
   `response_answer` rows, along their campaign's `practice_keys`.
2. Index `response` by campaign (on SQLite a covering index: the table is WITHOUT
   ROWID, so a plain secondary index costs one more primary-key search per row).
3. The wide covering index on `response_answer` is no longer read by the analytics:
   back to (campaign, practice_key). Comments get a partial index (only rows with a
   comment; on SQLite covering, comment included), so reading a campaign's few comments
   no longer visits every answer row (2 s for 400 000 answers, docs/performance.md).
"""

import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Packed answers on response; response and comment indexes"


async def backfill_answer_codes() -> int:
    """Pack the answers of every response whose codes are empty. Returns the number of responses filled."""
    from consultations.answer_codes import encode_responses

    engine = engine_finder()
    sqlite = engine.engine_type == "sqlite"
    p1, p2, p3 = ("?", "?", "?") if sqlite else ("$1", "$2", "$3")
    filled = 0
    campaigns = await engine._run_in_new_connection("SELECT id, practice_keys FROM campaign")
    for campaign in campaigns:
        keys = campaign["practice_keys"]
        keys = json.loads(keys) if isinstance(keys, str) else (keys or [])
        answers = await engine._run_in_new_connection(
            "SELECT a.response AS response_id, a.practice_key AS practice_key, a.answer AS answer, a.level AS level, "
            "a.importance AS importance FROM response_answer a JOIN response r ON r.id = a.response "
            f"WHERE r.campaign = {p1} AND r.answer_codes = ''",
            [campaign["id"]],
        )
        empty = await engine._run_in_new_connection(
            f"SELECT id FROM response WHERE campaign = {p1} AND answer_codes = ''", [campaign["id"]]
        )
        codes = encode_responses(answers, keys, [row["id"] for row in empty])
        for row in empty:
            await engine._run_in_new_connection(
                f"UPDATE response SET answer_codes = {p1}, importance_codes = {p2} WHERE id = {p3}",
                [*codes[str(row["id"])], row["id"]],
            )
            filled += 1
    return filled


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="consultations", description=DESCRIPTION)

    async def indexes():
        engine = engine_finder()
        run = engine.run_ddl
        await run("DROP INDEX IF EXISTS response_answer_campaign_idx")
        await run("CREATE INDEX IF NOT EXISTS response_answer_campaign_idx ON response_answer (campaign, practice_key)")
        if engine.engine_type == "sqlite":
            await run(
                "CREATE INDEX IF NOT EXISTS response_campaign_idx ON response "
                "(campaign, campaign_group, id, answer_codes, importance_codes)"
            )
            await run(
                "CREATE INDEX IF NOT EXISTS response_answer_comment_idx ON response_answer "
                "(campaign, practice_key, campaign_group, response, comment) WHERE comment <> ''"
            )
        else:
            # A comment may be 2 000 characters: too long for a B-tree key on PostgreSQL.
            await run("CREATE INDEX IF NOT EXISTS response_campaign_idx ON response (campaign)")
            await run("CREATE INDEX IF NOT EXISTS response_answer_comment_idx ON response_answer (campaign) WHERE comment <> ''")

    async def undo():
        run = engine_finder().run_ddl
        await run("DROP INDEX IF EXISTS response_campaign_idx")
        await run("DROP INDEX IF EXISTS response_answer_comment_idx")
        await run("DROP INDEX IF EXISTS response_answer_campaign_idx")
        await run(
            "CREATE INDEX IF NOT EXISTS response_answer_campaign_idx ON response_answer "
            "(campaign, practice_key, campaign_group, response, answer, level, importance)"
        )

    manager.add_raw(backfill_answer_codes)
    manager.add_raw(indexes)
    manager.add_raw_backwards(undo)
    return manager
