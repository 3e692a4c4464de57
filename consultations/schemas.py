"""JSON API contract for campaigns and participation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec


class AudienceIn(msgspec.Struct, forbid_unknown_fields=True):
    group_id: uuid.UUID
    all_contacts: bool = True
    contact_ids: list[uuid.UUID] = []


class CampaignIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=200)]
    audience: list[AudienceIn]
    referentiel: str = "complet"
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    languages: list[str] = msgspec.field(default_factory=lambda: ["fr", "en"])
    message: Annotated[str, msgspec.Meta(max_length=3000)] = ""
    threshold: int = 5
    shared_links: bool = False
    practice_keys: list[str] = []


class CampaignGroupOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    category: str
    weight: float
    all_contacts: bool
    shared_link: str | None = None


class CampaignOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    status: str
    referentiel_key: str
    referentiel_version: str
    practice_keys: list[str]
    languages: list[str]
    message: str
    threshold: int
    shared_links: bool
    opens_on: dt.date | None
    closes_on: dt.date | None
    groups: list[CampaignGroupOut] = []


class LaunchIn(msgspec.Struct, forbid_unknown_fields=True):
    accept_warnings: bool = False


class LaunchCheckOut(msgspec.Struct):
    launched: bool
    errors: list[str]
    warnings: list[str]
    invited_per_group: dict[str, int]


class GroupParticipationOut(msgspec.Struct):
    campaign_group_id: uuid.UUID
    name: str
    invited: int
    answered: int
    rate: float
    open_link_answers: int


class ParticipationOut(msgspec.Struct):
    invited: int
    answered: int
    rate: float
    groups: list[GroupParticipationOut]


class InvitationOut(msgspec.Struct):
    id: uuid.UUID
    group_name: str
    email: str | None
    name: str | None
    language: str
    revoked: bool
