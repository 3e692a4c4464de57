"""Statistics checked against an independent computation with Python's `statistics` module."""

import math
import random
import statistics

import polars as pl
import pytest

from analytics.stats import (
    describe_practices_and_cells,
    describe,
    group_counts,
    self_theme_view,
    self_view,
    student_t_cdf,
    t_critical,
    theme_stats,
)

# Published two-sided 95 % Student critical values (t_{0.975, df}), from a printed table.
T_TABLE = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
    18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}

COLUMNS = ["response_id", "group_id", "practice_key", "answer", "level", "importance"]


def make_responses(rows):
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


def random_responses(rng, *, practices=("p1", "p2", "p3"), groups=None):
    groups = groups or {"g1": 7, "g2": 12, "g3": 1, "g4": 4}
    rows = []
    for g, size in groups.items():
        for i in range(size):
            rid = f"{g}-{i}"
            for p in practices:
                u = rng.random()
                if u < 0.15:
                    ans, lvl = "dont_know", None
                elif u < 0.22:
                    ans, lvl = "not_concerned", None
                else:
                    ans, lvl = "level", rng.choice([1, 2, 3, 3, 4, 4, 5])
                imp = rng.choice([None, 1, 2, 3, 4, 5])
                rows.append((rid, g, p, ans, lvl, imp))
    return make_responses(rows)


def test_t_critical_matches_published_table():
    for df, expected in T_TABLE.items():
        assert t_critical(df) == pytest.approx(expected, abs=6e-4), df
    assert t_critical(100_000) == pytest.approx(1.960, abs=1e-3)
    assert t_critical(9, 0.99) == pytest.approx(3.250, abs=1e-3)


def test_student_cdf_closed_forms():
    # df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi
    for t in (-3.0, -0.5, 0.0, 0.7, 4.0):
        assert student_t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
    # df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2))
    for t in (-2.0, 0.3, 5.0):
        assert student_t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-12)


def test_t_critical_rejects_bad_df():
    with pytest.raises(ValueError):
        t_critical(0)


def _independent(rows, key_fn):
    cells = {}
    for r in rows:
        cells.setdefault(key_fn(r), []).append(r)
    out = {}
    for key, rs in cells.items():
        levels = [r[4] for r in rs if r[3] == "level"]
        imps = [r[5] for r in rs if r[5] is not None]
        n = len(levels)
        d = {
            "n": len({r[0] for r in rs if r[3] == "level"}),
            "n_dont_know": sum(r[3] == "dont_know" for r in rs),
            "n_not_concerned": sum(r[3] == "not_concerned" for r in rs),
            "dont_know_share": sum(r[3] == "dont_know" for r in rs) / len(rs),
            "mean": statistics.mean(levels) if n else None,
            "median": statistics.median(levels) if n else None,
            "std": statistics.stdev(levels) if n >= 2 else None,
            "mean_importance": statistics.mean(imps) if imps else None,
        }
        for k in range(1, 6):
            d[f"level_{k}"] = levels.count(k)
        if n >= 2 and (n - 1) in T_TABLE:
            half = T_TABLE[n - 1] * statistics.stdev(levels) / math.sqrt(n)
            d["ci"] = (statistics.mean(levels) - half, statistics.mean(levels) + half)
        d["rwg"] = max(0.0, min(1.0, 1 - statistics.variance(levels) / 2)) if n >= 2 else None
        out[key] = d
    return out


def _check_against_independent(result, expected, key_cols):
    assert result.height == len(expected)
    ci_checked = 0
    for row in result.iter_rows(named=True):
        exp = expected[tuple(row[c] for c in key_cols)]
        for col in ("n", "n_dont_know", "n_not_concerned", *[f"level_{k}" for k in range(1, 6)]):
            assert row[col] == exp[col], col
        for col in ("dont_know_share", "mean", "median", "std", "mean_importance", "rwg"):
            if exp[col] is None:
                assert row[col] is None, col
            else:
                assert row[col] == pytest.approx(exp[col], rel=1e-12, abs=1e-12), col
        if "ci" in exp:
            half_exp = (exp["ci"][1] - exp["ci"][0]) / 2
            assert row["ci_low"] == pytest.approx(exp["ci"][0], abs=1e-3 * max(half_exp, 1e-9) + 1e-9)
            assert row["ci_high"] == pytest.approx(exp["ci"][1], abs=1e-3 * max(half_exp, 1e-9) + 1e-9)
            ci_checked += 1
        if exp["std"] is None:
            assert row["ci_low"] is None and row["ci_high"] is None
    return ci_checked


