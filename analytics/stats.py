"""Descriptive statistics for stakeholder answers and the organisation's self-diagnosis.

Pure functions: Polars DataFrames in, Polars DataFrames out, rows sorted
explicitly. No anonymity threshold is applied here: that is the job of
:mod:`analytics.suppression`, the one place where figures are hidden.

Conventions
-----------
* Only ``answer == "level"`` rows carry a level (1..5). "Je ne sais pas"
  (``dont_know``) and "Non concerné" (``not_concerned``) are counted but never
  enter means, medians, standard deviations or agreement indices.
* ``std`` is the sample standard deviation (ddof = 1), null when fewer than two
  levels were given.
* The 95 % confidence interval of the mean uses Student's t with n − 1 degrees
  of freedom; the critical value is computed exactly (pure Python, see
  :func:`t_critical`).
* ``rwg`` (James, Demaree & Wolf 1984) = 1 − s² / σ²_EU with σ²_EU = (A² − 1)/12
  = 2 for A = 5 answer options, clipped to [0, 1], null when n < 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import polars as pl

from .frames import (
    ANSWER_DONT_KNOW,
    ANSWER_LEVEL,
    ANSWER_NOT_CONCERNED,
    LEVEL_MAX,
    LEVEL_MIN,
    LEVELS,
    require_columns,
    validate_groups,
    validate_practices,
    validate_responses,
    validate_self_answers,
)

#: Number of answer options of the level scale (A in the rwg formula).
N_OPTIONS = LEVEL_MAX - LEVEL_MIN + 1
#: Variance of a uniform ("random answers") distribution over A options: (A² − 1) / 12 = 2 for A = 5.
SIGMA2_EU = (N_OPTIONS**2 - 1) / 12

LEVEL_COUNT_COLUMNS = [f"level_{k}" for k in LEVELS]

#: Columns produced by :func:`describe` after the ``by`` keys, in order.
DESCRIBE_COLUMNS = [
    "n",
    "n_obs",
    "n_answers",
    "n_dont_know",
    "n_not_concerned",
    "dont_know_share",
    "mean",
    "median",
    "std",
    "ci_low",
    "ci_high",
    *LEVEL_COUNT_COLUMNS,
    "mean_importance",
    "n_importance",
    "rwg",
]

# --------------------------------------------------------------------------
# Student's t critical values (exact, no scipy)
# --------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(ln_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError("df must be > 0")
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2.0, 0.5, x)
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=1024)
def t_critical(df: int, confidence: float = 0.95) -> float:
    """Two-sided critical value t such that P(|T| ≤ t) = ``confidence`` (df ≥ 1).

    Computed by bisection on the exact Student CDF (via the regularised
    incomplete beta function), accurate to ~1e-10. Examples: df=1 → 12.706,
    df=9 → 2.262, df=30 → 2.042, df→∞ → 1.960.
    """
    if int(df) != df or df < 1:
        raise ValueError("df must be an integer ≥ 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    p = 1.0 - (1.0 - confidence) / 2.0
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if student_t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2.0


# --------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------


def _add_ci_and_rwg(df: pl.DataFrame, *, n_col: str, mean_col: str, std_col: str, confidence: float) -> pl.DataFrame:
    """Add ci_low / ci_high / rwg computed from n, mean and sample std columns."""
    dfs = sorted({int(v) - 1 for v in df[n_col].to_list() if v is not None and v >= 2})
    t_table = pl.DataFrame(
        {"_df": dfs, "_t": [t_critical(d, confidence) for d in dfs]},
        schema={"_df": pl.Int64, "_t": pl.Float64},
    )
    out = (
        df.with_columns(_df=(pl.col(n_col).cast(pl.Int64) - 1))
        .join(t_table, on="_df", how="left", maintain_order="left")
        .with_columns(
            _half=pl.when(pl.col(n_col) >= 2).then(pl.col("_t") * pl.col(std_col) / pl.col(n_col).cast(pl.Float64).sqrt())
        )
        .with_columns(
            ci_low=pl.col(mean_col) - pl.col("_half"),
            ci_high=pl.col(mean_col) + pl.col("_half"),
            rwg=pl.when(pl.col(n_col) >= 2).then((1.0 - pl.col(std_col) ** 2 / SIGMA2_EU).clip(0.0, 1.0)),
        )
        .drop("_df", "_t", "_half")
    )
    return out


def describe(responses: pl.DataFrame, *, by: Sequence[str], confidence: float = 0.95) -> pl.DataFrame:
    """Descriptive statistics of stakeholder answers per ``by`` key.

    Input ``responses`` (see :data:`analytics.frames.RESPONSES_SCHEMA`):
    response_id, group_id, practice_key, answer, level, importance — plus any
    extra column used in ``by`` (e.g. theme_key after a join).

    ``by``: grouping columns, e.g. ``["practice_key"]`` (all stakeholders),
    ``["practice_key", "group_id"]`` (practice × group). ``[]`` gives one
    overall row. Statistics are meant for keys that include practice_key, where
    each response gives at most one answer per cell; with coarser keys every
    answer is one observation (see ``n_obs``).

    These are RAW figures: anything shown to the organisation must go through
    :mod:`analytics.suppression` first (``apply_threshold`` /
    ``apply_threshold_total`` or ``publish_practice_stats``).

    Output: one row per ``by`` key present in the data, sorted by ``by``, with
    columns ``by`` + :data:`DESCRIBE_COLUMNS`:

    - ``n`` Int64: distinct responses that gave a level (1..5);
    - ``n_obs`` Int64: level observations (== n when by includes practice_key);
    - ``n_answers`` Int64: answer rows of any kind (level, dont_know, not_concerned);
    - ``n_dont_know``, ``n_not_concerned`` Int64;
    - ``dont_know_share`` Float64: n_dont_know / n_answers;
    - ``mean``, ``median``, ``std`` Float64 over levels (std sample, null if n_obs < 2);
    - ``ci_low``, ``ci_high`` Float64: mean ∓ t(0.975, n_obs−1)·std/√n_obs
      (not clipped to the 1..5 scale; null if n_obs < 2);
    - ``level_1`` … ``level_5`` Int64: distribution of levels;
    - ``mean_importance`` Float64, ``n_importance`` Int64: over non-null importance
      (importance may be given together with dont_know / not_concerned);
    - ``rwg`` Float64: 1 − std²/2 clipped to [0, 1], null if n_obs < 2.
    """
    df = validate_responses(responses)
    by = list(by)
    require_columns(df, by, "responses")
    return _finish(_tally(df, by), by, confidence=confidence)


#: Exact integer sums per key, from which every figure of :func:`describe` follows (see _finish).
_TALLY_SUMS = ["n_answers", "n_dont_know", "n_not_concerned", "_s1", "_s2", *LEVEL_COUNT_COLUMNS, "_is", "n_importance"]


def _tally(df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Integer sums per ``by`` key of a validated responses frame (keys as String).

    Levels and importance are small integers, so every figure computed from these sums is
    exact and independent of the input row order, bit for bit, with no sort of the frame."""
    is_level = pl.col("answer") == ANSWER_LEVEL
    x = pl.col("level").cast(pl.Int64)
    importance = pl.col("importance").cast(pl.Int64)
    aggs = [
        pl.len().cast(pl.Int64).alias("n_answers"),
        (pl.col("answer") == ANSWER_DONT_KNOW).sum().cast(pl.Int64).alias("n_dont_know"),
        (pl.col("answer") == ANSWER_NOT_CONCERNED).sum().cast(pl.Int64).alias("n_not_concerned"),
        x.sum().alias("_s1"),
        (x * x).sum().alias("_s2"),
        *[(pl.col("level") == k).sum().cast(pl.Int64).alias(f"level_{k}") for k in LEVELS],
        importance.sum().alias("_is"),
        pl.col("importance").count().cast(pl.Int64).alias("n_importance"),
    ]
    if "practice_key" not in by:
        # Coarser keys: a response may give several levels; n counts responses.
        aggs.append(pl.col("response_id").filter(is_level).n_unique().cast(pl.Int64).alias("n"))
    out = df.lazy().group_by(by).agg(aggs).collect() if by else df.select(aggs)
    return _keys_as_string(out, by)


