"""Reads for the stakeholder map: groups with their weight and size, contacts, exports,
the analytics ``groups`` frame, and everything held about one person."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import polars as pl
from piccolo.query.functions.aggregate import Count

from analytics.charts import MapGroup
from analytics.frames import GROUPS_SCHEMA
from emails.tables import OutboxMessage
from organisations.contact_io import ImportPreview
from organisations.stakeholders import (
    ENGAGEMENT_LEVELS,
    QUADRANTS,
    SALIENCE_FLAGS,
    category_display,
    decode_preview,
    group_weight,
    quadrant,
    utcnow,
)
from organisations.tables import Contact, ContactImport, MemberInvitation, Membership, Organisation, StakeholderGroup
from organisations.validation import normalise_email


@dataclass(frozen=True)
class GroupView:
    id: uuid.UUID
    name: str
    category: str
    category_label: str
    influence: int
    importance: int
    power: bool
    legitimacy: bool
    urgency: bool
    engagement: str
    engagement_label: str
    weight_override: float | None
    weight: float
    quadrant: str
    quadrant_label: str
    contact_count: int
    created_at: dt.datetime

    @property
    def salience_labels(self) -> list[str]:
        return [label for key, label in SALIENCE_FLAGS.items() if getattr(self, key)]


def _group_view(row: dict[str, Any], contact_count: int) -> GroupView:
    q = quadrant(row["influence"], row["importance"])
    override = row["weight_override"]
    return GroupView(
        id=row["id"],
        name=row["name"],
        category=row["category"],
        category_label=category_display(row["category"]),
        influence=row["influence"],
        importance=row["importance"],
        power=bool(row["power"]),
        legitimacy=bool(row["legitimacy"]),
        urgency=bool(row["urgency"]),
        engagement=row["engagement"],
        engagement_label=ENGAGEMENT_LEVELS.get(row["engagement"], row["engagement"]),
        weight_override=None if override is None else round(float(override), 4),
        weight=group_weight(row),
        quadrant=q,
        quadrant_label=QUADRANTS[q],
        contact_count=contact_count,
        created_at=row["created_at"],
    )


async def contact_counts(*, organisation_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = (
        await Contact.select(Contact.group, Count(alias="n"))
        .where(Contact.organisation == organisation_id)
        .group_by(Contact.group)
    )
    return {r["group"]: r["n"] for r in rows}


async def groups_list(*, organisation_id: uuid.UUID) -> list[GroupView]:
    """The organisation's groups in map order: inside the organisation first (category order), then by name."""
    from organisations.categories import CATEGORY_KEYS

    rows = await StakeholderGroup.select().where(StakeholderGroup.organisation == organisation_id)
    counts = await contact_counts(organisation_id=organisation_id)
    order = {key: i for i, key in enumerate(CATEGORY_KEYS)}
    rows.sort(key=lambda r: (order.get(r["category"], len(order)), r["name"].casefold(), str(r["id"])))
    return [_group_view(r, counts.get(r["id"], 0)) for r in rows]


async def group_get(*, organisation_id: uuid.UUID, group_id: uuid.UUID) -> GroupView | None:
    row = (
        await StakeholderGroup.select()
        .where((StakeholderGroup.id == group_id) & (StakeholderGroup.organisation == organisation_id))
        .first()
    )
    if row is None:
        return None
    count = await Contact.count().where((Contact.group == group_id) & (Contact.organisation == organisation_id))
    return _group_view(row, count)


