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
    bounced: int = 0
    opted_out: int = 0


class InvitationOut(msgspec.Struct):
    id: uuid.UUID
    group_name: str
    email: str | None
    name: str | None
    language: str
    revoked: bool


class GroupResultOut(msgspec.Struct):
    group_id: str
    name: str
    category: str
    weight: float
    open_link: bool
    suppressed: bool
    n_respondents: int | None


class PracticeResultOut(msgspec.Struct):
    practice_key: str
    theme_key: str
    label: str
    suppressed: bool
    n: int | None
    mean: float | None
    median: float | None
    std: float | None
    ci_low: float | None
    ci_high: float | None
    dont_know_share: float | None
    rwg: float | None
    distribution: dict[int, int] | None
    mean_importance: float | None
    self_mean: float | None
    gap: float | None
    category: str
    category_label: str
    reason: str


class CellOut(msgspec.Struct):
    practice_key: str
    group_id: str
    group_name: str
    open_link: bool
    suppressed: bool
    n: int | None
    mean: float | None
    median: float | None
    std: float | None
    ci_low: float | None
    ci_high: float | None
    dont_know_share: float | None
    rwg: float | None
    mean_importance: float | None
    distribution: dict[int, int] | None


class ThemeResultOut(msgspec.Struct):
    theme_key: str
    title: str
    score: float | None
    self_score: float | None
    n_practices: int


class PriorityOut(msgspec.Struct):
    rank: int
    practice_key: str
    label: str
    theme_key: str
    score: float
    reason: str
    category: str | None
    mark: str | None


class CommentOut(msgspec.Struct):
    group_name: str
    practice: str
    comment: str


class CampaignResultsOut(msgspec.Struct):
    campaign_id: uuid.UUID
    published: bool
    threshold: int
    respondents: int | None = None
    everything_suppressed: bool = False
    groups: list[GroupResultOut] = []
    practices: list[PracticeResultOut] = []
    cells: list[CellOut] = []
    themes: list[ThemeResultOut] = []
    theme_groups: list[dict] = []
    priorities: list[PriorityOut] = []
    materiality: list[dict] = []
    comments: list[CommentOut] = []
    trends: list[dict] = []


class PriorityMarkIn(msgspec.Struct, forbid_unknown_fields=True):
    state: Annotated[str, msgspec.Meta(pattern="^(pinned|dismissed)$")] | None = None
