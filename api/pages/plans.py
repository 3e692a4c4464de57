"""Action plan pages: actions, priorities, reviews, exports, evolution, the AG report, the logo; "Votre démarche"."""

from __future__ import annotations

import re
import uuid

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from api.auth import current_user, org_guard
from api.errors import Conflict, NotFound, ValidationFailed
from api.v1.plans import XLSX, action_url, download
from api.web import form_data, page, see_other
from organisations import stakeholder_queries
from organisations.queries import OrgMembership
from organisations.services import role_at_least
from plans import exports, queries, reports, services
from plans.services import STATUSES
from surveys.queries import custom_practices
from surveys.referentiel import get_referentiel

LOGO_BODY_LIMIT = services.LOGO_MAX_BYTES + 256 * 1024
BLANK_INDICATOR_ROWS = 2
_INDICATOR_FIELD = re.compile(r"ind_(name|unit|baseline|target|current_value|current_on|id|delete)__(\d+)$")


def action_input_from_form(form) -> services.ActionInput:
    rows: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        match = _INDICATOR_FIELD.match(name)
        if match and isinstance(value, str):
            rows.setdefault(int(match.group(2)), {})[match.group(1)] = value
    indicators = tuple(
        services.IndicatorInput(
            id=row.get("id") or None, name=row.get("name", ""), unit=row.get("unit", ""), baseline=row.get("baseline"),
            target=row.get("target"), current_value=row.get("current_value"), current_on=row.get("current_on"),
            delete=row.get("delete") == "on",
        )
        for _, row in sorted(rows.items())
    )
    return services.ActionInput(
        title=form.get("title", ""), description=form.get("description", ""),
        practice_keys=tuple(form.getall("practice_keys", [])), theme_key=form.get("theme_key", ""), finding=form.get("finding", ""),
        objective_1y=form.get("objective_1y", ""), objective_3y=form.get("objective_3y", ""), owner_id=form.get("owner_id") or None,
        due_on=form.get("due_on") or None, status=form.get("status", "a_lancer"), abandon_reason=form.get("abandon_reason", ""),
        groups=tuple(form.getall("groups", [])), source_campaign_id=form.get("source_campaign_id") or None,
        source_diagnosis_id=form.get("source_diagnosis_id") or None, indicators=indicators,
    )


def form_from_request(form) -> dict:
    data = {key: value for key, value in form.items() if isinstance(value, str)}
    data["practice_keys"] = form.getall("practice_keys", [])
    data["groups"] = form.getall("groups", [])
    rows: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        match = _INDICATOR_FIELD.match(name)
        if match and isinstance(value, str):
            rows.setdefault(int(match.group(2)), {})[match.group(1)] = value
    data["indicators"] = [rows[i] for i in sorted(rows)]
    return data


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return ("%g" % value).replace(".", ",")


def form_from_action(a: dict) -> dict:
    return {
        "title": a["title"], "description": a["description"], "practice_keys": a["practice_keys"] or [], "theme_key": a["theme_key"],
        "finding": a["finding"], "objective_1y": a["objective_1y"], "objective_3y": a["objective_3y"],
        "owner_id": str(a["owner"]) if a["owner"] else "", "due_on": a["due_on"].isoformat() if a["due_on"] else "",
        "status": a["status"], "abandon_reason": a["abandon_reason"], "groups": a["groups"] or [],
        "source_campaign_id": str(a["source_campaign"]) if a["source_campaign"] else "",
        "source_diagnosis_id": str(a["source_diagnosis"]) if a["source_diagnosis"] else "",
        "indicators": [
            {"id": str(i["id"]), "name": i["name"], "unit": i["unit"], "baseline": _number(i["baseline"]), "target": _number(i["target"]),
             "current_value": _number(i["current_value"]), "current_on": i["current_on"].isoformat() if i["current_on"] else ""}
            for i in a["indicators"]
        ],
    }


async def practice_choices(organisation_id: uuid.UUID) -> list[dict]:
    """Practices to pick from, grouped by theme: the complete référentiel and the organisation's own."""
    referentiel = get_referentiel("complet")
    customs = await custom_practices(organisation_id=organisation_id)
    return [
        {
            "key": t.key, "title": f"{t.number}. {t.title.fr}",
            "practices": [{"key": p.key, "label": p.org_statement.fr} for p in referentiel.practices_for_theme(t.key)]
            + [{"key": c["key"], "label": c["org_statement"]} for c in customs if c["theme"] == t.key],
        }
        for t in referentiel.themes
    ]


