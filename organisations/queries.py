"""Reads for organisations, members and sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from organisations.tables import MemberInvitation, Membership, Organisation


@dataclass(frozen=True)
class OrgMembership:
    organisation_id: uuid.UUID
    slug: str
    name: str
    role: str
    membership_id: uuid.UUID


async def memberships_of(*, user_id: uuid.UUID) -> list[OrgMembership]:
    rows = (
        await Membership.select(
            Membership.id,
            Membership.role,
            Membership.organisation.id,
            Membership.organisation.slug,
            Membership.organisation.name,
        )
        .where(Membership.user == user_id)
        .order_by(Membership.organisation.name)
    )
    return [
        OrgMembership(
            organisation_id=r["organisation.id"],
            slug=r["organisation.slug"],
            name=r["organisation.name"],
            role=r["role"],
            membership_id=r["id"],
        )
        for r in rows
    ]


async def membership_for(*, user_id: uuid.UUID, slug: str | None = None, organisation_id: uuid.UUID | None = None) -> OrgMembership | None:
    query = Membership.select(
        Membership.id,
        Membership.role,
        Membership.organisation.id,
        Membership.organisation.slug,
        Membership.organisation.name,
    ).where(Membership.user == user_id)
    if slug is not None:
        query = query.where(Membership.organisation.slug == slug)
    elif organisation_id is not None:
        query = query.where(Membership.organisation.id == organisation_id)
    else:
        return None
    r = await query.first()
    if r is None:
        return None
    return OrgMembership(
        organisation_id=r["organisation.id"],
        slug=r["organisation.slug"],
        name=r["organisation.name"],
        role=r["role"],
        membership_id=r["id"],
    )


async def organisation_get(*, organisation_id: uuid.UUID) -> dict | None:
    return await Organisation.select().where(Organisation.id == organisation_id).output(load_json=True).first()


async def members_list(*, organisation_id: uuid.UUID) -> list[dict]:
    return (
        await Membership.select(
            Membership.id,
            Membership.role,
            Membership.created_at,
            Membership.user.id.as_alias("user_id"),
            Membership.user.email.as_alias("email"),
            Membership.user.name.as_alias("name"),
        )
        .where(Membership.organisation == organisation_id)
        .order_by(Membership.user.name)
    )


async def pending_invitations(*, organisation_id: uuid.UUID) -> list[dict]:
    return (
        await MemberInvitation.select(
            MemberInvitation.id, MemberInvitation.email, MemberInvitation.role, MemberInvitation.expires_at
        )
        .where((MemberInvitation.organisation == organisation_id) & (MemberInvitation.accepted == False))  # noqa: E712
        .order_by(MemberInvitation.created_at)
    )
