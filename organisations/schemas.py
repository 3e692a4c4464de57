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
