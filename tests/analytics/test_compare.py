import polars as pl
import pytest

from analytics.compare import (
    CATEGORIES,
    CATEGORY_LABELS,
    CompareConfig,
    compare,
    fr_number,
    fr_signed,
)


def self_frame(**means):
    return pl.DataFrame(
        {
            "practice_key": list(means),
            "self_mean": [float(v) if v is not None else None for v in means.values()],
            "self_n": [3] * len(means),
            "self_importance": [4.0] * len(means),
            "internal_disagreement": [False] * len(means),
        }
    )


def perception_row(key, mean, *, n=20, ci=0.3, rwg=0.8, levels=None, suppressed=False):
    levels = levels or [0, 2, 6, 8, 4]
    return {
        "practice_key": key,
        "mean": mean,
        "n": n,
        "ci_low": None if mean is None or ci is None else mean - ci,
        "ci_high": None if mean is None or ci is None else mean + ci,
        "rwg": rwg,
        **{f"level_{k}": levels[k - 1] for k in range(1, 6)},
        "mean_importance": 4.0,
        "suppressed": suppressed,
    }


def perception_frame(*rows):
    return pl.DataFrame(list(rows))


def classify(self_mean, **kw):
    mean = kw.pop("mean")
    out = compare(self_frame(p=self_mean), perception_frame(perception_row("p", mean, **kw)))
    return out.row(0, named=True)


def test_point_aveugle_with_french_reason():
    row = classify(4.2, mean=2.8)
    assert row["category"] == "point_aveugle"
    assert row["category_label"] == "Point aveugle"
    assert row["gap"] == pytest.approx(-1.4)
    assert row["gap_significant"] is True
    assert row["reason"].startswith("Vous vous évaluez à 4,2 ; vos parties prenantes à 2,8 (écart −1,4).")


def test_force_cachee():
    row = classify(2.0, mean=3.4)
    assert row["category"] == "force_cachee"
    assert "(écart +1,4)" in row["reason"]


def test_large_gap_but_ci_includes_self_is_not_a_blind_spot():
    row = classify(4.2, mean=3.0, ci=1.5, n=3)
    assert row["category"] == "alignement"
    assert row["gap_significant"] is False
    assert "pas significatif" in row["reason"] and "(3)" in row["reason"]


def test_missing_ci_cannot_establish_a_blind_spot_unless_configured():
    assert classify(4.5, mean=2.5, ci=None)["category"] != "point_aveugle"
    out = compare(
        self_frame(p=4.5),
        perception_frame(perception_row("p", 2.5, ci=None)),
        config=CompareConfig(require_ci=False),
    )
    assert out["category"][0] == "point_aveugle"


def test_gap_exactly_at_threshold_counts():
    assert classify(3.8, mean=2.8)["category"] == "point_aveugle"  # −1.0 despite float rounding


def test_force_partagee_and_faiblesse_partagee():
    assert classify(4.0, mean=4.2)["category"] == "force_partagee"
    row = classify(2.0, mean=2.3, levels=[6, 8, 4, 2, 0])
    assert row["category"] == "faiblesse_partagee"
    assert "au plus 2,5" in row["reason"]


def test_alignement():
    row = classify(3.0, mean=3.2)
    assert row["category"] == "alignement"
    assert "concordent" in row["reason"]


def test_perceptions_divisees_by_rwg_and_by_split_distribution():
    assert classify(3.0, mean=3.0, rwg=0.3)["category"] == "perceptions_divisees"
    row = classify(3.0, mean=3.0, rwg=0.9, levels=[5, 1, 2, 1, 5])  # 6/14 low, 6/14 high
    assert row["category"] == "perceptions_divisees"
    assert "43 %" in row["reason"]


def test_divided_takes_precedence_over_blind_spot():
    row = classify(4.8, mean=2.9, rwg=0.2, ci=0.5)
    assert row["gap_significant"] is True
    assert row["category"] == "perceptions_divisees"


def test_non_evalue_when_a_side_is_missing_or_suppressed():
    out = compare(
        self_frame(a=4.0, b=None, c=3.0),
        perception_frame(
            perception_row("a", 3.0, suppressed=True),
            perception_row("b", 3.0),
            perception_row("d", 2.0),
        ),
    )
    assert out["practice_key"].to_list() == ["a", "b", "c", "d"]
    assert out["category"].to_list() == ["non_evalue"] * 4
    reasons = out["reason"].to_list()
    assert "anonymat" in reasons[0]
    assert reasons[1].startswith("Pas encore d'auto-évaluation")


def test_configurable_thresholds():
    cfg = CompareConfig(gap_threshold=0.5, high_level=4.5, low_level=1.5, rwg_divided=0.1)
    out = compare(self_frame(p=3.6), perception_frame(perception_row("p", 3.0, ci=0.2)), config=cfg)
    assert out["category"][0] == "point_aveugle"
    with pytest.raises(ValueError):
        CompareConfig(gap_threshold=0)


def test_internal_disagreement_mentioned():
    sv = self_frame(p=3.0).with_columns(internal_disagreement=pl.lit(True))
    out = compare(sv, perception_frame(perception_row("p", 3.1)))
    assert "ne sont pas d'accord entre eux" in out["reason"][0]


def test_unprotected_perception_is_refused():
    raw = perception_frame(perception_row("p", 3.0)).drop("suppressed")
    with pytest.raises(ValueError, match="suppressed"):
        compare(self_frame(p=3.0), raw)


def test_labels_cover_every_category():
    assert set(CATEGORY_LABELS) == set(CATEGORIES)


def test_french_numbers():
    assert fr_number(4.25) in ("4,2", "4,3")
    assert fr_number(-1.44) == "−1,4"
    assert fr_signed(1.36) == "+1,4"
    assert fr_signed(-0.04) == "0,0"