@pytest.mark.parametrize("seed", [1, 2, 3, 42, 2024])
def test_describe_matches_statistics_module(seed):
    rng = random.Random(seed)
    df = random_responses(rng)
    rows = df.rows()

    by_practice = describe(df, by=["practice_key"])
    assert by_practice["practice_key"].to_list() == sorted(by_practice["practice_key"].to_list())
    checked = _check_against_independent(by_practice, _independent(rows, lambda r: (r[2],)), ["practice_key"])

    by_cell = describe(df, by=["practice_key", "group_id"])
    keys = list(zip(by_cell["practice_key"], by_cell["group_id"]))
    assert keys == sorted(keys)
    checked += _check_against_independent(
        by_cell, _independent(rows, lambda r: (r[2], r[1])), ["practice_key", "group_id"]
    )
    assert checked >= 10  # the CI really was compared, not skipped

    # The one-pass version (per-practice sums from the practice × group sums) gives the same figures,
    # and so does a frame whose keys are Categorical (what the application's reader gives).
    categorical = df.with_columns(pl.col(c).cast(pl.Categorical) for c in ("response_id", "group_id", "practice_key", "answer"))
    practices, cells = describe_practices_and_cells(categorical)
    _check_against_independent(practices, _independent(rows, lambda r: (r[2],)), ["practice_key"])
    _check_against_independent(cells, _independent(rows, lambda r: (r[2], r[1])), ["practice_key", "group_id"])
    assert practices.schema["practice_key"] == pl.String and cells.schema["group_id"] == pl.String


def test_describe_ci_uses_student_t_not_normal():
    df = make_responses([(f"r{i}", "g", "p", "level", lvl, None) for i, lvl in enumerate([2, 3, 4])])
    row = describe(df, by=["practice_key"]).row(0, named=True)
    half = 4.303 * 1.0 / math.sqrt(3)  # df = 2, s = 1
    assert row["ci_low"] == pytest.approx(3 - half, abs=1e-3)
    assert row["ci_high"] == pytest.approx(3 + half, abs=1e-3)
    assert row["rwg"] == pytest.approx(0.5)  # 1 - 1/2


def test_rwg_known_cases():
    same = make_responses([(f"r{i}", "g", "p", "level", 4, None) for i in range(6)])
    assert describe(same, by=["practice_key"])["rwg"][0] == pytest.approx(1.0)

    five = make_responses([(f"r{i}", "g", "p", "level", lvl, None) for i, lvl in enumerate([1, 2, 3, 4, 5])])
    assert describe(five, by=["practice_key"])["rwg"][0] == 0.0  # var 2.5 > 2 → clipped

    uniform = make_responses([(f"r{k}-{i}", "g", "p", "level", k, None) for k in range(1, 6) for i in range(200)])
    assert describe(uniform, by=["practice_key"])["rwg"][0] == pytest.approx(0.0, abs=0.01)

    one = make_responses([("r1", "g", "p", "level", 3, None)])
    row = describe(one, by=["practice_key"]).row(0, named=True)
    assert row["rwg"] is None and row["std"] is None and row["n"] == 1


def test_dont_know_and_not_concerned_never_enter_the_mean():
    df = make_responses(
        [
            ("r1", "g", "p", "level", 5, 4),
            ("r2", "g", "p", "dont_know", None, 2),
            ("r3", "g", "p", "not_concerned", None, None),
            ("r4", "g", "p", "dont_know", None, None),
        ]
    )
    row = describe(df, by=["practice_key"]).row(0, named=True)
    assert row["n"] == 1 and row["mean"] == 5.0
    assert row["n_dont_know"] == 2 and row["n_not_concerned"] == 1 and row["n_answers"] == 4
    assert row["dont_know_share"] == 0.5
    assert row["mean_importance"] == 3.0 and row["n_importance"] == 2


def test_describe_empty_and_overall():
    empty = make_responses([]).cast({"level": pl.Int8, "importance": pl.Int8})
    assert describe(empty, by=["practice_key"]).height == 0
    df = make_responses([("r1", "g", "p1", "level", 2, None), ("r1", "g", "p2", "level", 4, None)])
    overall = describe(df, by=[])
    assert overall.height == 1
    assert overall["n"][0] == 1 and overall["n_obs"][0] == 2 and overall["mean"][0] == 3.0


def test_group_counts_include_groups_without_answers():
    df = make_responses([("r1", "g1", "p", "level", 2, None), ("r1", "g1", "q", "dont_know", None, None),
                         ("r2", "g1", "p", "level", 2, None)])
    groups = pl.DataFrame(
        {"group_id": ["g2", "g1"], "group_name": ["B", "A"], "category": ["x", "y"], "weight": [1.0, 1.0],
         "open_link": [False, True]}
    )
    out = group_counts(df, groups=groups)
    assert out.to_dicts() == [{"group_id": "g1", "n_respondents": 2}, {"group_id": "g2", "n_respondents": 0}]


PRACTICES = pl.DataFrame(
    {
        "practice_key": ["p1", "p2", "p3", "p4"],
        "theme_key": ["gouvernance", "gouvernance", "salaires", "ethique"],
        "theme_number": [1, 1, 4, 8],
        "label": ["a", "b", "c", "d"],
    }
)


