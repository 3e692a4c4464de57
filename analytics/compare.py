"""Self-diagnosis versus stakeholders' perception, practice by practice.

The organisation's own view (``self_view``) is set against what its
stakeholders perceive (``perception``: the published "all stakeholders"
figures, after :mod:`analytics.suppression`). Each practice gets a gap and one
category, with a plain-French explanation.

gap = perception_mean − self_mean   (negative: stakeholders see less than you do)

Categories and precedence (first rule that matches wins):

1. ``non_evalue``          either side has no (published) mean;
2. ``perceptions_divisees`` stakeholders disagree among themselves: rwg <
   ``rwg_divided`` (0.5), or a split distribution (≥ 25 % at levels 1–2 AND
   ≥ 25 % at levels 4–5). Checked first because a mean of divided opinions
   describes nobody: a "gap" or an "agreement" computed on it would mislead;
3. ``point_aveugle``       gap ≤ −``gap_threshold`` (1.0) AND the 95 % CI of the
   stakeholders' mean lies entirely below self_mean;
4. ``force_cachee``        gap ≥ +``gap_threshold`` AND the CI lies entirely above self_mean;
5. ``force_partagee``      both means ≥ ``high_level`` (3.5);
6. ``faiblesse_partagee``  both means ≤ ``low_level`` (2.5);
7. ``alignement``          everything else (including a large gap that is not
   significant: the reason says so).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .frames import require_columns

POINT_AVEUGLE = "point_aveugle"
FORCE_CACHEE = "force_cachee"
FORCE_PARTAGEE = "force_partagee"
FAIBLESSE_PARTAGEE = "faiblesse_partagee"
PERCEPTIONS_DIVISEES = "perceptions_divisees"
ALIGNEMENT = "alignement"
NON_EVALUE = "non_evalue"

#: Category codes in precedence order.
CATEGORIES = (
    NON_EVALUE,
    PERCEPTIONS_DIVISEES,
    POINT_AVEUGLE,
    FORCE_CACHEE,
    FORCE_PARTAGEE,
    FAIBLESSE_PARTAGEE,
    ALIGNEMENT,
)

CATEGORY_LABELS: dict[str, str] = {
    POINT_AVEUGLE: "Point aveugle",
    FORCE_CACHEE: "Force cachée",
    FORCE_PARTAGEE: "Force partagée",
    FAIBLESSE_PARTAGEE: "Faiblesse partagée",
    PERCEPTIONS_DIVISEES: "Perceptions divisées",
    ALIGNEMENT: "Alignement",
    NON_EVALUE: "Non évalué",
}

_EPS = 1e-9


@dataclass(frozen=True)
class CompareConfig:
    """Thresholds of the classification (levels on the 1–5 scale).

    - gap_threshold: minimum |gap| for a blind spot / hidden strength (1 scale point);
    - high_level / low_level: "both high" / "both low" limits;
    - rwg_divided: below this within-stakeholder agreement, perceptions are divided;
    - split_share: share of levels 1–2 AND of levels 4–5 that marks a split distribution;
    - require_ci: a blind spot / hidden strength also needs the 95 % CI of the
      stakeholders' mean to exclude self_mean (False: the gap alone decides).
    """

    gap_threshold: float = 1.0
    high_level: float = 3.5
    low_level: float = 2.5
    rwg_divided: float = 0.5
    split_share: float = 0.25
    require_ci: bool = True

    def __post_init__(self) -> None:
        if self.gap_threshold <= 0:
            raise ValueError("gap_threshold must be > 0")
        if self.low_level > self.high_level:
            raise ValueError("low_level must be ≤ high_level")
        if not 0 <= self.rwg_divided <= 1:
            raise ValueError("rwg_divided must be within [0, 1]")
        if not 0 < self.split_share <= 0.5:
            raise ValueError("split_share must be within (0, 0.5]")


DEFAULT = CompareConfig()
DEFAULT_COMPARE = DEFAULT


# --------------------------------------------------------------------------
# French formatting
# --------------------------------------------------------------------------


def fr_number(x: float, decimals: int = 1) -> str:
    """4.25 → "4,3" (French decimal comma; minus sign U+2212)."""
    s = f"{abs(x):.{decimals}f}".replace(".", ",")
    return ("−" + s) if round(x, decimals) < 0 else s


def fr_signed(x: float, decimals: int = 1) -> str:
    """-1.4 → "−1,4", 1.4 → "+1,4", 0 → "0,0"."""
    if round(x, decimals) > 0:
        return "+" + fr_number(x, decimals)
    return fr_number(x, decimals)


def fr_percent(share: float) -> str:
    """0.4 → "40 %"."""
    return f"{round(share * 100):d} %"


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------


def _classify(row: dict, cfg: CompareConfig) -> tuple[str, bool]:
    """Return (category, gap_significant) for one joined row."""
    s, p = row["self_mean"], row["perception_mean"]
    if s is None or p is None:
        return NON_EVALUE, False
    gap = p - s
    lo, hi = row["perception_ci_low"], row["perception_ci_high"]
    if cfg.require_ci:
        below = hi is not None and hi < s - _EPS
        above = lo is not None and lo > s + _EPS
    else:
        below = above = True
    significant = (gap <= -cfg.gap_threshold + _EPS and below) or (gap >= cfg.gap_threshold - _EPS and above)
    rwg = row["perception_rwg"]
    share_low, share_high = row["share_low"], row["share_high"]
    split = (
        share_low is not None
        and share_high is not None
        and share_low >= cfg.split_share - _EPS
        and share_high >= cfg.split_share - _EPS
    )
    if (rwg is not None and rwg < cfg.rwg_divided - _EPS) or split:
        return PERCEPTIONS_DIVISEES, significant
    if gap <= -cfg.gap_threshold + _EPS and below:
        return POINT_AVEUGLE, True
    if gap >= cfg.gap_threshold - _EPS and above:
        return FORCE_CACHEE, True
    if s >= cfg.high_level - _EPS and p >= cfg.high_level - _EPS:
        return FORCE_PARTAGEE, significant
    if s <= cfg.low_level + _EPS and p <= cfg.low_level + _EPS:
        return FAIBLESSE_PARTAGEE, significant
    return ALIGNEMENT, significant


def _reason(row: dict, category: str, cfg: CompareConfig) -> str:
    s, p = row["self_mean"], row["perception_mean"]
    if category == NON_EVALUE:
        parts = []
        if s is None:
            parts.append("Pas encore d'auto-évaluation pour cette pratique.")
        else:
            parts.append(f"Vous vous évaluez à {fr_number(s)}.")
        if p is None:
            parts.append(
                "Pas de résultat publiable de vos parties prenantes pour cette pratique "
                "(pas ou trop peu de réponses, ou résultat masqué pour protéger l'anonymat)."
            )
        else:
            parts.append(f"Vos parties prenantes l'évaluent à {fr_number(p)}.")
        return " ".join(parts)

    gap = p - s
    text = f"Vous vous évaluez à {fr_number(s)} ; vos parties prenantes à {fr_number(p)} (écart {fr_signed(gap)})."
    if category == PERCEPTIONS_DIVISEES:
        detail = []
        if row["share_low"] is not None and row["share_high"] is not None:
            detail.append(
                f"{fr_percent(row['share_low'])} les situent aux niveaux 1–2 et "
                f"{fr_percent(row['share_high'])} aux niveaux 4–5"
            )
        if row["perception_rwg"] is not None:
            detail.append(f"indice d'accord rwg {fr_number(row['perception_rwg'], 2)} (seuil {fr_number(cfg.rwg_divided, 2)})")
        text += (
            " Vos parties prenantes ne sont pas d'accord entre elles ("
            + " ; ".join(detail)
            + ") : la moyenne résume mal leurs avis, regardez le détail par groupe."
        )
    elif category == POINT_AVEUGLE:
        text += (
            " Vos parties prenantes jugent cette pratique nettement moins avancée que vous, "
            "au-delà de la marge d'incertitude : point aveugle possible."
        )
    elif category == FORCE_CACHEE:
        text += (
            " Vos parties prenantes jugent cette pratique nettement plus avancée que vous, "
            "au-delà de la marge d'incertitude : une force que vous sous-estimez."
        )
    elif category == FORCE_PARTAGEE:
        text += f" Vous et vos parties prenantes la jugez bien engagée (au moins {fr_number(cfg.high_level)})."
    elif category == FAIBLESSE_PARTAGEE:
        text += f" Vous et vos parties prenantes la jugez peu engagée (au plus {fr_number(cfg.low_level)})."
    elif category == ALIGNEMENT:
        if abs(gap) >= cfg.gap_threshold - _EPS:
            n = row["perception_n"]
            text += (
                f" L'écart atteint le seuil de {fr_number(cfg.gap_threshold)} point mais n'est pas significatif"
                + (f" au vu du nombre de réponses ({n})" if n is not None else "")
                + " : à confirmer."
            )
        else:
            text += f" Vos regards concordent (écart inférieur à {fr_number(cfg.gap_threshold)} point)."
    if row.get("internal_disagreement"):
        text += " Attention : les membres de votre organisation ne sont pas d'accord entre eux sur cette pratique."
    return text


def _optional(df: pl.DataFrame, col: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(col) if col in df.columns else pl.lit(None, dtype=dtype).alias(col)


def compare(
    self_view: pl.DataFrame,
    perception: pl.DataFrame,
    *,
    config: CompareConfig = DEFAULT,
) -> pl.DataFrame:
    """Join self-diagnosis and stakeholder perception per practice and classify.

    Inputs:
    - ``self_view``: output of :func:`analytics.stats.self_view` — needs
      practice_key, self_mean; uses self_n, self_importance,
      internal_disagreement when present;
    - ``perception``: one row per practice_key with the published
      all-stakeholders figures (``apply_threshold_total(describe(..., by=["practice_key"]))``)
      — needs practice_key, mean, suppressed (so raw, unprotected figures are
      refused); uses n, ci_low, ci_high, rwg, level_1…level_5, mean_importance
      when present. Suppressed rows count as missing (non_evalue).

    Output (full join, one row per practice_key, sorted by practice_key):
    practice_key, self_mean, self_n, self_importance, internal_disagreement,
    perception_mean, perception_n, perception_ci_low, perception_ci_high,
    perception_rwg, perception_importance, share_low (levels 1–2 / n),
    share_high (levels 4–5 / n), gap (perception_mean − self_mean),
    gap_significant Boolean (|gap| ≥ gap_threshold and CI excludes self_mean),
    category (code, see module docstring), category_label (French), reason
    (plain French, decimal comma).
    """
    cfg = config
    require_columns(self_view, ["practice_key", "self_mean"], "self_view")
    # "suppressed" is required so that only figures that went through
    # analytics.suppression (apply_threshold_total) can be compared.
    require_columns(perception, ["practice_key", "mean", "suppressed"], "perception")
    if self_view["practice_key"].is_duplicated().any():
        raise ValueError("self_view: more than one row per practice_key")
    if perception["practice_key"].is_duplicated().any():
        raise ValueError("perception: more than one row per practice_key")

    sv = self_view.select(
        "practice_key",
        pl.col("self_mean").cast(pl.Float64),
        _optional(self_view, "self_n", pl.Int64()).cast(pl.Int64),
        _optional(self_view, "self_importance", pl.Float64()).cast(pl.Float64),
        _optional(self_view, "internal_disagreement", pl.Boolean()).cast(pl.Boolean),
    )
    pv = perception.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("mean")).alias("mean")
    )
    has_levels = all(f"level_{k}" in pv.columns for k in range(1, 6))
    if has_levels:
        total = sum(pl.col(f"level_{k}").cast(pl.Float64) for k in range(1, 6))
        share_low = pl.when(total > 0).then((pl.col("level_1") + pl.col("level_2")).cast(pl.Float64) / total)
        share_high = pl.when(total > 0).then((pl.col("level_4") + pl.col("level_5")).cast(pl.Float64) / total)
    else:
        share_low = share_high = pl.lit(None, dtype=pl.Float64)
    pv = pv.select(
        "practice_key",
        pl.col("mean").cast(pl.Float64).alias("perception_mean"),
        _optional(pv, "n", pl.Int64()).cast(pl.Int64).alias("perception_n"),
        _optional(pv, "ci_low", pl.Float64()).cast(pl.Float64).alias("perception_ci_low"),
        _optional(pv, "ci_high", pl.Float64()).cast(pl.Float64).alias("perception_ci_high"),
        _optional(pv, "rwg", pl.Float64()).cast(pl.Float64).alias("perception_rwg"),
        _optional(pv, "mean_importance", pl.Float64()).cast(pl.Float64).alias("perception_importance"),
        share_low.alias("share_low"),
        share_high.alias("share_high"),
    )
    joined = (
        sv.join(pv, on="practice_key", how="full", coalesce=True)
        .with_columns(
            gap=pl.col("perception_mean") - pl.col("self_mean"),
            internal_disagreement=pl.col("internal_disagreement").fill_null(False),
        )
        .sort("practice_key")
    )
    categories, significant, reasons = [], [], []
    for row in joined.iter_rows(named=True):
        cat, sig = _classify(row, cfg)
        categories.append(cat)
        significant.append(sig)
        reasons.append(_reason(row, cat, cfg))
    return joined.with_columns(
        pl.Series("gap_significant", significant, dtype=pl.Boolean),
        pl.Series("category", categories, dtype=pl.String),
        pl.Series("category_label", [CATEGORY_LABELS[c] for c in categories], dtype=pl.String),
        pl.Series("reason", reasons, dtype=pl.String),
    )


__all__ = [
    "ALIGNEMENT",
    "CATEGORIES",
    "CATEGORY_LABELS",
    "CompareConfig",
    "DEFAULT",
    "DEFAULT_COMPARE",
    "FAIBLESSE_PARTAGEE",
    "FORCE_CACHEE",
    "FORCE_PARTAGEE",
    "NON_EVALUE",
    "PERCEPTIONS_DIVISEES",
    "POINT_AVEUGLE",
    "compare",
    "fr_number",
    "fr_percent",
    "fr_signed",
]
