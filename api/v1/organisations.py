"""JSON API: organisations and their members."""

from __future__ import annotations

import uuid

from litestar.plugins.htmx import HTMXRequest
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import current_user, org_guard, user_guard
from api.v1.accounts import organisation_input
from organisations import queries, services
from organisations.queries import OrgMembership
from organisations.schemas import InvitationIn, InvitationOut, MemberOut, MembershipOut, OrganisationIn, OrganisationOut, RoleIn
from organisations.services import CurrentUser


async def _organisation_out(membership: OrgMembership) -> OrganisationOut:
    org = await queries.organisation_get(organisation_id=membership.organisation_id)
    return OrganisationOut(
        id=org["id"],
        slug=org["slug"],
        name=org["name"],
        legal_form=org["legal_form"],
        coop_kind=org["coop_kind"],
        siret=org["siret"],
        postcode=org["postcode"],
        region=org["region"],
        headcount_band=org["headcount_band"],
        role=membership.role,
    )


class MyOrganisationsApi(Controller):
    path = "/api/v1/organisations"
    tags = ["Organisations"]
    guards = [user_guard]

    @get("/")
    async def list_mine(self, user: NamedDependency[CurrentUser]) -> list[MembershipOut]:
        return [
            MembershipOut(organisation_id=m.organisation_id, slug=m.slug, name=m.name, role=m.role)
            for m in await queries.memberships_of(user_id=user.id)
        ]

    @post("/", status_code=201)
    async def create(self, user: NamedDependency[CurrentUser], data: JSONBody[OrganisationIn]) -> OrganisationOut:
        org = await services.organisation_create(user_id=user.id, data=organisation_input(data))
        membership = await queries.membership_for(user_id=user.id, organisation_id=org.id)
        return await _organisation_out(membership)


class OrganisationApi(Controller):
    path = "/api/v1/organisations/{org_id:uuid}"
    tags = ["Organisations"]
    guards = [org_guard("reader")]

    @get("/")
    async def detail(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> OrganisationOut:
        return await _organisation_out(membership)

    @patch("/", guards=[org_guard("admin")])
    async def update(
        self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[OrganisationIn]
    ) -> OrganisationOut:
        await services.organisation_update(organisation_id=membership.organisation_id, data=organisation_input(data))
        return await _organisation_out(membership)

    @get("/members")
    async def members(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[MemberOut]:
        rows = await queries.members_list(organisation_id=membership.organisation_id)
        return [MemberOut(id=r["id"], user_id=r["user_id"], name=r["name"], email=r["email"], role=r["role"], created_at=r["created_at"]) for r in rows]

    @get("/invitations", guards=[org_guard("admin")])
    async def invitations(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[InvitationOut]:
        rows = await queries.pending_invitations(organisation_id=membership.organisation_id)
        return [InvitationOut(id=r["id"], email=r["email"], role=r["role"], expires_at=r["expires_at"]) for r in rows]

    @post("/invitations", guards=[org_guard("admin")], status_code=201)
    async def invite(
        self, request: HTMXRequest, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[InvitationIn]
    ) -> InvitationOut:
        invitation_id = await services.member_invite(
            organisation_id=membership.organisation_id, inviter_id=current_user(request).id, email=data.email, role=data.role
        )
        rows = await queries.pending_invitations(organisation_id=membership.organisation_id)
        row = next(r for r in rows if r["id"] == invitation_id)
        return InvitationOut(id=row["id"], email=row["email"], role=row["role"], expires_at=row["expires_at"])

    @patch("/members/{member_id:uuid}", guards=[org_guard("admin")])
    async def set_role(
        self, org_id: FromPath[uuid.UUID], member_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[RoleIn]
    ) -> MemberOut:
        await services.member_set_role(organisation_id=membership.organisation_id, membership_id=member_id, role=data.role)
        rows = await queries.members_list(organisation_id=membership.organisation_id)
        r = next(r for r in rows if r["id"] == member_id)
        return MemberOut(id=r["id"], user_id=r["user_id"], name=r["name"], email=r["email"], role=r["role"], created_at=r["created_at"])

    @delete("/members/{member_id:uuid}", guards=[org_guard("admin")], status_code=204)
    async def remove(self, org_id: FromPath[uuid.UUID], member_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> None:
        await services.member_remove(organisation_id=membership.organisation_id, membership_id=member_id)
