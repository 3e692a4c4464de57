"""Benchmark (a): the full analysis of one campaign, including the read from the database.

    .venv/bin/python -m bench.campaign_analysis --engine sqlite --responses 10000
    .venv/bin/python -m bench.campaign_analysis --engine postgres --responses 10000

What it does (docs/performance.md explains the figures):

1. creates a scratch database (a temporary SQLite file, or the PostgreSQL
   database ``essp_bench``, dropped at the end) and runs the real migrations
   (``python -m api.cli migrate``);
2. generates one campaign of ``--responses`` responses × 40 practices, plus
   ``--other-campaigns`` smaller campaigns so that the query has to pick its
   rows out of a shared table, and bulk-loads them (executemany / COPY);
3. checks that every read path returns exactly the generated answers, as
   RESPONSES_SCHEMA;
4. times each read path (database → Polars frame), then the analytics chain
   (publish_practice_stats with threshold 5, self_view, compare, priorities,
   materiality, theme_stats per group and overall, self_theme_view), then
   the end-to-end "read with the proposed reader + compute";
5. on SQLite, adds the proposed covering index and times the SQL read paths
   again.

Timings are wall-clock, warm (data in the OS page cache / shared buffers),
inside one asyncio event loop as in the app; median and p95 over repeated runs.
The fast read paths are timed in interleaved rounds (one call of each per
round, rotated), so load from other processes hits them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import scratch_db
from bench.common import Timing, facts_line, fmt_ms, machine_facts, markdown_table, now_ms, time_async

TARGET_MS = 150.0
# The application's reader: one packed row per response, unpacked in Polars (consultations/answer_codes.py).
PACKED = "(5) packed rows (1 per response), ADBC + decode — the app's reader"
# The existing response_answer_campaign_idx (campaign, practice_key), extended into a covering index.
COVERING_INDEX = (
    "DROP INDEX IF EXISTS response_answer_campaign_idx",
    "CREATE INDEX response_answer_campaign_idx ON response_answer "
    "(campaign, practice_key, campaign_group, response, answer, level, importance)",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.campaign_analysis", description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--responses", type=int, default=10_000, help="responses in the analysed campaign")
    p.add_argument("--other-campaigns", type=int, default=3, help="other campaigns in the same tables")
    p.add_argument("--other-responses", type=int, default=2_000, help="responses in each other campaign")
    p.add_argument("--runs", type=int, default=20, help="measured runs per step (after 2 warm-up runs)")
    p.add_argument("--max-seconds", type=float, default=15.0, help="time budget per step (min 5 runs)")
    p.add_argument("--pg-admin-dsn", default=scratch_db.DEFAULT_PG_ADMIN_DSN)
    p.add_argument("--pg-database", default=scratch_db.DEFAULT_PG_DATABASE)
    p.add_argument("--skip-orm", action="store_true", help="skip the (slow) ORM read paths")
    p.add_argument("--quick", action="store_true", help="only the app's reader, the chain and the results page")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    p.add_argument("--json", type=Path, help="also write the raw samples here")
    return p.parse_args(argv)


def _sorted(df):
    return df.sort("response_id", "practice_key")


def _check(name: str, got, expected) -> None:
    import polars as pl

    from analytics.frames import RESPONSE_KEY_COLUMNS, RESPONSES_SCHEMA

    # Key columns may come as Categorical (the app's reader): compare their values as String.
    got = got.with_columns(pl.col(c).cast(pl.String) for c in RESPONSE_KEY_COLUMNS if isinstance(got.schema[c], pl.Categorical))
    if dict(got.schema) != dict(RESPONSES_SCHEMA):
        raise AssertionError(f"{name}: schema {dict(got.schema)} != RESPONSES_SCHEMA")
    if not _sorted(got).equals(_sorted(expected)):
        raise AssertionError(f"{name}: rows differ from the generated answers")


def analysis_chain(responses, groups, self_answers, practices) -> dict:
    """The computations behind the campaign results pages (docs/analytics.md)."""
    import analytics as an

    pub = an.publish_practice_stats(responses, threshold=5, groups=groups)
    me = an.self_view(self_answers)
    cmp = an.compare(me, pub.total)
    prio = an.priorities(cmp, pub.by_group, groups)
    matrix = an.materiality(me, pub.by_group, groups)
    # As the app (consultations/results.py): the theme respondent count is not shown, so not computed.
    themes_by_group = an.theme_stats(responses, practices, by=["group_id"], practice_stats=pub.by_group, count_respondents=False)
    themes_total = an.theme_stats(responses, practices, practice_stats=pub.total, count_respondents=False)
    self_themes = an.self_theme_view(me, practices)
    return {
        "published": pub,
        "compare": cmp,
        "priorities": prio,
        "materiality": matrix,
        "themes_by_group": themes_by_group,
        "themes_total": themes_total,
        "self_themes": self_themes,
    }


async def _measure(name: str, fn: Callable[[], Awaitable[object]], args: argparse.Namespace) -> Timing:
    samples = await time_async(fn, runs=args.runs, max_seconds=args.max_seconds)
    t = Timing(name, tuple(samples))
    print(f"  {name}: median {fmt_ms(t.median)} ms, p95 {fmt_ms(t.p95)} ms ({t.runs} runs)", file=sys.stderr)
    return t


async def _measure_interleaved(
    paths: list[tuple[str, Callable]], cid, args: argparse.Namespace
) -> dict[str, Timing]:
    """Time several read paths in rotated rounds (one call each per round), so that load
    from other processes during the run affects them alike."""
    for _, fn in paths:
        for _ in range(2):
            await fn(cid)
    samples: dict[str, list[float]] = {name: [] for name, _ in paths}
    started = time.perf_counter()
    for round_ in range(args.runs):
        k = round_ % len(paths)
        for name, fn in paths[k:] + paths[:k]:
            t0 = now_ms()
            await fn(cid)
            samples[name].append(now_ms() - t0)
        if round_ + 1 >= 5 and time.perf_counter() - started > args.max_seconds * len(paths):
            break
    out = {name: Timing(name, tuple(xs)) for name, xs in samples.items()}
    for t in out.values():
        print(f"  {t.name}: median {fmt_ms(t.median)} ms, p95 {fmt_ms(t.p95)} ms ({t.runs} runs)", file=sys.stderr)
    return out


async def run(args: argparse.Namespace, db: scratch_db.ScratchDB, campaign, expected, self_answers, practices) -> dict:
    # Imported only now: DATABASE_URL is set, Piccolo binds its engine at import.
    from api.db import close_pool, engine, start_pool
    from bench import readers
    from consultations import results as app_results

    cid = campaign.campaign_id
    results: dict = {"read": {}, "read_indexed": {}}
    await start_pool()  # as the app's lifespan does (PostgreSQL pool; no-op on SQLite)
    try:
        await scratch_db.add_self_diagnosis(campaign.organisation_id, self_answers, campaign.practice_keys)
        paths: list[tuple[str, Callable]] = []
        if not args.skip_orm:
            paths += [
                ("(1) Piccolo ORM select → lists of str → pl.DataFrame", readers.orm_rows_frame),
                ("(1b) Piccolo ORM select, UUIDs cast to text in SQL → pl.DataFrame(rows)", readers.orm_cast_frame),
            ]
        if db.engine == "sqlite":
            paths += [
                ("(3) sqlite3 fetchall (thread) → pl.DataFrame(rows)", readers.sqlite3_rows_frame),
                ("(2) pl.read_database_uri(engine=\"adbc\") (thread)", readers.adbc_uri_frame),
                ("(2b) ADBC, 1 connection (thread)", readers.adbc_single_frame),
                ("(4) ADBC, 2 partitions in 2 threads, one snapshot", readers.campaign_responses_frame),
                (PACKED, app_results.responses_frame),
            ]
        else:
            paths += [
                ("(3) asyncpg fetch (app pool) → pl.DataFrame(rows)", readers.asyncpg_fetch_frame),
                ("(3b) asyncpg COPY … TO STDOUT csv (app pool) → pl.read_csv", readers.asyncpg_copy_csv_frame),
                ("(2) pl.read_database_uri(engine=\"adbc\") (thread)", readers.adbc_uri_frame),
                ("(2b) ADBC, 1 pooled connection (thread)", readers.adbc_single_frame),
                ("(4) ADBC, 2 partitions in 2 threads, one snapshot", readers.campaign_responses_frame),
                (PACKED, app_results.responses_frame),
            ]
        if args.quick:
            paths = [(PACKED, app_results.responses_frame)]
        print(f"read paths ({engine().engine_type}, schema as migrated):", file=sys.stderr)
        for name, fn in paths:
            _check(name, await fn(cid), expected)
        slow = [(n, f) for n, f in paths if n.startswith("(1")]  # seconds per call: timed one after the other
        fast = [(n, f) for n, f in paths if not n.startswith("(1")]
        for name, fn in slow:
            results["read"][name] = await _measure(name, lambda fn=fn: fn(cid), args)
        results["read"].update(await _measure_interleaved(fast, cid, args))

        if db.engine == "sqlite" and not args.quick:
            t0 = time.perf_counter()
            with sqlite3.connect(db.sqlite_path, timeout=30) as conn:
                for ddl in COVERING_INDEX:
                    conn.execute(ddl)
                conn.execute("ANALYZE")
            results["index_build_s"] = time.perf_counter() - t0
            print("read paths with the proposed covering index:", file=sys.stderr)
            for name, fn in fast:  # the ORM cost is Python objects, not the index
                _check(name, await fn(cid), expected)
            results["read_indexed"] = await _measure_interleaved(fast, cid, args)

        groups = await app_results.groups_frame(cid)
        responses = await app_results.responses_frame(cid)
        out = analysis_chain(responses, groups, self_answers, practices)
        pub = out["published"]
        results["suppressed_groups"] = pub.groups.filter("suppressed").height
        results["cells"] = pub.by_group.height
        results["groups_read"] = await _measure("groups (ORM, 7 rows)", lambda: readers.campaign_groups_frame(cid), args)

        async def compute():
            analysis_chain(responses, groups, self_answers, practices)

        print("analytics chain:", file=sys.stderr)
        results["compute"] = await _measure("compute", compute, args)

        # Where the compute time goes, step by step (each step timed alone, same inputs).
        import analytics as an
        from analytics import frames

        me = out["published"], an.self_view(self_answers)
        pub, me = me
        cmp = an.compare(me, pub.total)
        steps = {
            "validate_responses (once per chain; the cache cleared first)": lambda: (
                setattr(frames, "_last_validated", None), an.validate_responses(responses)
            ),
            "describe_practices_and_cells (per practice and per practice × group, one pass)": lambda: (
                an.describe_practices_and_cells(responses)
            ),
            "group_counts": lambda: an.group_counts(responses, groups=groups),
            "publish_practice_stats (all of the above + suppression)": lambda: an.publish_practice_stats(
                responses, threshold=5, groups=groups
            ),
            "theme_stats by group + overall": lambda: (
                an.theme_stats(responses, practices, by=["group_id"], practice_stats=pub.by_group, count_respondents=False),
                an.theme_stats(responses, practices, practice_stats=pub.total, count_respondents=False),
            ),
            "self_view + compare + priorities + materiality + self_theme_view": lambda: (
                an.compare(an.self_view(self_answers), pub.total),
                an.priorities(cmp, pub.by_group, groups),
                an.materiality(me, pub.by_group, groups),
                an.self_theme_view(me, practices),
            ),
        }
        results["compute_steps"] = {}
        for name, fn in steps.items():
            async def step(fn=fn):
                fn()

            results["compute_steps"][name] = await _measure(name, step, argparse.Namespace(**{**vars(args), "runs": 10}))

        # End to end: read (the app's reader) + groups + compute.
        read_s, compute_s, total_s = [], [], []

        async def end_to_end():
            t0 = now_ms()
            r = await app_results.responses_frame(cid)
            g = await app_results.groups_frame(cid)
            t1 = now_ms()
            analysis_chain(r, g, self_answers, practices)
            t2 = now_ms()
            return t1 - t0, t2 - t1, t2 - t0

        for _ in range(2):
            await end_to_end()
        started = time.perf_counter()
        while len(total_s) < args.runs and (len(total_s) < 5 or time.perf_counter() - started < args.max_seconds):
            a, b, c = await end_to_end()
            read_s.append(a)
            compute_s.append(b)
            total_s.append(c)
        results["e2e"] = {
            "read": Timing("read", tuple(read_s)),
            "compute": Timing("compute", tuple(compute_s)),
            "total": Timing("total", tuple(total_s)),
        }
        print(f"  end to end: median {fmt_ms(results['e2e']['total'].median)} ms", file=sys.stderr)
        # Everything the results page and the API show, through the application's own function:
        # campaign, responses, groups, self-diagnosis, comments, priority marks, trends, analytics.
        page = await app_results.campaign_results(organisation_id=campaign.organisation_id, campaign_id=cid)
        assert page.published and page.respondents == len(campaign.responses) and any(g["suppressed"] for g in page.groups)
        async def cold():
            app_results._FIGURES.clear()  # the campaign read and analysed from scratch, as on its first view
            return await app_results.campaign_results(organisation_id=campaign.organisation_id, campaign_id=cid)

        results["results_page"] = await _measure("campaign_results, cold (read + full analysis)", cold, args)
        results["results_page_warm"] = await _measure(
            "campaign_results, warm (published figures kept from an earlier view)",
            lambda: app_results.campaign_results(organisation_id=campaign.organisation_id, campaign_id=cid),
            args,
        )
    finally:
        readers.close_adbc_connections()
        await close_pool()
    return results


def report(args: argparse.Namespace, results: dict, facts: dict, setup: dict) -> str:
    n_rows = setup["answers"]
    lines = [
        f"### Campaign analysis — {args.engine}, {args.responses:,} responses × 40 practices = {n_rows:,} answers".replace(",", " "),
        "",
        f"Machine: {facts_line(facts)}.",
        f"Table response_answer holds {setup['table_rows']:,} rows ({args.other_campaigns} other campaigns of "
        f"{args.other_responses:,} responses). Load: {setup['load_s']:.1f} s. "
        f"Load average before/after: {setup['load_before']} / {os.getloadavg()[0]:.2f}.".replace(",", " "),
        "",
        "Read paths (database → RESPONSES_SCHEMA frame, verified equal to the generated answers):",
        "",
    ]
    rows = []
    for label, key in (("as migrated", "read"), ("+ covering index", "read_indexed")):
        for name, t in results[key].items():
            rows.append([name, label, fmt_ms(t.median), fmt_ms(t.p95), fmt_ms(t.minimum), t.runs])
    lines.append(markdown_table(["read path", "schema", "median ms", "p95 ms", "min ms", "runs"], rows, "llrrrr"))
    if "index_build_s" in results:
        lines += ["", f"Building the covering index on {setup['table_rows']:,} rows took {results['index_build_s']:.1f} s.".replace(",", " ")]
    e2e = results["e2e"]
    page = results["results_page"]
    warm = results["results_page_warm"]
    c = results["compute"]
    g = results["groups_read"]
    lines += [
        "",
        f"Analytics chain alone: median {fmt_ms(c.median)} ms, p95 {fmt_ms(c.p95)} ms ({c.runs} runs); "
        f"groups read (ORM): median {fmt_ms(g.median)} ms. "
        f"{results['suppressed_groups']} of 7 groups suppressed (primary + complementary), {results['cells']} practice × group cells.",
        "",
        "Compute, step by step (each step timed alone on the same frame):",
        "",
        markdown_table(
            ["step", "median ms", "p95 ms"],
            [[k, fmt_ms(t.median), fmt_ms(t.p95)] for k, t in results["compute_steps"].items()],
            "lrr",
        ),
        "",
        "End to end (the app's reader + groups + analytics chain), same iterations:",
        "",
        markdown_table(
            ["step", "median ms", "p95 ms", "min ms", "runs"],
            [[k, fmt_ms(t.median), fmt_ms(t.p95), fmt_ms(t.minimum), t.runs] for k, t in e2e.items()],
            "lrrrr",
        ),
        "",
        "The whole results page's data (`consultations.results.campaign_results`: campaign, responses, groups, "
        "self-diagnosis, comments, marks, trends and the analytics):",
        "",
        markdown_table(
            ["", "median ms", "p95 ms", "min ms", "runs"],
            [
                ["cold: read + full analysis (first view of a closed campaign)", fmt_ms(page.median), fmt_ms(page.p95), fmt_ms(page.minimum), page.runs],
                ["warm: published figures kept from an earlier view", fmt_ms(warm.median), fmt_ms(warm.p95), fmt_ms(warm.minimum), warm.runs],
            ],
            "lrrrr",
        ),
        "",
        f"Target < {TARGET_MS:.0f} ms for the full analysis read included (cold): "
        f"{'met' if page.median < TARGET_MS else 'NOT met'} (median {fmt_ms(page.median)} ms; "
        f"reader + groups + chain alone {fmt_ms(e2e['total'].median)} ms).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = f"{os.getloadavg()[0]:.2f}"
    db = scratch_db.create(args.engine, pg_admin_dsn=args.pg_admin_dsn, pg_database=args.pg_database, keep=args.keep)
    try:
        os.environ.update(db.env)
        from bench.datagen import generate_campaign, generate_self_answers, practices_frame

        practices = practices_frame()
        keys = practices["practice_key"].to_list()
        org = uuid.UUID(int=0x5EED, version=4)
        t0 = time.perf_counter()
        campaign = generate_campaign(args.responses, organisation_id=org, practice_keys=keys, seed=7)
        others = [
            generate_campaign(args.other_responses, organisation_id=uuid.UUID(int=0x5EED + 1 + i, version=4), practice_keys=keys,
                              seed=100 + i, title=f"Autre {i}")
            for i in range(args.other_campaigns)
        ]
        gen_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        if db.engine == "sqlite":
            scratch_db.load_sqlite(db.sqlite_path, [campaign, *others])
            pg_version = None
        else:
            asyncio.run(scratch_db.load_postgres(db.database_url, [campaign, *others]))
            pg_version = asyncio.run(scratch_db.postgres_version(db.database_url))
        load_s = time.perf_counter() - t0
        setup = {
            "answers": len(campaign.answers),
            "table_rows": len(campaign.answers) + sum(len(o.answers) for o in others),
            "generate_s": gen_s,
            "load_s": load_s,
            "load_before": load_before,
        }
        print(f"generated in {gen_s:.1f} s, loaded in {load_s:.1f} s ({db.database_url})", file=sys.stderr)
        self_answers = generate_self_answers(keys)
        expected = campaign.expected_responses_frame()
        # The generated rows (about a million Python tuples) are loaded: let them go before timing.
        # A server holds no such heap, and every garbage collection would otherwise walk it.
        campaign.answers.clear()
        del others
        gc.collect()
        results = asyncio.run(run(args, db, campaign, expected, self_answers, practices))
        facts = machine_facts(postgres_version=pg_version)
        print(report(args, results, facts, setup))
        if args.json:
            def enc(o):
                if isinstance(o, Timing):
                    return {"median": o.median, "p95": o.p95, "min": o.minimum, "runs": o.runs, "samples": o.samples_ms}
                raise TypeError(type(o))

            args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "facts": facts,
                                             "setup": setup, "results": results}, default=enc, indent=1))
    finally:
        db.drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
