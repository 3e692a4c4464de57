"""JSON API contract for référentiels and self-diagnoses."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

Level = Annotated[int, msgspec.Meta(ge=1, le=5)]


class ReferentielSummary(msgspec.Struct):
    key: str
    version: str
    title: str
    themes: int
    practices: int


class ThemesIn(msgspec.Struct, forbid_unknown_fields=True):
    themes: list[str]


class ThemesOut(msgspec.Struct):
    themes: list[str]


class CustomPracticeIn(msgspec.Struct, forbid_unknown_fields=True):
    theme: str
    org_statement: Annotated[str, msgspec.Meta(max_length=500)]
    stakeholder_statement: Annotated[str, msgspec.Meta(max_length=500)] = ""
    categories: list[str] = []


class CustomPracticeOut(msgspec.Struct):
    id: uuid.UUID
    key: str
    theme: str
    org_statement: str
    stakeholder_statement: str
    categories: list[str]


class DiagnosisIn(msgspec.Struct, forbid_unknown_fields=True):
    referentiel: str = "complet"
    version: str | None = None
    title: str = ""


class DiagnosisOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    status: str
    referentiel_key: str
    referentiel_version: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None = None


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    answer: Annotated[str, msgspec.Meta(pattern="^(1|2|3|4|5|dont_know|not_concerned)$")] | None = None
    importance: Level | None = None
    comment: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    existing: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    evidence: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class AnswerOut(msgspec.Struct):
    practice_key: str
    answer: str | None
    level: int | None
    importance: int | None
    comment: str
    existing: str
    evidence: str


class ThemeProgressOut(msgspec.Struct):
    theme_key: str
    title: str
    answered: int
    total: int


class PracticeResultOut(msgspec.Struct):
    practice_key: str
    theme_key: str
    label: str
    self_mean: float | None
    self_std: float | None
    self_n: int
    self_min: int | None
    self_max: int | None
    self_n_dont_know: int
    self_n_not_concerned: int
    self_importance: float | None
    internal_disagreement: bool


class ThemeResultOut(msgspec.Struct):
    theme_key: str
    title: str
    theme_number: int
    self_score: float | None
    n_practices: int
    n_practices_theme: int


class ThemeEvolutionOut(msgspec.Struct):
    theme_key: str
    title: str
    before: float
    now: float
    delta: float
    n_practices: int


class DiagnosisResultsOut(msgspec.Struct):
    diagnosis: DiagnosisOut
    members: int
    themes: list[ThemeResultOut]
    practices: list[PracticeResultOut]
    strengths: list[str]
    progress_areas: list[str]
    internal_disagreements: list[str]
    previous_diagnosis_id: uuid.UUID | None
    evolution: list[ThemeEvolutionOut]
