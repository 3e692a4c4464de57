"""JSON API: the stakeholder map (groups) and contacts, their import, export and RGPD requests."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.plugins.htmx import HTMXRequest

from api.auth import current_user, org_guard
from api.errors import NotFound, ValidationFailed
from organisations import stakeholder_queries as queries
from organisations import stakeholders as services
from organisations.contact_io import ImportPreview, export_contacts_csv, export_contacts_xlsx
from organisations.queries import OrgMembership
from organisations.schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    GroupIn,
    GroupOut,
    GroupPatch,
    ImportErrorOut,
    ImportPreviewOut,
    ImportResultOut,
    ImportRowOut,
    PersonDataIn,
    PersonDataOut,
)
from organisations.stakeholder_queries import GroupView

# Multipart overhead on top of the file itself; bigger bodies are cut off with a 413.
UPLOAD_BODY_LIMIT = services.UPLOAD_MAX_BYTES + 256 * 1024


@dataclass
class ImportUpload:
    """multipart/form-data with the CSV or XLSX file in ``file``."""

    file: UploadFile


def group_out(g: GroupView) -> GroupOut:
    return GroupOut(
        id=g.id,
        name=g.name,
        category=g.category,
        category_label=g.category_label,
        influence=g.influence,
        importance=g.importance,
        power=g.power,
        legitimacy=g.legitimacy,
        urgency=g.urgency,
        engagement=g.engagement,
        weight_override=g.weight_override,
        weight=g.weight,
        quadrant=g.quadrant,
        quadrant_label=g.quadrant_label,
        contact_count=g.contact_count,
        created_at=g.created_at,
    )


def contact_out(row: dict) -> ContactOut:
    return ContactOut(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        organisation_name=row["organisation_name"],
        language=row["language"],
        group_id=row["group_id"],
        group_name=row["group_name"],
        opted_out=bool(row["opted_out"]),
        created_at=row["created_at"],
    )


def import_out(import_id: uuid.UUID, filename: str, preview: ImportPreview, expires_at: dt.datetime) -> ImportPreviewOut:
    return ImportPreviewOut(
        id=import_id,
        filename=filename,
        ok=preview.ok,
        rows=[ImportRowOut(**msgspec.structs.asdict(r)) for r in preview.rows],
        errors=[ImportErrorOut(line=e.line, field=e.field, message=e.message) for e in preview.errors],
        file_errors=list(preview.file_errors),
        expires_at=expires_at,
    )


def download(content: bytes, *, filename: str, media_type: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def export_filename(slug: str, extension: str) -> str:
    return f"contacts-{slug}-{dt.date.today().isoformat()}.{extension}"


async def _group_view(membership: OrgMembership, group_id: uuid.UUID) -> GroupView:
    group = await queries.group_get(organisation_id=membership.organisation_id, group_id=group_id)
    if group is None:
        raise NotFound("Groupe de parties prenantes introuvable.")
    return group


def _pick(value, current):
    return current if value is msgspec.UNSET else value


class StakeholderGroupsApi(Controller):
    path = "/api/v1/organisations/{org_id:uuid}/groups"
    tags = ["Parties prenantes"]
    guards = [org_guard("reader")]

    @get("/")
    async def list_groups(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[GroupOut]:
        return [group_out(g) for g in await queries.groups_list(organisation_id=membership.organisation_id)]

    @post("/", guards=[org_guard("contributor")], status_code=201)
    async def create_group(
        self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[GroupIn]
    ) -> GroupOut:
        group_id = await services.group_create(
            organisation_id=membership.organisation_id, data=services.GroupInput(**msgspec.structs.asdict(data))
        )
        return group_out(await _group_view(membership, group_id))

    @get("/{group_id:uuid}")
    async def get_group(
        self, org_id: FromPath[uuid.UUID], group_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> GroupOut:
        return group_out(await _group_view(membership, group_id))

    @patch("/{group_id:uuid}", guards=[org_guard("contributor")])
    async def update_group(
        self,
        org_id: FromPath[uuid.UUID],
        group_id: FromPath[uuid.UUID],
        membership: NamedDependency[OrgMembership],
        data: JSONBody[GroupPatch],
    ) -> GroupOut:
        current = await _group_view(membership, group_id)
        merged = services.GroupInput(
            **{
                field: _pick(getattr(data, field), getattr(current, field))
                for field in (
                    "category", "name", "influence", "importance", "power", "legitimacy", "urgency", "engagement",
                    "weight_override",
                )
            }
        )
        await services.group_update(organisation_id=membership.organisation_id, group_id=group_id, data=merged)
        return group_out(await _group_view(membership, group_id))

    @delete("/{group_id:uuid}", guards=[org_guard("contributor")], status_code=204)
    async def delete_group(
        self,
        org_id: FromPath[uuid.UUID],
        group_id: FromPath[uuid.UUID],
        membership: NamedDependency[OrgMembership],
        delete_contacts: FromQuery[bool] = False,
    ) -> None:
        """Refused (409) while the group has contacts, unless ``delete_contacts=true`` erases them with it."""
        await services.group_delete(
            organisation_id=membership.organisation_id, group_id=group_id, delete_contacts=delete_contacts
        )


class ContactsApi(Controller):
    """Contacts are personal data: contributors and admins only."""

    path = "/api/v1/organisations/{org_id:uuid}/contacts"
    tags = ["Parties prenantes"]
    guards = [org_guard("contributor")]

    @get("/")
    async def list_contacts(
        self,
        org_id: FromPath[uuid.UUID],
        membership: NamedDependency[OrgMembership],
        group_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[ContactOut]:
        rows = await queries.contacts_list(organisation_id=membership.organisation_id, group_id=group_id)
        return [contact_out(r) for r in rows]

    @post("/", status_code=201)
    async def create_contact(
        self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[ContactIn]
    ) -> ContactOut:
        contact_id = await services.contact_create(
            organisation_id=membership.organisation_id, data=services.ContactInput(**msgspec.structs.asdict(data))
        )
        return contact_out(await queries.contact_get(organisation_id=membership.organisation_id, contact_id=contact_id))

    @get("/{contact_id:uuid}")
    async def get_contact(
        self, org_id: FromPath[uuid.UUID], contact_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> ContactOut:
        row = await queries.contact_get(organisation_id=membership.organisation_id, contact_id=contact_id)
        if row is None:
            raise NotFound("Contact introuvable.")
        return contact_out(row)

    @patch("/{contact_id:uuid}")
    async def update_contact(
        self,
        org_id: FromPath[uuid.UUID],
        contact_id: FromPath[uuid.UUID],
        membership: NamedDependency[OrgMembership],
        data: JSONBody[ContactPatch],
    ) -> ContactOut:
        current = await queries.contact_get(organisation_id=membership.organisation_id, contact_id=contact_id)
        if current is None:
            raise NotFound("Contact introuvable.")
        merged = services.ContactInput(
            **{field: _pick(getattr(data, field), current[field]) for field in ("email", "group_id", "name", "organisation_name", "language")}
        )
        await services.contact_update(organisation_id=membership.organisation_id, contact_id=contact_id, data=merged)
        return contact_out(await queries.contact_get(organisation_id=membership.organisation_id, contact_id=contact_id))

    @delete("/{contact_id:uuid}", status_code=204)
    async def delete_contact(
        self, org_id: FromPath[uuid.UUID], contact_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> None:
        """Erase the contact (RGPD): the row and the survey emails addressed to it."""
        await services.contact_delete(organisation_id=membership.organisation_id, contact_id=contact_id)

    @get("/export.csv")
    async def export_csv(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        rows = await queries.contacts_export_rows(organisation_id=membership.organisation_id)
        return download(
            export_contacts_csv(rows), filename=export_filename(membership.slug, "csv"), media_type="text/csv"
        )

    @get("/export.xlsx")
    async def export_xlsx(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        rows = await queries.contacts_export_rows(organisation_id=membership.organisation_id)
        return download(
            export_contacts_xlsx(rows),
            filename=export_filename(membership.slug, "xlsx"),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    @post("/imports", status_code=201, request_max_body_size=UPLOAD_BODY_LIMIT)
    async def import_preview(
        self,
        request: HTMXRequest,
        org_id: FromPath[uuid.UUID],
        membership: NamedDependency[OrgMembership],
        data: MultipartBody[ImportUpload],
    ) -> ImportPreviewOut:
        """Parse a CSV or XLSX file (≤ 2 Mo) and keep the preview; writes no contact. Confirm it if ``ok``."""
        content = await data.file.read()
        import_id, _ = await services.contact_import_preview(
            organisation_id=membership.organisation_id,
            user_id=current_user(request).id,
            data=content,
            filename=data.file.filename or "",
        )
        return await self._stored(membership, import_id)

    async def _stored(self, membership: OrgMembership, import_id: uuid.UUID) -> ImportPreviewOut:
        stored = await queries.import_get(organisation_id=membership.organisation_id, import_id=import_id)
        if stored is None:
            raise NotFound("Aperçu d'import introuvable ou expiré.")
        return import_out(stored.id, stored.filename, stored.preview, stored.expires_at)

    @get("/imports/{import_id:uuid}")
    async def import_get(
        self, org_id: FromPath[uuid.UUID], import_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> ImportPreviewOut:
        return await self._stored(membership, import_id)

    @post("/imports/{import_id:uuid}/confirm", status_code=201)
    async def import_confirm(
        self, org_id: FromPath[uuid.UUID], import_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> ImportResultOut:
        """Write every row in one transaction, after checking them again; refused if the preview had errors."""
        created = await services.contact_import_confirm(organisation_id=membership.organisation_id, import_id=import_id)
        return ImportResultOut(created=created)

    @delete("/imports/{import_id:uuid}", status_code=204)
    async def import_cancel(
        self, org_id: FromPath[uuid.UUID], import_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> None:
        await services.contact_import_cancel(organisation_id=membership.organisation_id, import_id=import_id)

    @post("/person-data", status_code=200)
    async def person_data(
        self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[PersonDataIn]
    ) -> PersonDataOut:
        """Everything held about one email address (RGPD right of access). POST keeps the address out of URLs and logs."""
        found = await queries.person_data(organisation_id=membership.organisation_id, email=data.email)
        if found is None:
            raise ValidationFailed({"email": "Cette adresse e-mail n'est pas valide."})
        return msgspec.convert(found, PersonDataOut)
