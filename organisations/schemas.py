"""JSON API contract for accounts, organisations and members."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(max_length=254)]
Role = Annotated[str, msgspec.Meta(pattern="^(admin|contributor|reader)$")]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, msgspec.Meta(max_length=256)]


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    legal_form: str
    postcode: str
    headcount_band: str
    coop_kind: str | None = None
    siret: str | None = None
    region: str | None = None


class SignupIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, msgspec.Meta(max_length=256)]
    name: Annotated[str, msgspec.Meta(max_length=200)]
    organisation: OrganisationIn


class OrganisationOut(msgspec.Struct):
    id: uuid.UUID
    slug: str
    name: str
    legal_form: str
    coop_kind: str | None
    siret: str | None
    postcode: str
    region: str
    headcount_band: str
    role: str | None = None


class MembershipOut(msgspec.Struct):
    organisation_id: uuid.UUID
    slug: str
    name: str
    role: str


class MeOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str
    email_verified: bool
    organisations: list[MembershipOut]


class MemberOut(msgspec.Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    email: str
    role: str
    created_at: dt.datetime


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: Role = "contributor"


class InvitationOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    role: str
    expires_at: dt.datetime


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


# --- Stakeholder map and contacts (issue 4) ---------------------------------------------------

Scale = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 (faible) à 5 (forte)")]
Engagement = Annotated[str, msgspec.Meta(pattern="^(informer|consulter|impliquer|collaborer|codecider)$")]
WeightOverride = Annotated[float, msgspec.Meta(ge=0, le=1, description="0 exclut le groupe des moyennes pondérées")]
Language = Annotated[str, msgspec.Meta(pattern="^(fr|en)$")]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]


class GroupIn(msgspec.Struct, forbid_unknown_fields=True):
    """A stakeholder group. ``category``: a standard key or "autre" (then ``name`` is required)."""

    category: Annotated[str, msgspec.Meta(max_length=40)]
    name: Annotated[str, msgspec.Meta(max_length=120)] = ""
    influence: Scale = 3
    importance: Scale = 3
    power: bool = False
    legitimacy: bool = False
    urgency: bool = False
    engagement: Engagement = "consulter"
    weight_override: WeightOverride | None = None


class GroupPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; absent fields keep their value (``weight_override: null`` restores the derived weight)."""

    category: Annotated[str, msgspec.Meta(max_length=40)] | msgspec.UnsetType = msgspec.UNSET
    name: Annotated[str, msgspec.Meta(max_length=120)] | msgspec.UnsetType = msgspec.UNSET
    influence: Scale | msgspec.UnsetType = msgspec.UNSET
    importance: Scale | msgspec.UnsetType = msgspec.UNSET
    power: bool | msgspec.UnsetType = msgspec.UNSET
    legitimacy: bool | msgspec.UnsetType = msgspec.UNSET
    urgency: bool | msgspec.UnsetType = msgspec.UNSET
    engagement: Engagement | msgspec.UnsetType = msgspec.UNSET
    weight_override: WeightOverride | None | msgspec.UnsetType = msgspec.UNSET


class GroupOut(msgspec.Struct):
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
    weight_override: float | None
    weight: float  # weight_override, else (influence + importance) / 10
    quadrant: str  # gerer | satisfaire | informer | surveiller (Mendelow)
    quadrant_label: str
    contact_count: int
    created_at: dt.datetime


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    group_id: uuid.UUID
    name: ShortText = ""
    organisation_name: ShortText = ""
    language: Language = "fr"


class ContactPatch(msgspec.Struct, forbid_unknown_fields=True):
    email: Email | msgspec.UnsetType = msgspec.UNSET
    group_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    name: ShortText | msgspec.UnsetType = msgspec.UNSET
    organisation_name: ShortText | msgspec.UnsetType = msgspec.UNSET
    language: Language | msgspec.UnsetType = msgspec.UNSET


class ContactOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str
    organisation_name: str
    language: str
    group_id: uuid.UUID
    group_name: str
    opted_out: bool
    created_at: dt.datetime


class ImportRowOut(msgspec.Struct):
    line: int
    email: str
    name: str
    organisation: str
    language: str
    group_id: str
    group_name: str


class ImportErrorOut(msgspec.Struct):
    line: int | None
    field: str | None
    message: str


class ImportPreviewOut(msgspec.Struct):
    """A parsed file kept server-side. Nothing is written until ``confirm`` (allowed only when ``ok``)."""

    id: uuid.UUID
    filename: str
    ok: bool
    rows: list[ImportRowOut]
    errors: list[ImportErrorOut]
    file_errors: list[str]
    expires_at: dt.datetime


class ImportResultOut(msgspec.Struct):
    created: int


class PersonDataIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class PersonContactOut(msgspec.Struct):
    email: str
    name: str
    organisation_name: str
    language: str
    opted_out: bool
    group_name: str
    group_category: str
    created_at: dt.datetime


class PersonInvitationOut(msgspec.Struct):
    campaign_title: str
    campaign_status: str
    group_name: str
    language: str


class PersonMembershipOut(msgspec.Struct):
    name: str
    role: str
    created_at: dt.datetime


class PersonMemberInvitationOut(msgspec.Struct):
    role: str
    accepted: bool
    created_at: dt.datetime
    expires_at: dt.datetime


class PersonEmailOut(msgspec.Struct):
    kind: str
    subject: str
    status: str
    created_at: dt.datetime


class PersonDataOut(msgspec.Struct):
    """Everything the organisation holds about one email address (survey answers are anonymous: never linked)."""

    email: str
    organisation: str
    exported_at: dt.datetime
    contacts: list[PersonContactOut]
    campaign_invitations: list[PersonInvitationOut]
    memberships: list[PersonMembershipOut]
    member_invitations: list[PersonMemberInvitationOut]
    emails: list[PersonEmailOut]
