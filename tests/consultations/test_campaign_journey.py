"""A campaign from draft to closed, with real signed links, as stakeholders use them."""

from __future__ import annotations

import re
import uuid

from consultations.tables import Ballot, Campaign, Draft, Invitation, Response, ResponseAnswer
from organisations.tables import Contact, Membership
from tests.consultations.factories import build_campaign
from tests.helpers import api, link_in, outbox, post_form, sign_up


async def _org(client):
    account = await sign_up(client)
    member = await Membership.select(Membership.user).first()
    return account, uuid.UUID(account.org_id), member["user"]


async def _answer_all(client, path: str, level: str = "4", lang: str = "fr") -> None:
    welcome = await client.get(path)
    assert welcome.status_code == 200
    step = 1
    while True:
        page = await client.get(f"{path}/etape/{step}?lang={lang}")
        assert page.status_code == 200, page.text
        keys = sorted(set(re.findall(r'name="answer__([^"]+)"', page.text)))
        form = {f"answer__{k}": level for k in keys} | {f"importance__{k}": "4" for k in keys} | {"lang": lang}
        saved = await post_form(client, f"{path}/etape/{step}", form)
        assert saved.status_code == 303
        if "/envoyer" in saved.headers["location"]:
            break
        step += 1
    done = await post_form(client, f"{path}/envoyer", {"lang": lang})
    assert done.status_code == 200, done.text


async def test_draft_to_closed_with_real_links(client):
    account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 4, ("Bénévoles", "benevoles"): 3}, launch=False)
    # The draft page warns about nothing blocking; launching sends one email per contact.
    detail = await client.get(f"/o/{account.slug}/consultations/{setup.campaign_id}")
    assert detail.status_code == 200 and "Lancer la consultation" in detail.text
    launched = await post_form(client, f"/o/{account.slug}/consultations/{setup.campaign_id}/lancer", {})
    assert launched.status_code == 303
    mails = await outbox("invitation")
    assert len(mails) == 7
    mail = next(m for m in mails if m["to_address"] == "salaries0@example.org")
    assert "anonymes" in mail["text"] and "List-Unsubscribe" in mail["headers"]
    path = link_in(mail["text"], "/r/")
    assert len(path) < 160  # survives email clients

    # GET consumes nothing: a mail scanner can open it as often as it likes.
    for _ in range(3):
        assert (await client.get(path)).status_code == 200
    assert await Invitation.count().where(Invitation.used == True) == 0  # noqa: E712

    # A stakeholder answers the first step, leaves, and comes back later with the same link.
    page = await client.get(f"{path}/etape/1")
    key = re.findall(r'name="answer__([^"]+)"', page.text)[0]
    await post_form(client, f"{path}/etape/1", {f"answer__{key}": "2", f"comment__{key}": "Pas assez d'info"})
    again = await client.get(f"{path}/etape/1")
    assert re.search(rf'name="answer__{re.escape(key)}" value="2" checked', again.text)
    assert "Pas assez d&#39;info" in again.text
    assert (await client.get(path)).text.count("Reprendre") == 1

    await _answer_all(client, path, level="3")
    assert await Draft.count() == 0
    # The link now says the answer is recorded, and can't submit again.
    used = await client.get(path)
    assert used.status_code == 200 and "Votre réponse est déjà enregistrée" in used.text
    twice = await post_form(client, f"{path}/envoyer", {})
    assert twice.status_code == 200 and "déjà enregistrée" in twice.text
    assert await Ballot.count() + await Response.count() == 1

    # Participation: counts per group, refreshed live.
    fragment = await client.get(f"/o/{account.slug}/consultations/{setup.campaign_id}/participation")
    assert re.search(r"Salariés</th><td class=\"num\">4</td><td class=\"num\">1", fragment.text)

    closed = await post_form(client, f"/o/{account.slug}/consultations/{setup.campaign_id}/cloturer", {})
    assert closed.status_code == 303
    assert (await Campaign.objects().first()).status == "closed"
    # At close every ballot becomes a response, and the admins get a counts-only summary.
    assert await Ballot.count() == 0 and await Response.count() == 1
    assert await ResponseAnswer.count() > 0
    [summary] = await outbox("campaign_closed")
    assert "1" in summary["text"] and "salaries0" not in summary["text"]
    unused = next(link_in(m["text"], "/r/") for m in mails if m["to_address"] == "salaries1@example.org")
    after = await client.get(unused)
    assert after.status_code == 410 and "The consultation has ended" in after.text  # salaries1 reads English
    assert "déjà enregistrée" in (await client.get(path)).text  # who answered is simply told so


async def test_english_respondent_pages(client):
    _account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3})
    path = setup.links["Salariés"][0]
    welcome = await client.get(f"{path}?lang=en")
    assert 'lang="en"' in welcome.text and "Your answers are anonymous" in welcome.text
    step = await client.get(f"{path}/etape/1?lang=en")
    assert "I don&#39;t know" in step.text and "Don&#39;t write anything that could identify you" in step.text


