import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics.stats import describe, group_counts
from analytics.suppression import (
    apply_threshold,
    apply_threshold_total,
    filter_comments,
    publish_practice_stats,
    should_refresh_snapshot,
    suppressed_groups,
    total_suppressed,
)

COLUMNS = ["response_id", "group_id", "practice_key", "answer", "level", "importance"]


def make_responses(rows):
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


def group_rows(group, levels_by_practice, *, start=0):
    """levels_by_practice: {practice: [level or 'dk' or 'nc', ...]} (same length per practice)."""
    rows = []
    n = len(next(iter(levels_by_practice.values())))
    for i in range(n):
        rid = f"{group}-{start + i}"
        for p, vals in levels_by_practice.items():
            v = vals[i]
            if v == "dk":
                rows.append((rid, group, p, "dont_know", None, 3))
            elif v == "nc":
                rows.append((rid, group, p, "not_concerned", None, None))
            else:
                rows.append((rid, group, p, "level", v, (v % 5) + 1))
    return rows


def gc(**counts):
    return pl.DataFrame({"group_id": list(counts), "n_respondents": list(counts.values())})


# --------------------------------------------------------------------------
# Threshold validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 1, 2, -5, 2.5, True])
def test_threshold_below_three_raises(bad):
    counts = gc(a=10)
    with pytest.raises(ValueError):
        suppressed_groups(counts, threshold=bad)
    with pytest.raises(ValueError):
        apply_threshold(pl.DataFrame({"practice_key": ["p"], "group_id": ["a"], "n": [10]}), counts, threshold=bad)
    with pytest.raises(ValueError):
        apply_threshold_total(pl.DataFrame({"practice_key": ["p"], "n": [10]}), counts, threshold=bad)
    with pytest.raises(ValueError):
        filter_comments(
            pl.DataFrame({"response_id": ["r"], "group_id": ["a"], "practice_key": ["p"], "comment": ["x"]}),
            counts,
            threshold=bad,
        )
    with pytest.raises(ValueError):
        should_refresh_snapshot(published_count=None, current_count=10, threshold=bad, closed=False)


def test_threshold_three_is_accepted():
    assert suppressed_groups(gc(a=3), threshold=3)["suppressed"].to_list() == [False]


# --------------------------------------------------------------------------
# Group level
# --------------------------------------------------------------------------


def test_small_group_and_complementary_group_are_hidden():
    out = suppressed_groups(gc(salaries=20, benevoles=6, financeurs=2, usagers=9), threshold=5)
    status = {r["group_id"]: (r["suppressed"], r["reason"]) for r in out.iter_rows(named=True)}
    assert status["financeurs"] == (True, "below_threshold")
    assert status["benevoles"] == (True, "complementary")  # next-smallest
    assert status["usagers"] == (False, None)
    assert status["salaries"] == (False, None)
    assert out["group_id"].to_list() == sorted(status)


def test_complementary_continues_until_hidden_total_reaches_threshold():
    # a (1) + b (2) hidden: 3 people < 5 → hide c (6, the smallest visible): 9 ≥ 5 → stop
    out = suppressed_groups(gc(a=1, b=2, c=6, d=7, e=10), threshold=5)
    assert out["reason"].to_list() == ["below_threshold", "below_threshold", "complementary", None, None]
    # a single hidden group is always complemented by the smallest visible one
    out = suppressed_groups(gc(a=4, b=6, c=7), threshold=5)
    assert out["reason"].to_list() == ["below_threshold", "complementary", None]
    # ties on the count are broken by group_id
    out = suppressed_groups(gc(z=2, y=8, x=8), threshold=5)
    assert out["reason"].to_list() == ["complementary", None, "below_threshold"]


def test_two_small_groups_whose_sum_reaches_threshold_need_no_complement():
    out = suppressed_groups(gc(a=2, b=3, c=10), threshold=5)
    assert out["suppressed"].to_list() == [True, True, False]


def test_total_below_threshold_hides_everything():
    counts = gc(a=1, b=2)
    assert total_suppressed(counts, threshold=5)
    assert suppressed_groups(counts, threshold=5)["suppressed"].all()
    totals = apply_threshold_total(pl.DataFrame({"practice_key": ["p"], "n": [3], "mean": [3.0]}), counts, threshold=5)
    assert totals["suppressed"][0] and totals["mean"][0] is None and totals["n"][0] is None


