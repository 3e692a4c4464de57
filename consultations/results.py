"""A campaign's results: the one path from the database to published figures.

Reads the campaign's anonymous responses into Polars, runs the pure analytics
(`analytics/`), and returns only what may be shown. The anonymity threshold is
applied inside analytics (suppression.py), once; every page, API response,
export and chart is built from `CampaignResults`, so they all inherit it.
While a campaign is open nothing about stakeholders is published at all:
comparing two views around one submission can then never isolate it.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import polars as pl

from analytics import compare, materiality, priorities, publish_practice_stats, self_view, theme_stats
from analytics.frames import COMMENTS_SCHEMA, GROUPS_SCHEMA, PRACTICES_SCHEMA, SELF_ANSWERS_SCHEMA
from analytics.suppression import PublishedStats, filter_comments
from analytics.trends import theme_trend
from api.db import engine, read_arrow
from api.errors import NotFound
from consultations import answer_codes
from consultations.services import campaign_practices
from consultations.tables import Campaign, CampaignGroup, PriorityMark
from surveys.queries import self_answers_frame
from surveys.referentiel import get_referentiel
from surveys.tables import Diagnosis


@dataclass
class CampaignResults:
    campaign: dict
    published: bool
    everything_suppressed: bool = False
    respondents: int = 0
    diagnosis: dict | None = None
    groups: list[dict] = field(default_factory=list)
    practices: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    themes: list[dict] = field(default_factory=list)
    theme_groups: list[dict] = field(default_factory=list)
    priorities: list[dict] = field(default_factory=list)
    materiality: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    trends: list[dict] = field(default_factory=list)


# The read path (docs/performance.md): one packed row per response (consultations/answer_codes.py),
# read with ADBC — Arrow columns that Polars adopts without a Python object per value — then
# unpacked into one row per answer by vectorised Polars operations. Comments come from their
# partial index (only the rows that have one). ``{campaign}`` is the campaign id (see _statement).
_SQL = {
    "sqlite": (
        "SELECT id AS response_id, campaign_group AS group_id, answer_codes, importance_codes "
        "FROM response WHERE campaign = {campaign}",
        "SELECT response AS response_id, campaign_group AS group_id, practice_key, comment "
        "FROM response_answer WHERE campaign = {campaign} AND comment <> ''",
    ),
    "postgres": (
        "SELECT id::text AS response_id, campaign_group::text AS group_id, answer_codes, importance_codes "
        "FROM response WHERE campaign = {campaign}",
        "SELECT response::text AS response_id, campaign_group::text AS group_id, practice_key, comment "
        "FROM response_answer WHERE campaign = {campaign} AND comment <> ''",
    ),
}


def _statement(sql: str, campaign_id: uuid.UUID) -> tuple[str, list]:
    """One of the _SQL reads for one campaign. SQLite binds the id as a parameter. On PostgreSQL
    the id is written into the SQL as a uuid literal, because ADBC streams a query without
    parameters through binary COPY but fetches a bound one row by row: 11.6 → 7.7 ms for the
    10 000 packed rows (docs/performance.md). The literal is ``str(uuid.UUID(…))``: 36 characters
    among 0-9, a-f and '-', so nothing else can reach the SQL."""
    campaign = str(uuid.UUID(str(campaign_id)))
    if engine().engine_type == "sqlite":
        return sql.replace("{campaign}", "?"), [campaign]
    return sql.replace("{campaign}", f"'{campaign}'::uuid"), []


def _read_answers(campaign_id: uuid.UUID, practice_keys: list[str]) -> pl.DataFrame:
    """Blocking: the campaign's answers (RESPONSES_SCHEMA, keys Categorical)."""
    [frame] = read_arrow([_statement(_SQL[engine().engine_type][0], campaign_id)])
    packed = _typed(frame, answer_codes.PACKED_SCHEMA)
    if packed.height and (packed.get_column("answer_codes") == "").any():
        packed = _pack_missing(packed, campaign_id, practice_keys)
    return answer_codes.decode(packed, practice_keys)


