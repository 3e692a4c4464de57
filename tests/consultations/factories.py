"""Build a campaign the way an organisation does: groups, contacts, draft, launch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from consultations import services
from consultations.tables import Invitation
from organisations.stakeholders import ContactInput, GroupInput, contact_create, group_create
from tests.helpers import link_in, outbox


@dataclass
class Setup:
    org_id: uuid.UUID
    campaign_id: uuid.UUID
    groups: dict[str, uuid.UUID]
    links: dict[str, list[str]] = field(default_factory=dict)  # group name → survey paths, one per contact


async def build_campaign(
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    sizes: dict[tuple[str, str], int],
    *,
    threshold: int = 3,
    shared_links: bool = False,
    launch: bool = True,
    referentiel: str = "essentiel",
) -> Setup:
    groups = {}
    for (name, category), size in sizes.items():
        gid = await group_create(organisation_id=org_id, data=GroupInput(category=category, name=name, influence=4, importance=3))
        groups[name] = gid
        for i in range(size):
            await contact_create(
                organisation_id=org_id,
                data=ContactInput(email=f"{category}{i}@example.org", group_id=gid, name=f"{name} {i}", language="en" if i == 1 else "fr"),
            )
    campaign = await services.campaign_create(
        organisation_id=org_id, user_id=user_id,
        data=services.CampaignInput(
            title="Consultation 2026", referentiel_key=referentiel, threshold=threshold, shared_links=shared_links,
            message="Merci de votre aide !", audience=tuple(services.AudienceInput(group_id=g) for g in groups.values()),
        ),
    )
    setup = Setup(org_id=org_id, campaign_id=campaign.id, groups=groups)
    if launch:
        check = await services.campaign_launch(organisation_id=org_id, campaign_id=campaign.id, accept_warnings=True)
        assert check.can_launch, check.errors
        mails = await outbox("invitation")
        invitations = await Invitation.select(Invitation.id, Invitation.contact.email.as_alias("email"), Invitation.campaign_group.name.as_alias("group")).where(
            Invitation.campaign == campaign.id
        )
        by_email = {m["to_address"]: m for m in mails}
        for inv in sorted(invitations, key=lambda i: i["email"]):  # contact 0 first; contact 1 reads English
            setup.links.setdefault(inv["group"], []).append(link_in(by_email[inv["email"]]["text"], "/r/"))
    return setup