def test_group_without_respondents_is_not_suppressed_and_triggers_nothing():
    out = suppressed_groups(gc(a=0, b=8, c=9), threshold=5)
    assert out["suppressed"].to_list() == [False, False, False]


# --------------------------------------------------------------------------
# The subtraction attack
# --------------------------------------------------------------------------


C_LEVELS = [3, 4, 4, 5, 2, 3, 4, 4, 3, 5]


def _campaign(a_levels, b_levels, c_levels=C_LEVELS):
    return make_responses(
        group_rows("A", {"p": a_levels}) + group_rows("B", {"p": b_levels}) + group_rows("C", {"p": c_levels})
    )


def _published(responses, threshold=5):
    pub = publish_practice_stats(responses, threshold=threshold)
    return pub.total, pub.by_group


def test_hidden_group_cannot_be_recovered_from_total_minus_published_groups():
    # Two worlds that differ in what group A (2 people) answered, but where
    # A ∪ B gave the same multiset of levels.
    world1 = _campaign(a_levels=[1, 1], b_levels=[5, 5, 4, 3, 3, 2])
    world2 = _campaign(a_levels=[5, 5], b_levels=[1, 1, 4, 3, 3, 2])
    a_mean_1 = describe(world1.filter(pl.col("group_id") == "A"), by=["practice_key"])["mean"][0]
    a_mean_2 = describe(world2.filter(pl.col("group_id") == "A"), by=["practice_key"])["mean"][0]
    assert a_mean_1 != a_mean_2

    total1, groups1 = _published(world1)
    total2, groups2 = _published(world2)
    # Everything the organisation sees is identical in both worlds, so no
    # computation on the published data can tell A's mean (1 or 5).
    assert_frame_equal(total1, total2)
    assert_frame_equal(groups1, groups2)

    # The naive attack: total − published groups gives the pooled A ∪ B figure, not A.
    published = groups1.filter(~pl.col("suppressed"))
    assert published["group_id"].to_list() == ["C"]
    hidden = groups1.filter(pl.col("suppressed"))
    assert hidden["mean"].null_count() == hidden.height and hidden["n"].null_count() == hidden.height
    recovered_n = total1["n"][0] - published["n"].sum()
    recovered_sum = total1["mean"][0] * total1["n"][0] - (published["mean"] * published["n"]).sum()
    assert recovered_n == 8 != 2
    assert recovered_sum / recovered_n != pytest.approx(a_mean_1)
    assert recovered_sum / recovered_n != pytest.approx(a_mean_2)


def test_attack_would_succeed_without_complementary_suppression():
    """Sanity check of the test above: publishing B would expose A exactly."""
    world = _campaign(a_levels=[1, 1], b_levels=[5, 5, 4, 3, 3, 2])
    total = describe(world, by=["practice_key"]).row(0, named=True)
    cells = {r["group_id"]: r for r in describe(world, by=["practice_key", "group_id"]).iter_rows(named=True)}
    n_a = total["n"] - cells["B"]["n"] - cells["C"]["n"]
    sum_a = total["mean"] * total["n"] - cells["B"]["mean"] * cells["B"]["n"] - cells["C"]["mean"] * cells["C"]["n"]
    assert n_a == 2 and sum_a / n_a == pytest.approx(1.0)
    # ... which is exactly what apply_threshold prevents:
    _, groups = _published(world)
    assert groups.filter(pl.col("group_id") == "B")["suppressed"][0]


def test_distribution_of_hidden_group_cannot_be_recovered_either():
    world1 = _campaign(a_levels=[1, 1], b_levels=[5, 5, 4, 3, 3, 2])
    world2 = _campaign(a_levels=[5, 1], b_levels=[5, 1, 4, 3, 3, 2])
    _, g1 = _published(world1)
    _, g2 = _published(world2)
    t1, _ = _published(world1)
    t2, _ = _published(world2)
    assert_frame_equal(g1, g2)
    assert_frame_equal(t1, t2)


# --------------------------------------------------------------------------
# Per-question (cell) suppression
# --------------------------------------------------------------------------


