"""JSON API: the action plan, reviews, the "Votre démarche" dashboard, the next cycle and the AG reports."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.htmx import HTMXRequest

from api.auth import current_user, org_guard
from api.settings import get_settings
from organisations.queries import OrgMembership
from plans import exports, queries, reports, services
from plans.schemas import (
    ActionIn, ActionOut, DebateIn, DebateOut, DemarcheIn, DemarcheOut, FromPriorityIn, IndicatorOut, NextCycleOut, RemindOut,
    ReportGroupOut, ReportOut, ReviewIn, ReviewItemOut, ReviewOut, ReviewValueOut, StepOut, TimelineEventOut,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(content: bytes, *, filename: str, media_type: str) -> Response:
    return Response(
        content=content, media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def action_url(slug: str, action_id: uuid.UUID) -> str:
    return f"{get_settings().base_url}/o/{slug}/plan/actions/{action_id}"


def action_out(a: dict) -> ActionOut:
    return ActionOut(
        id=a["id"], title=a["title"], description=a["description"], practice_keys=a["practice_keys"] or [], theme_key=a["theme_key"],
        finding=a["finding"], objective_1y=a["objective_1y"], objective_3y=a["objective_3y"], owner_id=a["owner"],
        owner_name=a["owner_name"], due_on=a["due_on"], status=a["status"], status_label=a["status_label"],
        abandon_reason=a["abandon_reason"], done_on=a["done_on"], overdue=a["overdue"], groups=a["groups"] or [],
        source_campaign_id=a["source_campaign"], source_diagnosis_id=a["source_diagnosis"],
        indicators=[
            IndicatorOut(id=i["id"], name=i["name"], unit=i["unit"], baseline=i["baseline"], target=i["target"],
                         current_value=i["current_value"], current_on=i["current_on"])
            for i in a["indicators"]
        ],
    )


def action_input(data: ActionIn, existing: dict | None = None) -> services.ActionInput:
    indicators = [
        services.IndicatorInput(
            id=i.id, name=i.name, unit=i.unit, baseline=i.baseline, target=i.target, current_value=i.current_value, current_on=i.current_on,
        )
        for i in data.indicators
    ]
    kept = {i.id for i in data.indicators if i.id}
    # PUT replaces the list: an existing indicator left out is deleted.
    indicators += [services.IndicatorInput(id=i["id"], delete=True) for i in (existing or {}).get("indicators", []) if i["id"] not in kept]
    return services.ActionInput(
        title=data.title, description=data.description, practice_keys=tuple(data.practice_keys), theme_key=data.theme_key,
        finding=data.finding, objective_1y=data.objective_1y, objective_3y=data.objective_3y, owner_id=data.owner_id, due_on=data.due_on,
        status=data.status, abandon_reason=data.abandon_reason, groups=tuple(data.groups),
        source_campaign_id=data.source_campaign_id, source_diagnosis_id=data.source_diagnosis_id, indicators=tuple(indicators),
    )


def review_out(r: dict) -> ReviewOut:
    return ReviewOut(
        id=r["id"], held_on=r["held_on"], notes=r["notes"],
        items=[
            ReviewItemOut(action_id=i["action"], title=i["title"], status_before=i["status_before"], status_after=i["status_after"],
                          reason=i["reason"], note=i["note"],
                          values=[ReviewValueOut(name=v["name"], unit=v["unit"], value=v["value"]) for v in i["values"]])
            for i in r.get("items", [])
        ],
    )


def debate_out(cycle: dict) -> DebateOut:
    return DebateOut(
        year=cycle["year"], ag_date=cycle["ag_date"], ag_attendance=cycle["ag_attendance"], ag_members=cycle["ag_members"],
        ag_debate=cycle["ag_debate"], ag_decisions=cycle["ag_decisions"],
    )


async def demarche_out(membership: OrgMembership) -> DemarcheOut:
    d = await queries.demarche(organisation_id=membership.organisation_id, slug=membership.slug)
    return DemarcheOut(
        year=d.year, pilot_id=d.cycle["pilot"], pilot_name=d.pilot_name,
        steps=[StepOut(key=s.key, label=s.label, done=s.done, how=s.how, detail=s.detail, href=s.href, in_progress=s.in_progress) for s in d.steps],
        next_step=d.next_step.key if d.next_step else None, done=d.done_count, total=len(d.steps),
        review_months=d.review.months, last_review_on=d.review.last_review_on, next_review_due_on=d.review.next_due_on,
        review_late=d.review.late, overdue_actions=d.overdue_actions,
        employees_informed_on=d.cycle["employees_informed_on"], ag_date=d.cycle["ag_date"],
    )


class PlanApi(Controller):
    path = "/api/v1/organisations/{org_id:uuid}"
    tags = ["Plan d'action"]
    guards = [org_guard("reader")]

    # --- Actions -----------------------------------------------------------------------------

    @get("/actions")
    async def list_actions(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], status: FromQuery[str | None] = None) -> list[ActionOut]:
        return [action_out(a) for a in await queries.actions_list(organisation_id=membership.organisation_id, status=status)]

    @post("/actions", guards=[org_guard("contributor")], status_code=201)
    async def create_action(self, request: HTMXRequest, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[ActionIn]) -> ActionOut:
        action_id = await services.action_create(organisation_id=membership.organisation_id, user_id=current_user(request).id, data=action_input(data))
        return action_out(await queries.action_get(organisation_id=membership.organisation_id, action_id=action_id))

    @post("/actions/from-priority", guards=[org_guard("contributor")], status_code=201)
    async def create_from_priority(
        self, request: HTMXRequest, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[FromPriorityIn]
    ) -> ActionOut:
        prefill = await queries.priority_prefill(organisation_id=membership.organisation_id, campaign_id=data.campaign_id, practice_key=data.practice_key)
        action_id = await services.action_create(
            organisation_id=membership.organisation_id, user_id=current_user(request).id,
            data=services.ActionInput(
                title=data.title or prefill["practice_label"][:200], practice_keys=tuple(prefill["practice_keys"]), theme_key=prefill["theme_key"],
                finding=prefill["finding"], owner_id=data.owner_id, due_on=data.due_on, objective_1y=data.objective_1y,
                objective_3y=data.objective_3y, source_campaign_id=data.campaign_id,
            ),
        )
        return action_out(await queries.action_get(organisation_id=membership.organisation_id, action_id=action_id))

    @get("/actions/export.csv")
    async def export_csv(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        actions = await queries.actions_list(organisation_id=membership.organisation_id)
        return download(exports.plan_csv(actions), filename=exports.export_filename(membership.slug, "csv"), media_type="text/csv; charset=utf-8")

    @get("/actions/export.xlsx")
    async def export_xlsx(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Response:
        actions = await queries.actions_list(organisation_id=membership.organisation_id)
        return download(exports.plan_xlsx(actions), filename=exports.export_filename(membership.slug, "xlsx"), media_type=XLSX)

    @get("/actions/{action_id:uuid}")
    async def get_action(self, org_id: FromPath[uuid.UUID], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> ActionOut:
        return action_out(await queries.action_get(organisation_id=membership.organisation_id, action_id=action_id))

    @put("/actions/{action_id:uuid}", guards=[org_guard("contributor")])
    async def update_action(
        self, org_id: FromPath[uuid.UUID], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[ActionIn]
    ) -> ActionOut:
        existing = await queries.action_get(organisation_id=membership.organisation_id, action_id=action_id)
        await services.action_update(organisation_id=membership.organisation_id, action_id=action_id, data=action_input(data, existing))
        return action_out(await queries.action_get(organisation_id=membership.organisation_id, action_id=action_id))

    @delete("/actions/{action_id:uuid}", guards=[org_guard("contributor")], status_code=204)
    async def delete_action(self, org_id: FromPath[uuid.UUID], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> None:
        await services.action_delete(organisation_id=membership.organisation_id, action_id=action_id)

    @get("/actions/{action_id:uuid}/timeline")
    async def timeline(self, org_id: FromPath[uuid.UUID], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[TimelineEventOut]:
        events = await queries.action_timeline(organisation_id=membership.organisation_id, action_id=action_id)
        return [
            TimelineEventOut(on=e["on"], kind=e["kind"], text=e["text"], note=e.get("note", ""), reason=e.get("reason", ""),
                             value=e.get("value"), unit=e.get("unit", ""), review_id=e.get("review_id"))
            for e in events
        ]

    @post("/actions/{action_id:uuid}/remind", guards=[org_guard("contributor")], status_code=202)
    async def remind(self, org_id: FromPath[uuid.UUID], action_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> RemindOut:
        to = await services.action_remind(
            organisation_id=membership.organisation_id, action_id=action_id, action_url=action_url(membership.slug, action_id)
        )
        return RemindOut(queued_to=to)

    # --- Reviews ------------------------------------------------------------------------------

    @get("/reviews")
    async def list_reviews(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[ReviewOut]:
        return [review_out(r) for r in await queries.reviews_list(organisation_id=membership.organisation_id)]

    @post("/reviews", guards=[org_guard("contributor")], status_code=201)
    async def create_review(self, request: HTMXRequest, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[ReviewIn]) -> ReviewOut:
        review_id = await services.review_record(
            organisation_id=membership.organisation_id, user_id=current_user(request).id,
            data=services.ReviewInput(
                held_on=data.held_on, notes=data.notes,
                items=tuple(
                    services.ReviewItemInput(action_id=i.action_id, status=i.status, reason=i.reason, note=i.note, values=dict(i.values))
                    for i in data.items
                ),
            ),
        )
        return review_out(await queries.review_get(organisation_id=membership.organisation_id, review_id=review_id))

    @get("/reviews/{review_id:uuid}")
    async def get_review(self, org_id: FromPath[uuid.UUID], review_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> ReviewOut:
        return review_out(await queries.review_get(organisation_id=membership.organisation_id, review_id=review_id))

    @delete("/reviews/{review_id:uuid}", guards=[org_guard("admin")], status_code=204)
    async def delete_review(self, org_id: FromPath[uuid.UUID], review_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> None:
        await services.review_delete(organisation_id=membership.organisation_id, review_id=review_id)

    # --- Votre démarche and the next cycle -------------------------------------------------------

    @get("/demarche")
    async def get_demarche(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> DemarcheOut:
        return await demarche_out(membership)

    @patch("/demarche", guards=[org_guard("admin")])
    async def update_demarche(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership], data: JSONBody[DemarcheIn]) -> DemarcheOut:
        given = {
            name: getattr(data, name)
            for name in ("pilot_id", "employees_informed_on", "ag_date", "review_months")
            if getattr(data, name) is not msgspec.UNSET
        }
        await services.demarche_update(organisation_id=membership.organisation_id, data=services.DemarcheInput(**given))
        return await demarche_out(membership)

    @post("/demarche/next-cycle", guards=[org_guard("admin")], status_code=201)
    async def next_cycle(self, request: HTMXRequest, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> NextCycleOut:
        result = await services.next_cycle_prepare(organisation_id=membership.organisation_id, user_id=current_user(request).id)
        return NextCycleOut(year=result.year, diagnosis_id=result.diagnosis_id, campaign_id=result.campaign_id, notes=list(result.notes))

    # --- Reports --------------------------------------------------------------------------------

    @get("/reports")
    async def list_reports(self, org_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> list[DebateOut]:
        return [debate_out(c) for c in await services.cycles_list(organisation_id=membership.organisation_id)]

    @get("/reports/{year:int}")
    async def report(self, org_id: FromPath[uuid.UUID], year: FromPath[int], membership: NamedDependency[OrgMembership]) -> ReportOut:
        services.check_year(year)
        r = await reports.report_data(organisation_id=membership.organisation_id, year=year)
        c = r.consultation
        base = f"/api/v1/organisations/{membership.organisation_id}/reports/{r.year}"
        return ReportOut(
            year=r.year, title=r.title, organisation=r.organisation["name"],
            diagnosis_title=r.diagnosis["title"] if r.diagnosis else None,
            consultation_title=c["title"] if c else None, anonymity_threshold=c["threshold"] if c else None,
            respondents=c["respondents"] if c else None,
            groups=[ReportGroupOut(name=g["name"], suppressed=g["suppressed"], respondents=g["n"]) for g in (c["groups"] if c else [])],
            actions=len(r.actions), actions_done=sum(1 for a in r.actions if a["status"] == "realisee"),
            debate=debate_out(r.cycle), pdf=f"{base}/report.pdf", employees_pdf=f"{base}/employees.pdf",
        )

    @get("/reports/{year:int}/report.pdf")
    async def report_pdf(self, org_id: FromPath[uuid.UUID], year: FromPath[int], membership: NamedDependency[OrgMembership]) -> Response:
        services.check_year(year)
        r = await reports.report_data(organisation_id=membership.organisation_id, year=year)
        return download(await reports.render_pdf(r), filename=reports.report_filename(r, membership.slug, "pdf"), media_type="application/pdf")

    @get("/reports/{year:int}/employees.pdf")
    async def employees_pdf(self, org_id: FromPath[uuid.UUID], year: FromPath[int], membership: NamedDependency[OrgMembership]) -> Response:
        services.check_year(year)
        r = await reports.report_data(organisation_id=membership.organisation_id, year=year, variant="salaries")
        return download(await reports.render_pdf(r), filename=reports.report_filename(r, membership.slug, "pdf"), media_type="application/pdf")

    @put("/reports/{year:int}/debate", guards=[org_guard("admin")])
    async def save_debate(self, org_id: FromPath[uuid.UUID], year: FromPath[int], membership: NamedDependency[OrgMembership], data: JSONBody[DebateIn]) -> DebateOut:
        await services.debate_save(
            organisation_id=membership.organisation_id, year=year,
            data=services.DebateInput(ag_date=data.ag_date, ag_attendance=data.ag_attendance, ag_members=data.ag_members,
                                      ag_debate=data.ag_debate, ag_decisions=data.ag_decisions),
        )
        return debate_out(await services.cycle_get(organisation_id=membership.organisation_id, year=year))