def test_theme_score_is_mean_of_practice_means():
    rng = random.Random(7)
    df = random_responses(rng, practices=("p1", "p2", "p3"))
    ps = describe(df, by=["practice_key"])
    means = dict(zip(ps["practice_key"], ps["mean"]))
    themes = theme_stats(df, PRACTICES)
    assert themes["theme_key"].to_list() == ["gouvernance", "salaires", "ethique"]  # by theme_number
    gov = themes.row(0, named=True)
    assert gov["score"] == pytest.approx(statistics.mean([means["p1"], means["p2"]]))
    assert gov["n_practices"] == 2 and gov["n_practices_theme"] == 2
    expected_n = len({r[0] for r in df.rows() if r[2] in ("p1", "p2") and r[3] == "level"})
    assert gov["n"] == expected_n
    eth = themes.row(2, named=True)
    assert eth["score"] is None and eth["n_practices"] == 0 and eth["n"] == 0


def test_theme_stats_leaves_out_suppressed_practices():
    df = make_responses(
        [(f"r{i}", "g", "p1", "level", 2, None) for i in range(5)]
        + [(f"s{i}", "g", "p2", "level", 5, None) for i in range(3)]
    )
    ps = describe(df, by=["practice_key", "group_id"]).with_columns(
        mean=pl.when(pl.col("practice_key") == "p2").then(None).otherwise(pl.col("mean"))
    )
    out = theme_stats(df, PRACTICES, by=["group_id"], practice_stats=ps)
    gov = out.filter(pl.col("theme_key") == "gouvernance").row(0, named=True)
    assert gov["score"] == 2.0 and gov["n_practices"] == 1 and gov["n"] == 5  # the 3 p2 answers don't count


def test_theme_stats_without_respondent_counts_gives_the_same_scores():
    rng = random.Random(11)
    df = random_responses(rng, practices=("p1", "p2", "p3"))
    ps = describe(df, by=["practice_key", "group_id"])
    full = theme_stats(df, PRACTICES, by=["group_id"], practice_stats=ps)
    light = theme_stats(df, PRACTICES, by=["group_id"], practice_stats=ps, count_respondents=False)
    assert light.drop("n").equals(full.drop("n"))
    assert light["n"].null_count() == light.height and full["n"].null_count() == 0


SELF_COLUMNS = ["member_id", "practice_key", "answer", "level", "importance"]


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_self_view_matches_statistics_module(seed):
    rng = random.Random(seed)
    rows = []
    for m in range(rng.randint(1, 8)):
        for p in ("p1", "p2", "p3"):
            if rng.random() < 0.2:
                rows.append((f"m{m}", p, "dont_know", None, rng.choice([None, 3])))
            else:
                rows.append((f"m{m}", p, "level", rng.randint(1, 5), rng.choice([None, 2, 5])))
    sa = pl.DataFrame(rows, schema=SELF_COLUMNS, orient="row")
    out = self_view(sa)
    assert out["practice_key"].to_list() == sorted(out["practice_key"].to_list())
    for row in out.iter_rows(named=True):
        levels = [r[3] for r in rows if r[1] == row["practice_key"] and r[2] == "level"]
        imps = [r[4] for r in rows if r[1] == row["practice_key"] and r[4] is not None]
        assert row["self_n"] == len(levels)
        if levels:
            assert row["self_mean"] == pytest.approx(statistics.mean(levels))
            assert row["self_min"] == min(levels) and row["self_max"] == max(levels)
        if len(levels) >= 2:
            sd = statistics.stdev(levels)
            assert row["self_std"] == pytest.approx(sd)
            assert row["internal_disagreement"] == (max(levels) - min(levels) >= 2 or sd >= 1.0)
        else:
            assert row["self_std"] is None and row["internal_disagreement"] is False
        assert row["self_importance"] == (pytest.approx(statistics.mean(imps)) if imps else None)


def test_internal_disagreement_thresholds_are_configurable():
    sa = pl.DataFrame(
        [("m1", "p1", "level", 3, None), ("m2", "p1", "level", 4, None),
         ("m1", "p2", "level", 2, None), ("m2", "p2", "level", 4, None)],
        schema=SELF_COLUMNS, orient="row",
    )
    default = dict(zip(*self_view(sa).select("practice_key", "internal_disagreement").to_dict().values()))
    assert default == {"p1": False, "p2": True}
    strict = self_view(sa, spread_threshold=1, std_threshold=5.0)
    assert strict["internal_disagreement"].to_list() == [True, True]
    loose = self_view(sa, spread_threshold=3, std_threshold=5.0)
    assert loose["internal_disagreement"].to_list() == [False, False]


def test_self_theme_view():
    sa = pl.DataFrame(
        [("m1", "p1", "level", 2, 5), ("m1", "p2", "level", 4, 3), ("m1", "p3", "level", 1, None),
         ("m2", "p1", "level", 5, None)],
        schema=SELF_COLUMNS, orient="row",
    )
    out = self_theme_view(self_view(sa), PRACTICES)
    gov = out.row(0, named=True)
    assert gov["theme_key"] == "gouvernance"
    assert gov["self_score"] == pytest.approx((3.5 + 4.0) / 2)
    assert gov["n_practices"] == 2 and gov["n_internal_disagreement"] == 1
    assert gov["self_importance"] == pytest.approx(4.0)
    assert out["theme_key"].to_list() == ["gouvernance", "salaires", "ethique"]
