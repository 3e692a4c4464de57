"""Packed answers (one row per response) read back exactly as the answer rows say — or not at all."""

from __future__ import annotations

import importlib
import random
import uuid

import polars as pl
import pytest

from analytics.frames import RESPONSE_KEY_COLUMNS, RESPONSES_SCHEMA
from consultations import answer_codes, services
from consultations.results import responses_frame
from bench.readers import orm_rows_frame  # the answer rows, one ORM row per answer
from consultations.tables import Response
from organisations.tables import Membership
from tests.consultations.factories import build_campaign
from tests.helpers import sign_up

KEYS = [f"theme{i // 4}.practice_{i:02d}" for i in range(13)]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in one order, keys as String (the reader gives them as Categorical)."""
    return frame.with_columns(pl.col(c).cast(pl.String) for c in RESPONSE_KEY_COLUMNS).sort("response_id", "practice_key")


def _random_ballots(rng: random.Random, n: int) -> list[tuple[str, str, dict]]:
    ballots = []
    for _ in range(n):
        answers = {}
        for key in KEYS:
            roll = rng.random()
            if roll < 0.15:
                continue  # not asked to this group, or skipped
            answer = rng.choice(["dont_know", "not_concerned"]) if roll < 0.3 else str(rng.randint(1, 5))
            answers[key] = {"answer": answer, "importance": rng.choice(["", "1", "2", "3", "4", "5"])}
        ballots.append((str(uuid.uuid4()), rng.choice(["g1", "g2", "g3"]), answers))
    return ballots


def _expected(ballots) -> pl.DataFrame:
    """The long frame written out answer by answer, the way response_answer rows are."""
    rows = []
    for response_id, group_id, answers in ballots:
        for key, entry in answers.items():
            level = entry["answer"] if entry["answer"] in {"1", "2", "3", "4", "5"} else None
            rows.append(
                {
                    "response_id": response_id, "group_id": group_id, "practice_key": key,
                    "answer": "level" if level else entry["answer"],
                    "level": int(level) if level else None,
                    "importance": int(entry["importance"]) if entry["importance"] else None,
                }
            )
    return pl.DataFrame(rows, schema=RESPONSES_SCHEMA)


def test_packed_answers_decode_to_exactly_the_answers_given():
    ballots = _random_ballots(random.Random(5), 300)
    packed = []
    for response_id, group_id, answers in ballots:
        a, i = answer_codes.encode(answers, KEYS)
        assert len(a) == len(i) == len(KEYS)
        packed.append({"response_id": response_id, "group_id": group_id, "answer_codes": a, "importance_codes": i})
    got = answer_codes.decode(pl.DataFrame(packed, schema=answer_codes.PACKED_SCHEMA), KEYS)
    assert list(got.columns) == list(RESPONSES_SCHEMA)
    assert all(isinstance(got.schema[c], pl.Categorical) for c in RESPONSE_KEY_COLUMNS)
    assert _sorted(got).equals(_sorted(_expected(ballots)))


def test_no_responses_give_an_empty_typed_frame():
    got = answer_codes.decode(pl.DataFrame(schema=answer_codes.PACKED_SCHEMA), KEYS)
    assert got.height == 0 and list(got.columns) == list(RESPONSES_SCHEMA)
    assert got.schema["level"] == pl.Int8 and isinstance(got.schema["answer"], pl.Categorical)


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"autre.pratique": {"answer": "3"}}, "not one of the campaign's practices"),
        ({KEYS[0]: {"answer": "7"}}, "unknown answer"),
        ({KEYS[0]: {"answer": "3", "importance": "9"}}, "unknown importance"),
    ],
)
def test_an_answer_that_cannot_be_packed_is_refused_never_dropped(answers, message):
    with pytest.raises(ValueError, match=message):
        answer_codes.encode(answers, KEYS)


def test_a_practice_listed_twice_has_one_position():
    keys = [KEYS[0], KEYS[1], KEYS[0]]
    a, i = answer_codes.encode({KEYS[0]: {"answer": "4", "importance": "2"}, KEYS[1]: {"answer": "dont_know"}}, keys)
    assert (a, i) == ("4d", "2.")
    rows = pl.DataFrame([{"response_id": "r", "group_id": "g", "answer_codes": a, "importance_codes": i}], schema=answer_codes.PACKED_SCHEMA)
    got = _sorted(answer_codes.decode(rows, keys))
    assert got.get_column("practice_key").to_list() == [KEYS[0], KEYS[1]] and got.get_column("level").to_list() == [4, None]


async def test_a_campaign_keeps_each_chosen_practice_once(client):
    from consultations.tables import Campaign

    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    setup = await build_campaign(org_id, user, {("Salariés", "salaries"): 1}, launch=False)
    chosen = ("gouv.elections", "gouv.participation_ag", "gouv.elections")
    await services.campaign_update(
        organisation_id=org_id, campaign_id=setup.campaign_id,
        data=services.CampaignInput(title="Doublons", referentiel_key="essentiel", threshold=3, practice_keys=chosen,
                                    audience=tuple(services.AudienceInput(group_id=g) for g in setup.groups.values())),
    )
    row = await Campaign.select(Campaign.practice_keys).where(Campaign.id == setup.campaign_id).output(load_json=True).first()
    assert row["practice_keys"] == ["gouv.elections", "gouv.participation_ag"]


@pytest.mark.parametrize(
    "codes, message",
    [
        (("3" * 12, "." * 12), "exactly 13 characters"),
        (("3" * 13, "." * 14), "exactly 13 characters"),
        (("3" * 12 + "x", "." * 13), "unknown character"),
        (("3" * 13, "." * 12 + "0"), "unknown character"),
        (("3" * 11 + "é", "." * 13), "exactly 13 characters|unknown character"),
    ],
)
def test_codes_that_do_not_fit_the_campaign_are_refused(codes, message):
    rows = pl.DataFrame(
        [{"response_id": "r", "group_id": "g", "answer_codes": codes[0], "importance_codes": codes[1]}],
        schema=answer_codes.PACKED_SCHEMA,
    )
    with pytest.raises(ValueError, match=message):
        answer_codes.decode(rows, KEYS)


@pytest.mark.parametrize("column", ["answer_codes", "importance_codes"])
def test_a_response_without_codes_among_others_is_refused_not_shifted(column):
    full = {"answer_codes": "3" * 13, "importance_codes": "." * 13}
    rows = pl.DataFrame(
        [{"response_id": "r1", "group_id": "g", **full},
         {"response_id": "r2", "group_id": "g", **full, column: None},
         {"response_id": "r3", "group_id": "g", **full}],
        schema=answer_codes.PACKED_SCHEMA,
    )
    with pytest.raises(ValueError, match="codes missing"):
        answer_codes.decode(rows, KEYS)


async def _campaign_with_varied_answers(client):
    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    setup = await build_campaign(org_id, user, {("Salariés", "salaries"): 4, ("Financeurs", "financeurs"): 3}, threshold=3)
    rng = random.Random(3)
    for paths in setup.links.values():
        for path in paths:
            respondent = await services.respondent_for_invitation(path.rsplit("/", 1)[1])
            answers = {}
            for p in respondent.practices:
                roll = rng.random()
                if roll < 0.2:
                    continue
                answer = rng.choice(["dont_know", "not_concerned"]) if roll < 0.35 else str(rng.randint(1, 5))
                answers[p.key] = {"answer": answer, "importance": rng.choice(["", "2", "5"]), "comment": "" if rng.random() < 0.8 else "Un avis"}
            await services.submit(respondent, answers)
    await services.campaign_close(organisation_id=org_id, campaign_id=setup.campaign_id)
    return setup


async def test_the_analytics_read_equals_the_answer_rows_written_with_it(client):
    setup = await _campaign_with_varied_answers(client)
    expected = await orm_rows_frame(setup.campaign_id)
    assert expected.height > 20 and expected.get_column("answer").n_unique() == 3
    assert _sorted(await responses_frame(setup.campaign_id)).equals(_sorted(expected))


async def test_the_migration_packs_the_answers_of_existing_responses(client):
    setup = await _campaign_with_varied_answers(client)
    expected = await orm_rows_frame(setup.campaign_id)
    # Responses stored before the packed columns existed have empty codes (or were written by an
    # older process during an upgrade): the read packs them from their answer rows meanwhile.
    await Response.update({Response.answer_codes: "", Response.importance_codes: ""}, force=True)
    assert _sorted(await responses_frame(setup.campaign_id)).equals(_sorted(expected))
    assert await Response.count().where(Response.answer_codes == "") == await Response.count()  # nothing written
    migration = importlib.import_module("consultations.piccolo_migrations.consultations_2026_11_28t11_30_00_000000")
    assert await migration.backfill_answer_codes() == await Response.count()
    assert _sorted(await responses_frame(setup.campaign_id)).equals(_sorted(expected))
    assert await migration.backfill_answer_codes() == 0  # idempotent


async def test_arrow_reads_survive_a_kept_connection_closed_by_the_server(client):
    """PostgreSQL keeps a few ADBC connections (opening one costs ~80 ms): one closed by the server
    meanwhile is replaced, the read still succeeds. SQLite opens one per read (checked the same way)."""
    from api import db

    setup = await _campaign_with_varied_answers(client)
    expected = await orm_rows_frame(setup.campaign_id)
    assert _sorted(await responses_frame(setup.campaign_id)).equals(_sorted(expected))
    if db.engine().engine_type == "postgres":
        # Terminate every other backend of this database: the kept ADBC connections die.
        await db.engine()._run_in_new_connection(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert sum(q.qsize() for q in db._ADBC_IDLE.values()) >= 1
    assert _sorted(await responses_frame(setup.campaign_id)).equals(_sorted(expected))
    kept = sum(q.qsize() for q in db._ADBC_IDLE.values())
    if db.engine().engine_type == "postgres":
        assert kept >= 1  # the replacement connection is kept for the next read
    else:
        assert kept == 0  # SQLite connections are opened per read, never kept
    db.close_arrow_connections()
    assert db._ADBC_IDLE == {}


def test_released_arrow_connections_are_kept_up_to_the_cap_and_the_rest_closed():
    import threading

    from api import db

    class Fake:
        closed = False

        def close(self):
            self.closed = True

    dsn = f"postgresql://fake/{uuid.uuid4()}"
    conns = [Fake() for _ in range(db.ADBC_MAX_IDLE + 6)]
    threads = [threading.Thread(target=db.release_postgres_arrow, args=(dsn, c)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sum(not c.closed for c in conns) == db.ADBC_MAX_IDLE == db._ADBC_IDLE[dsn].qsize()
        broken = Fake()
        db.release_postgres_arrow(dsn, broken, broken=True)
        assert broken.closed and db._ADBC_IDLE[dsn].qsize() == db.ADBC_MAX_IDLE
    finally:
        db._ADBC_IDLE.pop(dsn, None)