def _read_comments(campaign_id: uuid.UUID) -> pl.DataFrame:
    """Blocking: the campaign's comments (COMMENTS_SCHEMA)."""
    [frame] = read_arrow([_statement(_SQL[engine().engine_type][1], campaign_id)])
    return _typed(frame, COMMENTS_SCHEMA)


_ANSWER_ROWS = {
    "sqlite": "SELECT response AS response_id, practice_key, answer, level, importance "
    "FROM response_answer WHERE campaign = {campaign}",
    "postgres": "SELECT response::text AS response_id, practice_key, answer, level, importance "
    "FROM response_answer WHERE campaign = {campaign}",
}


def _pack_missing(packed: pl.DataFrame, campaign_id: uuid.UUID, practice_keys: list[str]) -> pl.DataFrame:
    """Responses without codes (written by a process older than the packed columns, e.g. during a
    rolling upgrade, after the migration filled the others) are packed here from their answer rows,
    so their campaign's results never fail; the stored rows are left as they are."""
    [rows] = read_arrow([_statement(_ANSWER_ROWS[engine().engine_type], campaign_id)])
    missing = packed.filter(pl.col("answer_codes") == "").get_column("response_id")
    rows = rows.filter(pl.col("response_id").cast(pl.String).is_in(missing.implode()))
    codes = answer_codes.encode_responses(rows.iter_rows(named=True), practice_keys, missing.to_list())
    filled = pl.DataFrame(
        {"response_id": list(codes), "_a": [c[0] for c in codes.values()], "_i": [c[1] for c in codes.values()]},
        schema={"response_id": pl.String, "_a": pl.String, "_i": pl.String},
    )
    return (
        packed.join(filled, on="response_id", how="left")
        .with_columns(
            answer_codes=pl.coalesce(pl.col("_a"), pl.col("answer_codes")),
            importance_codes=pl.coalesce(pl.col("_i"), pl.col("importance_codes")),
        )
        .select(list(answer_codes.PACKED_SCHEMA))
    )


