"""Every bad link gets its own kind page, in French or English — never a 500."""

from __future__ import annotations

import datetime as dt
import uuid

from consultations import links
from consultations.tables import Campaign, Invitation
from organisations.tables import Membership
from tests.consultations.factories import build_campaign
from tests.helpers import sign_up


async def _setup(client, **kwargs):
    account = await sign_up(client)
    member = await Membership.select(Membership.user).first()
    setup = await build_campaign(uuid.UUID(account.org_id), member["user"], {("Salariés", "salaries"): 3}, **kwargs)
    return account, setup


async def test_tampered_truncated_and_foreign_tokens(client):
    _account, setup = await _setup(client)
    path = setup.links["Salariés"][0]
    token = path.rsplit("/", 1)[1]
    flipped = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (flipped, token[:20], "n'importe-quoi", "x" * 400):
        page = await client.get(f"/r/{bad}")
        assert page.status_code == 404 and "Ce lien n&#39;est pas valide" in page.text, bad
    # A token signed for another purpose (unsubscribe) is refused as a survey link.
    invitation = await Invitation.objects().first()
    foreign = links.make_token(links.PURPOSE_UNSUBSCRIBE, invitation.id, invitation.nonce)
    assert (await client.get(f"/r/{foreign}")).status_code == 404
    # And a POST with a bad token is a kind page too.
    assert (await client.post(f"/r/{flipped}/envoyer", data={"_csrf_token": client.cookies.get("essp_csrf") or ""})).status_code in (403, 404)


async def test_expired_and_not_yet_open_links(client):
    _account, setup = await _setup(client)
    path = setup.links["Salariés"][0]
    await Campaign.update({Campaign.closes_on: dt.date.today() - dt.timedelta(days=2)}).where(Campaign.id == setup.campaign_id)
    expired = await client.get(path)
    assert expired.status_code == 410 and "La date limite est passée" in expired.text
    await Campaign.update({Campaign.closes_on: None, Campaign.opens_on: dt.date.today() + dt.timedelta(days=3)}).where(Campaign.id == setup.campaign_id)
    early = await client.get(f"{path}?lang=en")
    assert early.status_code == 403 and "hasn&#39;t started yet" in early.text


async def test_keys_rotate_without_breaking_sent_links(client, monkeypatch):
    _account, setup = await _setup(client)
    path = setup.links["Salariés"][0]
    from api import settings as settings_module

    old = settings_module.get_settings()
    rotated = settings_module.Settings(**{**old.__dict__, "secret_keys": (*old.secret_keys, "a-brand-new-signing-key-0123456789-abcdef")})
    monkeypatch.setattr(settings_module, "get_settings", lambda: rotated)
    monkeypatch.setattr(links, "get_settings", lambda: rotated)
    assert (await client.get(path)).status_code == 200  # signed with the old key, still verified
    invitation = await Invitation.objects().first()
    new_token = links.make_token(links.PURPOSE_INVITATION, invitation.id, invitation.nonce)
    assert new_token != path.rsplit("/", 1)[1]  # the newest key signs


async def test_survey_links_are_rate_limited(client, monkeypatch):
    from api.pages import respond
    from api.settings import load_settings

    monkeypatch.setenv("LINK_RATE_PER_MINUTE", "60")
    limited = load_settings()
    monkeypatch.setattr(respond, "get_settings", lambda: limited)
    import api.security

    monkeypatch.setattr(api.security, "_clock", lambda: 1_800_000_000.0)  # one window, however slow the run
    _account, setup = await _setup(client)
    path = setup.links["Salariés"][0]
    statuses = [(await client.get(path)).status_code for _ in range(65)]
    assert statuses[:60] == [200] * 60 and 429 in statuses[60:]
