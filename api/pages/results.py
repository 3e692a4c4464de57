"""Results pages: self-view against stakeholder perception, priorities, materiality, exports."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from analytics.charts import DistributionRow, GapItem, MaterialityPoint, RadarAxis, RadarSeries, distribution_bars, gap_bars, materiality_matrix, radar_chart
from api.auth import org_guard
from api.errors import NotFound
from api.web import page, see_other
from consultations import exports, queries
from consultations.results import CampaignResults, campaign_results, priority_mark
from consultations.services import STATUSES
from organisations.queries import OrgMembership
from organisations.services import role_at_least

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def charts(results: CampaignResults) -> dict[str, str | None]:
    """SVG charts, each drawn from the published figures only (a None value is drawn as « masqué »)."""
    n = results.campaign["threshold"]
    out: dict[str, str | None] = {"radar": None}
    if len(results.themes) >= 3:
        out["radar"] = radar_chart(
            [RadarAxis(t["theme_key"], t["title"]) for t in results.themes],
            [
                RadarSeries("Auto-diagnostic", {t["theme_key"]: t["self_score"] for t in results.themes}),
                RadarSeries("Parties prenantes", {t["theme_key"]: t["score"] for t in results.themes}, dashed=True),
            ],
            title="Score par thème : vous et vos parties prenantes", min_responses=n,
        )
    out["gaps"] = gap_bars(
        [GapItem(p["practice_key"], p["label"], p["self_mean"], p["mean"], p["theme_title"]) for p in results.practices],
        title="Écart par pratique (parties prenantes − auto-diagnostic)", min_responses=n,
    )
    out["materiality"] = materiality_matrix(
        [MaterialityPoint(m["practice_key"], m["mark"], m["importance_org"], m["importance_stakeholders"], m["perceived_level"]) for m in results.materiality],
        title="Matrice de matérialité",
        desc="Importance pour l'organisation et pour les parties prenantes ; couleur : niveau perçu. Chaque point porte le repère de la pratique (thème.numéro), détaillé dans le tableau.",
        min_responses=n,
    )
    out["distribution"] = distribution_bars(
        [DistributionRow(p["practice_key"], p["label"], p["distribution"], None) for p in results.practices],
        title="Répartition des réponses des parties prenantes", min_responses=n,
    )
    return out


class ResultsPages(Controller):
    path = "/o/{slug:str}/resultats"
    include_in_schema = False
    guards = [org_guard("reader")]

    @get("/")
    async def index(self, slug: FromPath[str], membership: NamedDependency[OrgMembership]) -> Template:
        campaigns = await queries.campaigns_list(organisation_id=membership.organisation_id)
        return page("results/index.html", membership=membership, section="resultats", campaigns=campaigns, statuses=STATUSES)

    @get("/{campaign_id:uuid}")
    async def campaign(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> Template:
        results = await campaign_results(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        return page(
            "results/campaign.html", membership=membership, section="resultats", r=results,
            charts=charts(results) if results.published else {}, can_edit=role_at_least(membership.role, "contributor"),
        )

    @post("/{campaign_id:uuid}/priorites/{practice_key:str}", guards=[org_guard("contributor")])
    async def mark(self, request: HTMXRequest, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], practice_key: FromPath[str], membership: NamedDependency[OrgMembership]) -> Response:
        form = await request.form()
        state = form.get("state") or None
        await priority_mark(organisation_id=membership.organisation_id, campaign_id=campaign_id, practice_key=practice_key, state=state)
        return see_other(f"/o/{slug}/resultats/{campaign_id}#priorites")

    @get("/{campaign_id:uuid}/export/{fmt:str}")
    async def export(self, slug: FromPath[str], campaign_id: FromPath[uuid.UUID], fmt: FromPath[str], membership: NamedDependency[OrgMembership], vue: FromQuery[str] = "pratiques") -> Response:
        return await export_response(membership, campaign_id, fmt, vue)


async def export_response(membership: OrgMembership, campaign_id: uuid.UUID, fmt: str, view: str) -> Response:
    results = await campaign_results(organisation_id=membership.organisation_id, campaign_id=campaign_id)
    if not results.published:
        raise NotFound("Les résultats seront disponibles à la clôture de la consultation.")
    if fmt not in MEDIA or view not in exports.VIEWS:
        raise NotFound("Format ou vue inconnus (csv, xlsx, parquet ; pratiques, groupes, themes, priorites, commentaires).")
    if fmt == "csv":
        body = exports.to_csv(results, view)
    elif fmt == "xlsx":
        body = exports.to_xlsx(results)
    else:
        body = exports.to_parquet(results, view)
    name = f"resultats-{view if fmt != 'xlsx' else 'consultation'}.{fmt}"
    return Response(body, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})
