"""JSON API: a campaign's published results (suppressed figures are null), exports, priority marks."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import org_guard
from api.pages.results import export_response
from consultations.results import campaign_results, priority_mark
from consultations.schemas import (
    CampaignResultsOut, CellOut, CommentOut, GroupResultOut, PracticeResultOut, PriorityMarkIn, PriorityOut, ThemeResultOut,
)
from organisations.queries import OrgMembership


def _pick(struct, row: dict):
    return struct(**{k: row.get(k) for k in struct.__struct_fields__})


class ResultsApi(Controller):
    path = "/api/v1/organisations/{org_id:uuid}/campaigns/{campaign_id:uuid}"
    tags = ["Résultats"]
    guards = [org_guard("reader")]

    @get("/results")
    async def results(self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], membership: NamedDependency[OrgMembership]) -> CampaignResultsOut:
        r = await campaign_results(organisation_id=membership.organisation_id, campaign_id=campaign_id)
        if not r.published:
            return CampaignResultsOut(campaign_id=campaign_id, published=False, threshold=r.campaign["threshold"])
        return CampaignResultsOut(
            campaign_id=campaign_id, published=True, threshold=r.campaign["threshold"], respondents=r.respondents,
            everything_suppressed=r.everything_suppressed,
            groups=[_pick(GroupResultOut, g) for g in r.groups],
            practices=[_pick(PracticeResultOut, p) for p in r.practices],
            cells=[_pick(CellOut, c) for c in r.cells],
            themes=[_pick(ThemeResultOut, t) for t in r.themes],
            theme_groups=r.theme_groups,
            priorities=[_pick(PriorityOut, p) for p in r.priorities],
            materiality=r.materiality,
            comments=[_pick(CommentOut, c) for c in r.comments],
            trends=r.trends,
        )

    @get("/results/export/{fmt:str}")
    async def export(
        self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], fmt: FromPath[str], membership: NamedDependency[OrgMembership],
        view: FromQuery[str] = "pratiques",
    ) -> Response:
        return await export_response(membership, campaign_id, fmt, view)

    @put("/priorities/{practice_key:str}", guards=[org_guard("contributor")])
    async def mark(
        self, org_id: FromPath[uuid.UUID], campaign_id: FromPath[uuid.UUID], practice_key: FromPath[str], membership: NamedDependency[OrgMembership],
        data: JSONBody[PriorityMarkIn],
    ) -> dict:
        await priority_mark(organisation_id=membership.organisation_id, campaign_id=campaign_id, practice_key=practice_key, state=data.state)
        return {"practice_key": practice_key, "state": data.state}
