"""Reads for the action plan: actions, timelines, reviews, the "Votre démarche" dashboard, priorities, evolution."""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import uuid
from dataclasses import dataclass, field

from api.errors import NotFound
from consultations.tables import Campaign, PriorityMark
from organisations.tables import Membership, Organisation, User
from plans.services import (
    ACTIVE, PARIS, STATUSES, cycle_get, practice_labels, review_months, theme_title, today,
)
from plans.tables import Action, Indicator, IndicatorValue, Logo, Review, ReviewEntry
from surveys.tables import Diagnosis


def fr_value(value: float | None) -> str:
    """An indicator's value in French, without useless decimals: 80 → "80", 1234.5 → "1 234,5"."""
    if value is None:
        return "—"
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0.##", locale="fr_FR")


def _with_display(indicator: dict) -> dict:
    return {**indicator, **{f"{k}_fr": fr_value(indicator[k]) for k in ("baseline", "target", "current_value")}}


def is_overdue(action: dict, on: dt.date | None = None) -> bool:
    """Due date passed and neither réalisée nor abandonnée."""
    return bool(action.get("due_on")) and action["status"] in ACTIVE and action["due_on"] < (on or today())


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def members(*, organisation_id: uuid.UUID) -> list[dict]:
    """Members who may own an action or pilot the cycle, by name."""
    rows = await Membership.select(
        Membership.user.id.as_alias("user_id"), Membership.user.name.as_alias("name"),
        Membership.user.email.as_alias("email"), Membership.role,
    ).where(Membership.organisation == organisation_id)
    return sorted(rows, key=lambda r: ((r["name"] or r["email"]).casefold()))


def member_label(row: dict | None) -> str:
    if not row:
        return ""
    return row.get("name") or row.get("email") or ""


async def _decorate(organisation_id: uuid.UUID, rows: list[dict]) -> list[dict]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    indicators = await Indicator.select().where(Indicator.action.is_in(ids)).order_by(Indicator.position)
    by_action: dict[uuid.UUID, list[dict]] = {}
    for ind in indicators:
        by_action.setdefault(ind["action"], []).append(_with_display(ind))
    owners = {m["user_id"]: m for m in await members(organisation_id=organisation_id)}
    keys = sorted({k for r in rows for k in r["practice_keys"] or []})
    labels = await practice_labels(organisation_id=organisation_id, keys=keys)
    on = today()
    out = []
    for r in rows:
        owner = owners.get(r["owner"])
        out.append(
            {
                **r,
                "indicators": by_action.get(r["id"], []),
                "owner_name": member_label(owner),
                "owner_email": owner["email"] if owner else "",
                "status_label": STATUSES.get(r["status"], r["status"]),
                "theme_title": theme_title(r["theme_key"]) if r["theme_key"] else "",
                "practices": [{"key": k, "label": labels.get(k, k)} for k in r["practice_keys"] or []],
                "overdue": is_overdue(r, on),
            }
        )
    return out


STATUS_ORDER = {"en_cours": 0, "a_lancer": 1, "realisee": 2, "abandonnee": 3}


async def actions_list(*, organisation_id: uuid.UUID, status: str | None = None) -> list[dict]:
    query = Action.select().where(Action.organisation == organisation_id)
    if status in STATUSES:
        query = query.where(Action.status == status)
    rows = await query.order_by(Action.created_at).output(load_json=True)
    decorated = await _decorate(organisation_id, rows)
    far = dt.date.max
    return sorted(decorated, key=lambda a: (not a["overdue"], STATUS_ORDER.get(a["status"], 9), a["due_on"] or far, a["title"].casefold()))


async def action_get(*, organisation_id: uuid.UUID, action_id: uuid.UUID) -> dict:
    row = await Action.select().where((Action.id == action_id) & (Action.organisation == organisation_id)).output(load_json=True).first()
    if row is None:
        raise NotFound("Action introuvable.")
    return (await _decorate(organisation_id, [row]))[0]


