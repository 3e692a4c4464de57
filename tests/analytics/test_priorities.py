import polars as pl
import pytest

import random

from analytics.priorities import PriorityConfig, materiality, priorities, weighted_by_group

GROUPS = pl.DataFrame(
    {
        "group_id": ["g1", "g2", "g3"],
        "group_name": ["Salariés", "Bénévoles", "Financeurs"],
        "category": ["interne", "interne", "financeur"],
        "weight": [3.0, 1.0, 6.0],
        "open_link": [False, True, False],
    }
)

# g3 is suppressed: its (leftover) values must never be used, even if present.
BY_GROUP = pl.DataFrame(
    {
        "practice_key": ["a", "a", "a", "b", "b", "c", "c"],
        "group_id": ["g1", "g2", "g3", "g1", "g2", "g1", "g2"],
        "mean": [2.0, 4.0, 1.0, 4.5, 4.5, None, None],
        "mean_importance": [5.0, 3.0, 1.0, 2.0, 2.0, None, None],
        "suppressed": [False, False, True, False, False, True, True],
    }
)

COMPARISON = pl.DataFrame(
    {
        "practice_key": ["a", "b", "c", "d"],
        "self_mean": [4.0, 4.0, 3.0, None],
        "perception_mean": [2.0, 4.5, None, None],
        "gap": [-2.0, 0.5, None, None],
        "category": ["point_aveugle", "force_partagee", "non_evalue", "non_evalue"],
        "self_importance": [3.0, 3.0, 5.0, None],
    }
)


def test_scores_and_ranking_by_hand():
    out = priorities(COMPARISON, BY_GROUP, GROUPS)
    assert out["practice_key"].to_list() == ["a", "c", "b", "d"]
    assert out["rank"].to_list() == [1, 2, 3, None]
    rows = {r["practice_key"]: r for r in out.iter_rows(named=True)}
    # a: importance (3·5 + 1·3)/4 = 4.5 → 0.875 ; room (5−2)/4 = 0.75 ; gap 2/4 = 0.5
    assert rows["a"]["importance_stakeholders"] == pytest.approx(4.5)
    assert rows["a"]["score"] == pytest.approx(0.4 * 0.875 + 0.4 * 0.75 + 0.2 * 0.5)
    # b: importance 2 → 0.25 ; room 0.125 ; positive gap does not count
    assert rows["b"]["score"] == pytest.approx(0.4 * 0.25 + 0.4 * 0.125)
    assert rows["b"]["gap_term"] == 0.0
    # c: no published importance nor perception → organisation's own figures
    assert rows["c"]["importance_source"] == "organisation" and rows["c"]["level_source"] == "organisation"
    assert rows["c"]["score"] == pytest.approx(0.4 * 1.0 + 0.4 * 0.5)
    assert rows["d"]["score"] is None


def test_reasons_name_the_main_drivers():
    rows = {r["practice_key"]: r["reason"] for r in priorities(COMPARISON, BY_GROUP, GROUPS).iter_rows(named=True)}
    assert rows["a"].startswith("Priorité n° 1 (score 0,75).")
    assert "importance pour vos parties prenantes 4,5/5" in rows["a"]
    assert "niveau perçu 2,0/5" in rows["a"]
    assert "écart" not in rows["a"]  # 0.1 < half of the top contribution 0.35
    assert "importance selon votre organisation 5,0/5" in rows["c"]
    assert "niveau auto-évalué 3,0/5" in rows["c"]
    assert rows["d"].startswith("Priorité non calculée")


def test_weights_are_configurable():
    cfg = PriorityConfig(w_importance=0.0, w_room=0.0, w_gap=1.0)
    out = priorities(COMPARISON, BY_GROUP, GROUPS, config=cfg)
    first = out.row(0, named=True)
    assert first["practice_key"] == "a" and first["score"] == pytest.approx(0.5)
    assert "(écart −2,0)" in first["reason"]
    with pytest.raises(ValueError):
        PriorityConfig(w_importance=-1)


