"""Input frame schemas and validators for the analytics package.

Every public analytics function takes Polars DataFrames. This module states
what those frames must look like and checks them. A validator:

* raises ``ValueError`` naming the frame and the missing column when a required
  column is absent;
* casts present columns to the schema dtype (e.g. an ``Int64`` ``level`` coming
  from the database becomes ``Int8``) and raises ``ValueError`` when that cast
  is impossible;
* checks the few value rules the statistics rely on (answer codes, level range,
  one row per response × practice, non-negative weights...);
* keeps extra columns untouched and returns the (possibly cast) frame.

Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

# --------------------------------------------------------------------------
# Answer codes and scale
# --------------------------------------------------------------------------

ANSWER_LEVEL = "level"
ANSWER_DONT_KNOW = "dont_know"
ANSWER_NOT_CONCERNED = "not_concerned"
ANSWERS = (ANSWER_LEVEL, ANSWER_DONT_KNOW, ANSWER_NOT_CONCERNED)

LEVEL_MIN = 1
LEVEL_MAX = 5
LEVELS = tuple(range(LEVEL_MIN, LEVEL_MAX + 1))

SOURCE_DIAGNOSTIC = "diagnostic"
SOURCE_CONSULTATION = "consultation"
SOURCES = (SOURCE_DIAGNOSTIC, SOURCE_CONSULTATION)

# --------------------------------------------------------------------------
# Schemas (column -> dtype). Extra columns are always allowed.
# --------------------------------------------------------------------------

RESPONSES_SCHEMA: dict[str, pl.DataType] = {
    "response_id": pl.String(),
    "group_id": pl.String(),
    "practice_key": pl.String(),
    "answer": pl.String(),
    "level": pl.Int8(),
    "importance": pl.Int8(),
}

GROUPS_SCHEMA: dict[str, pl.DataType] = {
    "group_id": pl.String(),
    "group_name": pl.String(),
    "category": pl.String(),
    "weight": pl.Float64(),
    "open_link": pl.Boolean(),
}

SELF_ANSWERS_SCHEMA: dict[str, pl.DataType] = {
    "member_id": pl.String(),
    "practice_key": pl.String(),
    "answer": pl.String(),
    "level": pl.Int8(),
    "importance": pl.Int8(),
}

PRACTICES_SCHEMA: dict[str, pl.DataType] = {
    "practice_key": pl.String(),
    "theme_key": pl.String(),
    "theme_number": pl.Int8(),
    "label": pl.String(),
}

COMMENTS_SCHEMA: dict[str, pl.DataType] = {
    "response_id": pl.String(),
    "group_id": pl.String(),
    "practice_key": pl.String(),
    "comment": pl.String(),
}

GROUP_COUNTS_SCHEMA: dict[str, pl.DataType] = {
    "group_id": pl.String(),
    "n_respondents": pl.Int64(),
}

SNAPSHOTS_SCHEMA: dict[str, pl.DataType] = {
    "period_label": pl.String(),
    "period_order": pl.Int64(),
    "source": pl.String(),
    "practice_key": pl.String(),
    "theme_key": pl.String(),
    "mean": pl.Float64(),
}


def empty_frame(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """An empty DataFrame with exactly ``schema`` (handy for tests and callers)."""
    return pl.DataFrame(schema=dict(schema))


# --------------------------------------------------------------------------
# Generic helpers
# --------------------------------------------------------------------------


def require_columns(df: pl.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise ``ValueError`` naming the first missing column of ``df``."""
    if not isinstance(df, pl.DataFrame):
        raise ValueError(f"{name}: expected a polars DataFrame, got {type(df).__name__}")
    for col in columns:
        if col not in df.columns:
            raise ValueError(f"{name}: missing column {col!r} (has {df.columns})")


def validate(
    df: pl.DataFrame,
    schema: Mapping[str, pl.DataType],
    name: str,
    *,
    non_null: Iterable[str] = (),
) -> pl.DataFrame:
    """Check required columns, cast them to ``schema`` and check non-null columns.

    Returns ``df`` with the schema columns cast (extra columns untouched, column
    order unchanged). Raises ``ValueError`` on a missing column, an impossible
    cast or a null in a ``non_null`` column.
    """
    require_columns(df, schema.keys(), name)
    casts = []
    for col, dtype in schema.items():
        if df.schema[col] != dtype:
            if df.schema[col] == pl.Null:
                casts.append(pl.col(col).cast(dtype))
                continue
            casts.append(pl.col(col).cast(dtype, strict=True))
    if casts:
        try:
            df = df.with_columns(casts)
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
            raise ValueError(f"{name}: column cannot be cast to the expected type: {exc}") from exc
    for col in non_null:
        nulls = df[col].null_count()
        if nulls:
            raise ValueError(f"{name}: column {col!r} has {nulls} null value(s)")
    return df


