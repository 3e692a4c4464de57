"""Reads for campaigns: lists, audience, invitations (never who answered), shared links."""

from __future__ import annotations

import uuid

from consultations import links
from consultations.tables import Campaign, CampaignGroup, Invitation


async def campaigns_list(*, organisation_id: uuid.UUID) -> list[dict]:
    return await Campaign.select(
        Campaign.id, Campaign.title, Campaign.status, Campaign.opens_on, Campaign.closes_on, Campaign.threshold,
        Campaign.referentiel_key, Campaign.created_at,
    ).where(Campaign.organisation == organisation_id).order_by(Campaign.created_at, ascending=False)


async def campaign_get(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> dict | None:
    return await Campaign.select().where((Campaign.id == campaign_id) & (Campaign.organisation == organisation_id)).output(load_json=True).first()


async def campaign_groups(*, campaign_id: uuid.UUID) -> list[dict]:
    return await CampaignGroup.select().where(CampaignGroup.campaign == campaign_id).order_by(CampaignGroup.name).output(load_json=True)


async def invitations_list(*, campaign_id: uuid.UUID) -> list[dict]:
    """Who was invited — and deliberately not whether they answered."""
    return await Invitation.select(
        Invitation.id,
        Invitation.revoked,
        Invitation.language,
        Invitation.campaign_group.name.as_alias("group_name"),
        Invitation.contact.email.as_alias("email"),
        Invitation.contact.name.as_alias("name"),
    ).where(Invitation.campaign == campaign_id).order_by(Invitation.campaign_group.name)


def shared_links(groups: list[dict]) -> dict[uuid.UUID, str]:
    return {g["id"]: links.open_link_url(g["id"], g["shared_link_nonce"]) for g in groups if g["shared_link_nonce"]}


async def delivery_counts(*, campaign: dict) -> dict[str, int]:
    """Bounced and opted-out invitations of a campaign: counts only."""
    from emails.tables import OutboxMessage

    rows = await Invitation.select(Invitation.contact.email.as_alias("email"), Invitation.contact.opted_out.as_alias("opted_out")).where(
        (Invitation.campaign == campaign["id"]) & Invitation.contact.is_not_null()
    )
    emails = {r["email"] for r in rows if r["email"]}
    bounced = 0
    if emails and campaign["launched_at"]:
        failed = await OutboxMessage.select(OutboxMessage.to_address).where(
            (OutboxMessage.organisation == campaign["organisation"])
            & OutboxMessage.kind.is_in(["invitation", "reminder"])
            & OutboxMessage.status.is_in(["bounced", "failed"])
            & (OutboxMessage.created_at >= campaign["launched_at"])
        )
        bounced = len({f["to_address"] for f in failed} & emails)
    return {"bounced": bounced, "opted_out": sum(1 for r in rows if r["opted_out"])}
