"""Smoke tests for the benchmark code (no timings asserted): the proposed reader
returns exactly the stored answers, and the network aggregation gives the same
result in Polars and DuckDB on a tiny data set. Skipped when the `bench` extra
(adbc-driver-sqlite / adbc-driver-postgresql / duckdb) is not installed."""

from __future__ import annotations

import uuid

import polars as pl
import pytest


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort("response_id", "practice_key")


@pytest.fixture
async def stored_campaigns(db):
    from api.db import engine
    from bench import scratch_db
    from bench.datagen import generate_campaign, practices_frame

    keys = practices_frame()["practice_key"].to_list()[:6]
    org = uuid.uuid4()
    target = generate_campaign(40, organisation_id=org, practice_keys=keys, seed=1)
    other = generate_campaign(15, organisation_id=org, practice_keys=keys, seed=2, title="Autre")
    e = engine()
    if e.engine_type == "sqlite":
        scratch_db.load_sqlite(e.path, [target, other])
    else:
        await scratch_db.load_postgres(e.config["dsn"], [target, other])
    return target


@pytest.mark.parametrize("partitions", [1, 2, 3])
async def test_proposed_reader_returns_exactly_the_campaign_answers(stored_campaigns, partitions):
    from api.db import engine

    pytest.importorskip("adbc_driver_sqlite" if engine().engine_type == "sqlite" else "adbc_driver_postgresql")
    from analytics.frames import RESPONSES_SCHEMA
    from bench import readers

    try:
        got = await readers.campaign_responses_frame(stored_campaigns.campaign_id, partitions=partitions)
    finally:
        readers.close_adbc_connections()
    assert dict(got.schema) == dict(RESPONSES_SCHEMA)
    assert _sorted(got).equals(_sorted(stored_campaigns.expected_responses_frame()))


async def test_orm_reader_and_groups_frame(stored_campaigns):
    from bench import readers

    got = await readers.orm_rows_frame(stored_campaigns.campaign_id)
    assert _sorted(got).equals(_sorted(stored_campaigns.expected_responses_frame()))
    groups = await readers.campaign_groups_frame(stored_campaigns.campaign_id)
    assert groups.sort("group_id").equals(stored_campaigns.groups_frame().sort("group_id"))


async def test_empty_campaign_gives_an_empty_typed_frame(db):
    from api.db import engine

    pytest.importorskip("adbc_driver_sqlite" if engine().engine_type == "sqlite" else "adbc_driver_postgresql")
    from analytics.frames import RESPONSES_SCHEMA
    from bench import readers

    try:
        got = await readers.campaign_responses_frame(uuid.uuid4())
    finally:
        readers.close_adbc_connections()
    assert got.height == 0 and dict(got.schema) == dict(RESPONSES_SCHEMA)


def test_network_aggregation_same_result_in_polars_and_duckdb(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    from polars.testing import assert_frame_equal

    from bench import network_aggregation as na

    data = tmp_path / "net"
    na.generate(600, data)
    paths = na._paths(data)
    con = duckdb.connect()
    for query in na.QUERIES:
        results = []
        for i, sql in enumerate((na.SQL, na.SQL_TWO_STAGE)):
            out = tmp_path / f"{query}-{i}.parquet"  # via Parquet, as the benchmark does: no pyarrow needed
            con.execute(f"COPY ({sql[query].format(**paths, min_campaigns=5)}) TO '{out}' (FORMAT parquet)")
            results.append(pl.read_parquet(out))
        for build in (na.polars_query, na.polars_query_two_stage):
            for engine in ("streaming", "in-memory"):
                results.append(build(query, data).collect(engine=engine))
        for other in results[1:]:
            assert_frame_equal(results[0], other, check_dtypes=False, check_exact=False, rel_tol=1e-9)
        assert results[0].height > 0
