"""A campaign launched in the UI reaches a real SMTP server: invitations with working links,
reminders only to invitations not yet used, and opt-out honoured."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from consultations import reminders, services
from consultations.tables import Campaign
from emails.delivery import SmtpTransport, deliver_batch
from organisations.tables import User
from organisations.stakeholders import ContactInput, GroupInput, contact_create, group_create
from tests.helpers import post_form, sign_up


async def _drain(server) -> None:
    transport = SmtpTransport(host=server.host, port=server.port, security="none")
    while (await deliver_batch(worker_id="test", limit=50, transport=transport)).claimed:
        pass


def _link(received, prefix: str) -> str:
    text = received.message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(" + re.escape(prefix) + r"[^\s]+)", text).group(1)


async def test_campaign_mail_reaches_a_real_smtp_server_with_reminders_and_opt_out(client, smtp_server):
    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    group = await group_create(organisation_id=org_id, data=GroupInput(category="benevoles", name="Bénévoles"))
    for i in range(4):
        await contact_create(organisation_id=org_id, data=ContactInput(email=f"benevole{i}@example.org", group_id=group))
    created = await post_form(
        client, f"/o/{account.slug}/consultations/nouvelle",
        {"title": "Consultation des bénévoles", "referentiel": "essentiel", "threshold": "3", "languages": "fr",
         "closes_on": (dt.date.today() + dt.timedelta(days=30)).isoformat(), "groups": str(group), f"mode__{group}": "all"},
    )
    assert created.status_code == 303, created.text
    campaign_url = created.headers["location"]
    launched = await post_form(client, f"{campaign_url}/lancer", {})
    assert launched.status_code == 303
    await _drain(smtp_server)

    received = {m.rcpt_tos[0]: m for m in smtp_server.handler.received if m.rcpt_tos[0] != "alice@example.org"}  # not the sign-up mail
    assert set(received) == {f"benevole{i}@example.org" for i in range(4)}
    invitation = received["benevole0@example.org"]
    assert invitation.message["List-Unsubscribe"].startswith("<http")
    assert invitation.message.get_body(preferencelist=("html",)) is not None
    # The link works end to end: benevole0 answers.
    path = _link(invitation, "/r/")
    assert (await client.get(path)).status_code == 200
    assert (await post_form(client, f"{path}/envoyer", {})).status_code == 200
    # benevole1 opts out from the email's link.
    unsubscribe = _link(received["benevole1@example.org"], "/desinscription/")
    assert (await post_form(client, unsubscribe, {})).status_code in (200, 201)

    smtp_server.handler.received.clear()
    reminded = await post_form(client, f"{campaign_url}/relancer", {})
    assert reminded.status_code == 200 and "Relance envoyée à 2 personnes" in reminded.text
    await _drain(smtp_server)
    # Only those who neither answered nor opted out; the organisation only saw "2".
    assert sorted(m.rcpt_tos[0] for m in smtp_server.handler.received) == ["benevole2@example.org", "benevole3@example.org"]
    assert "déjà répondu" in smtp_server.handler.received[0].message.get_body(preferencelist=("plain",)).get_content()
    # A second manual reminder right away is refused (minimum interval).
    again = await post_form(client, f"{campaign_url}/relancer", {})
    assert again.status_code == 409 and "attendez au moins" in again.text
    page = await client.get(campaign_url)
    assert "désinscriptions : 1" in page.text and "relances envoyées : 1" in page.text


async def test_scheduled_reminders_follow_the_schedule(client):
    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    group = await group_create(organisation_id=org_id, data=GroupInput(category="salaries", name="Salariés"))
    for i in range(3):
        await contact_create(organisation_id=org_id, data=ContactInput(email=f"s{i}@example.org", group_id=group))
    campaign = await services.campaign_create(
        organisation_id=org_id, user_id=(await User.objects().first()).id,
        data=services.CampaignInput(title="C", referentiel_key="essentiel", threshold=3, audience=(services.AudienceInput(group),)),
    )
    await services.campaign_launch(organisation_id=org_id, campaign_id=campaign.id, accept_warnings=True)
    launched = (await Campaign.objects().first()).launched_at.date()
    assert await reminders.run_due_reminders(on=launched + dt.timedelta(days=3)) == 0
    assert await reminders.run_due_reminders(on=launched + dt.timedelta(days=7)) == 3
    assert await reminders.run_due_reminders(on=launched + dt.timedelta(days=8)) == 0  # next one at day 14
    assert await reminders.run_due_reminders(on=launched + dt.timedelta(days=14)) == 3
    assert await reminders.run_due_reminders(on=launched + dt.timedelta(days=30)) == 0  # maximum reached
    c = await Campaign.objects().first()
    assert (c.reminders_sent, c.last_reminder_on) == (2, launched + dt.timedelta(days=14))