async def groups_frame(organisation_id: uuid.UUID) -> pl.DataFrame:
    """The analytics ``groups`` input (analytics.frames.GROUPS_SCHEMA), one row per group.

    ``open_link`` is False: shared survey links belong to campaigns.
    """
    rows = await StakeholderGroup.select(
        StakeholderGroup.id,
        StakeholderGroup.name,
        StakeholderGroup.category,
        StakeholderGroup.influence,
        StakeholderGroup.importance,
        StakeholderGroup.weight_override,
    ).where(StakeholderGroup.organisation == organisation_id)
    rows.sort(key=lambda r: str(r["id"]))
    return pl.DataFrame(
        {
            "group_id": [str(r["id"]) for r in rows],
            "group_name": [r["name"] for r in rows],
            "category": [r["category"] for r in rows],
            "weight": [group_weight(r) for r in rows],
            "open_link": [False] * len(rows),
        },
        schema=GROUPS_SCHEMA,
    )


def map_groups(groups: list[GroupView]) -> list[MapGroup]:
    """The chart's input: one circle per group, its area the number of contacts."""
    return [MapGroup(str(g.id), g.name, g.influence, g.importance, g.contact_count) for g in groups]


async def groups_by_name(*, organisation_id: uuid.UUID) -> dict[str, str]:
    rows = await StakeholderGroup.select(StakeholderGroup.id, StakeholderGroup.name).where(
        StakeholderGroup.organisation == organisation_id
    )
    return {r["name"]: str(r["id"]) for r in rows}


_CONTACT_COLUMNS = (
    Contact.id,
    Contact.email,
    Contact.name,
    Contact.organisation_name,
    Contact.language,
    Contact.opted_out,
    Contact.created_at,
    Contact.group.as_alias("group_id"),
    Contact.group.name.as_alias("group_name"),
)


async def contacts_list(*, organisation_id: uuid.UUID, group_id: uuid.UUID | None = None) -> list[dict]:
    query = Contact.select(*_CONTACT_COLUMNS).where(Contact.organisation == organisation_id)
    if group_id is not None:
        query = query.where(Contact.group == group_id)
    rows = await query
    rows.sort(key=lambda r: (r["group_name"].casefold(), (r["name"] or r["email"]).casefold(), r["email"]))
    return rows


async def contact_get(*, organisation_id: uuid.UUID, contact_id: uuid.UUID) -> dict | None:
    return (
        await Contact.select(*_CONTACT_COLUMNS)
        .where((Contact.id == contact_id) & (Contact.organisation == organisation_id))
        .first()
    )


async def contacts_export_rows(*, organisation_id: uuid.UUID) -> list[dict]:
    """Rows for contact_io.export_contacts_csv / _xlsx (an export re-imports as it is)."""
    return [
        {
            "email": r["email"],
            "name": r["name"],
            "organisation": r["organisation_name"],
            "language": r["language"],
            "group_name": r["group_name"],
        }
        for r in await contacts_list(organisation_id=organisation_id)
    ]


@dataclass(frozen=True)
class StoredImport:
    id: uuid.UUID
    filename: str
    preview: ImportPreview
    created_at: dt.datetime
    expires_at: dt.datetime


