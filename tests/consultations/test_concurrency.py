"""One person, one answer — under real concurrency, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import uuid

from consultations import services
from consultations.tables import Ballot, Invitation, Response
from organisations.tables import Membership
from tests.consultations.factories import build_campaign
from tests.helpers import sign_up


async def _campaign(client, size: int):
    account = await sign_up(client)
    member = await Membership.select(Membership.user).first()
    return account, await build_campaign(uuid.UUID(account.org_id), member["user"], {("Salariés", "salaries"): size}, threshold=3)


async def _submit(token: str) -> str:
    try:
        respondent = await services.respondent_for_invitation(token)
        await services.submit(respondent, {"gouv.elections": {"answer": "4"}})
        return "recorded"
    except services.AlreadySubmitted:
        return "already"
    except services.LinkProblem as problem:
        return problem.kind


async def _recorded() -> int:
    return await Ballot.count() + await Response.count()


async def test_the_same_link_submitted_twice_at_the_same_moment_records_one_response(client):
    _account, setup = await _campaign(client, 3)
    token = setup.links["Salariés"][0].rsplit("/", 1)[1]
    outcomes = await asyncio.gather(*[_submit(token) for _ in range(8)])
    assert outcomes.count("recorded") == 1
    assert set(outcomes) <= {"recorded", "already", "used"}
    assert await _recorded() == 1
    assert await Invitation.count().where(Invitation.used == True) == 1  # noqa: E712


async def test_n_different_links_submitted_concurrently_record_n_responses(client):
    _account, setup = await _campaign(client, 12)
    tokens = [p.rsplit("/", 1)[1] for p in setup.links["Salariés"]]
    outcomes = await asyncio.gather(*[_submit(t) for t in tokens])
    assert outcomes == ["recorded"] * 12
    assert await _recorded() == 12
    assert await Invitation.count().where(Invitation.used == True) == 12  # noqa: E712


async def test_double_click_through_http_counts_once(client):
    _account, setup = await _campaign(client, 3)
    path = setup.links["Salariés"][0]
    await client.get(path)
    csrf = client.cookies.get("essp_csrf")
    responses = await asyncio.gather(*[client.post(f"{path}/envoyer", data={"_csrf_token": csrf, "lang": "fr"}) for _ in range(4)])
    assert sum("Merci !" in r.text for r in responses) == 1, [(r.status_code, r.text.split("<h1>")[1][:60] if "<h1>" in r.text else r.text[:200]) for r in responses]
    assert all(r.status_code in (200, 409) for r in responses)
    assert await _recorded() == 1


async def test_concurrent_autosaves_of_a_new_draft_merge_into_one(client):
    from consultations.tables import Draft

    _account, setup = await _campaign(client, 3)
    token = setup.links["Salariés"][0].rsplit("/", 1)[1]
    respondent = await services.respondent_for_invitation(token)
    keys = [p.key for p in respondent.practices][:4]
    await asyncio.gather(*[services.draft_save(respondent, {k: {"answer": "3"}}) for k in keys])
    [draft] = await Draft.select().output(load_json=True)
    assert set(draft["answers"]) == set(keys)  # no answer lost
    assert await Draft.count() == 1
