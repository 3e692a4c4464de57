"""What-if for the analytics owner: two changes that would bring the campaign compute under budget.

Benchmark (a) shows that the analytics chain, not the read, dominates the
end-to-end time. Two spots account for most of it (docs/performance.md):

1. ``describe`` sorts the whole frame on ``[*by, "response_id", "practice_key"]``
   (a string sort of 400 000 rows) so that floating-point sums do not depend on
   the input order. The sort is not needed when the statistics are computed
   from **exact integer sums** (levels and importance are small integers):
   mean = Σx / n, sample variance = (n·Σx² − (Σx)²) / (n(n − 1)), median of
   integers — all independent of row order by construction, bit for bit.
   When ``by`` contains ``practice_key``, ``n`` (distinct responses with a
   level) is simply the number of level rows, since ``validate_responses``
   already guarantees one row per response × practice.
2. ``validate_responses`` runs 5 times on the same frame in one page
   (group_counts, describe ×2, theme_stats ×2).

This module does NOT change ``analytics/``: ``patched()`` swaps in
``describe_exact`` and a validate-once cache for the duration of a ``with``
block, so ``python -m bench.compute_whatif`` can time the same chain both
ways and check that the published figures agree (counts exactly, floats to
1e-12) and that the patched output is bit-identical for shuffled input.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid
from collections.abc import Iterator, Sequence

import polars as pl

import analytics.stats as stats
import analytics.suppression as suppression
from analytics.frames import ANSWER_DONT_KNOW, ANSWER_LEVEL, ANSWER_NOT_CONCERNED, LEVELS


def describe_exact(responses: pl.DataFrame, *, by: Sequence[str], confidence: float = 0.95) -> pl.DataFrame:
    """Same output as ``analytics.stats.describe``, without sorting, from exact integer sums."""
    df = stats.validate_responses(responses)
    by = list(by)
    stats.require_columns(df, by, "responses")
    is_level = pl.col("answer") == ANSWER_LEVEL
    x = pl.col("level").cast(pl.Int64)
    imp = pl.col("importance").cast(pl.Int64)
    n_expr = (
        is_level.sum() if "practice_key" in by else pl.col("response_id").filter(is_level).n_unique()
    ).cast(pl.Int64)
    aggs = [
        n_expr.alias("n"),
        pl.col("level").count().cast(pl.Int64).alias("n_obs"),
        pl.len().cast(pl.Int64).alias("n_answers"),
        (pl.col("answer") == ANSWER_DONT_KNOW).sum().cast(pl.Int64).alias("n_dont_know"),
        (pl.col("answer") == ANSWER_NOT_CONCERNED).sum().cast(pl.Int64).alias("n_not_concerned"),
        x.sum().alias("_s1"),
        (x * x).sum().alias("_s2"),
        pl.col("level").cast(pl.Float64).median().alias("median"),
        *[(pl.col("level") == k).sum().cast(pl.Int64).alias(f"level_{k}") for k in LEVELS],
        imp.sum().alias("_is"),
        pl.col("importance").count().cast(pl.Int64).alias("n_importance"),
    ]
    out = df.group_by(by).agg(aggs) if by else df.select(aggs)
    n = pl.col("n_obs")
    out = out.with_columns(
        mean=pl.when(n > 0).then(pl.col("_s1") / n),
        std=pl.when(n >= 2).then(
            ((n * pl.col("_s2") - pl.col("_s1") * pl.col("_s1")) / (n * (n - 1))).clip(lower_bound=0).sqrt()
        ),
        mean_importance=pl.when(pl.col("n_importance") > 0).then(pl.col("_is") / pl.col("n_importance")),
        dont_know_share=pl.when(pl.col("n_answers") > 0).then(pl.col("n_dont_know") / pl.col("n_answers")),
    )
    out = stats._add_ci_and_rwg(out, n_col="n_obs", mean_col="mean", std_col="std", confidence=confidence)
    out = out.select(*by, *stats.DESCRIBE_COLUMNS)
    return out.sort(by) if by else out


@contextlib.contextmanager
def patched() -> Iterator[None]:
    """Use ``describe_exact`` and validate each responses frame once, inside the block."""
    original_validate = stats.validate_responses
    original_describe = (stats.describe, suppression.describe)
    cache: dict[int, tuple[pl.DataFrame, pl.DataFrame]] = {}

    def validate_once(df: pl.DataFrame) -> pl.DataFrame:
        hit = cache.get(id(df))
        if hit is not None and hit[0] is df:
            return hit[1]
        out = original_validate(df)
        cache[id(df)] = (df, out)
        cache[id(out)] = (out, out)
        return out

    stats.validate_responses = validate_once
    stats.describe = suppression.describe = describe_exact
    try:
        yield
    finally:
        stats.validate_responses = original_validate
        stats.describe, suppression.describe = original_describe


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    from polars.testing import assert_frame_equal

    assert_frame_equal(a, b, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)


def main(argv: list[str] | None = None) -> int:
    from bench.campaign_analysis import analysis_chain
    from bench.common import Timing, fmt_ms, markdown_table
    from bench.datagen import generate_campaign, generate_self_answers, practices_frame

    p = argparse.ArgumentParser(prog="python -m bench.compute_whatif", description=__doc__.split("\n\n")[0])
    p.add_argument("--responses", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args(argv)

    practices = practices_frame()
    keys = practices["practice_key"].to_list()
    campaign = generate_campaign(args.responses, organisation_id=uuid.UUID(int=0x5EED, version=4), practice_keys=keys)
    responses, groups = campaign.expected_responses_frame(), campaign.groups_frame()
    self_answers = generate_self_answers(keys)

    # Same published figures (and deterministic under shuffling) before timing anything.
    base = analysis_chain(responses, groups, self_answers, practices)
    with patched():
        new = analysis_chain(responses, groups, self_answers, practices)
        shuffled = analysis_chain(responses.sample(fraction=1.0, shuffle=True, seed=3), groups, self_answers, practices)
    for attr in ("total", "by_group", "groups"):
        _same(getattr(base["published"], attr), getattr(new["published"], attr))
        assert getattr(new["published"], attr).equals(getattr(shuffled["published"], attr)), attr
    for key in ("compare", "priorities", "materiality", "themes_by_group", "themes_total"):
        _same(base[key], new[key])

    def timed(patch: bool) -> Timing:
        samples = []
        for i in range(args.runs + 2):
            with patched() if patch else contextlib.nullcontext():
                t0 = time.perf_counter()
                analysis_chain(responses, groups, self_answers, practices)
                dt = (time.perf_counter() - t0) * 1000
            if i >= 2:
                samples.append(dt)
        return Timing("patched" if patch else "current", tuple(samples))

    rows = []
    for label, patch in (("analytics/ as it is", False), ("with describe_exact + validate once", True)):
        t = timed(patch)
        rows.append([label, fmt_ms(t.median), fmt_ms(t.p95), fmt_ms(t.minimum), t.runs])
    print(f"### Analytics chain, {args.responses} responses × 40 practices (figures checked equal)\n")
    print(markdown_table(["analytics", "median ms", "p95 ms", "min ms", "runs"], rows, "lrrrr"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