async def action_timeline(*, organisation_id: uuid.UUID, action_id: uuid.UUID) -> list[dict]:
    """What happened to an action, oldest first: creation, reviews (status, note), measured values."""
    action = await action_get(organisation_id=organisation_id, action_id=action_id)
    events: list[dict] = [
        {"on": action["created_at"].astimezone(PARIS).date(), "order": 0, "kind": "creation", "text": "Action créée", "review_id": None}
    ]
    entries = await ReviewEntry.select(
        ReviewEntry.status_before, ReviewEntry.status_after, ReviewEntry.reason, ReviewEntry.note,
        ReviewEntry.review.id.as_alias("review_id"), ReviewEntry.review.held_on.as_alias("held_on"),
    ).where((ReviewEntry.action == action_id) & (ReviewEntry.review.organisation == organisation_id))
    for e in entries:
        if e["status_before"] != e["status_after"]:
            text = f"Statut : {STATUSES.get(e['status_before'], e['status_before'])} → {STATUSES.get(e['status_after'], e['status_after'])}"
        else:
            text = f"Statut inchangé : {STATUSES.get(e['status_after'], e['status_after'])}"
        events.append({
            "on": e["held_on"], "order": 1, "kind": "revue", "text": text, "note": e["note"], "reason": e["reason"], "review_id": e["review_id"],
        })
    names = {i["id"]: i for i in action["indicators"]}
    if names:
        values = await IndicatorValue.select().where(IndicatorValue.indicator.is_in(list(names))).order_by(IndicatorValue.measured_on)
        for v in values:
            ind = names[v["indicator"]]
            events.append({
                "on": v["measured_on"], "order": 2, "kind": "mesure", "indicator": ind["name"], "unit": ind["unit"], "value": v["value"],
                "target": ind["target"], "review_id": v["review"], "text": ind["name"],
                "value_fr": fr_value(v["value"]), "target_fr": fr_value(ind["target"]),
            })
    if action["reminded_at"]:
        events.append({"on": action["reminded_at"].astimezone(PARIS).date(), "order": 3, "kind": "rappel",
                       "text": f"Rappel envoyé à {action['owner_name'] or 'son responsable'}", "review_id": None})
    return sorted(events, key=lambda e: (e["on"], e["order"]))


async def reviews_list(*, organisation_id: uuid.UUID) -> list[dict]:
    reviews = await Review.select(
        Review.id, Review.held_on, Review.notes, Review.created_at, Review.created_by.name.as_alias("author"),
    ).where(Review.organisation == organisation_id).order_by(Review.held_on, ascending=False)
    if not reviews:
        return []
    counts: dict[uuid.UUID, int] = {}
    for e in await ReviewEntry.select(ReviewEntry.review).where(ReviewEntry.review.is_in([r["id"] for r in reviews])):
        counts[e["review"]] = counts.get(e["review"], 0) + 1
    return [{**r, "n_actions": counts.get(r["id"], 0)} for r in reviews]


async def review_get(*, organisation_id: uuid.UUID, review_id: uuid.UUID) -> dict:
    review = await Review.select(
        Review.id, Review.held_on, Review.notes, Review.created_at, Review.created_by.name.as_alias("author"),
    ).where((Review.id == review_id) & (Review.organisation == organisation_id)).first()
    if review is None:
        raise NotFound("Revue introuvable.")
    entries = await ReviewEntry.select(
        ReviewEntry.action, ReviewEntry.status_before, ReviewEntry.status_after, ReviewEntry.reason, ReviewEntry.note,
        ReviewEntry.action.title.as_alias("title"),
    ).where(ReviewEntry.review == review_id)
    values = await IndicatorValue.select(
        IndicatorValue.value, IndicatorValue.indicator.name.as_alias("name"), IndicatorValue.indicator.unit.as_alias("unit"),
        IndicatorValue.indicator.target.as_alias("target"), IndicatorValue.indicator.action.as_alias("action"),
    ).where(IndicatorValue.review == review_id)
    by_action: dict[uuid.UUID, list[dict]] = {}
    for v in values:
        by_action.setdefault(v["action"], []).append({**v, "value_fr": fr_value(v["value"]), "target_fr": fr_value(v["target"])})
    items = [
        {**e, "status_before_label": STATUSES.get(e["status_before"], ""), "status_after_label": STATUSES.get(e["status_after"], ""),
         "values": by_action.get(e["action"], [])}
        for e in sorted(entries, key=lambda e: e["title"].casefold())
    ]
    return {**review, "items": items}


@dataclass
class ReviewSchedule:
    months: int
    last_review_on: dt.date | None
    next_due_on: dt.date | None
    late: bool


async def review_schedule(*, organisation_id: uuid.UUID) -> ReviewSchedule:
    months = await review_months(organisation_id=organisation_id)
    last = await Review.select(Review.held_on).where(Review.organisation == organisation_id).order_by(Review.held_on, ascending=False).first()
    first_action = await Action.select(Action.created_at).where(Action.organisation == organisation_id).order_by(Action.created_at).first()
    if last:
        start = last["held_on"]
    elif first_action:
        start = first_action["created_at"].astimezone(PARIS).date()
    else:
        return ReviewSchedule(months, None, None, False)
    due = add_months(start, months)
    return ReviewSchedule(months, last["held_on"] if last else None, due, due < today())