def _check_answers(df: pl.DataFrame, name: str) -> None:
    # One pass counts every kind of bad row; the details are looked up only when one is found.
    level, answer = pl.col("level"), pl.col("answer")
    problems = df.select(
        (~answer.is_in(list(ANSWERS))).sum().alias("a"),
        (level.is_not_null() & ~level.is_between(LEVEL_MIN, LEVEL_MAX)).sum().alias("b"),
        ((answer == ANSWER_LEVEL) & level.is_null()).sum().alias("c"),
        ((answer != ANSWER_LEVEL) & level.is_not_null()).sum().alias("d"),
        (pl.col("importance").is_not_null() & ~pl.col("importance").is_between(LEVEL_MIN, LEVEL_MAX)).sum().alias("e"),
    ).row(0)
    if any(problems):
        _explain_bad_answers(df, name)


def _explain_bad_answers(df: pl.DataFrame, name: str) -> None:
    bad = df.filter(~pl.col("answer").is_in(list(ANSWERS)))
    if bad.height:
        raise ValueError(
            f"{name}: column 'answer' must be one of {ANSWERS}, got {bad['answer'].unique().sort().to_list()}"
        )
    out_of_range = df.filter(pl.col("level").is_not_null() & ~pl.col("level").is_between(LEVEL_MIN, LEVEL_MAX))
    if out_of_range.height:
        raise ValueError(f"{name}: column 'level' must be between {LEVEL_MIN} and {LEVEL_MAX}")
    missing_level = df.filter((pl.col("answer") == ANSWER_LEVEL) & pl.col("level").is_null())
    if missing_level.height:
        raise ValueError(f"{name}: column 'level' is null on {missing_level.height} row(s) whose answer is 'level'")
    stray_level = df.filter((pl.col("answer") != ANSWER_LEVEL) & pl.col("level").is_not_null())
    if stray_level.height:
        raise ValueError(
            f"{name}: column 'level' must be null unless answer is 'level' ({stray_level.height} row(s))"
        )
    bad_imp = df.filter(
        pl.col("importance").is_not_null() & ~pl.col("importance").is_between(LEVEL_MIN, LEVEL_MAX)
    )
    if bad_imp.height:
        raise ValueError(f"{name}: column 'importance' must be between {LEVEL_MIN} and {LEVEL_MAX}")


def _check_unique(df: pl.DataFrame, keys: list[str], name: str, what: str) -> None:
    if df.height and df.select(keys).is_duplicated().any():
        raise ValueError(f"{name}: more than one row per {what} (columns {keys})")


# --------------------------------------------------------------------------
# Validators, one per input frame
# --------------------------------------------------------------------------


# The last frame validated (input, output). One page's chain (group counts, two describes,
# two theme scores) validates the same frame five times; checking it once saves ~150 ms on a
# 400 000-answer campaign (docs/performance.md). Frames are treated as immutable here: analytics
# never mutates a frame in place, and holding the input keeps its identity from being reused.
_last_validated: tuple[pl.DataFrame, pl.DataFrame] | None = None


def validate_responses(df: pl.DataFrame) -> pl.DataFrame:
    """Validate ``responses``: one row per (response_id, practice_key).

    Columns: response_id, group_id, practice_key, answer ∈ {level, dont_know,
    not_concerned}, level Int8 1..5 (null unless answer == "level"),
    importance Int8 1..5 nullable. The four key columns may be String or
    Categorical; the validated frame holds them as Categorical
    (:data:`RESPONSE_KEY_COLUMNS`), and every analytics output gives keys back
    as String.
    """
    global _last_validated
    last = _last_validated  # read once: analyses may run in several threads at a time
    if last is not None and (df is last[0] or df is last[1]):
        return last[1]
    checked = _validate_responses(df)
    _last_validated = (df, checked)
    return checked


#: Key columns of ``responses`` that the analytics group and join on. The validated frame holds them
#: as Categorical (String is accepted and converted): grouping, counting distinct values and
#: joining then work on small integers instead of hashing 400 000 strings each time.
RESPONSE_KEY_COLUMNS = ("response_id", "group_id", "practice_key", "answer")


def _as_categorical(df: pl.DataFrame, name: str) -> pl.DataFrame:
    casts = []
    for col in RESPONSE_KEY_COLUMNS:
        dtype = df.schema[col]
        if isinstance(dtype, pl.Categorical):
            continue
        if dtype in (pl.String, pl.Null):
            casts.append(pl.col(col).cast(pl.String).cast(pl.Categorical))
        else:
            casts.append(pl.col(col).cast(pl.String, strict=True).cast(pl.Categorical))
    if not casts:
        return df
    try:
        return df.with_columns(casts)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise ValueError(f"{name}: column cannot be cast to the expected type: {exc}") from exc