def _can_edit(membership: OrgMembership) -> bool:
    return role_at_least(membership.role, "contributor")


class PlanPages(Controller):
    path = "/o/{slug:str}/plan"
    include_in_schema = False
    guards = [org_guard("reader")]

    def _page(self, template: str, membership: OrgMembership, status_code: int = 200, **context) -> Template:
        return page(
            template, status_code=status_code, membership=membership, section="plan", base=f"/o/{membership.slug}/plan",
            can_edit=_can_edit(membership), is_admin=membership.role == "admin", statuses=STATUSES, **context,
        )

    # --- The plan --------------------------------------------------------------------------------

    @get("/")
    async def index(self, slug: FromPath[str], membership: NamedDependency[OrgMembership], statut: FromQuery[str | None] = None) -> Template:
        actions = await queries.actions_list(organisation_id=membership.organisation_id, status=statut)
        return self._page(
            "plans/index.html", membership, subsection="plan", actions=actions, status_filter=statut if statut in STATUSES else "",
            schedule=await queries.review_schedule(organisation_id=membership.organisation_id),
            overdue=sum(1 for a in actions if a["overdue"]),
        )

    @get("/priorites")
    async def priorities(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        found = await queries.plan_priorities(organisation_id=membership.organisation_id)
        diagnosis = await queries.latest_closed_diagnosis(organisation_id=membership.organisation_id)
        progress_areas = []
        if found["campaign"] is None and diagnosis is not None:
            from surveys.queries import diagnosis_results

            progress_areas = (await diagnosis_results(organisation_id=membership.organisation_id, diagnosis_id=diagnosis["id"])).progress_areas[:10]
        return self._page(
            "plans/priorities.html", membership, subsection="priorites", campaign=found["campaign"], priorities=found["priorities"],
            diagnosis=diagnosis, progress_areas=progress_areas,
        )

    async def _action_form(self, membership: OrgMembership, form: dict, *, action_id: uuid.UUID | None = None, status_code: int = 200,
                           errors: dict | None = None, practice_label: str = "") -> Template:
        groups = await stakeholder_queries.groups_list(organisation_id=membership.organisation_id)
        group_names = [g.name for g in groups]
        group_names += [n for n in form.get("groups", []) if n not in group_names]
        indicators = list(form.get("indicators") or [])
        indicators += [{} for _ in range(BLANK_INDICATOR_ROWS)]
        return self._page(
            "plans/action_form.html", membership, status_code=status_code, subsection="plan", form=form, errors=errors or {},
            action_id=action_id, members=await queries.members(organisation_id=membership.organisation_id), group_names=group_names,
            themes=get_referentiel("complet").themes, practice_groups=await practice_choices(membership.organisation_id),
            indicators=indicators, practice_label=practice_label,
        )

    @get("/actions/nouvelle", guards=[org_guard("contributor")])
    async def new_action(
        self, slug: FromPath[str], membership: NamedDependency[OrgMembership],
        consultation: FromQuery[uuid.UUID | None] = None, pratique: FromQuery[str | None] = None,
    ) -> Template:
        form: dict = {"status": "a_lancer", "practice_keys": [], "groups": [], "indicators": []}
        label = ""
        if consultation and pratique:
            prefill = await queries.priority_prefill(organisation_id=membership.organisation_id, campaign_id=consultation, practice_key=pratique)
            label = prefill.pop("practice_label")
            form.update(prefill)
        return await self._action_form(membership, form, practice_label=label)

    @post("/actions/nouvelle", guards=[org_guard("contributor")])
    async def create_action(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        try:
            action_id = await services.action_create(
                organisation_id=membership.organisation_id, user_id=current_user(request).id, data=action_input_from_form(form)
            )
        except ValidationFailed as exc:
            return await self._action_form(membership, form_from_request(form), status_code=400, errors=exc.errors)
        return see_other(f"/o/{slug}/plan/actions/{action_id}")

    @get("/actions/{action_id:uuid}")
    async def action(self, slug: FromPath[str], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership],
                     rappel: FromQuery[str | None] = None) -> Template:
        return await self._action_page(membership, action_id, notice="Rappel envoyé au responsable de l'action." if rappel == "envoye" else "")

    async def _action_page(self, membership: OrgMembership, action_id: uuid.UUID, status_code: int = 200, notice: str = "", problem: str = "") -> Template:
        action = await queries.action_get(organisation_id=membership.organisation_id, action_id=action_id)
        timeline = await queries.action_timeline(organisation_id=membership.organisation_id, action_id=action_id)
        return self._page("plans/action.html", membership, status_code=status_code, subsection="plan", a=action, timeline=timeline,
                          notice=notice, problem=problem)

    @get("/actions/{action_id:uuid}/modifier", guards=[org_guard("contributor")])
    async def edit_action(self, slug: FromPath[str], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        action = await queries.action_get(organisation_id=membership.organisation_id, action_id=action_id)
        return await self._action_form(membership, form_from_action(action), action_id=action_id)

    @post("/actions/{action_id:uuid}/modifier", guards=[org_guard("contributor")])
    async def update_action(self, request: HTMXRequest, slug: FromPath[str], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        try:
            await services.action_update(organisation_id=membership.organisation_id, action_id=action_id, data=action_input_from_form(form))
        except ValidationFailed as exc:
            return await self._action_form(membership, form_from_request(form), action_id=action_id, status_code=400, errors=exc.errors)
        return see_other(f"/o/{slug}/plan/actions/{action_id}")

    @post("/actions/{action_id:uuid}/supprimer", guards=[org_guard("contributor")])
    async def delete_action(self, slug: FromPath[str], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        await services.action_delete(organisation_id=membership.organisation_id, action_id=action_id)
        return see_other(f"/o/{slug}/plan/")

    @post("/actions/{action_id:uuid}/rappel", guards=[org_guard("contributor")])
    async def remind(self, slug: FromPath[str], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        try:
            await services.action_remind(organisation_id=membership.organisation_id, action_id=action_id, action_url=action_url(slug, action_id))
        except Conflict as exc:
            return await self._action_page(membership, action_id, status_code=409, problem=exc.message)
        return see_other(f"/o/{slug}/plan/actions/{action_id}?rappel=envoye")

    # --- Reviews ----------------------------------------------------------------------------------

    @get("/revues")
    async def reviews(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return self._page(
            "plans/reviews.html", membership, subsection="revues",
            reviews=await queries.reviews_list(organisation_id=membership.organisation_id),
            schedule=await queries.review_schedule(organisation_id=membership.organisation_id),
        )

    async def _review_form(self, membership: OrgMembership, form: dict, status_code: int = 200, errors: dict | None = None) -> Template:
        actions = [a for a in await queries.actions_list(organisation_id=membership.organisation_id) if a["status"] != "abandonnee"]
        return self._page("plans/review_form.html", membership, status_code=status_code, subsection="revues", actions=actions, form=form,
                          errors=errors or {}, today=services.today())

    @get("/revues/nouvelle", guards=[org_guard("contributor")])
    async def new_review(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return await self._review_form(membership, {"held_on": services.today().isoformat()})

    @post("/revues/nouvelle", guards=[org_guard("contributor")])
    async def create_review(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await form_data(request)
        items: dict[str, dict] = {}
        for name, value in form.items():
            field_name, sep, key = name.partition("__")
            if not sep:
                continue
            if field_name in ("status", "reason", "note"):
                items.setdefault(key, {"values": {}})[field_name] = value
            elif field_name == "value":
                action_key, _, indicator_key = key.partition("__")
                items.setdefault(action_key, {"values": {}})["values"][indicator_key] = value
        data = services.ReviewInput(
            held_on=form.get("held_on") or None, notes=form.get("notes", ""),
            items=tuple(
                services.ReviewItemInput(action_id=key, status=item.get("status"), reason=item.get("reason", ""), note=item.get("note", ""),
                                         values=item["values"])
                for key, item in items.items()
            ),
        )
        try:
            review_id = await services.review_record(organisation_id=membership.organisation_id, user_id=current_user(request).id, data=data)
        except ValidationFailed as exc:
            return await self._review_form(membership, form, status_code=400, errors=exc.errors)
        return see_other(f"/o/{slug}/plan/revues/{review_id}")

    @get("/revues/{review_id:uuid}")
    async def review(self, slug: FromPath[str], review_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        return self._page("plans/review.html", membership, subsection="revues",
                          review=await queries.review_get(organisation_id=membership.organisation_id, review_id=review_id))

    # --- Exports and evolution ------------------------------------------------------------------------

    @get("/export.csv")
    async def export_csv(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        actions = await queries.actions_list(organisation_id=membership.organisation_id)
        return download(exports.plan_csv(actions), filename=exports.export_filename(slug, "csv"), media_type="text/csv; charset=utf-8")

    @get("/export.xlsx")
    async def export_xlsx(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        actions = await queries.actions_list(organisation_id=membership.organisation_id)
        return download(exports.plan_xlsx(actions), filename=exports.export_filename(slug, "xlsx"), media_type=XLSX)

    @get("/evolution")
    async def evolution(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return self._page("plans/evolution.html", membership, subsection="evolution",
                          evo=await queries.evolution(organisation_id=membership.organisation_id))

    # --- Reports ----------------------------------------------------------------------------------------

    @staticmethod
    def _year(annee: int | None) -> int | None:
        if annee is not None:
            services.check_year(annee)
        return annee

    @get("/rapport")
    async def report(self, slug: FromPath[str], membership: NamedDependency[OrgMembership], annee: FromQuery[int | None] = None) -> Response:
        data = await reports.report_data(organisation_id=membership.organisation_id, year=self._year(annee))
        return Response(reports.render_html(data, slug=slug), media_type="text/html; charset=utf-8")

    @get("/rapport.pdf")
    async def report_pdf(self, slug: FromPath[str], membership: NamedDependency[OrgMembership], annee: FromQuery[int | None] = None) -> Response:
        data = await reports.report_data(organisation_id=membership.organisation_id, year=self._year(annee))
        return download(await reports.render_pdf(data), filename=reports.report_filename(data, slug, "pdf"), media_type="application/pdf")

    @get("/rapport-salaries")
    async def employees_report(self, slug: FromPath[str], membership: NamedDependency[OrgMembership], annee: FromQuery[int | None] = None) -> Response:
        data = await reports.report_data(organisation_id=membership.organisation_id, year=self._year(annee), variant="salaries")
        return Response(reports.render_html(data, slug=slug), media_type="text/html; charset=utf-8")

    @get("/rapport-salaries.pdf")
    async def employees_report_pdf(self, slug: FromPath[str], membership: NamedDependency[OrgMembership], annee: FromQuery[int | None] = None) -> Response:
        data = await reports.report_data(organisation_id=membership.organisation_id, year=self._year(annee), variant="salaries")
        return download(await reports.render_pdf(data), filename=reports.report_filename(data, slug, "pdf"), media_type="application/pdf")

    async def _debate_page(self, membership: OrgMembership, year: int, form: dict | None = None, status_code: int = 200,
                           errors: dict | None = None, saved: bool = False) -> Template:
        cycle = await services.cycle_get(organisation_id=membership.organisation_id, year=year)
        if form is None:
            form = {
                "ag_date": cycle["ag_date"].isoformat() if cycle["ag_date"] else "",
                "ag_attendance": "" if cycle["ag_attendance"] is None else str(cycle["ag_attendance"]),
                "ag_members": "" if cycle["ag_members"] is None else str(cycle["ag_members"]),
                "ag_debate": cycle["ag_debate"], "ag_decisions": cycle["ag_decisions"],
            }
        return self._page("plans/debate.html", membership, status_code=status_code, subsection="rapport", year=cycle["year"], form=form,
                          errors=errors or {}, saved=saved)

    @get("/rapport/debat", guards=[org_guard("admin")])
    async def debate(self, slug: FromPath[str], membership: NamedDependency[OrgMembership], annee: FromQuery[int | None] = None) -> Template:
        year = self._year(annee) or (await services.cycle_get(organisation_id=membership.organisation_id))["year"]
        return await self._debate_page(membership, year)

    @post("/rapport/debat", guards=[org_guard("admin")])
    async def save_debate(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await form_data(request)
        try:
            year = int(form.get("year", ""))
            services.check_year(year)
        except (ValueError, NotFound):
            raise NotFound("Cycle introuvable.") from None
        try:
            await services.debate_save(
                organisation_id=membership.organisation_id, year=year,
                data=services.DebateInput(ag_date=form.get("ag_date"), ag_attendance=form.get("ag_attendance"), ag_members=form.get("ag_members"),
                                          ag_debate=form.get("ag_debate", ""), ag_decisions=form.get("ag_decisions", "")),
            )
        except ValidationFailed as exc:
            return await self._debate_page(membership, year, form=form, status_code=400, errors=exc.errors)
        return await self._debate_page(membership, year, saved=True)

    # --- The logo ---------------------------------------------------------------------------------------

    async def _logo_page(self, membership: OrgMembership, status_code: int = 200, errors: dict | None = None, notice: str = "") -> Template:
        return self._page(
            "plans/logo.html", membership, status_code=status_code, subsection="rapport", errors=errors or {}, notice=notice,
            logo=await queries.logo_data_uri(organisation_id=membership.organisation_id),
            info=await queries.logo_info(organisation_id=membership.organisation_id),
        )

    @get("/logo", guards=[org_guard("admin")])
    async def logo(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        return await self._logo_page(membership)

    @post("/logo", guards=[org_guard("admin")], request_max_body_size=LOGO_BODY_LIMIT)
    async def upload_logo(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        form = await request.form()
        upload = form.get("logo")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            await services.logo_save(organisation_id=membership.organisation_id, data=content)
        except ValidationFailed as exc:
            return await self._logo_page(membership, status_code=400, errors=exc.errors)
        return await self._logo_page(membership, notice="Logo enregistré : il figure désormais sur vos rapports.")

    @post("/logo/supprimer", guards=[org_guard("admin")])
    async def delete_logo(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        await services.logo_delete(organisation_id=membership.organisation_id)
        return await self._logo_page(membership, notice="Logo supprimé.")


class DemarchePages(Controller):
    path = "/o/{slug:str}/demarche"
    include_in_schema = False
    guards = [org_guard("reader")]

    async def _dashboard(self, membership: OrgMembership, status_code: int = 200, errors: dict | None = None, notice: str = "",
                         form: dict | None = None) -> Template:
        d = await queries.demarche(organisation_id=membership.organisation_id, slug=membership.slug)
        if form is None:
            form = {
                "pilot_id": str(d.cycle["pilot"]) if d.cycle["pilot"] else "",
                "employees_informed_on": d.cycle["employees_informed_on"].isoformat() if d.cycle["employees_informed_on"] else "",
                "ag_date": d.cycle["ag_date"].isoformat() if d.cycle["ag_date"] else "",
                "review_months": str(d.review.months),
            }
        return page(
            "plans/demarche.html", status_code=status_code, membership=membership, section="demarche", d=d, form=form,
            errors=errors or {}, notice=notice, members=await queries.members(organisation_id=membership.organisation_id),
            is_admin=membership.role == "admin", can_edit=_can_edit(membership),
            evo=await queries.evolution(organisation_id=membership.organisation_id),
        )

    @get("/")
    async def dashboard(self, slug: FromPath[str], membership: NamedDependency[OrgMembership], cycle: FromQuery[str | None] = None) -> Template:
        notice = ""
        if cycle:
            notice = f"Le cycle {cycle} est préparé. Vérifiez le nouvel auto-diagnostic et la consultation en brouillon avant de les lancer."
        return await self._dashboard(membership, notice=notice)

    @post("/", guards=[org_guard("admin")])
    async def save(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await form_data(request)
        try:
            year = int(form.get("year", "")) if form.get("year") else None
            if year is not None:
                services.check_year(year)
        except ValueError:
            year = None
        try:
            await services.demarche_update(
                organisation_id=membership.organisation_id,
                data=services.DemarcheInput(
                    year=year, pilot_id=form.get("pilot_id") or None, employees_informed_on=form.get("employees_informed_on") or None,
                    ag_date=form.get("ag_date") or None, review_months=form.get("review_months") or None,
                ),
            )
        except ValidationFailed as exc:
            return await self._dashboard(membership, status_code=400, errors=exc.errors, form=form)
        return see_other(f"/o/{slug}/demarche")

    @post("/cycle-suivant", guards=[org_guard("admin")])
    async def next_cycle(self, request: HTMXRequest, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        try:
            result = await services.next_cycle_prepare(organisation_id=membership.organisation_id, user_id=current_user(request).id)
        except (Conflict, ValidationFailed) as exc:
            errors = exc.errors or {"cycle": exc.message}
            return await self._dashboard(membership, status_code=exc.status_code, errors=errors)
        return see_other(f"/o/{slug}/demarche?cycle={result.year}")
