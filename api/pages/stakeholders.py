"""Stakeholder map pages: the map (chart + table + positions), groups, contacts, import, export, RGPD."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from analytics.charts import stakeholder_map
from api.auth import current_user, org_guard
from api.errors import Conflict, NotFound, ValidationFailed
from api.settings import get_settings
from api.v1.stakeholders import UPLOAD_BODY_LIMIT, download, export_filename
from api.web import form_data, page, see_other
from organisations import stakeholder_queries as queries
from organisations import stakeholders as services
from organisations.contact_io import export_contacts_csv, export_contacts_xlsx
from organisations.queries import OrgMembership
from organisations.schemas import PersonDataOut
from organisations.services import role_at_least

SECTION = "parties-prenantes"
PREVIEW_ROWS_SHOWN = 200

COMMON = {
    "section": SECTION,
    "scale": services.SCALE,
    "engagement_levels": services.ENGAGEMENT_LEVELS,
    "salience_flags": services.SALIENCE_FLAGS,
    "quadrants": services.QUADRANTS,
    "category_choices": services.category_choices(),
    "languages": {"fr": "Français", "en": "Anglais"},
    "upload_max_mb": services.UPLOAD_MAX_BYTES // (1024 * 1024),
}


def _page(template: str, membership: OrgMembership, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("retention_months", get_settings().contact_retention_months)
    return page(
        template,
        status_code=status_code,
        membership=membership,
        can_edit=role_at_least(membership.role, "contributor"),
        base=f"/o/{membership.slug}/parties-prenantes",
        **COMMON,
        **context,
    )


def _checked(form: dict[str, str], name: str) -> bool:
    return form.get(name, "") not in ("", "0", "false", "off")


def group_input(form: dict[str, str]) -> services.GroupInput:
    return services.GroupInput(
        category=form.get("category", ""),
        name=form.get("name", ""),
        influence=form.get("influence", ""),
        importance=form.get("importance", ""),
        power=_checked(form, "power"),
        legitimacy=_checked(form, "legitimacy"),
        urgency=_checked(form, "urgency"),
        engagement=form.get("engagement", ""),
        weight_override=form.get("weight_override", ""),
    )


def contact_input(form: dict[str, str]) -> services.ContactInput:
    return services.ContactInput(
        email=form.get("email", ""),
        group_id=form.get("group_id", ""),
        name=form.get("name", ""),
        organisation_name=form.get("organisation_name", ""),
        language=form.get("language", "fr"),
    )


def _group_form(g: queries.GroupView) -> dict[str, Any]:
    return {
        "name": g.name,
        "category": g.category,
        "influence": str(g.influence),
        "importance": str(g.importance),
        "power": g.power,
        "legitimacy": g.legitimacy,
        "urgency": g.urgency,
        "engagement": g.engagement,
        "weight_override": "" if g.weight_override is None else f"{g.weight_override:g}".replace(".", ","),
    }


def _map_svg(membership: OrgMembership, groups: list[queries.GroupView]) -> str:
    return stakeholder_map(
        queries.map_groups(groups),
        title=f"Cartographie des parties prenantes — {membership.name}",
        desc=(
            "Chaque cercle est un groupe de parties prenantes, placé selon son importance ou son intérêt "
            "(horizontalement) et son influence (verticalement) ; sa surface indique le nombre de contacts. "
            "Le tableau qui suit donne les mêmes informations"
        ),
        id_prefix="carte",
    )


class StakeholderPages(Controller):
    path = "/o/{slug:str}/parties-prenantes"
    include_in_schema = False
    guards = [org_guard("reader")]

    # --- The map -----------------------------------------------------------------------

    async def _map_page(self, membership: OrgMembership, status_code: int = 200, **extra: Any) -> Template:
        groups = await queries.groups_list(organisation_id=membership.organisation_id)
        return _page(
            "stakeholders/map.html",
            membership,
            status_code=status_code,
            groups=groups,
            chart=_map_svg(membership, groups),
            total_contacts=sum(g.contact_count for g in groups),
            **extra,
        )

    @get("/")
    async def map(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return await self._map_page(membership)

    @post("/groupes/{group_id:uuid}/position", guards=[org_guard("contributor")])
    async def move_group(
        self, request: HTMXRequest, slug: FromPath[str], group_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        form = await form_data(request)
        try:
            await services.group_set_position(
                organisation_id=membership.organisation_id,
                group_id=group_id,
                influence=form.get("influence"),
                importance=form.get("importance"),
            )
        except ValidationFailed as exc:
            return await self._map_page(membership, status_code=400, errors=exc.errors, error_group=group_id)
        group = await queries.group_get(organisation_id=membership.organisation_id, group_id=group_id)
        return await self._map_page(
            membership,
            notice=f"Position de « {group.name} » enregistrée : influence {group.influence}, importance {group.importance} "
            f"({group.quadrant_label.lower()}).",
        )

    # --- Groups -----------------------------------------------------------------------

    @get("/groupes/nouveau", guards=[org_guard("contributor")])
    async def new_group(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        form = {"category": "", "influence": "3", "importance": "3", "engagement": "consulter"}
        return _page("stakeholders/group_form.html", membership, group=None, form=form)

    @post("/groupes", guards=[org_guard("contributor")])
    async def create_group(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await form_data(request)
        try:
            await services.group_create(organisation_id=membership.organisation_id, data=group_input(form))
        except ValidationFailed as exc:
            return _page("stakeholders/group_form.html", membership, status_code=400, group=None, form=form, errors=exc.errors)
        return see_other(f"/o/{membership.slug}/parties-prenantes/")

    async def _group(self, membership: OrgMembership, group_id: uuid.UUID) -> queries.GroupView:
        group = await queries.group_get(organisation_id=membership.organisation_id, group_id=group_id)
        if group is None:
            raise NotFound("Groupe de parties prenantes introuvable.")
        return group

    @get("/groupes/{group_id:uuid}")
    async def group_detail(
        self, slug: FromPath[str], group_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        group = await self._group(membership, group_id)
        return _page("stakeholders/group_form.html", membership, group=group, form=_group_form(group))

    @post("/groupes/{group_id:uuid}", guards=[org_guard("contributor")])
    async def update_group(
        self, request: HTMXRequest, slug: FromPath[str], group_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        group = await self._group(membership, group_id)
        form = await form_data(request)
        try:
            await services.group_update(organisation_id=membership.organisation_id, group_id=group_id, data=group_input(form))
        except ValidationFailed as exc:
            return _page("stakeholders/group_form.html", membership, status_code=400, group=group, form=form, errors=exc.errors)
        group = await self._group(membership, group_id)
        return _page("stakeholders/group_form.html", membership, group=group, form=_group_form(group), notice="Groupe enregistré.")

    @post("/groupes/{group_id:uuid}/supprimer", guards=[org_guard("contributor")])
    async def delete_group(
        self, request: HTMXRequest, slug: FromPath[str], group_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        group = await self._group(membership, group_id)
        form = await form_data(request)
        try:
            erased = await services.group_delete(
                organisation_id=membership.organisation_id, group_id=group_id, delete_contacts=_checked(form, "delete_contacts")
            )
        except Conflict as exc:
            return _page(
                "stakeholders/group_form.html", membership, status_code=409, group=group, form=_group_form(group), delete_error=exc.message
            )
        notice = f"Groupe « {group.name} » supprimé"
        notice += f", avec ses {erased} contacts." if erased > 1 else (", avec son contact." if erased else ".")
        return await self._map_page(membership, notice=notice)

    # --- Contacts (personal data: contributors and admins) ------------------------------

    async def _contacts_page(
        self, membership: OrgMembership, status_code: int = 200, group_filter: uuid.UUID | None = None, **extra: Any
    ) -> Template:
        groups = await queries.groups_list(organisation_id=membership.organisation_id)
        contacts = await queries.contacts_list(organisation_id=membership.organisation_id, group_id=group_filter)
        extra.setdefault("form", {"language": "fr", "group_id": str(group_filter or "")})
        return _page(
            "stakeholders/contacts.html",
            membership,
            status_code=status_code,
            groups=groups,
            contacts=contacts,
            group_filter=str(group_filter or ""),
            total_contacts=sum(g.contact_count for g in groups),
            **extra,
        )

    @get("/contacts", guards=[org_guard("contributor")])
    async def contacts(
        self,
        slug: FromPath[str],
        membership: NamedDependency[OrgMembership],
        groupe: FromQuery[str | None] = None,
        importes: FromQuery[int | None] = None,
    ) -> Template:
        try:
            group_filter = uuid.UUID(groupe) if groupe else None
        except ValueError:
            group_filter = None
        notice = None
        if importes is not None:
            notice = f"{importes} contact{'s' if importes > 1 else ''} importé{'s' if importes > 1 else ''}."
        return await self._contacts_page(membership, group_filter=group_filter, notice=notice)

    @post("/contacts", guards=[org_guard("contributor")])
    async def create_contact(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        form = await form_data(request)
        try:
            await services.contact_create(organisation_id=membership.organisation_id, data=contact_input(form))
        except ValidationFailed as exc:
            return await self._contacts_page(membership, status_code=400, form=form, errors=exc.errors)
        return await self._contacts_page(
            membership, notice=f"Contact ajouté : {form.get('email', '').strip()}.", form={"language": "fr", "group_id": form.get("group_id", "")}
        )

    async def _contact(self, membership: OrgMembership, contact_id: uuid.UUID) -> dict:
        contact = await queries.contact_get(organisation_id=membership.organisation_id, contact_id=contact_id)
        if contact is None:
            raise NotFound("Contact introuvable.")
        return contact

    async def _contact_page(self, membership: OrgMembership, contact: dict, status_code: int = 200, **extra: Any) -> Template:
        groups = await queries.groups_list(organisation_id=membership.organisation_id)
        extra.setdefault("form", {**contact, "group_id": str(contact["group_id"])})
        return _page("stakeholders/contact_form.html", membership, status_code=status_code, contact=contact, groups=groups, **extra)

    @get("/contacts/{contact_id:uuid}", guards=[org_guard("contributor")])
    async def contact_detail(
        self, slug: FromPath[str], contact_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        return await self._contact_page(membership, await self._contact(membership, contact_id))

    @post("/contacts/{contact_id:uuid}", guards=[org_guard("contributor")])
    async def update_contact(
        self, request: HTMXRequest, slug: FromPath[str], contact_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        contact = await self._contact(membership, contact_id)
        form = await form_data(request)
        try:
            await services.contact_update(organisation_id=membership.organisation_id, contact_id=contact_id, data=contact_input(form))
        except ValidationFailed as exc:
            return await self._contact_page(membership, contact, status_code=400, form=form, errors=exc.errors)
        return await self._contact_page(membership, await self._contact(membership, contact_id), notice="Contact enregistré.")

    @post("/contacts/{contact_id:uuid}/supprimer", guards=[org_guard("contributor")])
    async def delete_contact(
        self, slug: FromPath[str], contact_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        contact = await self._contact(membership, contact_id)
        await services.contact_delete(organisation_id=membership.organisation_id, contact_id=contact_id)
        return await self._contacts_page(
            membership, notice=f"Contact {contact['email']} supprimé, avec les e-mails d'enquête qui lui étaient adressés."
        )

    # --- Import: upload → preview → confirm ---------------------------------------------

    @get("/import", guards=[org_guard("contributor")])
    async def import_form(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        groups = await queries.groups_list(organisation_id=membership.organisation_id)
        return _page("stakeholders/import.html", membership, groups=groups)

    @post("/import", guards=[org_guard("contributor")], request_max_body_size=UPLOAD_BODY_LIMIT)
    async def import_upload(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        upload = form.get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            import_id, _ = await services.contact_import_preview(
                organisation_id=membership.organisation_id,
                user_id=current_user(request).id,
                data=content,
                filename=upload.filename if isinstance(upload, UploadFile) else "",
            )
        except ValidationFailed as exc:
            groups = await queries.groups_list(organisation_id=membership.organisation_id)
            return _page("stakeholders/import.html", membership, status_code=400, groups=groups, errors=exc.errors)
        return see_other(f"/o/{membership.slug}/parties-prenantes/import/{import_id}")

    async def _preview_page(self, membership: OrgMembership, import_id: uuid.UUID, status_code: int = 200, **extra: Any) -> Template:
        stored = await queries.import_get(organisation_id=membership.organisation_id, import_id=import_id)
        if stored is None:
            raise NotFound("Cet aperçu d'import n'existe plus (déjà importé, annulé ou expiré). Déposez le fichier de nouveau.")
        return _page(
            "stakeholders/import_preview.html",
            membership,
            status_code=status_code,
            stored=stored,
            preview=stored.preview,
            shown_rows=stored.preview.rows[:PREVIEW_ROWS_SHOWN],
            **extra,
        )

    @get("/import/{import_id:uuid}", guards=[org_guard("contributor")])
    async def import_preview(
        self, slug: FromPath[str], import_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        return await self._preview_page(membership, import_id)

    @post("/import/{import_id:uuid}/confirmer", guards=[org_guard("contributor")])
    async def import_confirm(
        self, slug: FromPath[str], import_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Response:
        try:
            created = await services.contact_import_confirm(organisation_id=membership.organisation_id, import_id=import_id)
        except ValidationFailed as exc:
            return await self._preview_page(
                membership, import_id, status_code=400, confirm_error=exc.message, confirm_problems=list(exc.errors.values())
            )
        return see_other(f"/o/{membership.slug}/parties-prenantes/contacts?importes={created}")

    @post("/import/{import_id:uuid}/annuler", guards=[org_guard("contributor")])
    async def import_cancel(
        self, slug: FromPath[str], import_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Response:
        await services.contact_import_cancel(organisation_id=membership.organisation_id, import_id=import_id)
        return see_other(f"/o/{membership.slug}/parties-prenantes/import")

    # --- Export and RGPD ----------------------------------------------------------------

    @get("/export.csv", guards=[org_guard("contributor")])
    async def export_csv(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        rows = await queries.contacts_export_rows(organisation_id=membership.organisation_id)
        return download(
            export_contacts_csv(rows), filename=export_filename(membership.slug, "csv"), media_type="text/csv"
        )

    @get("/export.xlsx", guards=[org_guard("contributor")])
    async def export_xlsx(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        rows = await queries.contacts_export_rows(organisation_id=membership.organisation_id)
        return download(
            export_contacts_xlsx(rows),
            filename=export_filename(membership.slug, "xlsx"),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    @get("/donnees-personnelles", guards=[org_guard("contributor")])
    async def person_data_form(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return _page("stakeholders/person_data.html", membership)

    @post("/donnees-personnelles", guards=[org_guard("contributor")], status_code=200)
    async def person_data(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await form_data(request)
        found = await queries.person_data(organisation_id=membership.organisation_id, email=form.get("email", ""))
        if found is None:
            return _page(
                "stakeholders/person_data.html",
                membership,
                status_code=400,
                form=form,
                errors={"email": "Cette adresse e-mail n'est pas valide."},
            )
        body = msgspec.json.format(msgspec.json.encode(msgspec.convert(found, PersonDataOut)), indent=2)
        return download(
            body,
            filename=f"donnees-personnelles-{membership.slug}-{dt.date.today().isoformat()}.json",
            media_type="application/json",
        )
