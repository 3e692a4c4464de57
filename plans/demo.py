"""The demo organisation's action plan: five actions from its priorities and one from scratch, and one review.

Called by `api.demo.seed_demo()` once the demo's campaign is closed. Idempotent: an
organisation that already has actions is left as it is.
"""

from __future__ import annotations

import datetime as dt
import uuid

from organisations.tables import StakeholderGroup
from plans import queries, services
from plans.tables import Action

# Titles and objectives the demo team would write for the priorities its consultation raised.
_FROM_PRIORITIES = {
    "gouv.separation_pouvoirs": (
        "Clarifier les rôles du conseil d'administration et de l'équipe salariée",
        "Une charte des rôles adoptée par le conseil et présentée à l'équipe.",
        "Chaque instance rend compte de ses décisions une fois par trimestre.",
        ("Réunions du conseil avec compte rendu diffusé", "%", 40.0, 100.0, 55.0),
    ),
    "soc.dialogue_social": (
        "Tenir une réunion d'équipe mensuelle ouverte à tous les salariés",
        "Dix réunions d'équipe dans l'année, avec un ordre du jour partagé.",
        "Un accord sur l'organisation du travail négocié avec les salariés.",
        ("Réunions d'équipe tenues", "réunions", 3.0, 10.0, 6.0),
    ),
    "gouv.participation_ag": (
        "Faire venir plus d'adhérents à l'assemblée générale",
        "Documents envoyés trois semaines avant l'AG et vote à distance possible.",
        "Un adhérent sur trois présent ou représenté à l'AG.",
        ("Adhérents présents ou représentés à l'AG", "%", 18.0, 33.0, 24.0),
    ),
    "soc.conditions_emploi": (
        "Réduire la part des contrats courts",
        "Transformer deux contrats à durée déterminée en contrats à durée indéterminée.",
        "Au moins 80 % des salariés en contrat à durée indéterminée.",
        ("Salariés en CDI", "%", 62.0, 80.0, 62.0),
    ),
    "gouv.regles_ecrites": (
        "Mettre à jour et diffuser le règlement intérieur",
        "Règlement intérieur révisé et mis en ligne pour tous les adhérents.",
        "Relecture des statuts et du règlement tous les trois ans, avec les adhérents.",
        None,
    ),
}


async def seed_plan(organisation_id: uuid.UUID, user_ids: list[uuid.UUID]) -> bool:
    """Create the demo's action plan and its first review. Returns False when the plan already exists."""
    if await Action.exists().where(Action.organisation == organisation_id):
        return False
    found = await queries.plan_priorities(organisation_id=organisation_id)
    campaign = found["campaign"]
    owners = list(user_ids) or [None]
    today = services.today()
    created: list[uuid.UUID] = []
    chosen = [p for p in found["priorities"] if p["practice_key"] in _FROM_PRIORITIES][:5]
    existing_groups = {
        g["name"] for g in await StakeholderGroup.select(StakeholderGroup.name).where(StakeholderGroup.organisation == organisation_id)
    }
    if campaign is None:
        chosen = []
    due_offsets = (-20, 90, 150, 240, 365)  # the first is overdue on purpose
    for index, priority in enumerate(chosen):
        title, one_year, three_years, indicator = _FROM_PRIORITIES[priority["practice_key"]]
        prefill = await queries.priority_prefill(
            organisation_id=organisation_id, campaign_id=campaign["id"], practice_key=priority["practice_key"]
        )
        indicators = ()
        if indicator:
            name, unit, baseline, target, _current = indicator
            indicators = (services.IndicatorInput(name=name, unit=unit, baseline=baseline, target=target),)
        created.append(await services.action_create(
            organisation_id=organisation_id, user_id=owners[0],
            data=services.ActionInput(
                title=title, practice_keys=tuple(prefill["practice_keys"]), theme_key=prefill["theme_key"], finding=prefill["finding"],
                objective_1y=one_year, objective_3y=three_years, owner_id=owners[index % len(owners)],
                due_on=today + dt.timedelta(days=due_offsets[index % len(due_offsets)]),
                status="en_cours" if index < 2 else "a_lancer",
                groups=tuple(g for g in _groups_for(priority["practice_key"]) if g in existing_groups),
                source_campaign_id=campaign["id"], indicators=indicators,
            ),
        ))
    # One action from scratch, on the theme the team rated lowest.
    created.append(await services.action_create(
        organisation_id=organisation_id, user_id=owners[0],
        data=services.ActionInput(
            title="Faire le bilan des consommations d'énergie du local et de la serre",
            description="Relevés mensuels des compteurs et visite d'un conseiller en énergie partagé de la métropole.",
            theme_key="environnement", finding="Auto-diagnostic : la dimension environnementale est notre thème le plus faible.",
            objective_1y="Un bilan chiffré présenté à l'assemblée générale.",
            objective_3y="Consommation d'énergie réduite de 20 % par rapport au bilan.",
            owner_id=owners[-1], due_on=today + dt.timedelta(days=120), status="a_lancer",
            indicators=(services.IndicatorInput(name="Consommation d'électricité", unit="kWh/an", baseline=None, target=None),),
        ),
    ))

    # The first review: values measured, one action done, notes.
    items = []
    for action_id, priority in zip(created, chosen):
        indicator = _FROM_PRIORITIES[priority["practice_key"]][3]
        action = await queries.action_get(organisation_id=organisation_id, action_id=action_id)
        values = {}
        if indicator and action["indicators"] and indicator[4] != indicator[2]:
            values[action["indicators"][0]["id"]] = indicator[4]
        status = None
        note = ""
        if priority["practice_key"] == "gouv.regles_ecrites":
            status, note = "realisee", "Règlement adopté par le conseil et envoyé à tous les adhérents."
        elif priority["practice_key"] == "gouv.participation_ag":
            status, note = "en_cours", "Convocation envoyée plus tôt cette année ; le vote à distance reste à organiser."
        elif values:
            note = "En progrès, à poursuivre."
        items.append(services.ReviewItemInput(action_id=action_id, status=status, note=note, values=values))
    await services.review_record(
        organisation_id=organisation_id, user_id=owners[0],
        data=services.ReviewInput(
            held_on=today, notes="Première revue du plan, en réunion d'équipe avec deux administrateurs.", items=tuple(items),
        ),
    )
    if user_ids:
        await services.demarche_update(organisation_id=organisation_id, data=services.DemarcheInput(pilot_id=user_ids[0]))
    return True


def _groups_for(practice_key: str) -> tuple[str, ...]:
    if practice_key.startswith("soc."):
        return ("Salariés",)
    if practice_key.startswith("gouv."):
        return ("Adhérents", "Bénévoles")
    return ()
