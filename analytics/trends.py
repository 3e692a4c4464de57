"""Theme scores across successive self-diagnoses and stakeholder campaigns.

A theme score is the unweighted mean of its practice means. Frameworks evolve
(practices added, removed, moved): the change from one period to the next is
therefore computed on the practices present in BOTH periods only (matched by
practice_key), so that adding a practice does not show up as progress or
decline. Diagnoses ("diagnostic") and stakeholder campaigns ("consultation")
are two separate series: a self-diagnosis is never compared with a
consultation.
"""

from __future__ import annotations

import polars as pl

from .frames import validate_snapshots


def theme_trend(snapshots: pl.DataFrame) -> pl.DataFrame:
    """Theme scores per period, with the change since the previous period of the same source.

    Input ``snapshots`` (SNAPSHOTS_SCHEMA): period_label String, period_order
    Int, source "diagnostic" / "consultation", practice_key, theme_key, mean
    (published practice mean; null = not available / suppressed, ignored).
    One row per (source, period_order, practice_key).

    Output, one row per (source, period, theme) with at least one mean, sorted
    by source, period_order, theme_key:
    - source, period_order Int64, period_label, theme_key;
    - ``score`` Float64: mean of the period's practice means in the theme;
    - ``n_practices`` Int64: practices counted in ``score``;
    - ``previous_period_label`` String: previous period of the same source (null for the first);
    - ``n_matched`` Int64: practices of this theme (in this period) that also
      have a mean in the previous period;
    - ``delta`` Float64: mean over matched practices now − mean over the same
      practices in the previous period (null when nothing matches). A practice
      that moved theme is matched by key and counted in its current theme.
    """
    df = (
        validate_snapshots(snapshots)
        .filter(pl.col("mean").is_not_null() & pl.col("mean").is_not_nan())
        .sort("source", "period_order", "practice_key")
    )
    periods = (
        df.select("source", "period_order", "period_label")
        .unique()
        .sort("source", "period_order")
        .with_columns(
            prev_order=pl.col("period_order").shift(1).over("source", order_by="period_order"),
            previous_period_label=pl.col("period_label").shift(1).over("source", order_by="period_order"),
        )
    )
    scores = df.group_by("source", "period_order", "period_label", "theme_key").agg(
        score=pl.col("mean").mean(), n_practices=pl.len().cast(pl.Int64)
    )
    cur = df.join(periods.select("source", "period_order", "prev_order"), on=["source", "period_order"], how="left")
    prev = df.select(
        "source",
        pl.col("period_order").alias("prev_order"),
        "practice_key",
        pl.col("mean").alias("prev_mean"),
    )
    matched = (
        cur.join(prev, on=["source", "prev_order", "practice_key"], how="inner")
        .sort("source", "period_order", "practice_key")
        .group_by("source", "period_order", "theme_key")
        .agg(
            n_matched=pl.len().cast(pl.Int64),
            delta=pl.col("mean").mean() - pl.col("prev_mean").mean(),
        )
    )
    out = (
        scores.join(periods.select("source", "period_order", "previous_period_label"), on=["source", "period_order"], how="left")
        .join(matched, on=["source", "period_order", "theme_key"], how="left")
        .with_columns(
            pl.col("period_order").cast(pl.Int64),
            n_matched=pl.when(pl.col("previous_period_label").is_not_null()).then(pl.col("n_matched").fill_null(0)),
        )
        .select(
            "source",
            "period_order",
            "period_label",
            "theme_key",
            "score",
            "n_practices",
            "previous_period_label",
            "n_matched",
            "delta",
        )
    )
    return out.sort("source", "period_order", "theme_key")


__all__ = ["theme_trend"]