def _finish(tally: pl.DataFrame, by: list[str], *, confidence: float = 0.95) -> pl.DataFrame:
    """describe's output from integer sums: mean = Σx/n; sample variance = (n·Σx² − (Σx)²) / (n(n − 1));
    the median is read off the distribution of levels (the middle value, or the mean of the two)."""
    out = tally.with_columns(n_obs=pl.sum_horizontal(LEVEL_COUNT_COLUMNS).cast(pl.Int64))
    if "n" not in out.columns:
        # One row per response × practice (validated): with practice_key in `by`, n is the level count.
        out = out.with_columns(n=pl.col("n_obs"))
    n = pl.col("n_obs")
    out = out.with_columns(
        mean=pl.when(n > 0).then(pl.col("_s1") / n),
        median=pl.when(n > 0).then((_level_at((n - 1) // 2) + _level_at(n // 2)) / 2.0),
        std=pl.when(n >= 2).then(((n * pl.col("_s2") - pl.col("_s1") * pl.col("_s1")) / (n * (n - 1))).clip(lower_bound=0).sqrt()),
        mean_importance=pl.when(pl.col("n_importance") > 0).then(pl.col("_is") / pl.col("n_importance")),
        dont_know_share=pl.when(pl.col("n_answers") > 0).then(pl.col("n_dont_know").cast(pl.Float64) / pl.col("n_answers")),
    )
    out = _add_ci_and_rwg(out, n_col="n_obs", mean_col="mean", std_col="std", confidence=confidence)
    out = out.select(*by, *DESCRIBE_COLUMNS)
    return out.sort(by) if by else out


def describe_practices_and_cells(responses: pl.DataFrame, *, confidence: float = 0.95) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(describe(by=["practice_key"]), describe(by=["practice_key", "group_id"]))`` in one pass:
    the per-practice sums are the sums of the practice × group sums (one response, one group)."""
    df = validate_responses(responses)
    cells = _tally(df, ["practice_key", "group_id"])
    totals = cells.group_by("practice_key").agg(pl.col(c).sum() for c in _TALLY_SUMS)
    return _finish(totals, ["practice_key"], confidence=confidence), _finish(cells, ["practice_key", "group_id"], confidence=confidence)


def _level_at(index: pl.Expr) -> pl.Expr:
    """The level at 0-based ``index`` in the sorted levels, from the level_k counts:
    1 + the number of levels k < 5 whose cumulative count is ≤ index."""
    total = pl.lit(0, dtype=pl.Int64)
    value = pl.lit(LEVEL_MIN, dtype=pl.Int64)
    for k in LEVELS[:-1]:
        total = total + pl.col(f"level_{k}")
        value = value + (total <= index).cast(pl.Int64)
    return value.cast(pl.Float64)


def _keys_as_string(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Key columns go out as String, whatever the working dtype (Categorical) was."""
    casts = [pl.col(k).cast(pl.String) for k in keys if isinstance(frame.schema[k], pl.Categorical)]
    return frame.with_columns(casts) if casts else frame


def practice_stats(responses: pl.DataFrame) -> pl.DataFrame:
    """All-stakeholders statistics per practice: ``describe(responses, by=["practice_key"])``."""
    return describe(responses, by=["practice_key"])


def practice_group_stats(responses: pl.DataFrame) -> pl.DataFrame:
    """Practice × group statistics: ``describe(responses, by=["practice_key", "group_id"])``.

    Raw figures: pass them through :func:`analytics.suppression.apply_threshold`
    before showing them to anybody.
    """
    return describe(responses, by=["practice_key", "group_id"])


def group_counts(responses: pl.DataFrame, *, groups: pl.DataFrame | None = None) -> pl.DataFrame:
    """Respondents per group: distinct response_id per group_id.

    Input: ``responses``; optional ``groups`` (to list groups without any
    response with n_respondents = 0).
    Output: group_id String, n_respondents Int64, sorted by group_id.
    """
    df = validate_responses(responses)
    out = _keys_as_string(
        df.group_by("group_id").agg(pl.col("response_id").n_unique().cast(pl.Int64).alias("n_respondents")), ["group_id"]
    )
    if groups is not None:
        g = validate_groups(groups).select("group_id")
        out = g.join(out, on="group_id", how="full", coalesce=True).with_columns(
            pl.col("n_respondents").fill_null(0)
        )
    return out.select("group_id", "n_respondents").sort("group_id")


# --------------------------------------------------------------------------
# Theme level
# --------------------------------------------------------------------------


def theme_stats(
    responses: pl.DataFrame,
    practices: pl.DataFrame,
    *,
    by: Sequence[str] = (),
    practice_stats: pl.DataFrame | None = None,
    count_respondents: bool = True,
) -> pl.DataFrame:
    """Theme scores = unweighted mean of the practice means of the theme.

    Inputs:
    - ``responses`` (RESPONSES_SCHEMA);
    - ``practices``: practice_key, theme_key, theme_number, label;
    - ``by``: extra keys, e.g. ``["group_id"]`` for theme × group (default: all stakeholders);
    - ``practice_stats``: optional per (by + practice_key) frame with ``mean``
      (and optionally ``mean_importance``), typically the output of
      :func:`analytics.suppression.apply_threshold`. Practices whose mean is
      null there (suppressed, or nobody gave a level) are left out of the theme
      score AND of ``n``, so a theme figure never carries hidden information.
      Default: ``describe(responses, by=[*by, "practice_key"])`` — raw figures:
      for anything published per group, pass the suppressed cells.

    Output (sorted by ``by``, theme_number, theme_key), one row per ``by`` key
    × theme of ``practices``:
    ``by``…, theme_key, theme_number, ``score`` (mean of practice means, null if
    none), ``n_practices`` (practices counted), ``n_practices_theme`` (practices of
    the theme in the framework), ``n`` (distinct responses that gave a level to
    at least one counted practice; the one figure that needs a pass over the
    answers: ``count_respondents=False`` leaves it null, for callers that don't
    show it), ``mean_importance`` (mean of the practice mean_importance values,
    when available).
    Practices absent from ``practices`` are ignored.
    """
    by = list(by)
    df = validate_responses(responses)
    prac = validate_practices(practices).select("practice_key", "theme_key", "theme_number")
    ps = practice_stats if practice_stats is not None else describe(df, by=[*by, "practice_key"])
    require_columns(ps, [*by, "practice_key", "mean"], "practice_stats")
    if "mean_importance" not in ps.columns:
        ps = ps.with_columns(mean_importance=pl.lit(None, dtype=pl.Float64))
    counted = (
        ps.select(*by, "practice_key", "mean", "mean_importance")
        .join(prac, on="practice_key", how="inner")
        .filter(pl.col("mean").is_not_null())
        .sort([*by, "practice_key"])
    )
    theme_keys = [*by, "theme_key"]
    scores = counted.group_by(theme_keys).agg(
        score=pl.col("mean").mean(),
        n_practices=pl.len().cast(pl.Int64),
        mean_importance=pl.col("mean_importance").mean(),
    )
    if count_respondents:
        # Join on the responses' working dtypes (Categorical keys), then give the keys back as String.
        counted_keys = counted.select(*by, "practice_key", "theme_key").with_columns(
            *[pl.col(k).cast(df.schema[k]) for k in [*by, "practice_key"]], pl.col("theme_key").cast(pl.Categorical)
        )
        levels = _keys_as_string(
            df.lazy()
            .filter(pl.col("answer") == ANSWER_LEVEL)
            .select("response_id", *by, "practice_key")
            .join(counted_keys.lazy(), on=[*by, "practice_key"], how="inner")
            .group_by(theme_keys)
            .agg(n=pl.col("response_id").n_unique().cast(pl.Int64))
            .collect(),
            theme_keys,
        )
    else:
        levels = pl.DataFrame(schema={**{k: pl.String for k in theme_keys}, "n": pl.Int64})
    themes = prac.group_by("theme_key").agg(
        theme_number=pl.col("theme_number").first(), n_practices_theme=pl.len().cast(pl.Int64)
    )
    base = ps.select(by).unique().join(themes, how="cross") if by else themes
    out = (
        base.join(scores, on=theme_keys, how="left")
        .join(levels, on=theme_keys, how="left")
        .with_columns(pl.col("n_practices").fill_null(0), pl.col("n").fill_null(0) if count_respondents else pl.col("n"))
        .select(*by, "theme_key", "theme_number", "score", "n_practices", "n_practices_theme", "n", "mean_importance")
    )
    return out.sort([*by, "theme_number", "theme_key"])


# --------------------------------------------------------------------------
# Self-diagnosis
# --------------------------------------------------------------------------


def self_view(
    self_answers: pl.DataFrame,
    *,
    spread_threshold: int = 2,
    std_threshold: float = 1.0,
) -> pl.DataFrame:
    """The organisation's self-diagnosis per practice (members' answers pooled).

    Input ``self_answers``: member_id, practice_key, answer, level, importance.

    Output, one row per practice_key present, sorted by practice_key:
    - ``self_n`` Int64: members who gave a level;
    - ``self_n_dont_know``, ``self_n_not_concerned`` Int64;
    - ``self_mean``, ``self_std`` Float64 (std sample ddof=1, null if self_n < 2);
    - ``self_min``, ``self_max`` Int8;
    - ``self_importance`` Float64: mean of members' importance;
    - ``internal_disagreement`` Boolean: members disagree, i.e.
      self_max − self_min ≥ ``spread_threshold`` (default 2 levels) OR
      self_std ≥ ``std_threshold`` (default 1.0); False when self_n < 2.
    """
    df = validate_self_answers(self_answers).sort("practice_key", "member_id")
    level = pl.col("level").cast(pl.Float64)
    out = (
        df.group_by("practice_key")
        .agg(
            self_n=pl.col("level").count().cast(pl.Int64),
            self_n_dont_know=(pl.col("answer") == ANSWER_DONT_KNOW).sum().cast(pl.Int64),
            self_n_not_concerned=(pl.col("answer") == ANSWER_NOT_CONCERNED).sum().cast(pl.Int64),
            self_mean=level.mean(),
            self_std=level.std(ddof=1),
            self_min=pl.col("level").min(),
            self_max=pl.col("level").max(),
            self_importance=pl.col("importance").cast(pl.Float64).mean(),
        )
        .with_columns(
            internal_disagreement=(
                ((pl.col("self_max") - pl.col("self_min")).cast(pl.Int64) >= spread_threshold)
                | (pl.col("self_std") >= std_threshold)
            ).fill_null(False)
        )
        .select(
            "practice_key",
            "self_n",
            "self_n_dont_know",
            "self_n_not_concerned",
            "self_mean",
            "self_std",
            "self_min",
            "self_max",
            "self_importance",
            "internal_disagreement",
        )
    )
    return out.sort("practice_key")


def self_theme_view(self_view_frame: pl.DataFrame, practices: pl.DataFrame) -> pl.DataFrame:
    """Self-diagnosis per theme, from :func:`self_view` output.

    Output, one row per theme of ``practices``, sorted by theme_number, theme_key:
    theme_key, theme_number, ``self_score`` (mean of practice self_mean values),
    ``n_practices`` (practices with a self_mean), ``n_practices_theme``,
    ``self_importance`` (mean of practice self_importance),
    ``n_internal_disagreement`` (practices flagged internal_disagreement).
    """
    require_columns(self_view_frame, ["practice_key", "self_mean", "self_importance", "internal_disagreement"], "self_view")
    prac = validate_practices(practices).select("practice_key", "theme_key", "theme_number")
    joined = self_view_frame.join(prac, on="practice_key", how="inner").sort("practice_key")
    agg = joined.group_by("theme_key").agg(
        self_score=pl.col("self_mean").mean(),
        n_practices=pl.col("self_mean").count().cast(pl.Int64),
        self_importance=pl.col("self_importance").mean(),
        n_internal_disagreement=pl.col("internal_disagreement").sum().cast(pl.Int64),
    )
    themes = prac.group_by("theme_key").agg(
        theme_number=pl.col("theme_number").first(), n_practices_theme=pl.len().cast(pl.Int64)
    )
    out = (
        themes.join(agg, on="theme_key", how="left")
        .with_columns(pl.col("n_practices").fill_null(0), pl.col("n_internal_disagreement").fill_null(0))
        .select(
            "theme_key",
            "theme_number",
            "self_score",
            "n_practices",
            "n_practices_theme",
            "self_importance",
            "n_internal_disagreement",
        )
    )
    return out.sort("theme_number", "theme_key")


__all__ = [
    "DESCRIBE_COLUMNS",
    "LEVEL_COUNT_COLUMNS",
    "SIGMA2_EU",
    "describe",
    "describe_practices_and_cells",
    "group_counts",
    "practice_group_stats",
    "practice_stats",
    "self_theme_view",
    "self_view",
    "student_t_cdf",
    "t_critical",
    "theme_stats",
]