def test_cell_with_too_few_levels_is_hidden_with_a_complement_in_that_practice_only():
    # Group B has 8 respondents but only 2 gave a level to q (the others: don't know).
    rows = (
        group_rows("A", {"p": [3] * 12, "q": [4] * 12})
        + group_rows("B", {"p": [2, 3, 4, 5, 1, 2, 3, 4], "q": [1, 5, "dk", "dk", "dk", "dk", "dk", "dk"]})
        + group_rows("C", {"p": [5] * 6, "q": [2, 3, 2, 3, 2, 3]})
    )
    responses = make_responses(rows)
    by_group = publish_practice_stats(responses, threshold=5).by_group
    status = {(r["practice_key"], r["group_id"]): r["suppression_reason"] for r in by_group.iter_rows(named=True)}
    assert status[("p", "A")] is None and status[("p", "B")] is None and status[("p", "C")] is None
    assert status[("q", "B")] == "below_threshold"
    assert status[("q", "C")] == "complementary"  # smallest other cell of q (6 < 12)
    assert status[("q", "A")] is None
    hidden = by_group.filter(pl.col("suppressed"))
    for col in ("n", "mean", "median", "std", "ci_low", "ci_high", "level_1", "level_5", "n_dont_know",
                "mean_importance", "n_respondents", "rwg"):
        assert hidden[col].null_count() == hidden.height, col


def test_cell_without_any_level_in_a_published_group_is_not_hidden():
    rows = group_rows("A", {"p": [3] * 10}) + group_rows("B", {"p": ["nc"] * 6})
    by_group = publish_practice_stats(make_responses(rows), threshold=5).by_group
    assert not by_group["suppressed"].any()
    b = by_group.filter(pl.col("group_id") == "B").row(0, named=True)
    assert b["n"] == 0 and b["mean"] is None and b["n_not_concerned"] == 6


def test_groups_missing_from_group_counts_raise():
    stats = pl.DataFrame({"practice_key": ["p"], "group_id": ["zz"], "n": [10]})
    with pytest.raises(ValueError, match="zz"):
        apply_threshold(stats, gc(a=10), threshold=5)


def test_labels_are_kept_on_hidden_rows():
    stats = pl.DataFrame(
        {"practice_key": ["p", "p", "p"], "group_id": ["a", "b", "c"], "group_name": ["A", "B", "C"],
         "n": [2, 7, 30], "mean": [1.0, 2.0, 3.0]}
    )
    out = apply_threshold(stats, gc(a=2, b=7, c=30), threshold=5)
    assert out["group_name"].to_list() == ["A", "B", "C"]
    assert out["mean"].to_list() == [None, None, 3.0]


@pytest.mark.parametrize("seed", range(25))
def test_invariants_on_random_campaigns(seed):
    """Whatever the data: published cells describe ≥ threshold people (or nobody's level),
    and what is hidden in a practice is never a single cell nor fewer than threshold people."""
    rng = random.Random(seed)
    threshold = rng.choice([3, 4, 5, 7])
    rows = []
    for g in range(rng.randint(1, 6)):
        size = rng.choice([1, 2, 3, 4, 5, 6, 8, 12, 25])
        vals = {
            p: [rng.choice([1, 2, 3, 4, 5, "dk", "nc", 3, 4]) for _ in range(size)] for p in ("p1", "p2", "p3")
        }
        rows += group_rows(f"g{g}", vals)
    responses = make_responses(rows)
    counts = group_counts(responses)
    raw = describe(responses, by=["practice_key", "group_id"])
    out = apply_threshold(raw, counts, threshold=threshold)
    total = apply_threshold_total(describe(responses, by=["practice_key"]), counts, threshold=threshold)
    raw_n = {(r["practice_key"], r["group_id"]): (r["n"], r["n_answers"]) for r in raw.iter_rows(named=True)}
    group_status = {r["group_id"]: r["suppressed"] for r in suppressed_groups(counts, threshold=threshold).iter_rows(named=True)}
    for p in ("p1", "p2", "p3"):
        cells = out.filter(pl.col("practice_key") == p)
        hidden = [raw_n[(p, g)] for g, s in zip(cells["group_id"], cells["suppressed"]) if s]
        shown = [raw_n[(p, g)] for g, s in zip(cells["group_id"], cells["suppressed"]) if not s]
        for n, _ in shown:
            assert n == 0 or n >= threshold
        for g, s in zip(cells["group_id"], cells["suppressed"]):
            if group_status[g]:
                assert s  # a hidden group is hidden everywhere
        total_row = total.filter(pl.col("practice_key") == p)
        if hidden and shown and not total_row["suppressed"][0]:
            assert len(hidden) >= 2
            s_n = sum(n for n, _ in hidden)
            s_a = sum(a for _, a in hidden)
            assert s_n == 0 or s_n >= threshold
            assert s_a >= threshold
        if total_suppressed(counts, threshold=threshold):
            assert cells["suppressed"].all() and total["suppressed"].all()