async def logo_data_uri(*, organisation_id: uuid.UUID) -> str | None:
    row = await Logo.select(Logo.media_type, Logo.content).where(Logo.organisation == organisation_id).first()
    if row is None:
        return None
    return f"data:{row['media_type']};base64,{base64.b64encode(row['content']).decode()}"


async def logo_info(*, organisation_id: uuid.UUID) -> dict | None:
    return await Logo.select(Logo.media_type, Logo.width, Logo.height, Logo.updated_at).where(Logo.organisation == organisation_id).first()


# --- Sources: the latest closed diagnosis and campaign ------------------------------------------------


def _paris_date(value: dt.datetime | None) -> dt.date | None:
    return value.astimezone(PARIS).date() if value else None


async def latest_closed_diagnosis(*, organisation_id: uuid.UUID, until: dt.date | None = None) -> dict | None:
    rows = await Diagnosis.select(Diagnosis.id, Diagnosis.title, Diagnosis.closed_at, Diagnosis.opened_at, Diagnosis.referentiel_key).where(
        (Diagnosis.organisation == organisation_id) & (Diagnosis.status == "closed")
    ).order_by(Diagnosis.opened_at, ascending=False)
    for r in rows:
        if until is None or (_paris_date(r["closed_at"]) or dt.date.min) <= until:
            return r
    return None


async def latest_closed_campaign(*, organisation_id: uuid.UUID, until: dt.date | None = None) -> dict | None:
    rows = await Campaign.select(Campaign.id, Campaign.title, Campaign.closed_at, Campaign.threshold, Campaign.shared_links).where(
        (Campaign.organisation == organisation_id) & Campaign.status.is_in(["closed", "archived"])
    ).order_by(Campaign.created_at, ascending=False)
    for r in rows:
        if until is None or (_paris_date(r["closed_at"]) or dt.date.min) <= until:
            return r
    return None


async def plan_priorities(*, organisation_id: uuid.UUID) -> dict:
    """The latest closed campaign's priorities (anonymity applied by `campaign_results`), with their actions."""
    from consultations.results import campaign_results

    campaign = await latest_closed_campaign(organisation_id=organisation_id)
    if campaign is None:
        return {"campaign": None, "priorities": []}
    results = await campaign_results(organisation_id=organisation_id, campaign_id=campaign["id"])
    actions = await Action.select(Action.id, Action.title, Action.practice_keys).where(Action.organisation == organisation_id).output(load_json=True)
    by_practice: dict[str, list[dict]] = {}
    for a in actions:
        for key in a["practice_keys"] or []:
            by_practice.setdefault(key, []).append(a)
    priorities = [
        {**p, "actions": by_practice.get(p["practice_key"], [])} for p in results.priorities if p["mark"] != "dismissed"
    ]
    return {"campaign": results.campaign, "priorities": priorities}


async def priority_prefill(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID, practice_key: str) -> dict:
    """The new-action form filled from one priority: practice, theme and the finding (its reason)."""
    from consultations.results import campaign_results

    results = await campaign_results(organisation_id=organisation_id, campaign_id=campaign_id)
    priority = next((p for p in results.priorities if p["practice_key"] == practice_key), None)
    if priority is None:
        raise NotFound("Cette priorité n'existe pas dans les résultats de la consultation.")
    practice = next((p for p in results.practices if p["practice_key"] == practice_key), {})
    finding = priority["reason"]
    label = practice.get("category_label")
    if label and label not in ("Non évalué",):
        finding = f"{label}. {finding}"
    return {
        "title": "",
        "practice_keys": [practice_key],
        "practice_label": priority["label"],
        "theme_key": priority["theme_key"],
        "finding": finding,
        "source_campaign_id": str(campaign_id),
    }


# --- "Votre démarche": the guide's method, step by step -------------------------------------------------


@dataclass
class Step:
    key: str
    label: str
    done: bool
    how: str  # "données" (derived from the data) or "déclaré" (ticked by an admin)
    detail: str
    href: str
    in_progress: bool = False


@dataclass
class Demarche:
    year: int
    cycle: dict
    pilot_name: str
    steps: list[Step]
    review: ReviewSchedule
    overdue_actions: int
    cycles: list[int] = field(default_factory=list)

    @property
    def next_step(self) -> Step | None:
        return next((s for s in self.steps if not s.done), None)

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.done)


