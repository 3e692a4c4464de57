"""Organisation pages: list and switch, dashboard, settings, team."""

from __future__ import annotations

import uuid

from litestar.plugins.htmx import HTMXRequest
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from api.auth import current_user, org_guard, user_guard
from api.errors import Conflict, ValidationFailed
from api.pages.accounts import organisation_input
from api.web import ORG_FORM_CONTEXT, form_data, page, see_other
from organisations import queries, services
from organisations.queries import OrgMembership
from organisations.services import CurrentUser


class OrganisationListPages(Controller):
    include_in_schema = False
    guards = [user_guard]

    @get("/organisations")
    async def list_organisations(self, user: NamedDependency[CurrentUser]) -> Template:
        memberships = await queries.memberships_of(user_id=user.id)
        return page("org/list.html", memberships=memberships, user_obj=user, **ORG_FORM_CONTEXT)

    @post("/organisations")
    async def create_organisation(self, request: HTMXRequest, user: NamedDependency[CurrentUser]) -> Response:
        form = await form_data(request)
        try:
            org = await services.organisation_create(user_id=user.id, data=organisation_input(form))
        except ValidationFailed as exc:
            memberships = await queries.memberships_of(user_id=user.id)
            return page(
                "org/list.html", status_code=400, memberships=memberships, user_obj=user, form=form, errors=exc.errors, **ORG_FORM_CONTEXT
            )
        return see_other(f"/o/{org.slug}/")


class OrganisationPages(Controller):
    path = "/o/{slug:str}"
    include_in_schema = False
    guards = [org_guard("reader")]

    @get("/")
    async def home(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        """The organisation's home: remember it as the active one, then show « Votre démarche »."""
        await services.session_switch_organisation(
            session_id=current_user(request).session_id, user_id=current_user(request).id, organisation_id=membership.organisation_id
        )
        return see_other(f"/o/{membership.slug}/demarche")

    @get("/parametres", guards=[org_guard("admin")])
    async def settings_form(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        org = await queries.organisation_get(organisation_id=membership.organisation_id)
        form = {**org, "org_name": org["name"], "siret": org["siret"] or "", "coop_kind": org["coop_kind"] or ""}
        return page("org/settings.html", membership=membership, form=form, **ORG_FORM_CONTEXT)

    @post("/parametres", guards=[org_guard("admin")])
    async def settings_submit(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        form = await form_data(request)
        try:
            await services.organisation_update(organisation_id=membership.organisation_id, data=organisation_input(form))
        except ValidationFailed as exc:
            return page("org/settings.html", status_code=400, membership=membership, form=form, errors=exc.errors, **ORG_FORM_CONTEXT)
        membership = await queries.membership_for(user_id=current_user(request).id, organisation_id=membership.organisation_id)
        return page("org/settings.html", membership=membership, form=form, saved=True, **ORG_FORM_CONTEXT)

    async def _members_page(self, membership: OrgMembership, status_code: int = 200, **extra) -> Template:
        members = await queries.members_list(organisation_id=membership.organisation_id)
        invitations = await queries.pending_invitations(organisation_id=membership.organisation_id)
        return page(
            "org/members.html",
            status_code=status_code,
            membership=membership,
            section="equipe",
            members=members,
            invitations=invitations,
            is_admin=membership.role == "admin",
            **extra,
        )

    @get("/membres")
    async def members(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return await self._members_page(membership)

    @post("/membres/inviter", guards=[org_guard("admin")])
    async def invite(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        form = await form_data(request)
        try:
            await services.member_invite(
                organisation_id=membership.organisation_id,
                inviter_id=current_user(request).id,
                email=form.get("email", ""),
                role=form.get("role", ""),
            )
        except ValidationFailed as exc:
            return await self._members_page(membership, status_code=400, form=form, errors=exc.errors)
        return await self._members_page(membership, notice=f"Invitation envoyée à {form.get('email', '').strip()}.")

    @post("/membres/{member_id:uuid}/role", guards=[org_guard("admin")])
    async def change_role(
        self, request: HTMXRequest, slug: FromPath[str], member_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        form = await form_data(request)
        try:
            await services.member_set_role(organisation_id=membership.organisation_id, membership_id=member_id, role=form.get("role", ""))
        except (ValidationFailed, Conflict) as exc:
            return await self._members_page(membership, status_code=exc.status_code, notice=exc.message)
        return await self._members_page(membership, notice="Rôle modifié.")

    @post("/membres/{member_id:uuid}/retirer", guards=[org_guard("admin")])
    async def remove(self, slug: FromPath[str], member_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        try:
            await services.member_remove(organisation_id=membership.organisation_id, membership_id=member_id)
        except Conflict as exc:
            return await self._members_page(membership, status_code=409, notice=exc.message)
        return await self._members_page(membership, notice="Membre retiré de l'équipe.")
