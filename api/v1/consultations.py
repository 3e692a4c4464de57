"""JSON API: campaigns, launch, participation (counts only), invitations (never who answered)."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.plugins.htmx import HTMXRequest

from api.auth import current_user, org_guard
from api.errors import NotFound
from consultations import queries, reminders, services
from consultations.schemas import (
    CampaignGroupOut, CampaignIn, CampaignOut, GroupParticipationOut, InvitationOut, LaunchCheckOut, LaunchIn, ParticipationOut,
)
from organisations.queries import OrgMembership


def _input(data: CampaignIn) -> services.CampaignInput:
    return services.CampaignInput(
        title=data.title, referentiel_key=data.referentiel,
        opens_on=data.opens_on.isoformat() if data.opens_on else None,
        closes_on=data.closes_on.isoformat() if data.closes_on else None,
        languages=tuple(data.languages), message=data.message, threshold=data.threshold, shared_links=data.shared_links,
        audience=tuple(services.AudienceInput(group_id=a.group_id, all_contacts=a.all_contacts, contact_ids=tuple(a.contact_ids)) for a in data.audience),
        practice_keys=tuple(data.practice_keys),
    )


async def _out(membership: OrgMembership, campaign_id: uuid.UUID) -> CampaignOut:
    c = await queries.campaign_get(organisation_id=membership.organisation_id, campaign_id=campaign_id)
    if c is None:
        raise NotFound("Consultation introuvable.")
    groups = await queries.campaign_groups(campaign_id=campaign_id)
    shared = queries.shared_links(groups)
    return CampaignOut(
        id=c["id"], title=c["title"], status=c["status"], referentiel_key=c["referentiel_key"], referentiel_version=c["referentiel_version"],
        practice_keys=c["practice_keys"], languages=c["languages"], message=c["message"], threshold=c["threshold"],
        shared_links=c["shared_links"], opens_on=c["opens_on"], closes_on=c["closes_on"],
        groups=[CampaignGroupOut(id=g["id"], name=g["name"], category=g["category"], weight=g["weight"], all_contacts=g["all_contacts"],
                                 shared_link=shared.get(g["id"])) for g in groups],
    )


class CampaignApi(Controller):
    path = "/api/v1/organisations/{org_id:uuid}/campaigns"
    tags = ["Consultations"]
    guards = [org_guard("reader")]

    @get("/")
    async def list_campaigns(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[CampaignOut]:
        return [await _out(membership, c["id"]) for c in await queries.campaigns_list(organisation_id=membership.organisation_id)]

    @post("/", guards=[org_guard("contributor")], status_code=201)
    async def create(self, request: HTMXRequest, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[CampaignIn]) -> CampaignOut:
        campaign = await services.campaign_create(organisation_id=membership.organisation_id, user_id=current_user(request).id, data=_input(data))
        return await _out(membership, campaign.id)

    @get("/{campaign_id:uuid}")
    async def detail(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> CampaignOut:
        return await _out(membership, campaign_id)

    @patch("/{campaign_id:uuid}", guards=[org_guard("contributor")])
    async def update(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[CampaignIn]) -> CampaignOut:
        await services.campaign_update(organisation_id=membership.organisation_id, campaign_id=campaign_id, data=_input(data))
        return await _out(membership, campaign_id)

    @delete("/{campaign_id:uuid}", guards=[org_guard("admin")], status_code=204)
    async def remove(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> None:
        await services.campaign_delete(organisation_id=membership.organisation_id, campaign_id=campaign_id)

    @get("/{campaign_id:uuid}/launch-check")
    async def launch_check(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> LaunchCheckOut:
        check = await services.launch_check(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return LaunchCheckOut(launched=False, errors=check.errors, warnings=check.warnings, invited_per_group=check.invited_per_group)

    @post("/{campaign_id:uuid}/launch", guards=[org_guard("admin")])
    async def launch(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[LaunchIn]) -> LaunchCheckOut:
        check = await services.campaign_launch(organisation_id=membership.organisation_id, campaign_id=campaign_id, accept_warnings=data.accept_warnings)
        campaign = await queries.campaign_get(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return LaunchCheckOut(launched=campaign["status"] == "open", errors=check.errors, warnings=check.warnings, invited_per_group=check.invited_per_group)

    @post("/{campaign_id:uuid}/remind", guards=[org_guard("admin")])
    async def remind(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> dict:
        count = await reminders.send_reminders(organisation_id=membership.organisation_id, campaign_id=campaign_id, manual=True)
        return {"reminded": count}

    @post("/{campaign_id:uuid}/close", guards=[org_guard("admin")])
    async def close(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> CampaignOut:
        await services.campaign_close(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return await _out(membership, campaign_id)

    @post("/{campaign_id:uuid}/archive", guards=[org_guard("admin")])
    async def archive(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> CampaignOut:
        await services.campaign_archive(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return await _out(membership, campaign_id)

    @get("/{campaign_id:uuid}/participation")
    async def participation(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> ParticipationOut:
        await _out(membership, campaign_id)
        p = await services.participation(campaign_id=campaign_id)
        delivery = await queries.delivery_counts(campaign=await queries.campaign_get(organisation_id=membership.organisation_id, campaign_id=campaign_id))
        return ParticipationOut(
            invited=p.invited, answered=p.answered, rate=p.rate, bounced=delivery["bounced"], opted_out=delivery["opted_out"],
            groups=[GroupParticipationOut(campaign_group_id=g.campaign_group_id, name=g.name, invited=g.invited, answered=g.answered,
                                          rate=g.rate, open_link_answers=g.open_link_answers) for g in p.groups],
        )

    @get("/{campaign_id:uuid}/invitations", guards=[org_guard("admin")])
    async def invitations(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[InvitationOut]:
        await _out(membership, campaign_id)
        return [InvitationOut(id=i["id"], group_name=i["group_name"], email=i["email"], name=i["name"], language=i["language"], revoked=i["revoked"])
                for i in await queries.invitations_list(campaign_id=campaign_id)]

    @post("/{campaign_id:uuid}/invitations/{invitation_id:uuid}/revoke", guards=[org_guard("admin")], status_code=204)
    async def revoke(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], invitation_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> None:
        await services.invitation_revoke(organisation_id=membership.organisation_id, campaign_id=campaign_id, invitation_id=invitation_id)

    @post("/{campaign_id:uuid}/invitations/{invitation_id:uuid}/reissue", guards=[org_guard("admin")], status_code=204)
    async def reissue(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], invitation_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> None:
        await services.invitation_reissue(organisation_id=membership.organisation_id, campaign_id=campaign_id, invitation_id=invitation_id)
