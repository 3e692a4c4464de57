"""A response's answers packed in one row: the read path of the analytics.

``response_answer`` keeps one row per answer (the normalised record, with the
comments). Reading a campaign's 400 000 answer rows costs far more than the
analysis itself (docs/performance.md), so each ``response`` row also carries
its answers packed into two short ASCII strings, one character per practice of
the campaign, in the order of ``campaign.practice_keys`` (pinned at creation and
locked at launch, before any response exists):

* ``answer_codes``: ``1``…``5`` a level, ``d`` "je ne sais pas", ``n`` "non
  concerné·e", ``.`` not answered (or not asked to this group);
* ``importance_codes``: ``1``…``5`` an importance, ``.`` none.

Both are written by the one writer of responses (``services.ballots_mix``), in
the same transaction as the ``response_answer`` rows. They hold nothing the
answer rows don't: no time, no order, no link to a person.

:func:`decode` turns the rows of one campaign into the analytics' long
``RESPONSES_SCHEMA`` frame with a few vectorised Polars operations (a byte
reinterpretation and lookups, no Python loop over answers). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import polars as pl

from analytics.frames import ANSWER_DONT_KNOW, ANSWER_LEVEL, ANSWER_NOT_CONCERNED, LEVELS, RESPONSE_KEY_COLUMNS, RESPONSES_SCHEMA

NO_ANSWER = "."
_ANSWER_CODE = {ANSWER_DONT_KNOW: "d", ANSWER_NOT_CONCERNED: "n"}
_LEVEL_CODES = {str(level) for level in LEVELS}

#: Columns of the packed rows given to :func:`decode`.
PACKED_SCHEMA: dict[str, pl.DataType] = {
    "response_id": pl.String(),
    "group_id": pl.String(),
    "answer_codes": pl.String(),
    "importance_codes": pl.String(),
}


def layout(practice_keys: Sequence[str]) -> list[str]:
    """The positions of the codes: the campaign's practices, each once, in their pinned order."""
    return list(dict.fromkeys(practice_keys))


def encode_responses(
    rows: Iterable[Mapping[str, object]], practice_keys: Sequence[str], response_ids: Iterable[object]
) -> dict[str, tuple[str, str]]:
    """The codes of each of ``response_ids`` (as text) from its ``response_answer``-shaped rows
    (response_id, practice_key, answer, level, importance); a response without rows gets codes of
    "." only. For responses written before the packed columns (migration, read-time fallback)."""
    answers: dict[str, dict[str, dict[str, str]]] = {str(r): {} for r in response_ids}
    for r in rows:
        given = answers.get(str(r["response_id"]))
        if given is not None:
            given[str(r["practice_key"])] = {
                "answer": str(r["level"]) if r["answer"] == ANSWER_LEVEL else str(r["answer"]),
                "importance": str(r["importance"]) if r["importance"] is not None else "",
            }
    return {response: encode(given, practice_keys) for response, given in answers.items()}


def encode(answers: Mapping[str, Mapping[str, object]], practice_keys: Sequence[str]) -> tuple[str, str]:
    """Pack one ballot's answers ``{practice_key: {"answer": "1".."5"|"dont_know"|"not_concerned",
    "importance": "1".."5"|""}}`` along ``practice_keys``.

    Raises ``ValueError`` for a practice outside ``practice_keys`` or an unknown
    code: an answer is never dropped silently."""
    keys = layout(practice_keys)
    position = {key: i for i, key in enumerate(keys)}
    answer_codes = [NO_ANSWER] * len(keys)
    importance_codes = [NO_ANSWER] * len(keys)
    for key, entry in answers.items():
        if key not in position:
            raise ValueError(f"practice {key!r} is not one of the campaign's practices")
        answer = str(entry.get("answer") or "")
        if answer in _LEVEL_CODES:
            code = answer
        elif answer in _ANSWER_CODE:
            code = _ANSWER_CODE[answer]
        else:
            raise ValueError(f"unknown answer {answer!r} for practice {key!r}")
        importance = str(entry.get("importance") or "")
        if importance and importance not in _LEVEL_CODES:
            raise ValueError(f"unknown importance {importance!r} for practice {key!r}")
        answer_codes[position[key]] = code
        importance_codes[position[key]] = importance or NO_ANSWER
    return "".join(answer_codes), "".join(importance_codes)