async def import_get(*, organisation_id: uuid.UUID, import_id: uuid.UUID) -> StoredImport | None:
    """A pending import preview of this organisation, unless it has expired."""
    row = (
        await ContactImport.select()
        .where((ContactImport.id == import_id) & (ContactImport.organisation == organisation_id))
        .first()
    )
    if row is None or row["expires_at"] <= utcnow():
        return None
    return StoredImport(
        id=row["id"],
        filename=row["filename"],
        preview=decode_preview(row["preview"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


# --- RGPD: what the organisation holds about one address ------------------------------------


async def person_data(*, organisation_id: uuid.UUID, email: str) -> dict[str, Any] | None:
    """Everything the organisation holds about an email address (right of access, art. 15 RGPD).

    None when the address isn't valid. Survey answers are anonymous: nothing ties
    them to a person, so they can't be part of this export. Email bodies are left
    out (they hold single-use links); their subject, kind, status and date are in.
    Whether the person answered a campaign is left out too: the team must not learn it.
    """
    from consultations.tables import Invitation

    address = normalise_email(email)
    if address is None:
        return None
    org = await Organisation.select(Organisation.name).where(Organisation.id == organisation_id).first()
    contacts = await Contact.select(
        Contact.id,
        Contact.email,
        Contact.name,
        Contact.organisation_name,
        Contact.language,
        Contact.opted_out,
        Contact.created_at,
        Contact.group.name.as_alias("group_name"),
        Contact.group.category.as_alias("group_category"),
    ).where((Contact.organisation == organisation_id) & (Contact.email == address))
    invitations = []
    if contacts:
        invitations = await Invitation.select(
            Invitation.campaign.title.as_alias("campaign_title"),
            Invitation.campaign.status.as_alias("campaign_status"),
            Invitation.campaign_group.name.as_alias("group_name"),
            Invitation.language,
        ).where(Invitation.contact.is_in([c["id"] for c in contacts]))
    memberships = await Membership.select(
        Membership.role, Membership.created_at, Membership.user.name.as_alias("name")
    ).where((Membership.organisation == organisation_id) & (Membership.user.email == address))
    member_invitations = await MemberInvitation.select(
        MemberInvitation.role, MemberInvitation.accepted, MemberInvitation.created_at, MemberInvitation.expires_at
    ).where((MemberInvitation.organisation == organisation_id) & (MemberInvitation.email == address))
    emails = await OutboxMessage.select(
        OutboxMessage.kind, OutboxMessage.subject, OutboxMessage.status, OutboxMessage.created_at
    ).where((OutboxMessage.organisation == organisation_id) & (OutboxMessage.to_address == address))
    return {
        "email": address,
        "organisation": org["name"] if org else "",
        "exported_at": utcnow(),
        "contacts": [
            {
                "email": c["email"],
                "name": c["name"],
                "organisation_name": c["organisation_name"],
                "language": c["language"],
                "opted_out": bool(c["opted_out"]),
                "group_name": c["group_name"],
                "group_category": category_display(c["group_category"]),
                "created_at": c["created_at"],
            }
            for c in contacts
        ],
        "campaign_invitations": [
            {
                "campaign_title": i["campaign_title"],
                "campaign_status": i["campaign_status"],
                "group_name": i["group_name"],
                "language": i["language"],
            }
            for i in invitations
        ],
        "memberships": [
            {"name": m["name"], "role": m["role"], "created_at": m["created_at"]} for m in memberships
        ],
        "member_invitations": [
            {
                "role": m["role"],
                "accepted": bool(m["accepted"]),
                "created_at": m["created_at"],
                "expires_at": m["expires_at"],
            }
            for m in member_invitations
        ],
        "emails": [
            {"kind": e["kind"], "subject": e["subject"], "status": e["status"], "created_at": e["created_at"]}
            for e in sorted(emails, key=lambda e: e["created_at"])
        ],
    }


# --- Retention feed -------------------------------------------------------------------------


async def last_campaign_closed_at_by_org() -> dict[uuid.UUID, dt.datetime | None]:
    """For each organisation with contacts: when its most recent campaign closed.

    None (nothing to erase) while one of its campaigns is open, or if none ever closed.
    """
    from consultations.tables import Campaign

    org_ids = {r["organisation"] for r in await Contact.select(Contact.organisation).distinct()}
    if not org_ids:
        return {}
    campaigns = await Campaign.select(Campaign.organisation, Campaign.status, Campaign.closed_at).where(
        Campaign.organisation.is_in(list(org_ids))
    )
    result: dict[uuid.UUID, dt.datetime | None] = {org_id: None for org_id in org_ids}
    open_orgs = {c["organisation"] for c in campaigns if c["status"] == "open"}
    for c in campaigns:
        org_id, closed_at = c["organisation"], c["closed_at"]
        if org_id in open_orgs or closed_at is None or c["status"] not in ("closed", "archived"):
            continue
        if result[org_id] is None or closed_at > result[org_id]:
            result[org_id] = closed_at
    return result