def test_no_fallback_when_disabled():
    out = priorities(COMPARISON, BY_GROUP, GROUPS, config=PriorityConfig(fallback_to_self=False))
    c = out.filter(pl.col("practice_key") == "c").row(0, named=True)
    assert c["score"] is None and c["rank"] is None


def test_suppressed_group_weight_changes_nothing():
    heavier = GROUPS.with_columns(weight=pl.when(pl.col("group_id") == "g3").then(1000.0).otherwise(pl.col("weight")))
    a = priorities(COMPARISON, BY_GROUP, GROUPS)["score"].to_list()
    b = priorities(COMPARISON, BY_GROUP, heavier)["score"].to_list()
    assert a == b


def test_unprotected_group_figures_are_refused():
    with pytest.raises(ValueError, match="suppressed"):
        priorities(COMPARISON, BY_GROUP.drop("suppressed"), GROUPS)


def test_materiality_weighting():
    sv = pl.DataFrame({"practice_key": ["a", "b", "e"], "self_importance": [3.0, 4.0, 2.0]})
    out = materiality(sv, BY_GROUP, GROUPS)
    assert out["practice_key"].to_list() == ["a", "b", "c", "e"]
    rows = {r["practice_key"]: r for r in out.iter_rows(named=True)}
    assert rows["a"]["importance_org"] == 3.0
    assert rows["a"]["importance_stakeholders"] == pytest.approx((3 * 5.0 + 1 * 3.0) / 4)
    assert rows["a"]["perceived_level"] == pytest.approx((3 * 2.0 + 1 * 4.0) / 4)
    assert rows["a"]["n_groups"] == 2
    assert rows["c"]["importance_stakeholders"] is None and rows["c"]["n_groups"] == 0
    assert rows["e"]["importance_stakeholders"] is None and rows["e"]["importance_org"] == 2.0


def test_materiality_zero_weight_group_is_ignored():
    groups = GROUPS.with_columns(weight=pl.when(pl.col("group_id") == "g2").then(0.0).otherwise(pl.col("weight")))
    sv = pl.DataFrame({"practice_key": ["a"], "self_importance": [3.0]})
    out = materiality(sv, BY_GROUP, groups)
    assert out.filter(pl.col("practice_key") == "a")["importance_stakeholders"][0] == 5.0


def _random_cells(rng: random.Random, practices: int = 30) -> tuple[pl.DataFrame, pl.DataFrame]:
    groups = pl.DataFrame({"group_id": [f"g{i}" for i in range(7)], "weight": [rng.choice([0.5, 1.0, 1.7, 3.0, 6.0]) for _ in range(7)]})
    rows = []
    for p in range(practices):
        for g in range(7):
            hidden = rng.random() < 0.15
            value = None if hidden or rng.random() < 0.1 else rng.randint(100, 500) / 100 + 1 / 3
            importance = None if hidden or rng.random() < 0.1 else rng.randint(100, 500) / 100 + 1 / 7
            rows.append({"practice_key": f"p{p:02d}", "group_id": f"g{g}", "mean": value, "mean_importance": importance, "suppressed": hidden})
    return pl.DataFrame(rows), groups


def test_weighted_figures_do_not_depend_on_the_order_of_the_rows():
    """Bit for bit: the same cells in another order give the same floats (same order of addition)."""
    rng = random.Random(3)
    for trial in range(20):
        cells, groups = _random_cells(rng)
        shuffled = cells.sample(fraction=1.0, shuffle=True, seed=trial)
        for column in ("mean", "mean_importance"):
            assert weighted_by_group(cells, groups, value_col=column).equals(weighted_by_group(shuffled, groups, value_col=column))
        self_view = pl.DataFrame({"practice_key": [f"p{p:02d}" for p in range(30)], "self_importance": [3.0] * 30})
        matrix = materiality(self_view, cells, groups)
        assert matrix.equals(materiality(self_view, shuffled, groups))
        # The matrix's two axes are exactly what weighted_by_group gives for each figure.
        level = weighted_by_group(cells, groups, value_col="mean")
        assert matrix.get_column("perceived_level").equals(level.get_column("value"), check_names=False)
