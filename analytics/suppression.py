"""Anonymity protection: THE one place where the minimum-respondent threshold is applied.

Why
---
Stakeholders answer anonymously, but a statistic about very few people is
not anonymous: the mean of a group of two lets each of them learn the other's
answer, and anybody who knows one of them can guess. So any figure describing
fewer than ``threshold`` people is hidden ("primary suppression",
reason ``"below_threshold"``).

Hiding a small group is not enough when an "all stakeholders" total is
published that includes it: total − (sum of the published groups) gives the
hidden group back exactly (the "subtraction" or "differencing" attack; this is
why Glint omits small groups instead of merging them). We therefore apply
**complementary suppression** (reason ``"complementary"``): among the groups
that add up to a published total, the set of hidden groups must never be a
single group, and the hidden groups together must represent at least
``threshold`` people. While that is not the case we also hide the next-smallest
published group (smallest count first, ties broken by group_id). What an
attacker can then recover by subtraction is only the pooled figure of several
groups and of at least ``threshold`` people, which is itself k-anonymous. If no
group is left to hide, the only published figure is the total, which is itself
suppressed when it covers fewer than ``threshold`` people (so when the whole
campaign has fewer than ``threshold`` respondents, everything is hidden).

The same decision is applied twice:

1. per group, on the number of respondents of the group (``group_counts``);
2. per question: within each practice, a practice × group cell where fewer
   than ``threshold`` people gave a level (1..5) is hidden too, and the
   complementary rule is applied again within that practice, on the number
   of people who gave a level (``n``) and on the number of people who
   answered at all (``n_answers``, so "don't know" counts cannot be recovered
   either). A cell of a published group where nobody gave a level (n = 0)
   is not hidden: there is no level to protect, only answer counts about a
   group that is itself published.

A hidden row keeps its keys and labels; every figure (counts, means,
distribution, confidence interval, comments...) is set to null, and the row
carries ``suppressed = True`` and ``suppression_reason``.

Limits (documented in docs/analytics.md):
* only the two levels "group" and "all stakeholders" are protected together;
  publishing another total (e.g. per stakeholder category) needs its own pass;
* a shared per-group link ("lien ouvert") does not guarantee distinct people:
  one person can answer several times, so the threshold is weaker there;
* successive publications of an open campaign are protected by
  :func:`should_refresh_snapshot`, not here.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from .frames import require_columns, validate_comments, validate_group_counts
from .stats import describe_practices_and_cells, group_counts

REASON_BELOW_THRESHOLD = "below_threshold"
REASON_COMPLEMENTARY = "complementary"

#: Below this, "anonymous" results are not anonymous; refused outright.
MIN_THRESHOLD = 3
#: Recommended default (common practice in staff surveys: "rule of 5").
DEFAULT_THRESHOLD = 5

#: Columns that describe a row rather than measure people; never nulled.
DEFAULT_KEEP_COLUMNS = (
    "group_name",
    "category",
    "weight",
    "open_link",
    "theme_key",
    "theme_number",
    "label",
)


def check_threshold(threshold: int) -> int:
    """Return ``threshold`` if it is an integer ≥ 3, else raise ``ValueError``."""
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise ValueError(f"threshold must be an integer, got {threshold!r}")
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"threshold must be at least {MIN_THRESHOLD} (got {threshold})")
    return threshold


# --------------------------------------------------------------------------
# Core decision (pure Python, easy to audit)
# --------------------------------------------------------------------------


def _suppression_decisions(
    items: Sequence[tuple[Hashable, int, int]],
    *,
    threshold: int,
    presuppressed: dict[Hashable, str] | None = None,
) -> dict[Hashable, str]:
    """Decide which members of one additive partition are hidden.

    ``items``: (id, count, answers) for every member that adds up to the
    published total; ``count`` is the number of people described by the
    protected figures (respondents, or people who gave a level) and
    ``answers`` a second count that must be protected the same way (people
    who answered at all; pass ``count`` again when there is none).
    ``presuppressed``: ids already hidden (with their reason), e.g. cells of
    a group hidden at group level.

    Returns {id: reason} for hidden members. Rules, in order:
    1. primary: 0 < count < threshold → "below_threshold";
    2. complementary: while the hidden members that describe anybody are
       exactly one, or together describe 0 < people < threshold (on either
       count), hide the next-smallest visible member (by count, answers, id)
       → "complementary". Stops when the condition holds or nobody is left
       (then only the total remains, which the caller suppresses when it is
       below the threshold).
    """
    reasons: dict[Hashable, str] = {}
    present = {item[0] for item in items}
    for key, reason in (presuppressed or {}).items():
        if key in present:
            reasons[key] = reason
    for key, count, _answers in items:
        if key not in reasons and 0 < count < threshold:
            reasons[key] = REASON_BELOW_THRESHOLD

    def needs_more() -> bool:
        hidden = [(c, a) for k, c, a in items if k in reasons and (c > 0 or a > 0)]
        if not hidden:
            return False
        if len(hidden) == 1:
            return True
        total_c = sum(c for c, _ in hidden)
        total_a = sum(a for _, a in hidden)
        return 0 < total_c < threshold or 0 < total_a < threshold

    candidates = sorted(
        ((c, a, str(k), k) for k, c, a in items if k not in reasons and (c > 0 or a > 0)),
        key=lambda t: (t[0], t[1], t[2]),
    )
    while candidates and needs_more():
        *_, key = candidates.pop(0)
        reasons[key] = REASON_COMPLEMENTARY
    return reasons


# --------------------------------------------------------------------------
# Group level
# --------------------------------------------------------------------------


def _group_counts_frame(group_counts_df: pl.DataFrame, count_col: str) -> pl.DataFrame:
    require_columns(group_counts_df, ["group_id", count_col], "group_counts")
    gc = group_counts_df
    if count_col != "n_respondents":
        gc = gc.drop("n_respondents", strict=False).rename({count_col: "n_respondents"})
    return validate_group_counts(gc.select("group_id", "n_respondents"))


def suppressed_groups(
    group_counts: pl.DataFrame, *, threshold: int, count_col: str = "n_respondents"
) -> pl.DataFrame:
    """Which stakeholder groups are hidden, and why.

    Input ``group_counts``: group_id, n_respondents (distinct responses of the
    group for the campaign; ``count_col`` renames it).
    Output: group_id, n_respondents, suppressed Boolean, reason String
    ("below_threshold" / "complementary" / null), sorted by group_id.
    Groups with 0 respondents are not suppressed (nothing to hide).
    The n_respondents column is the raw input, for internal use: publish the
    output of :func:`apply_threshold`, not this frame.
    """
    check_threshold(threshold)
    gc = _group_counts_frame(group_counts, count_col)
    items = [(g, n, n) for g, n in gc.select("group_id", "n_respondents").iter_rows()]
    reasons = _suppression_decisions(items, threshold=threshold)
    decided = pl.DataFrame(
        {"group_id": list(reasons.keys()), "reason": list(reasons.values())},
        schema={"group_id": pl.String, "reason": pl.String},
    )
    return (
        gc.join(decided, on="group_id", how="left")
        .with_columns(suppressed=pl.col("reason").is_not_null())
        .select("group_id", "n_respondents", "suppressed", "reason")
        .sort("group_id")
    )


def total_suppressed(group_counts: pl.DataFrame, *, threshold: int, count_col: str = "n_respondents") -> bool:
    """True when the whole campaign has fewer than ``threshold`` respondents (everything hidden)."""
    check_threshold(threshold)
    gc = _group_counts_frame(group_counts, count_col)
    return int(gc["n_respondents"].sum()) < threshold


# --------------------------------------------------------------------------
# Cells (practice × group, or any cell key × group)
# --------------------------------------------------------------------------


def _null_figures(df: pl.DataFrame, keep: Iterable[str]) -> pl.DataFrame:
    keep = set(keep) | {"suppressed", "suppression_reason"}
    exprs = [
        pl.when(pl.col("suppressed")).then(pl.lit(None, dtype=df.schema[c])).otherwise(pl.col(c)).alias(c)
        for c in df.columns
        if c not in keep
    ]
    return df.with_columns(exprs) if exprs else df


def apply_threshold(
    stats_by_group: pl.DataFrame,
    group_counts: pl.DataFrame,
    *,
    threshold: int,
    count_col: str = "n_respondents",
    cell_keys: Sequence[str] = ("practice_key",),
    group_col: str = "group_id",
    cell_count_col: str = "n",
    answers_col: str = "n_answers",
    keep_cols: Sequence[str] = DEFAULT_KEEP_COLUMNS,
) -> pl.DataFrame:
    """Hide practice × group figures that could identify people (primary + complementary).

    Inputs:
    - ``stats_by_group``: one row per (``cell_keys`` + ``group_col``), e.g. the
      output of ``describe(responses, by=["practice_key", "group_id"])``. Must
      contain ``cell_count_col`` (people who gave a level, default "n");
      ``answers_col`` (default "n_answers", people who answered at all) is used
      when present. ``cell_keys`` may be empty for group-level rows.
    - ``group_counts``: group_id, ``count_col`` (default "n_respondents"),
      covering every group of ``stats_by_group`` (else ``ValueError``).

    Output: the input rows and columns, plus ``n_respondents`` (the group's
    respondents) if absent, ``suppressed`` Boolean and ``suppression_reason``
    String ("below_threshold" / "complementary" / null). On suppressed rows
    every column except the keys, ``keep_cols`` and the two suppression
    columns is null. Sorted by cell_keys + group_col.

    Decisions: a group hidden at group level (see :func:`suppressed_groups`)
    is hidden in every cell with the same reason; then, within each cell key
    (e.g. each practice), cells with 0 < n < threshold are hidden and the
    complementary rule is applied on n and n_answers (module docstring).
    The matching "all stakeholders" rows go through :func:`apply_threshold_total`.
    """
    check_threshold(threshold)
    cell_keys = list(cell_keys)
    require_columns(stats_by_group, [*cell_keys, group_col, cell_count_col], "stats_by_group")
    groups_status = suppressed_groups(group_counts, threshold=threshold, count_col=count_col)
    known = set(groups_status["group_id"].to_list())
    unknown = sorted(set(stats_by_group[group_col].unique().to_list()) - known)
    if unknown:
        raise ValueError(f"group_counts: missing group_id {unknown[:5]} present in stats_by_group")
    group_reason = {
        g: r for g, r in groups_status.filter(pl.col("suppressed")).select("group_id", "reason").iter_rows()
    }

    has_answers = answers_col in stats_by_group.columns
    cols = [*cell_keys, group_col, cell_count_col] + ([answers_col] if has_answers else [])
    buckets: dict[tuple, list[tuple[Hashable, int, int]]] = {}
    for row in stats_by_group.select(cols).iter_rows():
        key = tuple(row[: len(cell_keys)])
        group = row[len(cell_keys)]
        n = int(row[len(cell_keys) + 1] or 0)
        answers = int(row[len(cell_keys) + 2] or 0) if has_answers else n
        buckets.setdefault(key, []).append((group, n, answers))

    decision_rows: list[tuple] = []
    for key, items in buckets.items():
        if len({g for g, _, _ in items}) != len(items):
            raise ValueError(f"stats_by_group: several rows for cell {key} and one group")
        reasons = _suppression_decisions(items, threshold=threshold, presuppressed=group_reason)
        for group, reason in reasons.items():
            decision_rows.append((*key, group, reason))

    decision_schema = {c: stats_by_group.schema[c] for c in [*cell_keys, group_col]}
    decision_schema["suppression_reason"] = pl.String()
    decisions = pl.DataFrame(decision_rows, schema=decision_schema, orient="row")

    out = stats_by_group
    if "n_respondents" not in out.columns:
        counts = groups_status.select(pl.col("group_id").alias(group_col), "n_respondents")
        out = out.join(counts, on=group_col, how="left", maintain_order="left")
    out = out.drop("suppressed", "suppression_reason", strict=False)
    out = out.join(decisions, on=[*cell_keys, group_col], how="left", maintain_order="left", nulls_equal=True)
    out = out.with_columns(suppressed=pl.col("suppression_reason").is_not_null())
    out = _null_figures(out, [*cell_keys, group_col, *keep_cols])
    return out.sort([*cell_keys, group_col])


def apply_threshold_total(
    stats_total: pl.DataFrame,
    group_counts: pl.DataFrame,
    *,
    threshold: int,
    count_col: str = "n_respondents",
    cell_keys: Sequence[str] = ("practice_key",),
    cell_count_col: str = "n",
    keep_cols: Sequence[str] = DEFAULT_KEEP_COLUMNS,
) -> pl.DataFrame:
    """Hide "all stakeholders" figures that describe too few people.

    Input ``stats_total``: one row per cell key, e.g.
    ``describe(responses, by=["practice_key"])``; ``group_counts`` as above.
    A row is suppressed ("below_threshold") when the campaign has fewer than
    ``threshold`` respondents in total, or when 0 < ``n`` < threshold for that
    row. Output: input columns + ``suppressed``, ``suppression_reason``, figures
    nulled on suppressed rows, sorted by cell_keys.
    """
    check_threshold(threshold)
    cell_keys = list(cell_keys)
    require_columns(stats_total, [*cell_keys, cell_count_col], "stats_total")
    everything = total_suppressed(group_counts, threshold=threshold, count_col=count_col)
    n = pl.col(cell_count_col).fill_null(0)
    hidden = pl.lit(everything) | ((n > 0) & (n < threshold))
    out = (
        stats_total.drop("suppressed", "suppression_reason", strict=False)
        .with_columns(suppressed=hidden)
        .with_columns(
            suppression_reason=pl.when(pl.col("suppressed")).then(pl.lit(REASON_BELOW_THRESHOLD)).otherwise(None)
        )
    )
    out = _null_figures(out, [*cell_keys, *keep_cols])
    return out.sort(cell_keys) if cell_keys else out


# --------------------------------------------------------------------------
# Comments
# --------------------------------------------------------------------------


def filter_comments(
    comments: pl.DataFrame,
    group_counts: pl.DataFrame,
    *,
    threshold: int,
    count_col: str = "n_respondents",
    cells: pl.DataFrame | None = None,
    keep_response_id: bool = False,
) -> pl.DataFrame:
    """Comments that may be shown: only those of published groups.

    Inputs: ``comments`` (response_id, group_id, practice_key, comment);
    ``group_counts`` (group_id, n_respondents). Optional ``cells``: the output
    of :func:`apply_threshold` (practice_key, group_id, suppressed); when given,
    comments of suppressed practice × group cells are dropped too.

    Output: group_id, practice_key, comment (non-blank), sorted by group_id,
    practice_key, comment — never by insertion order. ``response_id`` is
    dropped by default: a stable id across questions links one person's
    answers together (TEAMMATES #4597); pass ``keep_response_id=True`` only
    for internal moderation. Comments of unknown groups are dropped.
    """
    check_threshold(threshold)
    df = validate_comments(comments)
    status = suppressed_groups(group_counts, threshold=threshold, count_col=count_col)
    published = status.filter(~pl.col("suppressed")).select("group_id")
    out = df.join(published, on="group_id", how="semi").filter(
        pl.col("comment").is_not_null() & (pl.col("comment").str.strip_chars() != "")
    )
    if cells is not None:
        require_columns(cells, ["practice_key", "group_id", "suppressed"], "cells")
        hidden = cells.filter(pl.col("suppressed")).select("practice_key", "group_id").unique()
        out = out.join(hidden, on=["practice_key", "group_id"], how="anti")
    cols = (["response_id"] if keep_response_id else []) + ["group_id", "practice_key", "comment"]
    return out.select(cols).sort("group_id", "practice_key", "comment", *(["response_id"] if keep_response_id else []))


# --------------------------------------------------------------------------
# Successive publications of an open campaign
# --------------------------------------------------------------------------


def should_refresh_snapshot(
    *, published_count: int | None, current_count: int, threshold: int, closed: bool
) -> bool:
    """Whether the stakeholder figures shown to the organisation may be recomputed now.

    Differencing rule: if figures were refreshed after every submission, the
    difference between two successive views would be one person's answers.
    So, while a campaign is open, the published snapshot (computed when
    ``published_count`` responses had been received; None = nothing published
    yet) is replaced only when at least ``threshold`` new responses arrived
    (current_count − published_count ≥ threshold); the first publication
    happens at current_count ≥ threshold. When the campaign is ``closed`` the
    final figures are always shown (True).

    ``current_count < published_count`` (responses erased) keeps the snapshot
    while open. Negative counts or threshold < 3 raise ``ValueError``.
    """
    check_threshold(threshold)
    if current_count < 0 or (published_count is not None and published_count < 0):
        raise ValueError("counts must be ≥ 0")
    if closed:
        return True
    if published_count is None:
        return current_count >= threshold
    return current_count - published_count >= threshold


# --------------------------------------------------------------------------
# One-call pipeline for pages and the API
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedStats:
    """Publishable stakeholder statistics of one campaign.

    - ``groups``: :func:`suppressed_groups` output (internal: raw counts);
    - ``total``: per practice, all stakeholders (``describe`` columns + suppressed, suppression_reason);
    - ``by_group``: per practice × group, after :func:`apply_threshold`;
    - ``everything_suppressed``: the campaign has fewer than ``threshold`` respondents.
    """

    groups: pl.DataFrame
    total: pl.DataFrame
    by_group: pl.DataFrame
    everything_suppressed: bool


def publish_practice_stats(
    responses: pl.DataFrame, *, threshold: int, groups: pl.DataFrame | None = None
) -> PublishedStats:
    """describe + suppression in one call: the figures that may be shown.

    ``responses``: RESPONSES_SCHEMA; ``groups``: optional GROUPS_SCHEMA frame
    (its group_name / category / weight / open_link are joined on by_group).
    """
    check_threshold(threshold)
    counts = group_counts(responses, groups=groups)
    practices, cells = describe_practices_and_cells(responses)
    total = apply_threshold_total(practices, counts, threshold=threshold)
    if groups is not None:
        cells = cells.join(
            groups.select("group_id", "group_name", "category", "weight", "open_link"),
            on="group_id",
            how="left",
            maintain_order="left",
        )
    by_group = apply_threshold(cells, counts, threshold=threshold)
    return PublishedStats(
        groups=suppressed_groups(counts, threshold=threshold),
        total=total,
        by_group=by_group,
        everything_suppressed=total_suppressed(counts, threshold=threshold),
    )


__all__ = [
    "DEFAULT_KEEP_COLUMNS",
    "DEFAULT_THRESHOLD",
    "MIN_THRESHOLD",
    "PublishedStats",
    "REASON_BELOW_THRESHOLD",
    "REASON_COMPLEMENTARY",
    "apply_threshold",
    "apply_threshold_total",
    "check_threshold",
    "filter_comments",
    "publish_practice_stats",
    "should_refresh_snapshot",
    "suppressed_groups",
    "total_suppressed",
]
