"""JSON API: référentiels, themes of the year, own practices, self-diagnoses."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post, put, delete
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.plugins.htmx import HTMXRequest

from api.auth import current_user, org_guard
from api.errors import NotFound
from organisations import queries as org_queries
from organisations.queries import OrgMembership
from surveys import queries, services
from surveys.referentiel import Referentiel, ReferentielNotFound, available_referentiels, get_referentiel
from surveys.schemas import (
    AnswerIn, AnswerOut, CustomPracticeIn, CustomPracticeOut, DiagnosisIn, DiagnosisOut, DiagnosisResultsOut,
    PracticeResultOut, ReferentielSummary, ThemeEvolutionOut, ThemeProgressOut, ThemeResultOut, ThemesIn, ThemesOut,
)


def _diagnosis_out(row: dict) -> DiagnosisOut:
    return DiagnosisOut(
        id=row["id"], title=row["title"], status=row["status"], referentiel_key=row["referentiel_key"],
        referentiel_version=row["referentiel_version"], opened_at=row["opened_at"], closed_at=row["closed_at"],
    )


class ReferentielApi(Controller):
    path = "/api/v1/referentiels"
    tags = ["Référentiels"]

    @get("/")
    async def list_referentiels(self) -> list[ReferentielSummary]:
        return [
            ReferentielSummary(key=r.key, version=r.version, title=r.title.fr, themes=len(r.themes), practices=len(r.practices))
            for r in available_referentiels()
        ]

    @get("/{key:str}/{version:str}")
    async def detail(self, key: FromPath[str], version: FromPath[str]) -> Referentiel:
        try:
            return get_referentiel(key, version)
        except ReferentielNotFound:
            raise NotFound("Référentiel introuvable.") from None


class DiagnosisApi(Controller):
    path = "/api/v1/organisations/{org_id:uuid}"
    tags = ["Auto-diagnostic"]
    guards = [org_guard("reader")]

    @get("/themes")
    async def themes(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> ThemesOut:
        org = await org_queries.organisation_get(organisation_id=membership.organisation_id)
        return ThemesOut(themes=org["chosen_themes"] or [])

    @put("/themes", guards=[org_guard("admin")])
    async def set_themes(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[ThemesIn]) -> ThemesOut:
        return ThemesOut(themes=await services.themes_choose(organisation_id=membership.organisation_id, theme_keys=data.themes))

    @get("/practices")
    async def practices(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[CustomPracticeOut]:
        rows = await queries.custom_practices(organisation_id=membership.organisation_id)
        return [CustomPracticeOut(id=r["id"], key=r["key"], theme=r["theme"], org_statement=r["org_statement"],
                                  stakeholder_statement=r["stakeholder_statement"], categories=r["categories"]) for r in rows]

    @post("/practices", guards=[org_guard("contributor")], status_code=201)
    async def add_practice(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[CustomPracticeIn]) -> CustomPracticeOut:
        p = await services.custom_practice_add(
            organisation_id=membership.organisation_id, theme=data.theme, org_statement=data.org_statement,
            stakeholder_statement=data.stakeholder_statement, categories=data.categories,
        )
        return CustomPracticeOut(id=p.id, key=p.key, theme=p.theme, org_statement=p.org_statement,
                                 stakeholder_statement=p.stakeholder_statement, categories=p.categories)

    @delete("/practices/{practice_id:uuid}", guards=[org_guard("contributor")], status_code=204)
    async def remove_practice(self, org_id: FromPath[uuid.UUID], practice_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> None:
        await services.custom_practice_remove(organisation_id=membership.organisation_id, practice_id=practice_id)

    @get("/diagnoses")
    async def diagnoses(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[DiagnosisOut]:
        return [_diagnosis_out(r) for r in await queries.diagnoses_list(organisation_id=membership.organisation_id)]

    @post("/diagnoses", guards=[org_guard("admin")], status_code=201)
    async def open_diagnosis(self, request: HTMXRequest, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[DiagnosisIn]) -> DiagnosisOut:
        d = await services.diagnosis_open(
            organisation_id=membership.organisation_id, user_id=current_user(request).id,
            referentiel_key=data.referentiel, referentiel_version=data.version, title=data.title,
        )
        row, _scope = await services.diagnosis_scope(organisation_id=membership.organisation_id, diagnosis_id=d.id)
        return _diagnosis_out(row)

    @get("/diagnoses/{diagnosis_id:uuid}")
    async def diagnosis(self, org_id: FromPath[uuid.UUID], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> DiagnosisOut:
        row, _scope = await services.diagnosis_scope(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        return _diagnosis_out(row)

    @get("/diagnoses/{diagnosis_id:uuid}/my-answers")
    async def my_answers(self, request: HTMXRequest, org_id: FromPath[uuid.UUID], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> dict:
        _row, scope = await services.diagnosis_scope(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        answers = await queries.member_answers(diagnosis_id=diagnosis_id, user_id=current_user(request).id)
        return {
            "progress": [ThemeProgressOut(theme_key=t.theme_key, title=t.title, answered=t.answered, total=t.total) for t in queries.progress(scope, answers)],
            "answers": [AnswerOut(practice_key=a["practice_key"], answer=a["answer"], level=a["level"], importance=a["importance"],
                                  comment=a["comment"], existing=a["existing"], evidence=a["evidence"]) for a in answers.values()],
        }

    @put("/diagnoses/{diagnosis_id:uuid}/answers/{practice_key:str}", guards=[org_guard("contributor")])
    async def save_answer(
        self, request: HTMXRequest, org_id: FromPath[uuid.UUID], diagnosis_id: FromPath[uuid.UUID], practice_key: FromPath[str],
        membership: NamedDependency[OrgMembership], data: JSONBody[AnswerIn],
    ) -> AnswerOut:
        a = await services.answer_save(
            organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id, user_id=current_user(request).id,
            data=services.AnswerInput(
                practice_key=practice_key, answer=data.answer,
                importance=None if data.importance is None else str(data.importance),
                comment=data.comment, existing=data.existing, evidence=data.evidence,
            ),
        )
        return AnswerOut(practice_key=a["practice_key"], answer=a["answer"], level=a["level"], importance=a["importance"],
                         comment=a["comment"], existing=a["existing"], evidence=a["evidence"])

    @post("/diagnoses/{diagnosis_id:uuid}/close", guards=[org_guard("admin")])
    async def close(self, org_id: FromPath[uuid.UUID], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> DiagnosisOut:
        await services.diagnosis_close(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        row, _scope = await services.diagnosis_scope(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        return _diagnosis_out(row)

    @get("/diagnoses/{diagnosis_id:uuid}/results")
    async def results(self, org_id: FromPath[uuid.UUID], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> DiagnosisResultsOut:
        r = await queries.diagnosis_results(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        return DiagnosisResultsOut(
            diagnosis=_diagnosis_out(r.diagnosis),
            members=r.members,
            themes=[ThemeResultOut(theme_key=t["theme_key"], title=t["title"], theme_number=t["theme_number"], self_score=t["self_score"],
                                   n_practices=t["n_practices"], n_practices_theme=t["n_practices_theme"]) for t in r.themes],
            practices=[PracticeResultOut(**{k: p[k] for k in PracticeResultOut.__struct_fields__}) for p in r.practices],
            strengths=[p["practice_key"] for p in r.strengths],
            progress_areas=[p["practice_key"] for p in r.progress_areas],
            internal_disagreements=[p["practice_key"] for p in r.disagreements],
            previous_diagnosis_id=r.previous["diagnosis"]["id"] if r.previous else None,
            evolution=[ThemeEvolutionOut(**t) for t in (r.previous["themes"] if r.previous else [])],
        )