# --------------------------------------------------------------------------
# Comments
# --------------------------------------------------------------------------


def test_comments_of_suppressed_groups_never_appear():
    comments = pl.DataFrame(
        {
            "response_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
            "group_id": ["financeurs", "benevoles", "salaries", "salaries", "usagers", "inconnu"],
            "practice_key": ["p1", "p1", "p2", "p1", "p1", "p1"],
            "comment": ["Je suis le seul financeur", "bénévole", "Très bien", "  ", "Bof", "?"],
        }
    )
    counts = gc(salaries=20, benevoles=6, financeurs=2, usagers=9)
    out = filter_comments(comments, counts, threshold=5)
    assert set(out["group_id"].to_list()) == {"salaries", "usagers"}
    assert "Je suis le seul financeur" not in out["comment"].to_list()
    assert "bénévole" not in out["comment"].to_list()  # complementary group hidden too
    assert "response_id" not in out.columns
    assert out.columns == ["group_id", "practice_key", "comment"]
    assert out.rows() == sorted(out.rows())
    assert out.height == 2  # blank comment and unknown group dropped


def test_comments_of_suppressed_cells_dropped_when_cells_given():
    comments = pl.DataFrame(
        {"response_id": ["r1", "r2"], "group_id": ["a", "a"], "practice_key": ["p", "q"], "comment": ["x", "y"]}
    )
    cells = pl.DataFrame({"practice_key": ["p", "q"], "group_id": ["a", "a"], "suppressed": [False, True]})
    out = filter_comments(comments, gc(a=10), threshold=5, cells=cells, keep_response_id=True)
    assert out["comment"].to_list() == ["x"] and "response_id" in out.columns


# --------------------------------------------------------------------------
# Successive publications
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "published, current, closed, expected",
    [
        (None, 0, False, False),
        (None, 4, False, False),
        (None, 5, False, True),  # first publication at the threshold
        (5, 6, False, False),  # one more answer: would reveal it
        (5, 9, False, False),
        (5, 10, False, True),
        (10, 8, False, False),  # erased answers: keep the snapshot while open
        (5, 6, True, True),  # closed: final figures
        (None, 2, True, True),
    ],
)
def test_should_refresh_snapshot(published, current, closed, expected):
    assert should_refresh_snapshot(
        published_count=published, current_count=current, threshold=5, closed=closed
    ) is expected


def test_negative_counts_raise():
    with pytest.raises(ValueError):
        should_refresh_snapshot(published_count=None, current_count=-1, threshold=5, closed=False)


def test_two_views_around_a_single_submission_are_identical():
    threshold = 5
    rng = random.Random(3)
    all_rows = group_rows("A", {"p": [rng.randint(1, 5) for _ in range(12)]})
    by_response = {}
    for r in all_rows:
        by_response.setdefault(r[0], []).append(r)
    ids = list(by_response)

    state = {"count": None, "snapshot": None}

    def view(k):
        """What the organisation sees after k submissions (the page logic)."""
        rows = [r for rid in ids[:k] for r in by_response[rid]]
        if should_refresh_snapshot(
            published_count=state["count"], current_count=k, threshold=threshold, closed=False
        ):
            state["count"] = k
            state["snapshot"] = publish_practice_stats(make_responses(rows), threshold=threshold).total
        return state["snapshot"]

    assert view(4) is None  # nothing before the threshold
    first = view(5)
    assert first is not None and first["n"][0] == 5
    for k in range(6, 10):
        before = view(k - 1)
        after = view(k)  # a single new submission between the two views
        assert_frame_equal(before, after)
    assert view(10)["n"][0] == 10  # refreshed only after `threshold` new answers
