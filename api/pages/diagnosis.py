"""Self-diagnosis pages: themes of the year, own practices, a team diagnosis theme by theme, results."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from analytics.charts import RadarAxis, RadarSeries, radar_chart
from api.auth import current_user, org_guard
from api.errors import Conflict, NotFound, ValidationFailed
from api.web import form_data, page, see_other
from organisations import queries as org_queries
from organisations.categories import STAKEHOLDER_CATEGORIES
from organisations.queries import OrgMembership
from organisations.services import role_at_least
from surveys import queries, services
from surveys.referentiel import IMPORTANCE_LEVELS, LEVELS, SPECIAL_ANSWERS, available_referentiels, get_referentiel

FIELDS = ("answer", "importance", "comment", "existing", "evidence")
EMPTY_ANSWER = {"answer": None, "level": None, "importance": None, "comment": "", "existing": "", "evidence": ""}


def answers_from_form(form: dict[str, str]) -> dict[str, services.AnswerInput]:
    """Form fields are named `<field>__<practice key>`; only fields present are changed."""
    found: dict[str, dict[str, str]] = {}
    for name, value in form.items():
        field, sep, key = name.partition("__")
        if sep and field in FIELDS and key:
            found.setdefault(key, {})[field] = value
    return {key: services.AnswerInput(practice_key=key, **values) for key, values in found.items()}


def radar_svg(results: queries.DiagnosisResults) -> str | None:
    if len(results.themes) < 3:
        return None
    axes = [RadarAxis(key=t["theme_key"], label=t["title"]) for t in results.themes]
    series = [RadarSeries(name="Auto-diagnostic", values={t["theme_key"]: t["self_score"] for t in results.themes})]
    if results.previous:
        series.append(
            RadarSeries(name="Diagnostic précédent", values={t["theme_key"]: t["before"] for t in results.previous["themes"]}, dashed=True)
        )
    return radar_chart(
        axes, series, title="Score par thème (1 à 5)", desc="Moyenne des pratiques de chaque thème, selon les réponses de l'équipe."
    )


class DiagnosisPages(Controller):
    path = "/o/{slug:str}/diagnostic"
    include_in_schema = False
    guards = [org_guard("reader")]

    async def _overview(self, request: HTMXRequest, membership: OrgMembership, status_code: int = 200, **extra) -> Template:
        org = await org_queries.organisation_get(organisation_id=membership.organisation_id)
        chosen = org["chosen_themes"]
        current = await queries.open_diagnosis(organisation_id=membership.organisation_id)
        my_progress = None
        participants = 0
        if current:
            _row, scope = await services.diagnosis_scope(organisation_id=membership.organisation_id, diagnosis_id=current["id"])
            answers = await queries.member_answers(diagnosis_id=current["id"], user_id=current_user(request).id)
            my_progress = queries.progress(scope, answers)
            participants = await queries.team_participation(diagnosis_id=current["id"])
        return page(
            "diagnosis/overview.html",
            status_code=status_code,
            membership=membership,
            section="diagnostic",
            themes=get_referentiel("complet").themes,
            chosen=chosen or [],
            referentiels=available_referentiels(),
            customs=await queries.custom_practices(organisation_id=membership.organisation_id),
            categories=STAKEHOLDER_CATEGORIES,
            current=current,
            my_progress=my_progress,
            participants=participants,
            diagnoses=await queries.diagnoses_list(organisation_id=membership.organisation_id),
            can_edit=role_at_least(membership.role, "contributor"),
            is_admin=membership.role == "admin",
            **extra,
        )

    @get("/")
    async def overview(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return await self._overview(request, membership)

    @post("/themes", guards=[org_guard("admin")])
    async def choose_themes(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        try:
            await services.themes_choose(organisation_id=membership.organisation_id, theme_keys=form.getall("themes", []))
        except ValidationFailed as exc:
            return await self._overview(request, membership, status_code=400, errors=exc.errors)
        return see_other(f"/o/{slug}/diagnostic")

    @post("/pratiques", guards=[org_guard("contributor")])
    async def add_practice(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        try:
            await services.custom_practice_add(
                organisation_id=membership.organisation_id,
                theme=form.get("theme", ""),
                org_statement=form.get("org_statement", ""),
                stakeholder_statement=form.get("stakeholder_statement", ""),
                categories=form.getall("categories", []),
            )
        except ValidationFailed as exc:
            return await self._overview(request, membership, status_code=400, errors=exc.errors, form=dict(form.items()))
        return see_other(f"/o/{slug}/diagnostic#pratiques")

    @post("/pratiques/{practice_id:uuid}/supprimer", guards=[org_guard("contributor")])
    async def remove_practice(self, slug: FromPath[str], practice_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        await services.custom_practice_remove(organisation_id=membership.organisation_id, practice_id=practice_id)
        return see_other(f"/o/{slug}/diagnostic#pratiques")

    @post("/ouvrir", guards=[org_guard("admin")])
    async def open_diagnosis(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await form_data(request)
        try:
            diagnosis = await services.diagnosis_open(
                organisation_id=membership.organisation_id,
                user_id=current_user(request).id,
                referentiel_key=form.get("referentiel", ""),
                title=form.get("title", ""),
            )
        except (ValidationFailed, Conflict) as exc:
            return await self._overview(request, membership, status_code=exc.status_code, errors=exc.errors or {"referentiel": exc.message})
        return see_other(f"/o/{slug}/diagnostic/{diagnosis.id}/theme/")

    @get("/{diagnosis_id:uuid}/theme/")
    async def first_theme(self, slug: FromPath[str], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        _row, scope = await services.diagnosis_scope(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        return see_other(f"/o/{slug}/diagnostic/{diagnosis_id}/theme/{scope.theme_keys[0]}")

    async def _theme_page(
        self, request: HTMXRequest, membership: OrgMembership, diagnosis_id: uuid.UUID, theme_key: str, status_code: int = 200, **extra
    ) -> Template:
        row, scope = await services.diagnosis_scope(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        if theme_key not in scope.theme_keys:
            raise NotFound("Ce thème ne fait pas partie du diagnostic.")
        answers = await queries.member_answers(diagnosis_id=diagnosis_id, user_id=current_user(request).id)
        keys = scope.theme_keys
        index = keys.index(theme_key)
        return page(
            "diagnosis/theme.html",
            status_code=status_code,
            membership=membership,
            section="diagnostic",
            diagnosis=row,
            theme=scope.referentiel.theme(theme_key),
            practices=scope.practices_of(theme_key),
            answers={p.key: {**EMPTY_ANSWER, **answers.get(p.key, {})} for p in scope.practices_of(theme_key)},
            progress=queries.progress(scope, answers),
            step=index + 1,
            steps=len(keys),
            previous_theme=keys[index - 1] if index > 0 else None,
            next_theme=keys[index + 1] if index + 1 < len(keys) else None,
            levels=LEVELS,
            importance_levels=IMPORTANCE_LEVELS,
            special=SPECIAL_ANSWERS,
            editable=row["status"] == "open" and role_at_least(membership.role, "contributor"),
            **extra,
        )

    @get("/{diagnosis_id:uuid}/theme/{theme_key:str}")
    async def theme(
        self, request: HTMXRequest, slug: FromPath[str], diagnosis_id: FromPath[uuid.UUID], theme_key: FromPath[str], membership: NamedDependency[OrgMembership]
    ) -> Template:
        return await self._theme_page(request, membership, diagnosis_id, theme_key)

    @post("/{diagnosis_id:uuid}/theme/{theme_key:str}", guards=[org_guard("contributor")])
    async def save_theme(
        self, request: HTMXRequest, slug: FromPath[str], diagnosis_id: FromPath[uuid.UUID], theme_key: FromPath[str], membership: NamedDependency[OrgMembership]
    ) -> Response:
        form = await form_data(request)
        errors: dict[str, str] = {}
        for key, data in answers_from_form(form).items():
            try:
                await services.answer_save(
                    organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id, user_id=current_user(request).id, data=data
                )
            except ValidationFailed as exc:
                errors.update({f"{field}__{key}": message for field, message in exc.errors.items()})
        if errors:
            return await self._theme_page(request, membership, diagnosis_id, theme_key, status_code=400, errors=errors)
        target = form.get("go", "")
        if target == "resultats":
            return see_other(f"/o/{slug}/diagnostic")
        if target:
            return see_other(f"/o/{slug}/diagnostic/{diagnosis_id}/theme/{target}")
        return see_other(f"/o/{slug}/diagnostic/{diagnosis_id}/theme/{theme_key}")

    @post("/{diagnosis_id:uuid}/reponse", guards=[org_guard("contributor")])
    async def save_answer(
        self, request: HTMXRequest, slug: FromPath[str], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]
    ) -> Template:
        """htmx: save one practice's fields as they change; returns a status fragment."""
        form = await form_data(request)
        answers = answers_from_form(form)
        errors = {}
        for data in answers.values():
            try:
                await services.answer_save(
                    organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id, user_id=current_user(request).id, data=data
                )
            except ValidationFailed as exc:
                errors.update(exc.errors)
        return page("diagnosis/_saved.html", status_code=400 if errors else 200, errors=errors, saved=bool(answers) and not errors)

    @post("/{diagnosis_id:uuid}/cloturer", guards=[org_guard("admin")])
    async def close(self, slug: FromPath[str], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        await services.diagnosis_close(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        return see_other(f"/o/{slug}/diagnostic/{diagnosis_id}/resultats")

    @post("/{diagnosis_id:uuid}/rouvrir", guards=[org_guard("admin")])
    async def reopen(self, slug: FromPath[str], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        await services.diagnosis_reopen(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        return see_other(f"/o/{slug}/diagnostic")

    @get("/{diagnosis_id:uuid}/resultats")
    async def results(self, slug: FromPath[str], diagnosis_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        results = await queries.diagnosis_results(organisation_id=membership.organisation_id, diagnosis_id=diagnosis_id)
        return page(
            "diagnosis/results.html",
            membership=membership,
            section="diagnostic",
            r=results,
            radar=radar_svg(results),
            previous_by_theme={t["theme_key"]: t for t in (results.previous or {}).get("themes", [])},
            is_admin=membership.role == "admin",
        )
