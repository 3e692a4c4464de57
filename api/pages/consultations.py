"""Campaign pages for the organisation: create, launch, follow participation (counts only), close."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import segno
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from api.auth import current_user, org_guard
from api.errors import Conflict, NotFound, ValidationFailed
from api.web import page, see_other
from consultations import queries, reminders, services
from consultations.services import STATUSES, AudienceInput, CampaignInput
from organisations import stakeholder_queries
from organisations.queries import OrgMembership
from organisations.services import role_at_least
from surveys.referentiel import available_referentiels


def campaign_input(form) -> CampaignInput:
    audience = []
    for group_id in form.getall("groups", []):
        try:
            gid = uuid.UUID(group_id)
        except ValueError:
            continue
        chosen = form.get(f"mode__{group_id}", "all") == "chosen"
        contact_ids = []
        for raw in form.getall(f"contacts__{group_id}", []):
            try:
                contact_ids.append(uuid.UUID(raw))
            except ValueError:
                pass
        audience.append(AudienceInput(group_id=gid, all_contacts=not chosen, contact_ids=tuple(contact_ids) if chosen else ()))
    return CampaignInput(
        title=form.get("title", ""),
        referentiel_key=form.get("referentiel", "complet"),
        opens_on=form.get("opens_on") or None,
        closes_on=form.get("closes_on") or None,
        languages=tuple(form.getall("languages", ["fr"])),
        message=form.get("message", ""),
        threshold=form.get("threshold", "5"),
        shared_links=form.get("shared_links") == "on",
        audience=tuple(audience),
    )


def form_from_campaign(campaign: dict, groups: list[dict]) -> dict:
    return {
        "title": campaign["title"], "referentiel": campaign["referentiel_key"],
        "opens_on": campaign["opens_on"].isoformat() if campaign["opens_on"] else "",
        "closes_on": campaign["closes_on"].isoformat() if campaign["closes_on"] else "",
        "languages": campaign["languages"], "message": campaign["message"], "threshold": str(campaign["threshold"]),
        "shared_links": campaign["shared_links"],
        "groups": [str(g["group"]) for g in groups if g["group"]],
        "modes": {str(g["group"]): ("all" if g["all_contacts"] else "chosen") for g in groups if g["group"]},
        "contacts": {str(g["group"]): g["contact_ids"] for g in groups if g["group"]},
    }


class ConsultationPages(Controller):
    path = "/o/{slug:str}/consultations"
    include_in_schema = False
    guards = [org_guard("reader")]

    async def _form_page(self, membership: OrgMembership, form: dict, status_code: int = 200, errors: dict | None = None, campaign_id=None) -> Template:
        groups = await stakeholder_queries.groups_list(organisation_id=membership.organisation_id)
        contacts = await stakeholder_queries.contacts_list(organisation_id=membership.organisation_id)
        default_close = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        return page(
            "consultations/form.html", status_code=status_code, membership=membership, section="consultations",
            form=form, errors=errors or {}, groups=groups, contacts=contacts, referentiels=available_referentiels(),
            default_close=default_close, campaign_id=campaign_id,
        )

    @get("/")
    async def list_campaigns(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        campaigns = await queries.campaigns_list(organisation_id=membership.organisation_id)
        rates = {c["id"]: await services.participation(campaign_id=c["id"]) for c in campaigns}
        return page(
            "consultations/list.html", membership=membership, section="consultations", campaigns=campaigns, rates=rates,
            statuses=STATUSES, can_edit=role_at_least(membership.role, "contributor"),
        )

    @get("/nouvelle", guards=[org_guard("contributor")])
    async def new_form(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return await self._form_page(membership, {"languages": ["fr", "en"], "threshold": "5", "referentiel": "complet"})

    @post("/nouvelle", guards=[org_guard("contributor")])
    async def create(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        try:
            campaign = await services.campaign_create(
                organisation_id=membership.organisation_id, user_id=current_user(request).id, data=campaign_input(form)
            )
        except ValidationFailed as exc:
            return await self._form_page(membership, _echo(form), status_code=400, errors=exc.errors)
        return see_other(f"/o/{slug}/consultations/{campaign.id}")

    async def _campaign(self, membership: OrgMembership, campaign_id: uuid.UUID) -> dict:
        campaign = await queries.campaign_get(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        if campaign is None:
            raise NotFound("Consultation introuvable.")
        return campaign

    @get("/{campaign_id:uuid}")
    async def detail(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        return await self._detail(membership, campaign_id)

    async def _detail(self, membership: OrgMembership, campaign_id: uuid.UUID, status_code: int = 200, **extra) -> Template:
        campaign = await self._campaign(membership, campaign_id)
        groups = await queries.campaign_groups(campaign_id=campaign_id)
        check = None
        if campaign["status"] == "draft":
            check = await services.launch_check(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return page(
            "consultations/detail.html", status_code=status_code, membership=membership, section="consultations",
            campaign=campaign, groups=groups, check=check, statuses=STATUSES,
            participation=await services.participation(campaign_id=campaign_id),
            delivery=await queries.delivery_counts(campaign=campaign),
            invitations=await queries.invitations_list(campaign_id=campaign_id) if membership.role == "admin" else [],
            shared=queries.shared_links(groups), practices=len(campaign["practice_keys"]),
            is_admin=membership.role == "admin", can_edit=role_at_least(membership.role, "contributor"), **extra,
        )

    @get("/{campaign_id:uuid}/participation")
    async def participation_fragment(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        await self._campaign(membership, campaign_id)
        return page("consultations/_participation.html", participation=await services.participation(campaign_id=campaign_id))

    @get("/{campaign_id:uuid}/modifier", guards=[org_guard("contributor")])
    async def edit_form(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        campaign = await self._campaign(membership, campaign_id)
        groups = await queries.campaign_groups(campaign_id=campaign_id)
        return await self._form_page(membership, form_from_campaign(campaign, groups), campaign_id=campaign_id)

    @post("/{campaign_id:uuid}/modifier", guards=[org_guard("contributor")])
    async def edit(self, request: HTMXRequest, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        try:
            await services.campaign_update(organisation_id=membership.organisation_id, campaign_id=campaign_id, data=campaign_input(form))
        except ValidationFailed as exc:
            return await self._form_page(membership, _echo(form), status_code=400, errors=exc.errors, campaign_id=campaign_id)
        except Conflict as exc:
            return await self._detail(membership, campaign_id, status_code=409, notice=exc.message)
        return see_other(f"/o/{slug}/consultations/{campaign_id}")

    @post("/{campaign_id:uuid}/lancer", guards=[org_guard("admin")])
    async def launch(self, request: HTMXRequest, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        check = await services.campaign_launch(
            organisation_id=membership.organisation_id, campaign_id=campaign_id, accept_warnings=form.get("accept_warnings") == "on"
        )
        campaign = await self._campaign(membership, campaign_id)
        if campaign["status"] == "draft":
            notice = "Cochez la case pour confirmer le lancement malgré les avertissements." if check.can_launch else None
            return await self._detail(membership, campaign_id, status_code=400, notice=notice)
        return see_other(f"/o/{slug}/consultations/{campaign_id}")

    @post("/{campaign_id:uuid}/invitations/{invitation_id:uuid}/revoquer", guards=[org_guard("admin")])
    async def revoke(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], invitation_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        await services.invitation_revoke(organisation_id=membership.organisation_id, campaign_id=campaign_id, invitation_id=invitation_id)
        return await self._detail(membership, campaign_id, notice="Lien révoqué : il ne fonctionne plus.")

    @post("/{campaign_id:uuid}/invitations/{invitation_id:uuid}/reemettre", guards=[org_guard("admin")])
    async def reissue(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], invitation_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        await services.invitation_reissue(organisation_id=membership.organisation_id, campaign_id=campaign_id, invitation_id=invitation_id)
        return await self._detail(membership, campaign_id, notice="Nouveau lien envoyé ; l'ancien ne fonctionne plus.")

    @post("/{campaign_id:uuid}/relancer", guards=[org_guard("admin")])
    async def remind(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        try:
            count = await reminders.send_reminders(organisation_id=membership.organisation_id, campaign_id=campaign_id, manual=True)
        except Conflict as exc:
            return await self._detail(membership, campaign_id, status_code=409, notice=exc.message)
        return await self._detail(membership, campaign_id, notice=f"Relance envoyée à {count} personne{'s' if count > 1 else ''} qui n'avai{'en' if count > 1 else ''}t pas encore répondu (vous ne saurez pas lesquelles).")

    @post("/{campaign_id:uuid}/cloturer", guards=[org_guard("admin")])
    async def close(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        await services.campaign_close(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return see_other(f"/o/{slug}/consultations/{campaign_id}")

    @post("/{campaign_id:uuid}/archiver", guards=[org_guard("admin")])
    async def archive(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        await services.campaign_archive(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return see_other(f"/o/{slug}/consultations/{campaign_id}")

    @post("/{campaign_id:uuid}/supprimer", guards=[org_guard("admin")])
    async def delete(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        await services.campaign_delete(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return see_other(f"/o/{slug}/consultations")

    @get("/{campaign_id:uuid}/groupes/{campaign_group_id:uuid}/qr/{fmt:str}", guards=[org_guard("admin")])
    async def qr_code(
        self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], campaign_group_id: FromPath[uuid.UUID], fmt: FromPath[str],
        membership: NamedDependency[OrgMembership],
    ) -> Response:
        await self._campaign(membership, campaign_id)
        groups = {g["id"]: g for g in await queries.campaign_groups(campaign_id=campaign_id)}
        url = queries.shared_links(list(groups.values())).get(campaign_group_id)
        if url is None or fmt not in ("svg", "png"):
            raise NotFound("Pas de lien ouvert pour ce groupe.")
        buffer = io.BytesIO()
        qr = segno.make(url, error="m")
        if fmt == "svg":
            qr.save(buffer, kind="svg", scale=8, title=f"Lien ouvert — {groups[campaign_group_id]['name']}")
            media = "image/svg+xml"
        else:
            qr.save(buffer, kind="png", scale=10)
            media = "image/png"
        return Response(buffer.getvalue(), media_type=media, headers={"Content-Disposition": f'inline; filename="lien-ouvert.{fmt}"'})


def _echo(form) -> dict:
    """The submitted form, shaped for re-rendering."""
    groups = form.getall("groups", [])
    return {
        **{k: form.get(k) for k in ("title", "referentiel", "opens_on", "closes_on", "message", "threshold")},
        "languages": form.getall("languages", []),
        "shared_links": form.get("shared_links") == "on",
        "groups": groups,
        "modes": {g: form.get(f"mode__{g}", "all") for g in groups},
        "contacts": {g: form.getall(f"contacts__{g}", []) for g in groups},
    }