def _typed(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    return frame.select(pl.col(c).cast(t, strict=True) for c, t in schema.items())


async def responses_frame(campaign_id: uuid.UUID, practice_keys: list[str] | None = None) -> pl.DataFrame:
    """All answers of one campaign as RESPONSES_SCHEMA (read in a worker thread: the event loop stays free)."""
    if practice_keys is None:
        row = await Campaign.select(Campaign.practice_keys).where(Campaign.id == campaign_id).output(load_json=True).first()
        practice_keys = (row or {}).get("practice_keys") or []
    return await asyncio.to_thread(_read_answers, campaign_id, practice_keys)


async def responses_and_comments(campaign_id: uuid.UUID, practice_keys: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The answers and the comments of one campaign, read at the same time in two worker threads
    (each on its own connection: a closed campaign's rows no longer change)."""
    answers, comments = await asyncio.gather(
        asyncio.to_thread(_read_answers, campaign_id, practice_keys), asyncio.to_thread(_read_comments, campaign_id)
    )
    return answers, comments


async def groups_frame(campaign_id: uuid.UUID) -> pl.DataFrame:
    rows = await CampaignGroup.select().where(CampaignGroup.campaign == campaign_id).order_by(CampaignGroup.name)
    return pl.DataFrame(
        {
            "group_id": [str(r["id"]) for r in rows],
            "group_name": [r["name"] for r in rows],
            "category": [r["category"] for r in rows],
            "weight": [float(r["weight"]) for r in rows],
            "open_link": [bool(r["shared_link_nonce"]) for r in rows],
        },
        schema=GROUPS_SCHEMA,
    )


def practices_frame(campaign: dict) -> tuple[pl.DataFrame, dict]:
    referentiel = get_referentiel(campaign["referentiel_key"], campaign["referentiel_version"])
    practices = campaign_practices(campaign)
    info = {
        p.key: {
            "label": p.stakeholder_statement.fr,
            "org_label": p.org_statement.fr,
            "theme_key": p.theme,
            "theme_title": referentiel.theme(p.theme).title.fr,
            "theme_number": referentiel.theme(p.theme).number,
        }
        for p in practices
    }
    frame = pl.DataFrame(
        {
            "practice_key": list(info),
            "theme_key": [v["theme_key"] for v in info.values()],
            "theme_number": [v["theme_number"] for v in info.values()],
            "label": [v["label"] for v in info.values()],
        },
        schema=PRACTICES_SCHEMA,
    )
    return frame, info


async def latest_diagnosis(organisation_id: uuid.UUID) -> dict | None:
    return await Diagnosis.select(Diagnosis.id, Diagnosis.title, Diagnosis.status, Diagnosis.closed_at).where(
        Diagnosis.organisation == organisation_id
    ).order_by(Diagnosis.opened_at, ascending=False).first()


@dataclass(frozen=True)
class StakeholderFigures:
    """What a closed campaign's stakeholders said, as it may be shown: suppression applied."""

    fingerprint: tuple
    published: PublishedStats
    themes_total: pl.DataFrame
    themes_by_group: pl.DataFrame
    comments: pl.DataFrame


# A closed campaign's answers never change again (the last ballots are mixed in at close and
# nothing reopens a campaign), so its published figures are computed once per process and kept,
# most recently used first. The fingerprint covers everything else they depend on (threshold,
# practices, the groups' names, weights and open-link flags); any change recomputes them.
_FIGURES: OrderedDict[uuid.UUID, StakeholderFigures] = OrderedDict()
FIGURES_CACHE_SIZE = 64


def _fingerprint(campaign: dict, groups: pl.DataFrame) -> tuple:
    return (campaign["threshold"], tuple(campaign["practice_keys"] or []), tuple(groups.sort("group_id").rows()))


def _remember(campaign_id: uuid.UUID, figures: StakeholderFigures) -> StakeholderFigures:
    _FIGURES[campaign_id] = figures
    _FIGURES.move_to_end(campaign_id)
    while len(_FIGURES) > FIGURES_CACHE_SIZE:
        _FIGURES.popitem(last=False)
    return figures


def _cached(campaign: dict, groups: pl.DataFrame) -> StakeholderFigures | None:
    found = _FIGURES.get(campaign["id"])
    if found is None or campaign["status"] not in ("closed", "archived") or found.fingerprint != _fingerprint(campaign, groups):
        return None
    _FIGURES.move_to_end(campaign["id"])
    return found


def _analyse(campaign: dict, groups: pl.DataFrame, practices: pl.DataFrame, responses: pl.DataFrame, comments: pl.DataFrame) -> StakeholderFigures:
    threshold = campaign["threshold"]
    published = publish_practice_stats(responses, threshold=threshold, groups=groups)
    return StakeholderFigures(
        fingerprint=_fingerprint(campaign, groups),
        published=published,
        # Pages, API and exports show each theme's score and practice count, not its respondent count.
        themes_total=theme_stats(responses, practices, practice_stats=published.total, count_respondents=False),
        themes_by_group=theme_stats(
            responses, practices, by=["group_id"], practice_stats=published.by_group, count_respondents=False
        ),
        comments=filter_comments(comments, published.groups, threshold=threshold),
    )


async def stakeholder_figures(campaign: dict, groups: pl.DataFrame | None = None) -> StakeholderFigures:
    """The published figures of a closed campaign, from the cache or read and analysed now."""
    if groups is None:
        groups = await groups_frame(campaign["id"])
    found = _cached(campaign, groups)
    if found is not None:
        return found
    responses, comments = await responses_and_comments(campaign["id"], campaign["practice_keys"] or [])
    figures = await asyncio.to_thread(_analyse, campaign, groups, practices_frame(campaign)[0], responses, comments)
    return _remember(campaign["id"], figures)


async def campaign_results(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> CampaignResults:
    """Everything the results page, the API, the exports and the report show of a campaign."""
    tasks: list[asyncio.Future] = []
    try:
        return await _campaign_results(organisation_id, campaign_id, tasks)
    finally:
        for task in tasks:  # never leave a background read running, nor its error unread
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()


async def _campaign_results(organisation_id: uuid.UUID, campaign_id: uuid.UUID, tasks: list[asyncio.Future]) -> CampaignResults:
    campaign = await Campaign.select().where((Campaign.id == campaign_id) & (Campaign.organisation == organisation_id)).output(load_json=True).first()
    if campaign is None:
        raise NotFound("Consultation introuvable.")
    if campaign["status"] not in ("closed", "archived"):
        return CampaignResults(campaign=campaign, published=False)

    # The team's view of a diagnosis is read and computed once per page: the latest diagnosis is
    # usually also the last point of the trends.
    views: dict[uuid.UUID, asyncio.Future] = {}

    def diagnosis_view(diagnosis_id: uuid.UUID) -> asyncio.Future:
        if diagnosis_id not in views:
            views[diagnosis_id] = asyncio.ensure_future(_diagnosis_view(diagnosis_id))
            tasks.append(views[diagnosis_id])
        return views[diagnosis_id]

    async def own_view():
        diagnosis = await latest_diagnosis(organisation_id)
        if diagnosis is None:
            return None, self_view(pl.DataFrame(schema=SELF_ANSWERS_SCHEMA))
        return diagnosis, await diagnosis_view(diagnosis["id"])

    async def priority_marks():
        return {m["practice_key"]: m["state"] for m in await PriorityMark.select().where(PriorityMark.campaign == campaign_id)}

    practices, info = practices_frame(campaign)
    # The trends (older diagnoses and campaigns) are read on the event loop meanwhile; they wait
    # for this campaign's published totals only at the end.
    this_total: asyncio.Future = asyncio.get_running_loop().create_future()
    trends = asyncio.ensure_future(
        organisation_trends(organisation_id=organisation_id, published={campaign_id: this_total}, self_views=diagnosis_view)
    )
    tasks.append(trends)
    if campaign_id in _FIGURES:
        groups, (diagnosis, mine), marks = await asyncio.gather(groups_frame(campaign_id), own_view(), priority_marks())
        figures = await stakeholder_figures(campaign, groups)
    else:
        # Not analysed yet: the answers are read in a worker thread while the small reads run on
        # the event loop, then analysed in a worker thread (Polars releases the GIL).
        (responses, raw_comments), groups, (diagnosis, mine), marks = await asyncio.gather(
            responses_and_comments(campaign_id, campaign["practice_keys"] or []), groups_frame(campaign_id), own_view(),
            priority_marks(),
        )
        figures = _remember(campaign_id, await asyncio.to_thread(_analyse, campaign, groups, practices, responses, raw_comments))
    this_total.set_result(figures.published.total)
    published = figures.published
    comparison = compare(mine, published.total)
    ranked = priorities(comparison, published.by_group, groups)
    matrix = materiality(mine, published.by_group, groups)
    themes_total = figures.themes_total
    self_themes = mine.join(practices.select("practice_key", "theme_key"), on="practice_key", how="inner").group_by("theme_key").agg(
        self_score=pl.col("self_mean").mean()
    )

    results = CampaignResults(
        campaign=campaign, published=True, everything_suppressed=published.everything_suppressed, diagnosis=diagnosis,
    )
    group_rows = published.groups.join(groups, on="group_id", how="left").sort("group_name").to_dicts()
    results.respondents = int(published.groups.get_column("n_respondents").sum()) if published.groups.height else 0
    results.groups = [
        {
            "group_id": g["group_id"], "name": g["group_name"], "category": g["category"], "weight": g["weight"],
            "open_link": g["open_link"], "suppressed": g["suppressed"], "reason": g["reason"],
            # A suppressed group's size is itself a figure: not shown.
            "n_respondents": None if g["suppressed"] else g["n_respondents"],
        }
        for g in group_rows
    ]
    by_practice = {r["practice_key"]: r for r in comparison.to_dicts()}
    total = {r["practice_key"]: r for r in published.total.to_dicts()}
    for key, meta in info.items():
        c = by_practice.get(key, {})
        t = total.get(key, {})
        hidden = bool(t.get("suppressed", True))
        results.practices.append(
            {
                "practice_key": key, **meta,
                "n": None if hidden else t.get("n"),
                "mean": None if hidden else t.get("mean"),
                "median": None if hidden else t.get("median"),
                "std": None if hidden else t.get("std"),
                "ci_low": None if hidden else t.get("ci_low"),
                "ci_high": None if hidden else t.get("ci_high"),
                "dont_know_share": None if hidden else t.get("dont_know_share"),
                "rwg": None if hidden else t.get("rwg"),
                "distribution": None if hidden else {i: t.get(f"level_{i}") for i in range(1, 6)},
                "mean_importance": None if hidden else t.get("mean_importance"),
                "suppressed": hidden,
                "self_mean": c.get("self_mean"),
                "self_importance": c.get("self_importance"),
                "gap": c.get("gap"),
                "category": c.get("category") or "non_evalue",
                "category_label": c.get("category_label") or "Non évalué",
                "reason": c.get("reason") or "",
            }
        )
    names = {g["group_id"]: g for g in results.groups}
    for cell in published.by_group.sort("practice_key", "group_name").to_dicts():
        if cell["practice_key"] not in info:
            continue
        hidden = bool(cell["suppressed"])
        results.cells.append(
            {
                "practice_key": cell["practice_key"], "group_id": cell["group_id"], "group_name": names[cell["group_id"]]["name"],
                "open_link": names[cell["group_id"]]["open_link"], "suppressed": hidden,
                **{k: None if hidden else cell.get(k) for k in ("n", "mean", "median", "std", "ci_low", "ci_high", "dont_know_share", "rwg", "mean_importance")},
                "distribution": None if hidden else {i: cell.get(f"level_{i}") for i in range(1, 6)},
            }
        )
    self_by_theme = {r["theme_key"]: r["self_score"] for r in self_themes.to_dicts()}
    referentiel = get_referentiel(campaign["referentiel_key"], campaign["referentiel_version"])
    for t in themes_total.sort("theme_number").to_dicts():
        results.themes.append(
            {
                "theme_key": t["theme_key"], "title": referentiel.theme(t["theme_key"]).title.fr, "number": t["theme_number"],
                "score": t["score"], "n_practices": t["n_practices"], "self_score": self_by_theme.get(t["theme_key"]),
            }
        )
    themes_by_group = figures.themes_by_group
    for t in themes_by_group.sort("theme_number", "group_id").to_dicts():
        group = names.get(t["group_id"])
        if group is None:
            continue
        results.theme_groups.append(
            {"theme_key": t["theme_key"], "title": referentiel.theme(t["theme_key"]).title.fr, "group_id": t["group_id"],
             "group_name": group["name"], "score": None if group["suppressed"] else t["score"],
             "n_practices": None if group["suppressed"] else t["n_practices"]}
        )
    for p in ranked.sort("rank", nulls_last=True).to_dicts():
        if p["practice_key"] not in info or p["score"] is None:
            continue
        results.priorities.append(
            {
                "practice_key": p["practice_key"], "label": info[p["practice_key"]]["org_label"], "theme_key": info[p["practice_key"]]["theme_key"],
                "theme_title": info[p["practice_key"]]["theme_title"], "rank": p["rank"], "score": p["score"], "reason": p["reason"],
                "category": p["category"], "mark": marks.get(p["practice_key"]),
            }
        )
    # Pinned first, dismissed last; otherwise by score.
    order = {"pinned": 0, None: 1, "dismissed": 2}
    results.priorities.sort(key=lambda p: (order[p["mark"]], p["rank"]))
    # A short mark per practice (theme number . rank in theme) labels the matrix; the table spells it out.
    marks_by_key, counters = {}, {}
    for key, meta in info.items():
        counters[meta["theme_number"]] = counters.get(meta["theme_number"], 0) + 1
        marks_by_key[key] = f"{meta['theme_number']}.{counters[meta['theme_number']]}"
    for m in matrix.to_dicts():
        if m["practice_key"] in info:
            results.materiality.append({**m, "label": info[m["practice_key"]]["org_label"], "mark": marks_by_key[m["practice_key"]]})
    results.materiality.sort(key=lambda m: tuple(int(x) for x in m["mark"].split(".")))
    # Thousands of comments on a large campaign: labelled by two joins, turned into dicts once.
    results.comments = (
        figures.comments.join(groups.select("group_id", "group_name"), on="group_id", how="inner", maintain_order="left")
        .join(practices.select("practice_key", pl.col("label").alias("practice")), on="practice_key", how="inner", maintain_order="left")
        .select("group_name", "practice", "comment")
        .to_dicts()
    )
    results.trends = await trends
    return results


async def _diagnosis_view(diagnosis_id: uuid.UUID) -> pl.DataFrame:
    """The team's self view (analytics.self_view) of one diagnosis."""
    return self_view(await self_answers_frame(diagnosis_id=diagnosis_id))


async def organisation_trends(
    *,
    organisation_id: uuid.UUID,
    published: dict[uuid.UUID, pl.DataFrame | Awaitable[pl.DataFrame]] | None = None,
    self_views: Callable[[uuid.UUID], Awaitable[pl.DataFrame]] = _diagnosis_view,
) -> list[dict]:
    """Theme scores across the organisation's closed diagnoses and campaigns (practices matched by key).

    ``published``: per-practice published totals already computed or being computed (campaign id →
    frame, or an awaitable of it), reused instead of reading and analysing those campaigns again;
    ``self_views``: gives a diagnosis's self view (shared with the caller's own reads)."""
    published = published or {}
    frames = []
    diagnoses = await Diagnosis.select(Diagnosis.id, Diagnosis.title, Diagnosis.opened_at).where(
        (Diagnosis.organisation == organisation_id) & (Diagnosis.status == "closed")
    ).order_by(Diagnosis.opened_at)
    for order, d in enumerate(diagnoses):
        view = await self_views(d["id"])
        frames.append(_snapshot(view.select("practice_key", pl.col("self_mean").alias("mean")), d["title"], order, "diagnostic"))
    campaigns = await Campaign.select(
        Campaign.id, Campaign.title, Campaign.status, Campaign.threshold, Campaign.referentiel_key,
        Campaign.referentiel_version, Campaign.practice_keys, Campaign.custom_practices,
    ).where(
        (Campaign.organisation == organisation_id) & Campaign.status.is_in(["closed", "archived"])
    ).order_by(Campaign.launched_at).output(load_json=True)
    for order, c in enumerate(campaigns):
        total = published.get(c["id"])
        if inspect.isawaitable(total):
            total = await total
        if total is None:
            total = (await stakeholder_figures(c)).published.total
        frames.append(_snapshot(total.select("practice_key", "mean"), c["title"], order, "consultation"))
    if not frames:
        return []
    snapshots = pl.concat([f for f in frames if f.height], how="vertical") if any(f.height for f in frames) else None
    if snapshots is None:
        return []
    return theme_trend(snapshots).to_dicts()


def _snapshot(frame: pl.DataFrame, label: str, order: int, source: str) -> pl.DataFrame:
    themes = {}
    for r in get_referentiel("complet").practices:
        themes[r.key] = r.theme
    rows = [r for r in frame.to_dicts() if r["practice_key"] in themes or r["practice_key"].startswith("org.")]
    return pl.DataFrame(
        {
            "period_label": [label] * len(rows),
            "period_order": [order] * len(rows),
            "source": [source] * len(rows),
            "practice_key": [r["practice_key"] for r in rows],
            "theme_key": [themes.get(r["practice_key"], "autre") for r in rows],
            "mean": [r["mean"] for r in rows],
        },
        schema={"period_label": pl.String, "period_order": pl.Int64, "source": pl.String, "practice_key": pl.String, "theme_key": pl.String, "mean": pl.Float64},
    )


async def priority_mark(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID, practice_key: str, state: str | None) -> None:
    from api.db import transaction
    from api.errors import ValidationFailed

    if state not in (None, "pinned", "dismissed"):
        raise ValidationFailed({"state": "État inconnu : « pinned », « dismissed » ou rien."})
    campaign = await Campaign.select(Campaign.id).where((Campaign.id == campaign_id) & (Campaign.organisation == organisation_id)).first()
    if campaign is None:
        raise NotFound("Consultation introuvable.")
    async with transaction():
        await PriorityMark.delete().where((PriorityMark.campaign == campaign_id) & (PriorityMark.practice_key == practice_key))
        if state:
            await PriorityMark(campaign=campaign_id, practice_key=practice_key, state=state).save()
