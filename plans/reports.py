"""The general-assembly report (and its short version for employees): data, HTML, PDF.

One function gathers the data (`report_data`), one template renders it
(`plans/report.html`), for the printable page and for the PDF (WeasyPrint) alike.
Stakeholder figures come only from `consultations.results.campaign_results`, which
applies the anonymity threshold: a suppressed group shows « masqué (moins de N
réponses) » and none of its figures.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from babel.dates import format_date

from analytics.charts import GapItem, RadarAxis, RadarSeries, gap_bars, radar_chart
from analytics.compare import CATEGORY_LABELS
from api.errors import NotFound
from organisations.tables import Organisation
from organisations.validation import HEADCOUNT_BANDS, LEGAL_FORMS
from plans import queries
from plans.services import ACTIVE, PARIS, STATUSES, cycle_get, today
from plans.tables import Review
from surveys.referentiel import get_referentiel

VARIANTS = ("ag", "salaries")
FINDING_CATEGORIES = ("point_aveugle", "force_cachee", "faiblesse_partagee", "force_partagee", "perceptions_divisees")
FINDINGS_PER_CATEGORY = 5
FINDING_TITLES = {
    "point_aveugle": ("Points aveugles", "Des pratiques que l'équipe juge meilleures que ne les perçoivent les parties prenantes."),
    "force_cachee": ("Forces cachées", "Des pratiques mieux perçues par les parties prenantes que par l'équipe : à faire connaître."),
    "faiblesse_partagee": ("Faiblesses partagées", "L'équipe et les parties prenantes s'accordent : des progrès sont à faire."),
    "force_partagee": ("Forces partagées", "L'équipe et les parties prenantes s'accordent sur ces réussites."),
    "perceptions_divisees": ("Perceptions divisées", "Les groupes de parties prenantes ne voient pas ces pratiques de la même façon."),
}


def masked(threshold: int) -> str:
    return f"masqué (moins de {threshold} réponses)"


@dataclass
class ReportData:
    variant: str
    year: int
    organisation: dict
    generated_on: dt.date
    logo: str | None
    cycle: dict
    pilot_name: str
    themes_chosen: list[str]
    diagnosis: dict | None = None
    consultation: dict | None = None
    findings: list[dict] = field(default_factory=list)
    priorities: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    status_counts: list[dict] = field(default_factory=list)
    progress: dict = field(default_factory=dict)
    radar: str | None = None
    gap_chart: str | None = None

    @property
    def title(self) -> str:
        if self.variant == "salaries":
            return f"Nos bonnes pratiques de l'ESS : le point {self.year}"
        return f"Rapport à l'assemblée générale {self.year}"


def _paris(value: dt.datetime | None) -> dt.date | None:
    return value.astimezone(PARIS).date() if value else None


async def report_data(*, organisation_id: uuid.UUID, year: int | None = None, variant: str = "ag") -> ReportData:
    from consultations.results import campaign_results
    from consultations.services import participation
    from surveys.queries import diagnosis_results

    if variant not in VARIANTS:
        raise NotFound("Rapport introuvable.")
    org = await Organisation.select().where(Organisation.id == organisation_id).output(load_json=True).first()
    if org is None:
        raise NotFound("Organisation introuvable.")
    cycle = await cycle_get(organisation_id=organisation_id, year=year)
    year = cycle["year"]
    # What the report covers: up to the end of the cycle's year, or its AG if held later.
    end = max(dt.date(year, 12, 31), cycle["ag_date"] or dt.date.min)
    pilot_name = ""
    if cycle["pilot"]:
        pilot = next((m for m in await queries.members(organisation_id=organisation_id) if m["user_id"] == cycle["pilot"]), None)
        pilot_name = queries.member_label(pilot)
    referentiel = get_referentiel("complet")
    chosen = org["chosen_themes"] or []
    themes_chosen = [f"{t.number}. {t.title.fr}" for t in referentiel.themes if not chosen or t.key in chosen]
    data = ReportData(
        variant=variant, year=year, organisation={
            **org, "legal_form_label": LEGAL_FORMS.get(org["legal_form"], org["legal_form"]),
            "headcount_label": HEADCOUNT_BANDS.get(org["headcount_band"], ""),
        },
        generated_on=today(), logo=await queries.logo_data_uri(organisation_id=organisation_id), cycle=cycle,
        pilot_name=pilot_name, themes_chosen=themes_chosen,
    )

    # The self-diagnosis (the team's own view: not stakeholder data).
    diag_row = await queries.latest_closed_diagnosis(organisation_id=organisation_id, until=end)
    diag = None
    if diag_row is not None:
        diag = await diagnosis_results(organisation_id=organisation_id, diagnosis_id=diag_row["id"])
        data.diagnosis = {
            "title": diag.diagnosis["title"], "closed_on": _paris(diag.diagnosis["closed_at"]), "members": diag.members,
            "themes": diag.themes, "strengths": diag.strengths[:FINDINGS_PER_CATEGORY],
            "progress_areas": diag.progress_areas[:FINDINGS_PER_CATEGORY],
            "previous": diag.previous,
        }

    # The consultation: only what campaign_results publishes.
    camp_row = await queries.latest_closed_campaign(organisation_id=organisation_id, until=end)
    results = None
    if camp_row is not None:
        results = await campaign_results(organisation_id=organisation_id, campaign_id=camp_row["id"])
        threshold = results.campaign["threshold"]
        invited = (await participation(campaign_id=camp_row["id"])).invited
        groups = [
            {"name": g["name"], "suppressed": g["suppressed"], "n": None if g["suppressed"] else g["n_respondents"], "open_link": g["open_link"]}
            for g in results.groups
        ]
        rate = None
        if invited and not results.campaign["shared_links"] and not results.everything_suppressed:
            rate = results.respondents / invited
        data.consultation = {
            "title": results.campaign["title"], "closed_on": _paris(results.campaign["closed_at"]), "threshold": threshold,
            "masked": masked(threshold), "respondents": None if results.everything_suppressed else results.respondents,
            "invited": invited, "rate": rate, "groups": groups, "everything_suppressed": results.everything_suppressed,
            "themes": results.themes, "n_suppressed": sum(1 for g in groups if g["suppressed"]),
        }
        by_category: dict[str, list[dict]] = {}
        for p in results.practices:
            if p["suppressed"] or p["mean"] is None or p["self_mean"] is None:
                continue
            by_category.setdefault(p["category"], []).append(p)
        for category in FINDING_CATEGORIES:
            items = sorted(by_category.get(category, []), key=lambda p: -abs(p["gap"] or 0))[:FINDINGS_PER_CATEGORY]
            if items:
                title, explanation = FINDING_TITLES[category]
                data.findings.append(
                    {"category": category, "label": CATEGORY_LABELS.get(category, category), "title": title, "explanation": explanation, "practices": items}
                )
        data.priorities = [p for p in results.priorities if p["mark"] != "dismissed"][: 5 if variant == "salaries" else 6]
        gap_items = [
            GapItem(key=p["practice_key"], label=p["org_label"], self_value=p["self_mean"], stakeholder_value=p["mean"], category=f["label"])
            for f in data.findings if f["category"] in ("point_aveugle", "force_cachee") for p in f["practices"]
        ]
        if gap_items:
            data.gap_chart = gap_bars(
                gap_items, title="Écarts entre l'équipe et les parties prenantes",
                desc="Niveau perçu par les parties prenantes moins le niveau de l'auto-diagnostic, pour les principaux écarts.",
                min_responses=threshold, id_prefix="rapport-ecarts",
            )

    # The radar: the team's view and, when published, the stakeholders' one.
    axes: list[RadarAxis] = []
    series: list[RadarSeries] = []
    if diag is not None and len(diag.themes) >= 3:
        axes = [RadarAxis(key=t["theme_key"], label=t["title"]) for t in diag.themes]
        series.append(RadarSeries(name="Équipe (auto-diagnostic)", values={t["theme_key"]: t["self_score"] for t in diag.themes}))
    elif results is not None and len(results.themes) >= 3:
        axes = [RadarAxis(key=t["theme_key"], label=t["title"]) for t in results.themes]
        series.append(RadarSeries(name="Équipe (auto-diagnostic)", values={t["theme_key"]: t["self_score"] for t in results.themes}))
    if axes and results is not None:
        scores = {t["theme_key"]: t["score"] for t in results.themes}
        series.append(RadarSeries(name="Parties prenantes", values={a.key: scores.get(a.key) for a in axes}, dashed=True))
    if axes and 3 <= len(axes) <= 8:
        data.radar = radar_chart(
            axes, series, title="Score par thème (1 à 5)",
            desc="Moyenne des pratiques de chaque thème : auto-diagnostic de l'équipe et, le cas échéant, regard des parties prenantes.",
            min_responses=results.campaign["threshold"] if results is not None else None, id_prefix="rapport-radar",
        )

    # The action plan and the progress since last year.
    actions = await queries.actions_list(organisation_id=organisation_id)
    end_dt = dt.datetime.combine(end, dt.time.max, tzinfo=PARIS)
    data.actions = [a for a in actions if a["created_at"] <= end_dt]
    data.status_counts = [
        {"key": key, "label": label, "n": sum(1 for a in data.actions if a["status"] == key)} for key, label in STATUSES.items()
    ]
    reviews = await Review.select(Review.id, Review.held_on, Review.notes).where(
        (Review.organisation == organisation_id) & (Review.held_on <= end)
    ).order_by(Review.held_on)
    # Progress over the twelve months before the AG (or before today / the end of the year).
    reference = cycle["ag_date"] or min(today(), end)
    since = reference.replace(year=reference.year - 1) if not (reference.month == 2 and reference.day == 29) else dt.date(reference.year - 1, 2, 28)
    done = [a for a in data.actions if a["status"] == "realisee" and a["done_on"] and since <= a["done_on"] <= end]
    indicators = [
        {**i, "action_title": a["title"]} for a in data.actions if a["status"] != "abandonnee" for i in a["indicators"]
    ]
    evolution = await queries.evolution(organisation_id=organisation_id)
    data.progress = {
        "since": since,
        "reference": reference,
        "reviews": [r for r in reviews if r["held_on"] >= since],
        "done": done,
        "abandoned": [a for a in data.actions if a["status"] == "abandonnee" and a["done_on"] and since <= a["done_on"] <= end],
        "indicators": indicators,
        "evolution": [t for t in evolution["themes"] if t["self_before"] is not None or t["stakeholders_before"] is not None],
        "overdue": [a for a in data.actions if a["overdue"]],
        "active": [a for a in data.actions if a["status"] in ACTIVE],
    }
    return data


# --- Rendering ---------------------------------------------------------------------------------------

_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_NBSP = "\u00a0"
_NNBSP = "\u202f"


def french_spacing(text: str) -> str:
    """French typography in running text: a non-breaking space before « : » and a narrow one
    before « ; ? ! », non-breaking spaces inside « guillemets »."""
    text = re.sub(r"[ \u00a0\u202f]+:(?=\s|$|<)", _NBSP + ":", text)
    text = re.sub(r"[ \u00a0\u202f]+([;?!])", _NNBSP + r"\1", text)
    text = re.sub(r"«[ \u00a0\u202f]*", "«" + _NBSP, text)
    text = re.sub(r"[ \u00a0\u202f]*»", _NBSP + "»", text)
    return text


def french_spacing_html(html: str) -> str:
    """Apply `french_spacing` to the text between tags only (never to tags, attributes, styles or scripts)."""
    out: list[str] = []
    skip = False
    for part in _TAG_OR_TEXT.split(html):
        if part.startswith("<"):
            lowered = part.lower()
            if lowered.startswith(("<style", "<script")):
                skip = True
            elif lowered.startswith(("</style", "</script")):
                skip = False
            out.append(part)
        else:
            out.append(part if skip else french_spacing(part))
    return "".join(out)


def fr_long_date(value: dt.date | None) -> str:
    return format_date(value, format="long", locale="fr_FR") if value else "—"


@lru_cache(maxsize=1)
def _environment():
    from api.templating import build_environment

    env = build_environment()
    env.filters["masked"] = masked
    env.globals["STATUSES"] = STATUSES
    return env


def render_html(data: ReportData, *, for_pdf: bool = False, slug: str = "") -> str:
    html = _environment().get_template("plans/report.html").render(r=data, for_pdf=for_pdf, slug=slug)
    return french_spacing_html(html)


def _pdf_bytes(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Everything the report needs is inline (SVG charts, the logo as a data: URL): nothing is fetched.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf()


async def render_pdf(data: ReportData) -> bytes:
    html = render_html(data, for_pdf=True)
    return await asyncio.to_thread(_pdf_bytes, html)


def report_filename(data: ReportData, slug: str, extension: str) -> str:
    stem = "rapport-ag" if data.variant == "ag" else "information-salaries"
    return f"{stem}-{slug}-{data.year}.{extension}"
