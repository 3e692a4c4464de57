"""End-to-end: the calls a page makes, on a small random campaign."""

import random

import polars as pl
import pytest

import analytics as an

GROUPS = pl.DataFrame(
    {
        "group_id": ["sal", "ben", "fin", "usa"],
        "group_name": ["Salariés", "Bénévoles", "Financeurs", "Usagers"],
        "category": ["interne", "interne", "financeur", "usager"],
        "weight": [3.0, 1.0, 6.0, 3.0],
        "open_link": [False, True, False, False],
    }
)
PRACTICES = pl.DataFrame(
    {
        "practice_key": ["g1", "g2", "s1"],
        "theme_key": ["gouvernance", "gouvernance", "salaires"],
        "theme_number": [1, 1, 4],
        "label": ["AG", "CA", "Grille"],
    }
)


def _campaign(seed):
    rng = random.Random(seed)
    rows = []
    for g, size in {"sal": 14, "ben": 6, "fin": 2, "usa": 9}.items():
        for i in range(size):
            for p in ("g1", "g2", "s1"):
                if rng.random() < 0.1:
                    rows.append((f"{g}{i}", g, p, "dont_know", None, None))
                else:
                    rows.append((f"{g}{i}", g, p, "level", rng.randint(1, 5), rng.randint(1, 5)))
    responses = pl.DataFrame(
        rows, schema=["response_id", "group_id", "practice_key", "answer", "level", "importance"], orient="row"
    )
    self_answers = pl.DataFrame(
        [(f"m{m}", p, "level", rng.randint(2, 5), rng.randint(1, 5)) for m in range(3) for p in ("g1", "g2", "s1")],
        schema=["member_id", "practice_key", "answer", "level", "importance"],
        orient="row",
    )
    return responses, self_answers


def test_pipeline_runs_and_never_shows_the_small_group():
    responses, self_answers = _campaign(11)
    pub = an.publish_practice_stats(responses, threshold=5, groups=GROUPS)
    assert not pub.everything_suppressed
    fin = pub.by_group.filter(pl.col("group_id") == "fin")
    assert fin["suppressed"].all() and fin["mean"].null_count() == fin.height
    assert fin["group_name"].to_list() == ["Financeurs"] * 3
    me = an.self_view(self_answers)
    cmp = an.compare(me, pub.total)
    assert cmp["category"].null_count() == 0 and cmp.height == 3
    prio = an.priorities(cmp, pub.by_group, GROUPS)
    assert sorted(prio["rank"].to_list()) == [1, 2, 3]
    mat = an.materiality(me, pub.by_group, GROUPS)
    assert mat.height == 3
    themes = an.theme_stats(responses, PRACTICES, by=["group_id"], practice_stats=pub.by_group)
    assert themes.filter(pl.col("group_id") == "fin")["score"].null_count() == 2
    assert an.self_theme_view(me, PRACTICES).height == 2


@pytest.mark.parametrize("seed", range(12, 20))
def test_pipeline_is_deterministic(seed):
    """Same answers in any row order → bit-identical published figures."""
    responses, self_answers = _campaign(seed)
    shuffled = responses.sample(fraction=1.0, shuffle=True, seed=seed)
    a = an.publish_practice_stats(responses, threshold=5, groups=GROUPS)
    b = an.publish_practice_stats(shuffled, threshold=5, groups=GROUPS)
    assert a.by_group.equals(b.by_group) and a.total.equals(b.total)
    me = an.self_view(self_answers)
    assert an.priorities(an.compare(me, a.total), a.by_group, GROUPS).equals(
        an.priorities(an.compare(me, b.total), b.by_group, GROUPS)
    )