def _lookup(mapping: Mapping[str, object], dtype: pl.DataType) -> pl.Series:
    """A 256-entry table indexed by byte value (null for bytes that are not codes)."""
    values: list[object] = [None] * 256
    for code, value in mapping.items():
        values[ord(code)] = value
    return pl.Series(values, dtype=dtype)


_ANSWERS = _lookup({**{c: ANSWER_LEVEL for c in _LEVEL_CODES}, "d": ANSWER_DONT_KNOW, "n": ANSWER_NOT_CONCERNED}, pl.String())
_LEVEL = _lookup({c: int(c) for c in _LEVEL_CODES}, pl.Int8())  # levels and importances share the 1–5 codes
_ANSWER_BYTES = frozenset(ord(c) for c in (*_LEVEL_CODES, "d", "n", NO_ANSWER))
_IMPORTANCE_BYTES = frozenset(ord(c) for c in (*_LEVEL_CODES, NO_ANSWER))


def _bytes(rows: pl.DataFrame, column: str, width: int) -> pl.Series:
    """The codes of every row, flattened row after row into one UInt8 series of ``height × width``."""
    return (
        rows.select(pl.col(column).cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width)))
        .to_series()
        .explode()
    )


def decode(rows: pl.DataFrame, practice_keys: Sequence[str]) -> pl.DataFrame:
    """Packed ``response`` rows (:data:`PACKED_SCHEMA`) → one row per answer, ``RESPONSES_SCHEMA``
    with the key columns as Categorical.

    Raises ``ValueError`` when a row's codes don't have one character per
    practice or hold an unknown character: figures are never computed from a
    misread answer."""
    keys = layout(practice_keys)
    width = len(keys)
    missing = [c for c in PACKED_SCHEMA if c not in rows.columns]
    if missing:
        raise ValueError(f"packed responses: missing column(s) {missing}")
    if rows.height == 0 or width == 0:
        return pl.DataFrame(schema=RESPONSES_SCHEMA).with_columns(pl.col(c).cast(pl.Categorical) for c in RESPONSE_KEY_COLUMNS)
    if rows.select(pl.col("answer_codes").is_null().any() | pl.col("importance_codes").is_null().any()).item():
        raise ValueError("packed responses: codes missing (null)")
    lengths = rows.select(
        a=pl.col("answer_codes").str.len_bytes().min(), b=pl.col("answer_codes").str.len_bytes().max(),
        c=pl.col("importance_codes").str.len_bytes().min(), d=pl.col("importance_codes").str.len_bytes().max(),
    ).row(0)
    if any(v != width for v in lengths):
        raise ValueError(f"packed responses: codes must have exactly {width} characters (one per practice)")
    codes = pl.DataFrame({"a": _bytes(rows, "answer_codes", width), "i": _bytes(rows, "importance_codes", width)})
    if not codes.select(_valid(pl.col("a"), _ANSWER_BYTES) & _valid(pl.col("i"), _IMPORTANCE_BYTES)).to_series().all():
        raise ValueError("packed responses: unknown character in the codes")
    # One row per given answer; its position in the flattened codes gives its response and practice.
    given = codes.with_row_index("position").filter(pl.col("a") != ord(NO_ANSWER))
    row = given.get_column("position") // width
    column = given.get_column("position") % width
    answers = given.get_column("a")
    # Keys come out Categorical (what the analytics work on: analytics.frames.RESPONSE_KEY_COLUMNS),
    # built from small integer positions instead of 400 000 copied strings.
    return pl.DataFrame(
        {
            "response_id": rows.get_column("response_id").cast(pl.String).cast(pl.Categorical).gather(row),
            "group_id": rows.get_column("group_id").cast(pl.String).cast(pl.Categorical).gather(row),
            "practice_key": pl.Series(keys, dtype=pl.String).cast(pl.Categorical).gather(column),
            "answer": _ANSWERS.cast(pl.Categorical).gather(answers),
            "level": _LEVEL.gather(answers),
            "importance": _LEVEL.gather(given.get_column("i")),
        }
    )


def _valid(byte: pl.Expr, allowed: frozenset[int]) -> pl.Expr:
    """True where ``byte`` is one of ``allowed`` (a few comparisons: cheaper than a lookup per byte)."""
    level = (byte >= ord(min(_LEVEL_CODES))) & (byte <= ord(max(_LEVEL_CODES)))
    others = [byte == b for b in sorted(allowed) if chr(b) not in _LEVEL_CODES]
    return pl.any_horizontal(level, *others)


__all__ = ["NO_ANSWER", "PACKED_SCHEMA", "decode", "encode", "encode_responses", "layout"]
