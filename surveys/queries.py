"""Reads for self-diagnoses: lists, a member's answers, progress, and consolidated results."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import polars as pl

from analytics.frames import PRACTICES_SCHEMA, SELF_ANSWERS_SCHEMA
from analytics.stats import self_theme_view, self_view
from surveys.services import DiagnosisScope, diagnosis_scope
from surveys.tables import CustomPractice, Diagnosis, DiagnosisAnswer

STRENGTH_LEVEL = 4.0
PROGRESS_LEVEL = 2.5


async def diagnoses_list(*, organisation_id: uuid.UUID) -> list[dict]:
    return (
        await Diagnosis.select(
            Diagnosis.id, Diagnosis.title, Diagnosis.status, Diagnosis.referentiel_key, Diagnosis.referentiel_version,
            Diagnosis.opened_at, Diagnosis.closed_at,
        )
        .where(Diagnosis.organisation == organisation_id)
        .order_by(Diagnosis.opened_at, ascending=False)
    )


async def open_diagnosis(*, organisation_id: uuid.UUID) -> dict | None:
    return await Diagnosis.select(Diagnosis.id, Diagnosis.title).where(
        (Diagnosis.organisation == organisation_id) & (Diagnosis.status == "open")
    ).first()


async def custom_practices(*, organisation_id: uuid.UUID) -> list[dict]:
    return await CustomPractice.select().where(CustomPractice.organisation == organisation_id).order_by(
        CustomPractice.created_at
    ).output(load_json=True)


async def member_answers(*, diagnosis_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, dict]:
    rows = await DiagnosisAnswer.select().where(
        (DiagnosisAnswer.diagnosis == diagnosis_id) & (DiagnosisAnswer.member == user_id)
    )
    return {r["practice_key"]: r for r in rows}


@dataclass(frozen=True)
class ThemeProgress:
    theme_key: str
    title: str
    number: int
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100


def progress(scope: DiagnosisScope, answers: dict[str, dict]) -> list[ThemeProgress]:
    out = []
    for theme_key in scope.theme_keys:
        theme = scope.referentiel.theme(theme_key)
        practices = scope.practices_of(theme_key)
        answered = sum(1 for p in practices if (answers.get(p.key) or {}).get("answer"))
        out.append(ThemeProgress(theme_key, theme.title.fr, theme.number, answered, len(practices)))
    return out


async def team_participation(*, diagnosis_id: uuid.UUID) -> int:
    """How many members have given at least one answer."""
    rows = await DiagnosisAnswer.select(DiagnosisAnswer.member).where(
        (DiagnosisAnswer.diagnosis == diagnosis_id) & DiagnosisAnswer.answer.is_not_null()
    ).distinct()
    return len(rows)


async def self_answers_frame(*, diagnosis_id: uuid.UUID) -> pl.DataFrame:
    rows = await DiagnosisAnswer.select(
        DiagnosisAnswer.member, DiagnosisAnswer.practice_key, DiagnosisAnswer.answer, DiagnosisAnswer.level,
        DiagnosisAnswer.importance,
    ).where((DiagnosisAnswer.diagnosis == diagnosis_id) & DiagnosisAnswer.answer.is_not_null())
    return pl.DataFrame(
        {
            "member_id": [str(r["member"]) for r in rows],
            "practice_key": [r["practice_key"] for r in rows],
            "answer": [r["answer"] for r in rows],
            "level": [r["level"] for r in rows],
            "importance": [r["importance"] for r in rows],
        },
        schema=SELF_ANSWERS_SCHEMA,
    )


def practices_frame(scope: DiagnosisScope) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "practice_key": [p.key for p in scope.practices],
            "theme_key": [p.theme for p in scope.practices],
            "theme_number": [scope.referentiel.theme(p.theme).number for p in scope.practices],
            "label": [p.org_statement.fr for p in scope.practices],
        },
        schema=PRACTICES_SCHEMA,
    )


@dataclass
class DiagnosisResults:
    diagnosis: dict
    scope: DiagnosisScope
    members: int
    practices: list[dict]
    themes: list[dict]
    strengths: list[dict] = field(default_factory=list)
    progress_areas: list[dict] = field(default_factory=list)
    disagreements: list[dict] = field(default_factory=list)
    previous: dict | None = None


async def _theme_scores(organisation_id: uuid.UUID, diagnosis_id: uuid.UUID) -> tuple[dict, DiagnosisScope, pl.DataFrame, pl.DataFrame, int]:
    row, scope = await diagnosis_scope(organisation_id=organisation_id, diagnosis_id=diagnosis_id)
    answers = await self_answers_frame(diagnosis_id=diagnosis_id)
    practices = practices_frame(scope)
    per_practice = self_view(answers)
    per_theme = self_theme_view(per_practice, practices)
    members = answers.get_column("member_id").n_unique() if answers.height else 0
    return row, scope, per_practice, per_theme, members


async def diagnosis_results(*, organisation_id: uuid.UUID, diagnosis_id: uuid.UUID) -> DiagnosisResults:
    row, scope, per_practice, per_theme, members = await _theme_scores(organisation_id, diagnosis_id)
    by_key = {r["practice_key"]: r for r in per_practice.to_dicts()}
    practices = []
    for p in scope.practices:
        stats = by_key.get(p.key, {})
        practices.append(
            {
                "practice_key": p.key,
                "theme_key": p.theme,
                "theme_title": scope.referentiel.theme(p.theme).title.fr,
                "label": p.org_statement.fr,
                "self_mean": stats.get("self_mean"),
                "self_std": stats.get("self_std"),
                "self_n": stats.get("self_n", 0),
                "self_min": stats.get("self_min"),
                "self_max": stats.get("self_max"),
                "self_n_dont_know": stats.get("self_n_dont_know", 0),
                "self_n_not_concerned": stats.get("self_n_not_concerned", 0),
                "self_importance": stats.get("self_importance"),
                "internal_disagreement": bool(stats.get("internal_disagreement", False)),
            }
        )
    themes = [
        {**t, "title": scope.referentiel.theme(t["theme_key"]).title.fr}
        for t in per_theme.to_dicts()
        if t["theme_key"] in scope.theme_keys
    ]
    scored = [p for p in practices if p["self_mean"] is not None]
    strengths = sorted((p for p in scored if p["self_mean"] >= STRENGTH_LEVEL), key=lambda p: -p["self_mean"])
    # Areas for progress: low levels first, the most important to the team first among equals.
    progress_areas = sorted(
        (p for p in scored if p["self_mean"] <= PROGRESS_LEVEL),
        key=lambda p: (p["self_mean"], -(p["self_importance"] or 0)),
    )
    disagreements = [p for p in scored if p["internal_disagreement"]]
    results = DiagnosisResults(
        diagnosis=row, scope=scope, members=members, practices=practices, themes=themes,
        strengths=strengths, progress_areas=progress_areas, disagreements=disagreements,
    )
    results.previous = await _comparison_with_previous(organisation_id, row, themes, practices)
    return results


async def _comparison_with_previous(organisation_id: uuid.UUID, row: dict, themes: list[dict], practices: list[dict]) -> dict | None:
    """Theme by theme against the previous closed diagnosis, practices matched by key."""
    previous = await Diagnosis.select(Diagnosis.id, Diagnosis.title, Diagnosis.closed_at).where(
        (Diagnosis.organisation == organisation_id)
        & (Diagnosis.status == "closed")
        & (Diagnosis.opened_at < row["opened_at"])
    ).order_by(Diagnosis.opened_at, ascending=False).first()
    if previous is None:
        return None
    _prow, _pscope, prev_practice, _ptheme, _ = await _theme_scores(organisation_id, previous["id"])
    prev_by_key = {r["practice_key"]: r["self_mean"] for r in prev_practice.to_dicts()}
    current_keys = [p for p in practices if p["self_mean"] is not None and prev_by_key.get(p["practice_key"]) is not None]
    theme_rows = []
    for theme in themes:
        matched = [p for p in current_keys if p["theme_key"] == theme["theme_key"]]
        if not matched:
            continue
        now = sum(p["self_mean"] for p in matched) / len(matched)
        before = sum(prev_by_key[p["practice_key"]] for p in matched) / len(matched)
        theme_rows.append(
            {"theme_key": theme["theme_key"], "title": theme["title"], "before": before, "now": now, "delta": now - before, "n_practices": len(matched)}
        )
    return {"diagnosis": previous, "themes": theme_rows}
