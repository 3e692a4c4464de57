"""Transparent priority score per practice, and the materiality matrix.

Priority score (every term is between 0 and 1 before weighting)::

    score = w_importance × importance_norm      (importance_norm = (I − 1) / 4)
          + w_room       × room                  (room = (5 − L) / 4)
          + w_gap        × gap_term              (gap_term = max(0, −gap) / 4)

* I = importance for stakeholders: mean of the published groups' mean
  importance, weighted by each group's weight from the stakeholder map
  (Σ wᵍ·Iᵍ / Σ wᵍ, groups with weight 0 or no published importance left out).
  When no group published an importance, the organisation's own importance
  (self_importance) is used instead, and the reason says so.
* L = level perceived by stakeholders (published all-stakeholders mean);
  when missing, the self-assessed level (configurable), and the reason says so.
* gap = perception_mean − self_mean; only a negative gap (stakeholders see the
  practice less advanced than you do: the blind-spot direction) raises the
  priority.

Default weights 0.4 / 0.4 / 0.2. Ranks: 1 = highest score; ties broken by
higher importance, then practice_key. Practices without any level get no
score and no rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .compare import fr_number, fr_signed
from .frames import LEVEL_MAX, LEVEL_MIN, require_columns

SOURCE_STAKEHOLDERS = "parties_prenantes"
SOURCE_ORGANISATION = "organisation"

_SPAN = float(LEVEL_MAX - LEVEL_MIN)  # 4 on a 1–5 scale


@dataclass(frozen=True)
class PriorityConfig:
    """Weights of the priority score and fallbacks.

    - w_importance, w_room, w_gap: weights (≥ 0, not all 0) of the three terms;
    - fallback_to_self: use self_mean / self_importance when the stakeholders'
      figure is missing (else the term counts 0 and the score may be null);
    - driver_share: a term is named as a "main driver" in the reason when its
      contribution is at least this share of the largest contribution.
    """

    w_importance: float = 0.4
    w_room: float = 0.4
    w_gap: float = 0.2
    fallback_to_self: bool = True
    driver_share: float = 0.5

    def __post_init__(self) -> None:
        ws = (self.w_importance, self.w_room, self.w_gap)
        if any(w < 0 for w in ws) or sum(ws) <= 0:
            raise ValueError("priority weights must be ≥ 0 and not all zero")
        if not 0 < self.driver_share <= 1:
            raise ValueError("driver_share must be within (0, 1]")


DEFAULT_PRIORITY = PriorityConfig()


def _check_groups(groups: pl.DataFrame) -> pl.DataFrame:
    require_columns(groups, ["group_id", "weight"], "groups")
    g = groups.select("group_id", pl.col("weight").cast(pl.Float64))
    if g["weight"].null_count() or g.filter(pl.col("weight") < 0).height or g["weight"].is_nan().any():
        raise ValueError("groups: column 'weight' must be a number ≥ 0")
    if g["group_id"].is_duplicated().any():
        raise ValueError("groups: more than one row per group_id")
    return g


def weighted_by_group(
    perception_by_group: pl.DataFrame, groups: pl.DataFrame, *, value_col: str
) -> pl.DataFrame:
    """Weighted mean of a per practice × group figure over published groups.

    Inputs: ``perception_by_group`` (practice_key, group_id, ``value_col``,
    suppressed — i.e. the output of :func:`analytics.suppression.apply_threshold`;
    the ``suppressed`` column is required so raw figures are refused);
    ``groups`` (group_id, weight ≥ 0).
    Output: practice_key, value (Σ w·x / Σ w over non-suppressed rows with a
    non-null value and weight > 0; null if none), n_groups (groups counted),
    sorted by practice_key.
    """
    return _weighted_means(perception_by_group, groups, {value_col: "value"}).rename({"n_value": "n_groups"})


def _weighted_means(perception_by_group: pl.DataFrame, groups: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    """:func:`weighted_by_group` of several figures at once: ``columns`` maps each input column to
    its output name; each output ``name`` comes with ``n_<name>``, the groups it counts."""
    require_columns(perception_by_group, ["practice_key", "group_id", *columns, "suppressed"], "perception_by_group")
    g = _check_groups(groups)
    missing = set(perception_by_group["group_id"].unique().to_list()) - set(g["group_id"].to_list())
    if missing:
        raise ValueError(f"groups: missing group_id {sorted(missing)[:5]}")
    counted = (
        perception_by_group.select("practice_key", "group_id", *[pl.col(c).cast(pl.Float64) for c in columns], "suppressed")
        .join(g, on="group_id", how="left")
        .filter(~pl.col("suppressed") & (pl.col("weight") > 0))
        .sort("practice_key", "group_id")  # eager: the same order of addition whatever the input order
    )
    out = perception_by_group.select("practice_key").unique()
    for column, name in columns.items():
        # Each figure over its own rows (those with a value), so its sums are the ones a lone
        # weighted_by_group would compute, bit for bit.
        agg = (
            counted.filter(pl.col(column).is_not_null())
            .group_by("practice_key")
            .agg(((pl.col(column) * pl.col("weight")).sum() / pl.col("weight").sum()).alias(name), pl.len().cast(pl.Int64).alias(f"n_{name}"))
        )
        out = out.join(agg, on="practice_key", how="left").with_columns(pl.col(f"n_{name}").fill_null(0))
    return out.select("practice_key", *[c for name in columns.values() for c in (name, f"n_{name}")]).sort("practice_key")


def _reason(row: dict, cfg: PriorityConfig) -> str:
    if row["score"] is None:
        return (
            "Priorité non calculée : aucun niveau disponible "
            "(ni auto-évaluation ni résultat publié des parties prenantes)."
        )
    head = f"Priorité n° {row['rank']} (score {fr_number(row['score'], 2)})."
    contribs = [
        ("importance", row["contrib_importance"]),
        ("room", row["contrib_room"]),
        ("gap", row["contrib_gap"]),
    ]
    top = max(c for _, c in contribs)
    if top <= 0:
        return head + " Aucun facteur ne ressort : pratique jugée au plus haut niveau, sans importance ni écart signalés."
    drivers = sorted(
        [(name, c) for name, c in contribs if c > 0 and c >= cfg.driver_share * top],
        key=lambda t: -t[1],
    )
    texts = []
    for name, _ in drivers:
        if name == "importance":
            if row["importance_source"] == SOURCE_STAKEHOLDERS:
                texts.append(f"importance pour vos parties prenantes {fr_number(row['importance'])}/5")
            else:
                texts.append(
                    f"importance selon votre organisation {fr_number(row['importance'])}/5 "
                    "(aucune importance publiée par vos parties prenantes)"
                )
        elif name == "room":
            if row["level_source"] == SOURCE_STAKEHOLDERS:
                texts.append(f"marge de progrès : niveau perçu {fr_number(row['level_used'])}/5")
            else:
                texts.append(
                    f"marge de progrès : niveau auto-évalué {fr_number(row['level_used'])}/5 "
                    "(pas de résultat publié des parties prenantes)"
                )
        else:
            texts.append(
                f"vos parties prenantes la jugent moins avancée que vous (écart {fr_signed(row['gap'])})"
            )
    label = "Principal facteur" if len(texts) == 1 else "Principaux facteurs"
    return f"{head} {label} : " + " ; ".join(texts) + "."


def priorities(
    comparison: pl.DataFrame,
    perception_by_group: pl.DataFrame,
    groups: pl.DataFrame,
    *,
    config: PriorityConfig = DEFAULT_PRIORITY,
) -> pl.DataFrame:
    """Rank practices for the action plan with a transparent score.

    Inputs:
    - ``comparison``: output of :func:`analytics.compare.compare` (practice_key,
      self_mean, perception_mean, gap, category; self_importance used as fallback);
    - ``perception_by_group``: published practice × group figures (output of
      :func:`analytics.suppression.apply_threshold`: practice_key, group_id,
      mean_importance, suppressed);
    - ``groups``: group_id, weight (≥ 0).

    Output, sorted by rank (unranked last) then practice_key:
    practice_key, category, importance (I used, 1–5), importance_source
    ("parties_prenantes" / "organisation" / null), importance_stakeholders
    (weighted, 1–5), importance_norm (0–1), level_used (1–5), level_source
    ("parties_prenantes" / "organisation" / null), room (0–1), gap, gap_term
    (0–1), contrib_importance, contrib_room, contrib_gap (weighted terms),
    score (sum of the contributions, null without any level), rank Int64
    (1 = highest; null when no score), reason (plain French).
    """
    cfg = config
    require_columns(comparison, ["practice_key", "self_mean", "perception_mean", "gap"], "comparison")
    cmp = comparison.select(
        "practice_key",
        (pl.col("category") if "category" in comparison.columns else pl.lit(None, dtype=pl.String)).alias("category"),
        pl.col("self_mean").cast(pl.Float64),
        pl.col("perception_mean").cast(pl.Float64),
        pl.col("gap").cast(pl.Float64),
        (
            pl.col("self_importance").cast(pl.Float64)
            if "self_importance" in comparison.columns
            else pl.lit(None, dtype=pl.Float64)
        ).alias("self_importance"),
    )
    imp = weighted_by_group(perception_by_group, groups, value_col="mean_importance").select(
        "practice_key", pl.col("value").alias("importance_stakeholders")
    )
    df = cmp.join(imp, on="practice_key", how="left")

    use_self = pl.lit(cfg.fallback_to_self)
    df = df.with_columns(
        importance=pl.coalesce(
            "importance_stakeholders", pl.when(use_self).then(pl.col("self_importance"))
        ),
        importance_source=pl.when(pl.col("importance_stakeholders").is_not_null())
        .then(pl.lit(SOURCE_STAKEHOLDERS))
        .when(use_self & pl.col("self_importance").is_not_null())
        .then(pl.lit(SOURCE_ORGANISATION)),
        level_used=pl.coalesce("perception_mean", pl.when(use_self).then(pl.col("self_mean"))),
        level_source=pl.when(pl.col("perception_mean").is_not_null())
        .then(pl.lit(SOURCE_STAKEHOLDERS))
        .when(use_self & pl.col("self_mean").is_not_null())
        .then(pl.lit(SOURCE_ORGANISATION)),
    ).with_columns(
        importance_norm=((pl.col("importance") - LEVEL_MIN) / _SPAN).clip(0.0, 1.0),
        room=((LEVEL_MAX - pl.col("level_used")) / _SPAN).clip(0.0, 1.0),
        gap_term=(pl.max_horizontal(pl.lit(0.0), -pl.col("gap")) / _SPAN).clip(0.0, 1.0).fill_null(0.0),
    ).with_columns(
        contrib_importance=(cfg.w_importance * pl.col("importance_norm")).fill_null(0.0),
        contrib_room=(cfg.w_room * pl.col("room")).fill_null(0.0),
        contrib_gap=cfg.w_gap * pl.col("gap_term"),
    ).with_columns(
        score=pl.when(pl.col("level_used").is_not_null()).then(
            pl.col("contrib_importance") + pl.col("contrib_room") + pl.col("contrib_gap")
        )
    )
    ranked = (
        df.filter(pl.col("score").is_not_null())
        .sort(
            ["score", "importance", "practice_key"],
            descending=[True, True, False],
            nulls_last=True,
        )
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )
    unranked = df.filter(pl.col("score").is_null()).with_columns(rank=pl.lit(None, dtype=pl.Int64)).sort("practice_key")
    out = pl.concat([ranked.select(unranked.columns), unranked], how="vertical")
    out = out.with_columns(
        reason=pl.Series("reason", [_reason(r, cfg) for r in out.iter_rows(named=True)], dtype=pl.String)
    )
    return out.select(
        "practice_key",
        "category",
        "importance",
        "importance_source",
        "importance_stakeholders",
        "importance_norm",
        "level_used",
        "level_source",
        "room",
        "gap",
        "gap_term",
        "contrib_importance",
        "contrib_room",
        "contrib_gap",
        "score",
        "rank",
        "reason",
    )


def materiality(
    self_view: pl.DataFrame,
    perception_by_group: pl.DataFrame,
    groups: pl.DataFrame,
) -> pl.DataFrame:
    """Data for the materiality matrix (importance for the organisation × for stakeholders).

    Inputs: ``self_view`` (practice_key, self_importance), ``perception_by_group``
    (published practice × group figures with mean, mean_importance, suppressed),
    ``groups`` (group_id, weight).

    Output, one row per practice_key of either input, sorted by practice_key:
    practice_key, importance_org (= self_importance, 1–5),
    importance_stakeholders (group-weight-weighted mean of the published groups'
    mean_importance), perceived_level (group-weight-weighted mean of the
    published groups' mean level), n_groups (published groups contributing
    to importance_stakeholders).

    Note: perceived_level here weights groups by their stakeholder-map weight;
    the "all stakeholders" mean used in :func:`compare` weights every
    respondent equally. Both are documented in docs/analytics.md.
    """
    require_columns(self_view, ["practice_key", "self_importance"], "self_view")
    weighted = _weighted_means(
        perception_by_group, groups, {"mean_importance": "importance_stakeholders", "mean": "perceived_level"}
    ).select("practice_key", "importance_stakeholders", pl.col("n_importance_stakeholders").alias("n_groups"), "perceived_level")
    sv = self_view.select("practice_key", pl.col("self_importance").cast(pl.Float64).alias("importance_org"))
    out = (
        sv.join(weighted, on="practice_key", how="full", coalesce=True)
        .with_columns(pl.col("n_groups").fill_null(0))
        .select("practice_key", "importance_org", "importance_stakeholders", "perceived_level", "n_groups")
    )
    return out.sort("practice_key")


__all__ = [
    "DEFAULT_PRIORITY",
    "PriorityConfig",
    "SOURCE_ORGANISATION",
    "SOURCE_STAKEHOLDERS",
    "materiality",
    "priorities",
    "weighted_by_group",
]
