"""Benchmark (b): network-wide aggregation, Polars against DuckDB, same Parquet files, same run.

    .venv/bin/python -m bench.network_aggregation                      # 1k, 10k, 100k, 1M responses
    .venv/bin/python -m bench.network_aggregation --sizes 1000 10000   # quicker

The question a CRESS (regional chamber of the social economy) asks of the
whole network: how do organisations like mine score, by region, legal form
and theme, and how does each stakeholder category see each practice?

Data (generated once per size, cached in ``--data-dir``): ``responses`` answers
× 40 practices, in ``responses / 100`` campaigns (one organisation each; sizes
skewed, from a handful to ~1 % of all responses), 7 stakeholder groups per
campaign; Parquet, zstd:

* ``answers/part-*.parquet`` — response_id Int32, campaign_id Int32,
  group_id Int32, practice_id Int16, answer String (level | dont_know |
  not_concerned), level Int8 (null unless answer = level), importance Int8;
* ``campaigns.parquet`` — campaign_id, region (18), legal_form (5);
* ``groups.parquet`` — group_id, campaign_id, category (7 stakeholder categories);
* ``practices.parquet`` — practice_id, practice_key, theme_key (8 themes).

Aggregations (identical definitions in Polars and in SQL):

* **Q1 regional benchmark** — per region × legal_form × theme: n_campaigns
  (distinct campaigns), n_respondents (distinct responses that gave a level),
  n_answers, n_levels, mean_level, dont_know_share; mean_level and
  dont_know_share are published only when n_campaigns ≥ 5 (else null), so no
  single organisation can be singled out.
* **Q2 practice × stakeholder category** — per practice_key × category:
  n_campaigns, n_answers, n_levels, mean_level, mean_importance,
  dont_know_share (same ≥ 5 campaigns rule).

Each (engine, query, size) runs in a fresh subprocess, which reports its own
peak RSS (VmHWM of /proc/self/status, Linux; see ``_proc_status_mb`` for why
not ru_maxrss), so runs do not mask each other. The
results of all engines are compared (keys and counts exactly, means to 1e-9
relative) before any figure is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import fmt_ms, markdown_table

DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
RESPONSES_PER_CAMPAIGN = 100
RESPONSES_PER_FILE = 100_000
MIN_CAMPAIGNS_PUBLISHED = 5
ENGINES = ("duckdb", "polars-streaming", "polars-in-memory")
QUERIES = ("q1_region_form_theme", "q2_practice_category")
MEMORY_TARGET_MB = 3 * 1024

# --------------------------------------------------------------------------
# The two aggregations, in SQL (DuckDB)
# --------------------------------------------------------------------------

SQL = {
    "q1_region_form_theme": """
        WITH cells AS (
            SELECT c.region, c.legal_form, p.theme_key,
                   count(DISTINCT a.campaign_id) AS n_campaigns,
                   count(DISTINCT a.response_id) FILTER (WHERE a.level IS NOT NULL) AS n_respondents,
                   count(*) AS n_answers,
                   count(a.level) AS n_levels,
                   avg(a.level) AS mean_level,
                   count(*) FILTER (WHERE a.answer = 'dont_know') AS n_dont_know
            FROM read_parquet('{answers}') a
            JOIN read_parquet('{campaigns}') c USING (campaign_id)
            JOIN read_parquet('{practices}') p USING (practice_id)
            GROUP BY c.region, c.legal_form, p.theme_key
        )
        SELECT region, legal_form, theme_key, n_campaigns, n_respondents, n_answers, n_levels,
               CASE WHEN n_campaigns >= {min_campaigns} THEN mean_level END AS mean_level,
               CASE WHEN n_campaigns >= {min_campaigns} THEN n_dont_know / n_answers END AS dont_know_share
        FROM cells
        ORDER BY region, legal_form, theme_key
    """,
    "q2_practice_category": """
        WITH cells AS (
            SELECT p.practice_key, g.category,
                   count(DISTINCT a.campaign_id) AS n_campaigns,
                   count(*) AS n_answers,
                   count(a.level) AS n_levels,
                   avg(a.level) AS mean_level,
                   avg(a.importance) AS mean_importance,
                   count(*) FILTER (WHERE a.answer = 'dont_know') AS n_dont_know
            FROM read_parquet('{answers}') a
            JOIN read_parquet('{groups}') g USING (group_id)
            JOIN read_parquet('{practices}') p USING (practice_id)
            GROUP BY p.practice_key, g.category
        )
        SELECT practice_key, category, n_campaigns, n_answers, n_levels,
               CASE WHEN n_campaigns >= {min_campaigns} THEN mean_level END AS mean_level,
               CASE WHEN n_campaigns >= {min_campaigns} THEN mean_importance END AS mean_importance,
               CASE WHEN n_campaigns >= {min_campaigns} THEN n_dont_know / n_answers END AS dont_know_share
        FROM cells
        ORDER BY practice_key, category
    """,
}

# The same results, computed in two stages: first per campaign on integer keys
# (a response belongs to one campaign, so distinct counts per campaign add up),
# then per published cell after joining the small dimension tables. Exact: the
# means are integer sums divided by counts, as avg() does on integers.
SQL_TWO_STAGE = {
    "q1_region_form_theme": """
        WITH practices AS (
            SELECT practice_id, theme_key, dense_rank() OVER (ORDER BY theme_key)::SMALLINT AS theme_id
            FROM read_parquet('{practices}')
        ), themes AS (
            SELECT DISTINCT theme_id, theme_key FROM practices
        ), per_campaign AS (
            SELECT a.campaign_id, p.theme_id,
                   count(DISTINCT a.response_id) FILTER (WHERE a.level IS NOT NULL) AS n_respondents,
                   count(*) AS n_answers,
                   count(a.level) AS n_levels,
                   sum(a.level) AS sum_level,
                   count(*) FILTER (WHERE a.answer = 'dont_know') AS n_dont_know
            FROM read_parquet('{answers}') a
            JOIN practices p USING (practice_id)
            GROUP BY a.campaign_id, p.theme_id
        ), cells AS (
            SELECT c.region, c.legal_form, t.theme_key,
                   count(*) AS n_campaigns,
                   sum(n_respondents)::BIGINT AS n_respondents,
                   sum(n_answers)::BIGINT AS n_answers,
                   sum(n_levels)::BIGINT AS n_levels,
                   sum(sum_level)::BIGINT AS sum_level,
                   sum(n_dont_know)::BIGINT AS n_dont_know
            FROM per_campaign pc
            JOIN read_parquet('{campaigns}') c USING (campaign_id)
            JOIN themes t USING (theme_id)
            GROUP BY c.region, c.legal_form, t.theme_key
        )
        SELECT region, legal_form, theme_key, n_campaigns, n_respondents, n_answers, n_levels,
               CASE WHEN n_campaigns >= {min_campaigns} THEN sum_level / n_levels END AS mean_level,
               CASE WHEN n_campaigns >= {min_campaigns} THEN n_dont_know / n_answers END AS dont_know_share
        FROM cells
        ORDER BY region, legal_form, theme_key
    """,
    "q2_practice_category": """
        WITH groups AS (
            SELECT group_id, category, dense_rank() OVER (ORDER BY category)::SMALLINT AS category_id
            FROM read_parquet('{groups}')
        ), categories AS (
            SELECT DISTINCT category_id, category FROM groups
        ), per_campaign AS (
            SELECT a.campaign_id, g.category_id, a.practice_id,
                   count(*) AS n_answers,
                   count(a.level) AS n_levels,
                   sum(a.level) AS sum_level,
                   count(a.importance) AS n_importance,
                   sum(a.importance) AS sum_importance,
                   count(*) FILTER (WHERE a.answer = 'dont_know') AS n_dont_know
            FROM read_parquet('{answers}') a
            JOIN groups g USING (group_id)
            GROUP BY a.campaign_id, g.category_id, a.practice_id
        ), cells AS (
            SELECT p.practice_key, k.category,
                   count(*) AS n_campaigns,
                   sum(n_answers)::BIGINT AS n_answers,
                   sum(n_levels)::BIGINT AS n_levels,
                   sum(sum_level)::BIGINT AS sum_level,
                   sum(n_importance)::BIGINT AS n_importance,
                   sum(sum_importance)::BIGINT AS sum_importance,
                   sum(n_dont_know)::BIGINT AS n_dont_know
            FROM per_campaign pc
            JOIN read_parquet('{practices}') p USING (practice_id)
            JOIN categories k USING (category_id)
            GROUP BY p.practice_key, k.category
        )
        SELECT practice_key, category, n_campaigns, n_answers, n_levels,
               CASE WHEN n_campaigns >= {min_campaigns} THEN sum_level / n_levels END AS mean_level,
               CASE WHEN n_campaigns >= {min_campaigns} THEN sum_importance / n_importance END AS mean_importance,
               CASE WHEN n_campaigns >= {min_campaigns} THEN n_dont_know / n_answers END AS dont_know_share
        FROM cells
        ORDER BY practice_key, category
    """,
}
FORMULATIONS = ("direct", "two-stage")

KEYS = {"q1_region_form_theme": ["region", "legal_form", "theme_key"], "q2_practice_category": ["practice_key", "category"]}


def _paths(data: Path) -> dict[str, str]:
    return {
        "answers": str(data / "answers" / "*.parquet"),
        "campaigns": str(data / "campaigns.parquet"),
        "groups": str(data / "groups.parquet"),
        "practices": str(data / "practices.parquet"),
    }


# --------------------------------------------------------------------------
# The same aggregations in Polars (lazy)
# --------------------------------------------------------------------------


def polars_query(name: str, data: Path):
    import polars as pl

    p = _paths(data)
    answers = pl.scan_parquet(p["answers"])
    practices = pl.scan_parquet(p["practices"])
    published = pl.col("n_campaigns") >= MIN_CAMPAIGNS_PUBLISHED
    dont_know = (pl.col("answer") == "dont_know").sum().cast(pl.Int64).alias("n_dont_know")
    if name == "q1_region_form_theme":
        keys = KEYS[name]
        cells = (
            answers.select("campaign_id", "response_id", "practice_id", "answer", "level")
            .join(pl.scan_parquet(p["campaigns"]), on="campaign_id")
            .join(practices.select("practice_id", "theme_key"), on="practice_id")
            .group_by(keys)
            .agg(
                n_campaigns=pl.col("campaign_id").n_unique().cast(pl.Int64),
                n_respondents=pl.col("response_id").filter(pl.col("level").is_not_null()).n_unique().cast(pl.Int64),
                n_answers=pl.len().cast(pl.Int64),
                n_levels=pl.col("level").count().cast(pl.Int64),
                mean_level=pl.col("level").mean(),
                n_dont_know=dont_know,
            )
        )
        return (
            cells.with_columns(
                mean_level=pl.when(published).then(pl.col("mean_level")),
                dont_know_share=pl.when(published).then(pl.col("n_dont_know") / pl.col("n_answers")),
            )
            .select(*keys, "n_campaigns", "n_respondents", "n_answers", "n_levels", "mean_level", "dont_know_share")
            .sort(keys)
        )
    if name == "q2_practice_category":
        keys = KEYS[name]
        cells = (
            answers.select("campaign_id", "group_id", "practice_id", "answer", "level", "importance")
            .join(pl.scan_parquet(p["groups"]).select("group_id", "category"), on="group_id")
            .join(practices.select("practice_id", "practice_key"), on="practice_id")
            .group_by(keys)
            .agg(
                n_campaigns=pl.col("campaign_id").n_unique().cast(pl.Int64),
                n_answers=pl.len().cast(pl.Int64),
                n_levels=pl.col("level").count().cast(pl.Int64),
                mean_level=pl.col("level").mean(),
                mean_importance=pl.col("importance").mean(),
                n_dont_know=dont_know,
            )
        )
        return (
            cells.with_columns(
                mean_level=pl.when(published).then(pl.col("mean_level")),
                mean_importance=pl.when(published).then(pl.col("mean_importance")),
                dont_know_share=pl.when(published).then(pl.col("n_dont_know") / pl.col("n_answers")),
            )
            .select(*keys, "n_campaigns", "n_answers", "n_levels", "mean_level", "mean_importance", "dont_know_share")
            .sort(keys)
        )
    raise ValueError(name)


def polars_query_two_stage(name: str, data: Path):
    """``polars_query`` computed in two stages, written the way Polars runs fastest.

    Same results as SQL_TWO_STAGE (asserted), but the first stage groups on ONE
    packed Int64 key instead of several columns: Polars' streaming group-by
    hashes a single integer column much faster than a multi-column key (400 ms
    instead of 850 ms for 40M rows on the reference machine). DuckDB gains
    nothing from packing (tested: 1.80 s packed vs 1.76 s), so its SQL keeps
    plain keys.

    * Q1: key = campaign_id × 256 + theme_id (theme_id looked up from
      practice_id through a dense lookup array), then campaigns and themes joined on
      the ~80 000 per-campaign rows.
    * Q2: one stage on key = category_id × 65 536 + practice_id, the category
      looked up from group_id through a dense array (280 keys); n_campaigns is
      a distinct count of campaign_id per key (see the comment below).
    """
    import polars as pl

    p = _paths(data)
    answers = pl.scan_parquet(p["answers"])
    published = pl.col("n_campaigns") >= MIN_CAMPAIGNS_PUBLISHED
    dont_know = (pl.col("answer") == "dont_know").sum().cast(pl.Int64).alias("n_dont_know")
    keys = KEYS[name]
    if name == "q1_region_form_theme":
        prac = pl.read_parquet(p["practices"]).with_columns(theme_id=pl.col("theme_key").rank("dense").cast(pl.Int64))
        themes = prac.select("theme_id", "theme_key").unique().lazy()
        # practice_id → theme_id as a dense lookup array (ids are small integers): a gather
        # streams; replace_strict was 2-3× slower here.
        lookup = [None] * (int(prac["practice_id"].max()) + 1)
        for pid, tid in prac.select("practice_id", "theme_id").iter_rows():
            lookup[pid] = tid
        theme_of = pl.lit(pl.Series(lookup, dtype=pl.Int64)).gather(pl.col("practice_id"))
        per_campaign = (
            answers.select("campaign_id", "response_id", "practice_id", "answer", "level")
            .group_by((pl.col("campaign_id").cast(pl.Int64) * 256 + theme_of).alias("_k"))
            .agg(
                n_respondents=pl.col("response_id").filter(pl.col("level").is_not_null()).n_unique().cast(pl.Int64),
                n_answers=pl.len().cast(pl.Int64),
                n_levels=pl.col("level").count().cast(pl.Int64),
                sum_level=pl.col("level").cast(pl.Int64).sum(),
                n_dont_know=dont_know,
            )
            .with_columns(campaign_id=(pl.col("_k") // 256).cast(pl.Int32), theme_id=pl.col("_k") % 256)
        )
        sums = ["n_respondents", "n_answers", "n_levels", "sum_level", "n_dont_know"]
        cells = (
            per_campaign.join(pl.scan_parquet(p["campaigns"]), on="campaign_id")
            .join(themes, on="theme_id")
            .group_by(keys)
            .agg(pl.len().cast(pl.Int64).alias("n_campaigns"), *[pl.col(c).sum() for c in sums])
        )
        return (
            cells.with_columns(
                mean_level=pl.when(published).then(pl.col("sum_level") / pl.col("n_levels")),
                dont_know_share=pl.when(published).then(pl.col("n_dont_know") / pl.col("n_answers")),
            )
            .select(*keys, "n_campaigns", "n_respondents", "n_answers", "n_levels", "mean_level", "dont_know_share")
            .sort(keys)
        )
    if name == "q2_practice_category":
        # One pass on a small key: group_id → category looked up through a dense array (a gather
        # streams), so the group-by has 7 × 40 keys instead of 70 000 groups × 40 practices in a
        # first stage (a group belongs to one campaign and one category); n_campaigns is a
        # distinct count of campaign_id per key. 1.5× faster than the group-level first stage
        # (3.55 s → 2.35 s at 1M responses, same machine and run), and it grows linearly.
        groups = pl.read_parquet(p["groups"]).select("group_id", "category")
        categories = groups.select("category").unique().sort("category").with_row_index("category_id")
        groups = groups.join(categories, on="category")
        lookup = [None] * (int(groups["group_id"].max()) + 1)
        for gid, cid in groups.select("group_id", "category_id").iter_rows():
            lookup[gid] = cid
        category_of = pl.lit(pl.Series(lookup, dtype=pl.Int64)).gather(pl.col("group_id"))
        cells = (
            answers.select("campaign_id", "group_id", "practice_id", "answer", "level", "importance")
            .group_by((category_of * 65_536 + pl.col("practice_id").cast(pl.Int64)).alias("_k"))
            .agg(
                n_campaigns=pl.col("campaign_id").n_unique().cast(pl.Int64),
                n_answers=pl.len().cast(pl.Int64),
                n_levels=pl.col("level").count().cast(pl.Int64),
                sum_level=pl.col("level").cast(pl.Int64).sum(),
                n_importance=pl.col("importance").count().cast(pl.Int64),
                sum_importance=pl.col("importance").cast(pl.Int64).sum(),
                n_dont_know=dont_know,
            )
            .with_columns(
                category_id=(pl.col("_k") // 65_536).cast(pl.UInt32), practice_id=(pl.col("_k") % 65_536).cast(pl.Int16)
            )
            .join(categories.lazy(), on="category_id")
            .join(pl.scan_parquet(p["practices"]).select("practice_id", "practice_key"), on="practice_id")
        )
        return (
            cells.with_columns(
                mean_level=pl.when(published).then(pl.col("sum_level") / pl.col("n_levels")),
                mean_importance=pl.when(published).then(pl.col("sum_importance") / pl.col("n_importance")),
                dont_know_share=pl.when(published).then(pl.col("n_dont_know") / pl.col("n_answers")),
            )
            .select(*keys, "n_campaigns", "n_answers", "n_levels", "mean_level", "mean_importance", "dont_know_share")
            .sort(keys)
        )
    raise ValueError(name)


# --------------------------------------------------------------------------
# Data generation (vectorised, deterministic: hashes of the row index, no numpy)
# --------------------------------------------------------------------------


def _uniform(pl, index, seed: int):
    """A uniform [0, 1) draw per row, from a hash of the row's global index."""
    return (index.hash(seed) // 2048).cast(pl.Float64) / float(1 << 53)


def _normal(pl, index, seed: int):
    """≈ N(0, 1): Irwin–Hall sum of 4 uniforms, rescaled (good enough for survey answers)."""
    s = sum(_uniform(pl, index, seed + k) for k in range(4))
    return (s - 2.0) * (3.0**0.5)


def generate(n_responses: int, data: Path, *, seed: int = 2026) -> dict:
    """Write the Parquet files for ``n_responses`` responses (skipped when already there)."""
    import polars as pl

    from bench.datagen import GROUP_SPECS, practices_frame
    from organisations.validation import LEGAL_FORMS, REGIONS

    marker = data / "done.json"
    if marker.exists():
        return json.loads(marker.read_text())
    t0 = time.perf_counter()
    (data / "answers").mkdir(parents=True, exist_ok=True)
    n_campaigns = max(1, n_responses // RESPONSES_PER_CAMPAIGN)

    # Dimensions
    region_w = [12, 4, 5, 3, 1, 7, 8, 20, 5, 9, 9, 6, 7, 1, 1, 1, 1, 0.5]
    form_w = {"association": 0.62, "cooperative": 0.14, "mutuelle": 0.06, "fondation": 0.05, "entreprise_ess": 0.13}
    assert set(form_w) == set(LEGAL_FORMS), "legal forms changed in organisations.validation"
    region_shift = [((i * 37) % 11 - 5) / 25 for i in range(len(REGIONS))]
    form_shift = {"association": 0.0, "cooperative": 0.25, "mutuelle": -0.1, "fondation": 0.1, "entreprise_ess": -0.2}

    def pick(u, labels, weights):
        total = sum(weights)
        expr, acc = None, 0.0
        for label, w in zip(labels, weights, strict=True):
            acc += w / total
            cond = u < acc
            expr = pl.when(cond).then(pl.lit(label)) if expr is None else expr.when(cond).then(pl.lit(label))
        return expr.otherwise(pl.lit(labels[-1]))

    cid = pl.int_range(n_campaigns, dtype=pl.Int64)
    campaigns = pl.select(campaign_id=cid.cast(pl.Int32)).with_columns(
        region=pick(_uniform(pl, pl.col("campaign_id").cast(pl.Int64), seed + 1), list(REGIONS), region_w),
        legal_form=pick(_uniform(pl, pl.col("campaign_id").cast(pl.Int64), seed + 2), list(form_w), list(form_w.values())),
    )
    campaigns.write_parquet(data / "campaigns.parquet")
    cats = [g.category for g in GROUP_SPECS]
    groups = pl.DataFrame(
        {
            "group_id": [c * len(cats) + k for c in range(n_campaigns) for k in range(len(cats))],
            "campaign_id": [c for c in range(n_campaigns) for _ in range(len(cats))],
            "category": cats * n_campaigns,
            "weight": [g.weight for g in GROUP_SPECS] * n_campaigns,
        },
        schema={"group_id": pl.Int32, "campaign_id": pl.Int32, "category": pl.String, "weight": pl.Float64},
    )
    groups.write_parquet(data / "groups.parquet")
    prac = practices_frame()
    practices = prac.select(
        practice_id=pl.int_range(pl.len(), dtype=pl.Int16), practice_key="practice_key", theme_key="theme_key"
    )
    practices.write_parquet(data / "practices.parquet")
    n_practices = practices.height

    # Per-campaign level shift (region + legal form + organisation's own), per-practice shift.
    camp_shift = campaigns.select(
        "campaign_id",
        shift=pl.col("region").replace_strict(list(REGIONS), region_shift, return_dtype=pl.Float64)
        + pl.col("legal_form").replace_strict(list(form_shift), list(form_shift.values()), return_dtype=pl.Float64)
        + 0.35 * _normal(pl, pl.col("campaign_id").cast(pl.Int64), seed + 3),
    )
    prac_shift = practices.select(
        "practice_id",
        p_shift=0.4 * _normal(pl, pl.col("practice_id").cast(pl.Int64), seed + 4),
        p_imp=3.4 + 0.5 * _normal(pl, pl.col("practice_id").cast(pl.Int64), seed + 5),
    )
    g_mean = [g.level_mean for g in GROUP_SPECS]
    g_dk = [g.dont_know for g in GROUP_SPECS]
    g_share = [g.share for g in GROUP_SPECS]
    cum = [sum(g_share[: k + 1]) for k in range(len(g_share))]

    files = 0
    for start in range(0, n_responses, RESPONSES_PER_FILE):
        stop = min(n_responses, start + RESPONSES_PER_FILE)
        rid = pl.int_range(start, stop, dtype=pl.Int64)
        responses = pl.select(response_id=rid).with_columns(
            # skewed campaign sizes: campaign = floor(n · u²)
            campaign_id=(_uniform(pl, pl.col("response_id"), seed + 10) ** 2 * n_campaigns)
            .floor()
            .cast(pl.Int32)
            .clip(0, n_campaigns - 1),
            u_group=_uniform(pl, pl.col("response_id"), seed + 11),
            leniency=0.45 * _normal(pl, pl.col("response_id"), seed + 12),
        )
        slot = pl.lit(len(cum) - 1, dtype=pl.Int32)
        for k in range(len(cum) - 2, -1, -1):
            slot = pl.when(pl.col("u_group") < cum[k]).then(pl.lit(k, dtype=pl.Int32)).otherwise(slot)
        responses = responses.with_columns(slot=slot).with_columns(
            group_id=pl.col("campaign_id") * len(cats) + pl.col("slot"),
            g_mean=pl.col("slot").replace_strict(list(range(len(cats))), g_mean, return_dtype=pl.Float64),
            g_dk=pl.col("slot").replace_strict(list(range(len(cats))), g_dk, return_dtype=pl.Float64),
        )
        chunk = (
            responses.join(camp_shift, on="campaign_id")
            .join(prac_shift, how="cross")
            .with_columns(idx=pl.col("response_id") * n_practices + pl.col("practice_id").cast(pl.Int64))
            .with_columns(u=_uniform(pl, pl.col("idx"), seed + 20))
            .with_columns(
                answer=pl.when(pl.col("u") < pl.col("g_dk"))
                .then(pl.lit("dont_know"))
                .when(pl.col("u") < pl.col("g_dk") + 0.02)
                .then(pl.lit("not_concerned"))
                .otherwise(pl.lit("level")),
                raw_level=pl.col("g_mean") + pl.col("shift") + pl.col("p_shift") + pl.col("leniency")
                + 0.85 * _normal(pl, pl.col("idx"), seed + 21),
                raw_imp=pl.col("p_imp") + 0.9 * _normal(pl, pl.col("idx"), seed + 25),
                imp_given=_uniform(pl, pl.col("idx"), seed + 29) < 0.9,
            )
            .select(
                pl.col("response_id").cast(pl.Int32),
                "campaign_id",
                pl.col("group_id").cast(pl.Int32),
                "practice_id",
                "answer",
                level=pl.when(pl.col("answer") == "level").then(pl.col("raw_level").round().clip(1, 5).cast(pl.Int8)),
                importance=pl.when(pl.col("imp_given")).then(pl.col("raw_imp").round().clip(1, 5).cast(pl.Int8)),
            )
            .sort("campaign_id", "response_id", "practice_id")  # as an export by campaign would be
        )
        chunk.write_parquet(data / "answers" / f"part-{files:04d}.parquet", compression="zstd", row_group_size=1 << 20)
        files += 1
    info = {
        "responses": n_responses,
        "campaigns": n_campaigns,
        "answers": n_responses * n_practices,
        "files": files,
        "bytes": sum(f.stat().st_size for f in data.rglob("*.parquet")),
        "generate_s": time.perf_counter() - t0,
    }
    marker.write_text(json.dumps(info))
    return info


# --------------------------------------------------------------------------
# Worker: one engine, one query, in a fresh process
# --------------------------------------------------------------------------


def _proc_status_mb(field: str) -> float:
    """VmRSS (current) or VmHWM (peak) of this process, in MiB, from /proc/self/status.

    Not ``getrusage().ru_maxrss``: Linux carries the parent's high-water mark
    over fork + exec into the child's ru_maxrss, so a small worker started by a
    big parent would report the parent's peak. VmHWM belongs to the worker's own
    address space, created at exec.
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")


def worker(engine: str, query: str, formulation: str, data: Path, out: Path, repeat: int, threads: int | None) -> dict:
    """Run ``query`` ``repeat`` times with ``engine``; write the last result to ``out``; return timings."""
    times = []
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        baseline = _proc_status_mb("VmRSS")
        sql = (SQL if formulation == "direct" else SQL_TWO_STAGE)[query].format(
            **_paths(data), min_campaigns=MIN_CAMPAIGNS_PUBLISHED
        )
        for _ in range(repeat):
            t0 = time.perf_counter()
            con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
            times.append((time.perf_counter() - t0) * 1000)
        version = duckdb.__version__
    else:
        if threads:
            os.environ["POLARS_MAX_THREADS"] = str(threads)
        import polars as pl

        baseline = _proc_status_mb("VmRSS")
        mode = "streaming" if engine == "polars-streaming" else "in-memory"
        build = polars_query if formulation == "direct" else polars_query_two_stage
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = build(query, data).collect(engine=mode)
            result.write_parquet(out)
            times.append((time.perf_counter() - t0) * 1000)
        version = pl.__version__
    return {"times_ms": times, "baseline_rss_mb": baseline, "peak_rss_mb": _proc_status_mb("VmHWM"), "version": version}


def run_worker(engine: str, query: str, formulation: str, data: Path, out: Path, repeat: int, threads: int | None) -> dict:
    cmd = [sys.executable, "-m", "bench.network_aggregation", "--worker", engine, "--query", query,
           "--formulation", formulation,
           "--data", str(data), "--out", str(out), "--repeat", str(repeat)]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    stdout = proc.stdout.read()  # type: ignore[union-attr]
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    if proc.wait() != 0:
        raise RuntimeError(f"{engine} {query} failed ({proc.returncode}):\n{stderr.decode()}")
    return json.loads(stdout)


def _compare(name: str, frames: dict) -> None:
    """Assert that every engine produced the same result (keys/counts exact, floats to 1e-9)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    items = list(frames.items())
    ref_name, ref = items[0]
    for other_name, other in items[1:]:
        try:
            assert_frame_equal(ref, other, check_dtypes=False, check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {other_name} differs from {ref_name}: {exc}") from exc
    numeric = [c for c, t in ref.schema.items() if t.is_integer()]
    if any(ref[c].null_count() for c in numeric):
        raise AssertionError(f"{name}: null counts")
    _ = pl  # keep the import visible for readers


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.network_aggregation", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="responses (× 40 answers)")
    p.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    p.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "essp-network-data")
    p.add_argument("--repeat", type=int, default=0, help="interleaved rounds (default: 5, 3 at ≥ 1M)")
    p.add_argument("--threads", type=int, default=0, help="limit both engines to N threads (default: all cores)")
    p.add_argument("--json", type=Path, help="also write the raw figures here")
    p.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    p.add_argument("--query", choices=QUERIES, help=argparse.SUPPRESS)
    p.add_argument("--formulation", choices=FORMULATIONS, default="direct", help=argparse.SUPPRESS)
    p.add_argument("--formulations", nargs="+", default=list(FORMULATIONS), choices=FORMULATIONS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.query, args.formulation, args.data, args.out, args.repeat,
                                args.threads or None)))
        return 0

    started = time.perf_counter()
    rows, raw = [], []
    for size in args.sizes:
        data = args.data_dir / f"r{size}"
        info = generate(size, data)
        print(f"{size:>9} responses: {info['answers']:,} answers in {info['files']} file(s), "
              f"{info['bytes'] / 1e6:.1f} MB Parquet (generated in {info['generate_s']:.1f} s)", file=sys.stderr)
        repeat = args.repeat or (3 if size >= 1_000_000 else 5)
        for query in QUERIES:
            # Interleaved rounds: each round runs every variant once, in a fresh process, in a
            # rotated order, so a burst of load from elsewhere hits all engines alike.
            variants = [(engine, f) for f in args.formulations for engine in args.engines]
            runs: dict = {v: {"times_ms": [], "peak_rss_mb": 0.0, "baseline_rss_mb": 0.0} for v in variants}
            for round_ in range(repeat):
                k = round_ % len(variants)
                for engine, formulation in variants[k:] + variants[:k]:
                    out = data / f"result-{query}-{engine}-{formulation}.parquet"
                    r = run_worker(engine, query, formulation, data, out, 1, args.threads or None)
                    acc = runs[(engine, formulation)]
                    acc["times_ms"] += r["times_ms"]
                    acc["peak_rss_mb"] = max(acc["peak_rss_mb"], r["peak_rss_mb"])
                    acc["baseline_rss_mb"] = r["baseline_rss_mb"]
                    acc["version"] = r["version"]
            frames = {}
            import polars as pl

            for (engine, formulation), r in runs.items():
                label = f"{engine} ({formulation})"
                frames[label] = pl.read_parquet(data / f"result-{query}-{engine}-{formulation}.parquet")
                med = statistics.median(r["times_ms"])
                print(f"  {query} {label:30s} median {fmt_ms(med)} ms, min {fmt_ms(min(r['times_ms']))} ms, "
                      f"peak RSS {r['peak_rss_mb']:.0f} MB", file=sys.stderr)
                raw.append({"size": size, "query": query, "engine": engine, "formulation": formulation, **r,
                            "data": info})
                rows.append((size, info["answers"], query, label, med, min(r["times_ms"]), r["peak_rss_mb"],
                             r["baseline_rss_mb"], frames[label].height))
            _compare(f"{query} at {size}", frames)
            print(f"  {query}: results identical across {', '.join(frames)} "
                  f"({next(iter(frames.values())).height} rows)", file=sys.stderr)

    # Report
    table = []
    duck_times: dict = {}
    for r in rows:
        if r[3].startswith("duckdb"):
            duck_times[(r[0], r[2])] = min(duck_times.get((r[0], r[2]), float("inf")), r[4])
    prev = {}
    for size, answers, query, engine, med, mn, peak, base, _height in rows:
        d = duck_times.get((size, query))
        ratio = f"{med / d:.2f}" if d else "—"
        growth = ""
        if (engine, query) in prev:
            psize, pmed, ppeak = prev[(engine, query)]
            growth = f"×{med / pmed:.1f} time, ×{peak / ppeak:.1f} RSS for ×{size / psize:.0f} data"
        prev[(engine, query)] = (size, med, peak)
        table.append([f"{size:,}".replace(",", " "), f"{answers:,}".replace(",", " "), query, engine, fmt_ms(med),
                      fmt_ms(mn), ratio, f"{peak:.0f}", f"{base:.0f}", growth])
    print(markdown_table(
        ["responses", "answers", "query", "engine (formulation)", "median ms", "min ms", "÷ best DuckDB", "peak RSS MB",
         "RSS after import MB", "growth vs previous size"],
        table, "rrllrrrrrl",
    ))
    print()
    print(f"Results compared and equal for every size and query. Total run time {time.perf_counter() - started:.0f} s; "
          f"load average {os.getloadavg()[0]:.2f} at the end (2-core reference machine: above ~1 means other jobs ran).")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