async def test_threshold_and_shared_links_lock_at_launch(client):
    account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3})
    response = await post_form(
        client, f"/o/{account.slug}/consultations/{setup.campaign_id}/modifier",
        {"title": "x", "threshold": "3", "groups": [str(setup.groups["Salariés"])], "languages": "fr"},
    )
    assert response.status_code == 409 and "verrouillés" in response.text
    assert (await Campaign.objects().first()).threshold == 3


async def test_threshold_below_three_is_refused(client):
    account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3}, launch=False)
    response = await post_form(
        client, f"/o/{account.slug}/consultations/{setup.campaign_id}/modifier",
        {"title": "x", "threshold": "2", "groups": [str(setup.groups["Salariés"])], "languages": "fr", "closes_on": "2099-01-01"},
    )
    assert response.status_code == 400 and "au moins 3 réponses" in response.text


async def test_launch_needs_contacts_and_warns_about_small_groups(client):
    account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Financeurs", "financeurs"): 2}, threshold=5, launch=False)
    page = await client.get(f"/o/{account.slug}/consultations/{setup.campaign_id}")
    assert "moins que le seuil d&#39;anonymat (5)" in page.text
    refused = await post_form(client, f"/o/{account.slug}/consultations/{setup.campaign_id}/lancer", {})
    assert refused.status_code == 400 and (await Campaign.objects().first()).status == "draft"
    ok = await post_form(client, f"/o/{account.slug}/consultations/{setup.campaign_id}/lancer", {"accept_warnings": "on"})
    assert ok.status_code == 303 and (await Campaign.objects().first()).status == "open"
    empty = await build_campaign(org_id, user_id, {("Voisins", "voisinage"): 0}, launch=False)
    check = await api(client, "GET", f"/o/{account.slug}/consultations/{empty.campaign_id}")
    assert "Aucun contact à inviter" in check.text


async def test_revoke_and_reissue_a_contacts_link(client):
    account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3})
    invitation = await Invitation.objects().where(Invitation.nonce.is_not_null()).first()
    contact = await Contact.objects().where(Contact.id == invitation.contact).first()
    mails_before = len(await outbox("invitation", to=contact.email))
    old = next(link_in(m["text"], "/r/") for m in await outbox("invitation", to=contact.email))
    revoked = await post_form(client, f"/o/{account.slug}/consultations/{setup.campaign_id}/invitations/{invitation.id}/revoquer", {})
    assert revoked.status_code == 200
    page = await client.get(old)
    assert page.status_code == 410 and "plus actif" in page.text
    await post_form(client, f"/o/{account.slug}/consultations/{setup.campaign_id}/invitations/{invitation.id}/reemettre", {})
    mails = await outbox("invitation", to=contact.email)
    assert len(mails) == mails_before + 1
    new = link_in(mails[-1]["text"], "/r/")
    assert new != old
    assert (await client.get(old)).status_code == 410  # the old link stays dead
    assert (await client.get(new)).status_code == 200
    others = [p for p in setup.links["Salariés"] if p != old]
    assert others
    for other in others:  # the other contacts' links are untouched
        assert (await client.get(other)).status_code == 200


async def test_json_submission_for_integrations(client):
    _account, org_id, user_id = await _org(client)
    setup = await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3})
    path = setup.links["Salariés"][0]
    fresh = client.__class__(app=client.app, base_url="http://testserver.local")
    async with fresh:
        bad = await fresh.post(f"{path}/reponses.json", content=b"not json", headers={"content-type": "application/json"})
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
        wrong = await fresh.post(f"{path}/reponses.json", json={"answers": {"gouv.elections": {"answer": "9"}}, "submit": True})
        assert wrong.status_code == 422
        ok = await fresh.post(f"{path}/reponses.json", json={"answers": {"gouv.elections": {"answer": "4", "importance": "5"}}, "submit": True})
        assert ok.status_code == 201
        again = await fresh.post(f"{path}/reponses.json", json={"answers": {}, "submit": True})
        assert again.status_code == 409
    assert await Ballot.count() + await Response.count() == 1


async def test_unsubscribe_stops_emails_from_the_organisation(client):
    _account, org_id, user_id = await _org(client)
    await build_campaign(org_id, user_id, {("Salariés", "salaries"): 3})
    mail = (await outbox("invitation", to="salaries0@example.org"))[0]
    path = link_in(mail["text"], "/desinscription/")
    confirm = await client.get(path)
    assert confirm.status_code == 200 and (await Contact.objects().where(Contact.email == "salaries0@example.org").first()).opted_out is False
    # RFC 8058 one-click: a POST from the mail provider, without any cookie or CSRF token.
    fresh = client.__class__(app=client.app, base_url="http://testserver.local")
    async with fresh:
        done = await fresh.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code in (200, 201)
    assert (await Contact.objects().where(Contact.email == "salaries0@example.org").first()).opted_out is True
    tampered = await client.get(path[:-3] + "abc")
    assert tampered.status_code == 404