async def demarche(*, organisation_id: uuid.UUID, slug: str) -> Demarche:
    from babel.dates import format_date

    def fr(day: dt.date | None) -> str:
        return format_date(day, format="long", locale="fr_FR") if day else ""

    cycle = await cycle_get(organisation_id=organisation_id)
    start: dt.datetime = cycle["started_at"]
    start_day = start.astimezone(PARIS).date()
    base = f"/o/{slug}"
    org = await Organisation.select(Organisation.chosen_themes).where(Organisation.id == organisation_id).output(load_json=True).first()
    chosen = (org or {}).get("chosen_themes") or []

    pilot = None
    if cycle["pilot"]:
        pilot = await User.select(User.name, User.email).where(User.id == cycle["pilot"]).first()
    pilot_name = member_label(pilot)

    diagnoses = await Diagnosis.select(Diagnosis.id, Diagnosis.status, Diagnosis.closed_at, Diagnosis.title).where(
        Diagnosis.organisation == organisation_id
    ).order_by(Diagnosis.opened_at, ascending=False)
    closed_diag = next((d for d in diagnoses if d["status"] == "closed" and d["closed_at"] and d["closed_at"] >= start), None)
    open_diag = next((d for d in diagnoses if d["status"] == "open"), None)

    campaigns = await Campaign.select(Campaign.id, Campaign.status, Campaign.closed_at, Campaign.title).where(
        Campaign.organisation == organisation_id
    ).order_by(Campaign.created_at, ascending=False)
    closed_camp = next(
        (c for c in campaigns if c["status"] in ("closed", "archived") and c["closed_at"] and c["closed_at"] >= start), None
    )
    open_camp = next((c for c in campaigns if c["status"] == "open"), None)

    actions = await Action.select(
        Action.id, Action.status, Action.objective_1y, Action.objective_3y, Action.source_campaign, Action.created_at, Action.done_on,
        Action.due_on,
    ).where(Action.organisation == organisation_id)
    in_cycle = [a for a in actions if a["status"] in ACTIVE or (a["done_on"] and a["done_on"] > start_day) or a["created_at"] >= start]
    pinned = 0
    if closed_camp:
        pinned = await PriorityMark.count().where((PriorityMark.campaign == closed_camp["id"]) & (PriorityMark.state == "pinned"))
    from_priorities = [a for a in in_cycle if a["source_campaign"] is not None]
    with_objectives = [a for a in in_cycle if a["status"] != "abandonnee" and a["objective_1y"].strip() and a["objective_3y"].strip()]
    live = [a for a in in_cycle if a["status"] != "abandonnee"]

    steps = [
        Step("pilote", "Nommer un pilote de la démarche", bool(pilot_name), "déclaré",
             f"Pilote : {pilot_name}." if pilot_name else "Un membre de l'équipe coordonne la démarche jusqu'à l'assemblée générale.",
             f"{base}/demarche#pilote"),
        Step("themes", "Choisir les thèmes travaillés cette année", bool(chosen), "données",
             f"{len(chosen)} thème{'s' if len(chosen) > 1 else ''} retenu{'s' if len(chosen) > 1 else ''}." if chosen
             else "Le guide permet de travailler sur tous les thèmes ou seulement certains.",
             f"{base}/diagnostic#themes"),
        Step("diagnostic", "Réaliser l'auto-diagnostic en équipe", closed_diag is not None, "données",
             f"« {closed_diag['title']} » clôturé le {fr(_paris_date(closed_diag['closed_at']))}." if closed_diag
             else (f"« {open_diag['title']} » en cours." if open_diag else "L'équipe évalue ses pratiques, thème par thème."),
             f"{base}/diagnostic", in_progress=closed_diag is None and open_diag is not None),
        Step("consultation", "Consulter les parties prenantes", closed_camp is not None, "données",
             f"« {closed_camp['title']} » clôturée le {fr(_paris_date(closed_camp['closed_at']))}." if closed_camp
             else (f"« {open_camp['title']} » en cours." if open_camp else "Une consultation anonyme de vos parties prenantes."),
             f"{base}/consultations", in_progress=closed_camp is None and open_camp is not None),
        Step("priorites", "Choisir les priorités", bool(pinned or from_priorities), "données",
             f"{len(from_priorities)} action{'s' if len(from_priorities) > 1 else ''} issue{'s' if len(from_priorities) > 1 else ''} des priorités"
             + (f", {pinned} priorité{'s' if pinned > 1 else ''} retenue{'s' if pinned > 1 else ''}." if pinned else ".")
             if (pinned or from_priorities) else "Les écarts entre votre regard et celui des parties prenantes désignent les priorités.",
             f"{base}/plan/priorites"),
        Step("objectifs", "Fixer des objectifs à 1 an et à 3 ans", bool(with_objectives), "données",
             f"{len(with_objectives)} action{'s avec leurs' if len(with_objectives) > 1 else ' avec ses'} deux objectifs." if with_objectives
             else "Pour chaque action : où en être dans un an, et dans trois ans.",
             f"{base}/plan/"),
        Step("plan", "Écrire le plan d'action", bool(live), "données",
             f"{len(live)} action{'s' if len(live) > 1 else ''} au plan." if live else "Des actions, un responsable, une échéance, des indicateurs.",
             f"{base}/plan/"),
        Step("salaries", "Présenter la démarche aux salariés", cycle["employees_informed_on"] is not None, "déclaré",
             f"Présentée le {fr(cycle['employees_informed_on'])}." if cycle["employees_informed_on"]
             else "La loi prévoit que les salariés soient informés ; une version courte du rapport est prête.",
             f"{base}/plan/rapport-salaries"),
        Step("ag", "Présenter en assemblée générale et en débattre", cycle["ag_date"] is not None, "déclaré",
             f"Assemblée générale du {fr(cycle['ag_date'])}." if cycle["ag_date"]
             else "Loi du 31 juillet 2014, art. 3 : présentation à l'AG annuelle et débat sur les objectifs de progrès.",
             f"{base}/plan/rapport"),
    ]
    years = [c["year"] for c in await _cycle_years(organisation_id)]
    return Demarche(
        year=cycle["year"], cycle=cycle, pilot_name=pilot_name, steps=steps,
        review=await review_schedule(organisation_id=organisation_id),
        overdue_actions=sum(1 for a in actions if is_overdue(a)),
        cycles=years or [cycle["year"]],
    )