def _validate_responses(df: pl.DataFrame) -> pl.DataFrame:
    name = "responses"
    require_columns(df, RESPONSES_SCHEMA.keys(), name)
    df = _as_categorical(df, name)
    working = {**RESPONSES_SCHEMA, **{c: df.schema[c] for c in RESPONSE_KEY_COLUMNS}}
    df = validate(df, working, name, non_null=RESPONSE_KEY_COLUMNS)
    _check_answers(df, name)
    if df.height:
        # On the categories' integer codes: one row per response × practice, one group per response.
        response = pl.col("response_id").to_physical().cast(pl.UInt64)
        pairs = df.select(
            answers=(response * (1 << 32) + pl.col("practice_key").to_physical().cast(pl.UInt64)).n_unique(),
            responses=response.n_unique(),
            response_groups=(response * (1 << 32) + pl.col("group_id").to_physical().cast(pl.UInt64)).n_unique(),
        ).row(0, named=True)
        if pairs["answers"] != df.height:
            raise ValueError(f"{name}: more than one row per response × practice (columns ['response_id', 'practice_key'])")
        if pairs["response_groups"] != pairs["responses"]:
            raise ValueError(f"{name}: a response_id belongs to several group_id values")
    return df


def validate_self_answers(df: pl.DataFrame) -> pl.DataFrame:
    """Validate ``self_answers``: one row per (member_id, practice_key); same answer rules as responses."""
    name = "self_answers"
    df = validate(df, SELF_ANSWERS_SCHEMA, name, non_null=("member_id", "practice_key", "answer"))
    _check_answers(df, name)
    _check_unique(df, ["member_id", "practice_key"], name, "member × practice")
    return df


def validate_groups(df: pl.DataFrame) -> pl.DataFrame:
    """Validate ``groups``: one row per group_id, weight ≥ 0 and non-null, open_link non-null."""
    name = "groups"
    df = validate(df, GROUPS_SCHEMA, name, non_null=("group_id", "weight", "open_link"))
    _check_unique(df, ["group_id"], name, "group_id")
    if df.filter(pl.col("weight") < 0).height or df["weight"].is_nan().any():
        raise ValueError(f"{name}: column 'weight' must be a number ≥ 0")
    return df


def validate_practices(df: pl.DataFrame) -> pl.DataFrame:
    """Validate ``practices``: one row per practice_key; theme_key and theme_number non-null."""
    name = "practices"
    df = validate(df, PRACTICES_SCHEMA, name, non_null=("practice_key", "theme_key", "theme_number"))
    _check_unique(df, ["practice_key"], name, "practice_key")
    return df


def validate_comments(df: pl.DataFrame) -> pl.DataFrame:
    """Validate ``comments`` (response_id, group_id, practice_key, comment); group_id non-null."""
    return validate(df, COMMENTS_SCHEMA, "comments", non_null=("group_id",))


def validate_group_counts(df: pl.DataFrame) -> pl.DataFrame:
    """Validate ``group_counts`` (group_id, n_respondents ≥ 0), one row per group_id."""
    name = "group_counts"
    df = validate(df, GROUP_COUNTS_SCHEMA, name, non_null=("group_id", "n_respondents"))
    _check_unique(df, ["group_id"], name, "group_id")
    if df.filter(pl.col("n_respondents") < 0).height:
        raise ValueError(f"{name}: column 'n_respondents' must be ≥ 0")
    return df


def validate_snapshots(df: pl.DataFrame) -> pl.DataFrame:
    """Validate ``snapshots`` for trends: one row per (source, period_order, practice_key)."""
    name = "snapshots"
    df = validate(
        df,
        SNAPSHOTS_SCHEMA,
        name,
        non_null=("period_label", "period_order", "source", "practice_key", "theme_key"),
    )
    bad = df.filter(~pl.col("source").is_in(list(SOURCES)))
    if bad.height:
        raise ValueError(f"{name}: column 'source' must be one of {SOURCES}")
    _check_unique(df, ["source", "period_order", "practice_key"], name, "source × period × practice")
    labels = df.group_by("source", "period_order").agg(pl.col("period_label").n_unique().alias("k"))
    if labels.filter(pl.col("k") > 1).height:
        raise ValueError(f"{name}: several period_label values for one (source, period_order)")
    return df


__all__ = [
    "ANSWERS",
    "ANSWER_DONT_KNOW",
    "ANSWER_LEVEL",
    "ANSWER_NOT_CONCERNED",
    "COMMENTS_SCHEMA",
    "GROUPS_SCHEMA",
    "GROUP_COUNTS_SCHEMA",
    "LEVELS",
    "LEVEL_MAX",
    "LEVEL_MIN",
    "PRACTICES_SCHEMA",
    "RESPONSES_SCHEMA",
    "RESPONSE_KEY_COLUMNS",
    "SELF_ANSWERS_SCHEMA",
    "SNAPSHOTS_SCHEMA",
    "SOURCES",
    "SOURCE_CONSULTATION",
    "SOURCE_DIAGNOSTIC",
    "empty_frame",
    "require_columns",
    "validate",
    "validate_comments",
    "validate_group_counts",
    "validate_groups",
    "validate_practices",
    "validate_responses",
    "validate_self_answers",
    "validate_snapshots",
]
