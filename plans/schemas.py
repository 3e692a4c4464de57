"""JSON API contract for the action plan, reviews, the "Votre démarche" dashboard and reports."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

Status = Literal["a_lancer", "en_cours", "realisee", "abandonnee"]


class IndicatorIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    unit: Annotated[str, msgspec.Meta(max_length=40)] = ""
    baseline: float | None = None
    target: float | None = None
    current_value: float | None = None
    current_on: dt.date | None = None
    id: uuid.UUID | None = None  # an existing indicator of the action (update); omitted ones are deleted


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=200)]
    description: str = ""
    practice_keys: list[str] = []
    theme_key: str = ""
    finding: str = ""
    objective_1y: str = ""
    objective_3y: str = ""
    owner_id: uuid.UUID | None = None
    due_on: dt.date | None = None
    status: Status = "a_lancer"
    abandon_reason: str = ""
    groups: list[str] = []
    source_campaign_id: uuid.UUID | None = None
    source_diagnosis_id: uuid.UUID | None = None
    indicators: list[IndicatorIn] = []


class FromPriorityIn(msgspec.Struct, forbid_unknown_fields=True):
    """Create an action from a priority of a closed campaign: practice, theme and finding are filled in."""

    campaign_id: uuid.UUID
    practice_key: str
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    owner_id: uuid.UUID | None = None
    due_on: dt.date | None = None
    objective_1y: str = ""
    objective_3y: str = ""


class IndicatorOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    unit: str
    baseline: float | None
    target: float | None
    current_value: float | None
    current_on: dt.date | None


class ActionOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    description: str
    practice_keys: list[str]
    theme_key: str
    finding: str
    objective_1y: str
    objective_3y: str
    owner_id: uuid.UUID | None
    owner_name: str
    due_on: dt.date | None
    status: str
    status_label: str
    abandon_reason: str
    done_on: dt.date | None
    overdue: bool
    groups: list[str]
    source_campaign_id: uuid.UUID | None
    source_diagnosis_id: uuid.UUID | None
    indicators: list[IndicatorOut]


class TimelineEventOut(msgspec.Struct):
    on: dt.date
    kind: str  # creation | revue | mesure | rappel
    text: str
    note: str = ""
    reason: str = ""
    value: float | None = None
    unit: str = ""
    review_id: uuid.UUID | None = None


class RemindOut(msgspec.Struct):
    queued_to: str


class ReviewItemIn(msgspec.Struct, forbid_unknown_fields=True):
    action_id: uuid.UUID
    status: Status | None = None
    reason: str = ""
    note: str = ""
    values: dict[uuid.UUID, float] = {}


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    held_on: dt.date | None = None
    notes: str = ""
    items: list[ReviewItemIn] = []


class ReviewValueOut(msgspec.Struct):
    name: str
    unit: str
    value: float


class ReviewItemOut(msgspec.Struct):
    action_id: uuid.UUID
    title: str
    status_before: str
    status_after: str
    reason: str
    note: str
    values: list[ReviewValueOut]


class ReviewOut(msgspec.Struct):
    id: uuid.UUID
    held_on: dt.date
    notes: str
    items: list[ReviewItemOut] = []


class StepOut(msgspec.Struct):
    key: str
    label: str
    done: bool
    how: str
    detail: str
    href: str
    in_progress: bool


class DemarcheOut(msgspec.Struct):
    year: int
    pilot_id: uuid.UUID | None
    pilot_name: str
    steps: list[StepOut]
    next_step: str | None
    done: int
    total: int
    review_months: int
    last_review_on: dt.date | None
    next_review_due_on: dt.date | None
    review_late: bool
    overdue_actions: int
    employees_informed_on: dt.date | None
    ag_date: dt.date | None


class DemarcheIn(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; null clears one."""

    pilot_id: uuid.UUID | None | msgspec.UnsetType = msgspec.UNSET
    employees_informed_on: dt.date | None | msgspec.UnsetType = msgspec.UNSET
    ag_date: dt.date | None | msgspec.UnsetType = msgspec.UNSET
    review_months: int | msgspec.UnsetType = msgspec.UNSET


class NextCycleOut(msgspec.Struct):
    year: int
    diagnosis_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    notes: list[str]


class DebateIn(msgspec.Struct, forbid_unknown_fields=True):
    ag_date: dt.date | None = None
    ag_attendance: int | None = None
    ag_members: int | None = None
    ag_debate: str = ""
    ag_decisions: str = ""


class DebateOut(msgspec.Struct):
    year: int
    ag_date: dt.date | None
    ag_attendance: int | None
    ag_members: int | None
    ag_debate: str
    ag_decisions: str


class ReportGroupOut(msgspec.Struct):
    name: str
    suppressed: bool
    respondents: int | None  # None when masked (below the anonymity threshold)


class ReportOut(msgspec.Struct):
    year: int
    title: str
    organisation: str
    diagnosis_title: str | None
    consultation_title: str | None
    anonymity_threshold: int | None
    respondents: int | None
    groups: list[ReportGroupOut]
    actions: int
    actions_done: int
    debate: DebateOut
    pdf: str
    employees_pdf: str
