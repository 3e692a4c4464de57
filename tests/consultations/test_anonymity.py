"""Anonymity is a property of the data, proved here: no column, join, time or order ties a
response to the person who gave it, and the organisation sees counts only."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid

from piccolo.columns import Date, ForeignKey, Timestamptz

from api.db import engine
from consultations import services
from consultations.tables import Ballot, Campaign, Draft, Invitation, Response, ResponseAnswer
from organisations.tables import Membership
from tests.consultations.factories import build_campaign
from tests.consultations.test_campaign_journey import _answer_all
from tests.helpers import sign_up

ANONYMOUS_TABLES = (Ballot, Response, ResponseAnswer)
FORBIDDEN_NAMES = re.compile(r"invitation|contact|token|nonce|email|ip|agent|user|member|time|_at$|browser")


async def _org(client):
    account = await sign_up(client)
    member = await Membership.select(Membership.user).first()
    return account, uuid.UUID(account.org_id), member["user"]


def test_response_tables_hold_no_identifying_column_or_join_path():
    for table in ANONYMOUS_TABLES:
        for column in table._meta.columns:
            name = column._meta.name
            assert not FORBIDDEN_NAMES.search(name), f"{table._meta.tablename}.{name}"
            assert not isinstance(column, Timestamptz), f"{table._meta.tablename}.{name} keeps a precise time"
            if isinstance(column, Date):
                assert name == "submitted_on"  # the day, at most
            if isinstance(column, ForeignKey):
                target = column._foreign_key_meta.resolved_references
                assert target._meta.tablename in {"campaign", "campaign_group", "response"}, f"{name} → {target._meta.tablename}"
    # Nothing points *to* a response either, except its own answers.
    from piccolo.conf.apps import Finder

    for table in Finder().get_table_classes():
        for fk in table._meta.foreign_key_columns:
            if fk._foreign_key_meta.resolved_references in (Response, Ballot):
                assert table is ResponseAnswer, f"{table._meta.tablename} joins to responses"


def test_invitations_record_only_that_they_were_used():
    time_columns = [c._meta.name for c in Invitation._meta.columns if isinstance(c, (Timestamptz, Date))]
    assert time_columns == []
    assert isinstance(Invitation.used, type(Invitation.revoked))  # a boolean, like `revoked`


async def test_submission_deletes_the_draft_and_leaves_no_trace_of_who(client, caplog):
    _account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3}, threshold=3)
    path = setup.links["Salariés"][0]
    token = path.rsplit("/", 1)[1]
    caplog.set_level(logging.DEBUG)
    await _answer_all(client, path)
    assert await Draft.count() == 0
    # No server log line carries the link (so none ties it to the response); httpx is the test's own client.
    server_records = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert all(token not in r.getMessage() for r in server_records)
    # The ballot waits in the box: below the threshold there is no response row yet.
    assert await Ballot.count() == 1 and await Response.count() == 0
    [ballot] = await Ballot.select()
    assert ballot["submitted_on"] == services.today()
    assert set(ballot) == {"id", "campaign", "campaign_group", "answers", "language", "via_open_link", "submitted_on"}


async def test_ballots_become_responses_only_in_shuffled_batches_of_the_threshold(client):
    _account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 6}, threshold=3)
    paths = setup.links["Salariés"]
    for i, path in enumerate(paths[:5]):
        await _answer_all(client, path, level=str(1 + i))
        expected_responses = 3 if i >= 2 else 0
        assert await Response.count() == expected_responses, i
    # 2 ballots wait; closing flushes them in one batch.
    assert await Ballot.count() == 2
    campaign = await Campaign.objects().first()
    await services.campaign_close(organisation_id=org_id, campaign_id=campaign.id)
    assert await Ballot.count() == 0 and await Response.count() == 5
    ids = [r["id"] for r in await Response.select(Response.id)]
    assert all(uuid.UUID(str(i)).version == 4 for i in ids)  # random, not time-ordered


async def test_sqlite_response_tables_have_no_hidden_insertion_order(client):
    db = engine()
    if db.engine_type != "sqlite":
        # PostgreSQL has no rowid; its physical order is broken by the shuffled batches.
        assert db.engine_type == "postgres"
        return
    for table in ("response", "response_answer", "response_ballot"):
        rows = await db._run_in_new_connection("SELECT sql FROM sqlite_master WHERE name = ?", [table])
        assert rows[0]["sql"].rstrip().upper().endswith("WITHOUT ROWID"), table


async def test_the_organisation_sees_who_was_invited_never_who_answered(client):
    account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 4}, threshold=3)
    url = f"/o/{account.slug}/consultations/{setup.campaign_id}"
    before = (await client.get(url)).text
    await _answer_all(client, setup.links["Salariés"][0])
    after = (await client.get(url)).text
    rows = lambda html: re.findall(r"<tr><td>Salariés \d</td>.*?</tr>", html, re.S)  # noqa: E731
    assert rows(before) and rows(before) == rows(after)  # the invitee list is identical
    api_rows = (await client.get(f"/api/v1/organisations/{org_id}/campaigns/{setup.campaign_id}/invitations")).json()
    assert api_rows and all("used" not in r for r in api_rows)
    participation = (await client.get(f"/api/v1/organisations/{org_id}/campaigns/{setup.campaign_id}/participation")).json()
    assert participation["answered"] == 1 and participation["invited"] == 4


async def test_reissuing_a_used_link_does_not_reveal_that_it_was_used(client):
    account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3}, threshold=3)
    invitations = await Invitation.select(Invitation.id).order_by(Invitation.id)
    await _answer_all(client, setup.links["Salariés"][0])
    responses = []
    for inv in invitations:
        r = await client.post(
            f"/o/{account.slug}/consultations/{setup.campaign_id}/invitations/{inv['id']}/reemettre",
            data={"_csrf_token": client.cookies.get("essp_csrf")},
        )
        responses.append((r.status_code, "Nouveau lien envoyé" in r.text))
    assert len(set(responses)) == 1  # same answer whether or not that person had answered


async def test_anonymity_settings_lock_at_launch_in_the_service(client):
    _account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3}, threshold=4, shared_links=True)
    from api.errors import Conflict

    try:
        await services.campaign_update(
            organisation_id=org_id, campaign_id=setup.campaign_id,
            data=services.CampaignInput(title="x", threshold=3, shared_links=False, audience=(services.AudienceInput(setup.groups["Salariés"]),)),
        )
        raised = False
    except Conflict:
        raised = True
    assert raised
    campaign = await Campaign.objects().first()
    assert (campaign.threshold, campaign.shared_links) == (4, True)


async def test_closing_discards_unsubmitted_drafts(client):
    _account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3}, threshold=3)
    path = setup.links["Salariés"][0]
    page = await client.get(f"{path}/etape/1")
    key = re.findall(r'name="answer__([^"]+)"', page.text)[0]
    from tests.helpers import post_form

    await post_form(client, f"{path}/etape/1", {f"answer__{key}": "2"})
    assert await Draft.count() == 1
    await services.campaign_close(organisation_id=org_id, campaign_id=setup.campaign_id)
    assert await Draft.count() == 0 and await Response.count() == 0


def test_day_is_the_finest_time_kept():
    assert isinstance(services.today(), dt.date) and not isinstance(services.today(), dt.datetime)


def test_access_log_lines_never_carry_a_respondent_token():
    from api.cli import RedactRespondentLinks

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/r/eyJhbGciOi.secret-token/envoyer?lang=fr", "1.1", 200), None,
    )
    assert RedactRespondentLinks().filter(record)
    line = record.getMessage()
    assert "secret-token" not in line and "/r/…/envoyer" in line
