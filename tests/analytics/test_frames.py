import polars as pl
import pytest

from analytics.frames import (
    GROUPS_SCHEMA,
    RESPONSE_KEY_COLUMNS,
    RESPONSES_SCHEMA,
    empty_frame,
    validate_group_counts,
    validate_groups,
    validate_practices,
    validate_responses,
    validate_self_answers,
    validate_snapshots,
)


def _responses(**overrides):
    data = {
        "response_id": ["r1", "r2", "r3"],
        "group_id": ["g1", "g1", "g2"],
        "practice_key": ["p1", "p1", "p1"],
        "answer": ["level", "dont_know", "not_concerned"],
        "level": [4, None, None],
        "importance": [5, 3, None],
    }
    data.update(overrides)
    return pl.DataFrame(data)


def test_valid_responses_are_cast_to_schema():
    df = validate_responses(_responses())
    for col, dtype in RESPONSES_SCHEMA.items():
        if col in RESPONSE_KEY_COLUMNS:  # keys are worked on as Categorical, values unchanged
            assert isinstance(df.schema[col], pl.Categorical)
            assert df.get_column(col).cast(pl.String).to_list() == _responses().get_column(col).to_list()
        else:
            assert df.schema[col] == dtype
    assert df.height == 3


def test_categorical_and_string_keys_give_the_same_figures():
    from analytics import describe, group_counts

    strings = _responses()
    categorical = strings.with_columns(pl.col(c).cast(pl.Categorical) for c in RESPONSE_KEY_COLUMNS)
    for by in (["practice_key"], ["practice_key", "group_id"], ["group_id"]):
        assert describe(categorical, by=by).equals(describe(strings, by=by))
        assert describe(strings, by=by).schema[by[0]] == pl.String
    assert group_counts(categorical).equals(group_counts(strings))


@pytest.mark.parametrize("missing", list(RESPONSES_SCHEMA))
def test_missing_column_is_named(missing):
    with pytest.raises(ValueError, match=repr(missing)):
        validate_responses(_responses().drop(missing))


def test_missing_group_column_is_named():
    groups = pl.DataFrame({"group_id": ["g"], "group_name": ["G"], "category": ["c"], "weight": [1.0]})
    with pytest.raises(ValueError, match="'open_link'"):
        validate_groups(groups)


def test_unknown_answer_code_rejected():
    with pytest.raises(ValueError, match="answer"):
        validate_responses(_responses(answer=["level", "maybe", "not_concerned"]))


def test_level_out_of_range_rejected():
    with pytest.raises(ValueError, match="level"):
        validate_responses(_responses(level=[6, None, None]))


def test_level_required_for_level_answers_and_forbidden_otherwise():
    with pytest.raises(ValueError, match="level"):
        validate_responses(_responses(level=[None, None, None]))
    with pytest.raises(ValueError, match="level"):
        validate_responses(_responses(level=[4, 2, None]))


def test_one_row_per_response_and_practice():
    df = _responses(response_id=["r1", "r1", "r3"])
    with pytest.raises(ValueError, match="response × practice"):
        validate_responses(df)


def test_response_in_two_groups_rejected():
    df = _responses(practice_key=["p1", "p2", "p1"], response_id=["r1", "r1", "r3"], group_id=["g1", "g2", "g2"])
    with pytest.raises(ValueError, match="several group_id"):
        validate_responses(df)


def test_impossible_cast_raises_value_error():
    with pytest.raises(ValueError):
        validate_responses(_responses(level=[400, None, None]))


def test_empty_frames_validate():
    assert validate_responses(empty_frame(RESPONSES_SCHEMA)).height == 0
    assert validate_groups(empty_frame(GROUPS_SCHEMA)).height == 0


def test_group_weight_must_be_non_negative():
    groups = pl.DataFrame(
        {"group_id": ["g"], "group_name": ["G"], "category": ["c"], "weight": [-1.0], "open_link": [False]}
    )
    with pytest.raises(ValueError, match="weight"):
        validate_groups(groups)


def test_other_validators():
    with pytest.raises(ValueError, match="'theme_number'"):
        validate_practices(pl.DataFrame({"practice_key": ["p"], "theme_key": ["t"], "label": ["x"]}))
    with pytest.raises(ValueError, match="'member_id'"):
        validate_self_answers(_responses().drop("response_id", "group_id"))
    with pytest.raises(ValueError, match="n_respondents"):
        validate_group_counts(pl.DataFrame({"group_id": ["g"], "n_respondents": [-1]}))
    snaps = pl.DataFrame(
        {
            "period_label": ["a"],
            "period_order": [1],
            "source": ["autre"],
            "practice_key": ["p"],
            "theme_key": ["t"],
            "mean": [3.0],
        }
    )
    with pytest.raises(ValueError, match="source"):
        validate_snapshots(snaps)


def test_a_frame_validated_once_is_not_checked_again_but_a_new_bad_frame_still_is():
    import polars as pl
    import pytest

    from analytics.frames import RESPONSES_SCHEMA, validate_responses

    good = pl.DataFrame(
        {"response_id": ["r1"], "group_id": ["g"], "practice_key": ["p"], "answer": ["level"], "level": [3], "importance": [None]},
        schema=RESPONSES_SCHEMA,
    )
    checked = validate_responses(good)
    assert validate_responses(good) is checked and validate_responses(checked) is checked
    bad = good.with_columns(level=pl.lit(9, dtype=pl.Int8))
    with pytest.raises(ValueError):
        validate_responses(bad)
