import polars as pl
import pytest

from analytics.trends import theme_trend


def snaps(rows):
    return pl.DataFrame(
        rows,
        schema=["period_label", "period_order", "source", "practice_key", "theme_key", "mean"],
        orient="row",
    )


def test_deltas_use_practices_matched_by_key():
    df = snaps(
        [
            ("2024", 1, "diagnostic", "p1", "gouv", 2.0),
            ("2024", 1, "diagnostic", "p2", "gouv", 3.0),
            ("2024", 1, "diagnostic", "p9", "gouv", 5.0),  # removed in 2025
            ("2025", 2, "diagnostic", "p1", "gouv", 3.0),
            ("2025", 2, "diagnostic", "p2", "gouv", 3.5),
            ("2025", 2, "diagnostic", "p3", "gouv", 1.0),  # new in 2025
        ]
    )
    out = theme_trend(df)
    assert out["period_label"].to_list() == ["2024", "2025"]
    first, second = out.rows(named=True)
    assert first["score"] == pytest.approx(10 / 3) and first["delta"] is None and first["n_matched"] is None
    assert second["score"] == pytest.approx(2.5) and second["n_practices"] == 3
    assert second["previous_period_label"] == "2024"
    assert second["n_matched"] == 2
    assert second["delta"] == pytest.approx((3.0 + 3.5) / 2 - (2.0 + 3.0) / 2)  # +0.75, not 2.5 − 3.33


def test_sources_are_separate_series_and_order_is_by_period_order():
    df = snaps(
        [
            ("Consultation 2025", 7, "consultation", "p1", "t1", 2.0),
            ("Diag B", 2, "diagnostic", "p1", "t1", 4.0),
            ("Consultation 2023", 3, "consultation", "p1", "t1", 3.0),
            ("Diag A", 1, "diagnostic", "p1", "t1", 3.5),
            ("Diag B", 2, "diagnostic", "p2", "t2", 1.0),
        ]
    )
    out = theme_trend(df)
    assert out.select("source", "period_label", "theme_key").rows() == [
        ("consultation", "Consultation 2023", "t1"),
        ("consultation", "Consultation 2025", "t1"),
        ("diagnostic", "Diag A", "t1"),
        ("diagnostic", "Diag B", "t1"),
        ("diagnostic", "Diag B", "t2"),
    ]
    deltas = out["delta"].to_list()
    assert deltas[0] is None and deltas[1] == pytest.approx(-1.0)
    assert deltas[2] is None and deltas[3] == pytest.approx(0.5)
    t2 = out.row(4, named=True)
    assert t2["delta"] is None and t2["n_matched"] == 0  # new theme: nothing to compare


def test_null_means_are_ignored():
    df = snaps(
        [
            ("a", 1, "consultation", "p1", "t", 2.0),
            ("a", 1, "consultation", "p2", "t", None),
            ("b", 2, "consultation", "p1", "t", 2.5),
            ("b", 2, "consultation", "p2", "t", 4.0),
        ]
    )
    second = theme_trend(df).row(1, named=True)
    assert second["n_matched"] == 1 and second["delta"] == pytest.approx(0.5)


def test_duplicate_rows_rejected():
    df = snaps([("a", 1, "diagnostic", "p1", "t", 2.0), ("a", 1, "diagnostic", "p1", "t", 3.0)])
    with pytest.raises(ValueError):
        theme_trend(df)