async def _cycle_years(organisation_id: uuid.UUID) -> list[dict]:
    from plans.tables import Cycle

    return await Cycle.select(Cycle.year).where(Cycle.organisation == organisation_id).order_by(Cycle.year, ascending=False)


# --- Evolution between cycles --------------------------------------------------------------------------


async def evolution(*, organisation_id: uuid.UUID) -> dict:
    """Theme by theme: the team's and the stakeholders' scores across cycles, and the actions carried out.

    Stakeholder scores come from `consultations.results.organisation_trends` (anonymity applied)."""
    from consultations.results import organisation_trends

    trends = await organisation_trends(organisation_id=organisation_id)
    series: dict[str, dict[str, list[dict]]] = {"diagnostic": {}, "consultation": {}}
    for t in trends:
        series.setdefault(t["source"], {}).setdefault(t["theme_key"], []).append(t)
    periods: dict[str, list[str]] = {}
    for source, by_theme in series.items():
        labels: dict[int, str] = {}
        for rows in by_theme.values():
            for r in rows:
                labels[r["period_order"]] = r["period_label"]
        periods[source] = [labels[k] for k in sorted(labels)]
    actions = await Action.select(Action.id, Action.title, Action.theme_key, Action.status, Action.done_on).where(
        (Action.organisation == organisation_id) & (Action.status == "realisee")
    ).order_by(Action.done_on)
    done_by_theme: dict[str, list[dict]] = {}
    for a in actions:
        done_by_theme.setdefault(a["theme_key"] or "", []).append(a)
    from surveys.referentiel import get_referentiel

    themes = []
    for theme in get_referentiel("complet").themes:
        def last_two(source: str) -> tuple[float | None, float | None, float | None]:
            rows = sorted(series.get(source, {}).get(theme.key, []), key=lambda r: r["period_order"])
            if not rows:
                return None, None, None
            now = rows[-1]
            before = rows[-2]["score"] if len(rows) > 1 else None
            return before, now["score"], now.get("delta")

        self_before, self_now, self_delta = last_two("diagnostic")
        st_before, st_now, st_delta = last_two("consultation")
        if self_now is None and st_now is None and not done_by_theme.get(theme.key):
            continue
        themes.append({
            "theme_key": theme.key, "number": theme.number, "title": theme.title.fr,
            "self_before": self_before, "self_now": self_now, "self_delta": self_delta,
            "stakeholders_before": st_before, "stakeholders_now": st_now, "stakeholders_delta": st_delta,
            "actions_done": done_by_theme.get(theme.key, []),
        })
    return {"themes": themes, "periods": periods, "other_actions_done": done_by_theme.get("", [])}


