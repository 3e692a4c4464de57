"""The demo organisation: realistic, and idempotent (seeding twice duplicates nothing)."""

from __future__ import annotations

import random

from api.db import transaction
from consultations import links
from consultations import services as consultations
from consultations.tables import Invitation
from organisations.demo import seed_stakeholders
from plans.demo import seed_plan
from organisations.tables import StakeholderGroup
from surveys.services import AnswerInput, answer_save, diagnosis_close, diagnosis_open, diagnosis_scope
from organisations.services import OrganisationInput, signup
from organisations.tables import Membership, Organisation, User

DEMO_SLUG = "les-jardins-partages-du-val"
DEMO_EMAIL = "demo@esspratiques.example"
DEMO_PASSWORD = "demo-ess-pratiques"
DEMO_TEAM = [
    ("claire.martin@esspratiques.example", "Claire Martin", "contributor"),
    ("karim.benali@esspratiques.example", "Karim Benali", "contributor"),
]


async def seed_demo() -> bool:
    """Create the demo organisation and its team. Returns False when it already exists."""
    if await Organisation.exists().where(Organisation.slug == DEMO_SLUG):
        return False
    from api.security import hash_password

    user, org = await signup(
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        name="Sophie Durand",
        organisation=OrganisationInput(
            name="Les Jardins partagés du Val",
            legal_form="association",
            coop_kind=None,
            siret="73282932000074",
            postcode="44000",
            region=None,
            headcount_band="10-49",
        ),
    )
    password_hash = await hash_password(DEMO_PASSWORD)
    team = [user.id]
    async with transaction():
        await Organisation.update({Organisation.slug: DEMO_SLUG}).where(Organisation.id == org.id)
        await User.update({User.email_verified: True}).where(User.id == user.id)
        for email, name, role in DEMO_TEAM:
            member = User(email=email, name=name, password_hash=password_hash, email_verified=True)
            await member.save()
            await Membership(user=member.id, organisation=org.id, role=role).save()
            team.append(member.id)
    await seed_diagnosis(organisation_id=org.id, team=team)
    await seed_stakeholders(org.id)
    await seed_campaigns(organisation_id=org.id, user_id=user.id)
    await seed_plan(org.id, team)
    return True


# How the demo team sees itself, theme by theme (1–5): proud of its governance and
# its link with users, aware that environment and diversity lag behind.
_DEMO_THEME_LEVELS = {
    "gouvernance": 4, "concertation": 3, "territoire": 4, "social": 3,
    "usagers": 4, "diversite": 2, "environnement": 2, "ethique": 3,
}


async def seed_diagnosis(*, organisation_id, team) -> None:
    """A closed self-diagnosis of the complete référentiel, answered by three members."""
    rng = random.Random(2026)
    diagnosis = await diagnosis_open(
        organisation_id=organisation_id, user_id=team[0], referentiel_key="complet", title="Auto-diagnostic 2026"
    )
    _row, scope = await diagnosis_scope(organisation_id=organisation_id, diagnosis_id=diagnosis.id)
    for member_index, member_id in enumerate(team):
        for practice in scope.practices:
            base = _DEMO_THEME_LEVELS[practice.theme]
            roll = rng.random()
            if roll < 0.05:
                answer = "dont_know"
            else:
                # Karim (the newest) is more critical; opinions split on a few practices.
                shift = rng.choice([-1, 0, 0, 0, 1]) - (1 if member_index == 2 and rng.random() < 0.4 else 0)
                answer = str(min(5, max(1, base + shift)))
            await answer_save(
                organisation_id=organisation_id,
                diagnosis_id=diagnosis.id,
                user_id=member_id,
                data=AnswerInput(
                    practice_key=practice.key,
                    answer=answer,
                    importance=str(min(5, max(1, 3 + rng.choice([-1, 0, 1, 1])))),
                    existing="Procès-verbaux d'AG, charte du bénévolat" if practice.key == "gouv.regles_ecrites" and member_index == 0 else None,
                ),
            )
    await diagnosis_close(organisation_id=organisation_id, diagnosis_id=diagnosis.id)


# How each group sees the organisation, on average (1–5), and how often it answers.
_DEMO_PERCEPTION = {
    "salaries": (3.0, 0.9), "benevoles": (3.6, 0.8), "adherents": (3.3, 0.75), "usagers": (3.9, 0.7),
    "financeurs": (3.2, 1.0), "collectivites": (3.4, 1.0), "partenaires": (3.5, 0.75),
}
# Where stakeholders disagree with the team: seen lower on governance and pay, higher on the environment.
_DEMO_THEME_SHIFT = {"gouvernance": -0.9, "social": -0.6, "environnement": 0.8, "diversite": 0.3}


_DEMO_COMMENTS = [
    "Les comptes rendus du conseil d'administration ne sont pas faciles à trouver.",
    "Très bon accueil, on se sent écouté.",
    "Il faudrait plus d'informations avant l'assemblée générale.",
    "Le compost collectif est une belle réussite.",
    "On ne sait pas toujours à qui s'adresser pour une réclamation.",
    "Les horaires des réunions ne conviennent pas à tout le monde.",
]


async def seed_campaigns(*, organisation_id, user_id) -> None:
    """A closed consultation answered by about 60 stakeholders, and an open one."""
    rng = random.Random(31)
    groups = await StakeholderGroup.select(StakeholderGroup.id).where(StakeholderGroup.organisation == organisation_id)
    audience = tuple(consultations.AudienceInput(group_id=g["id"]) for g in groups)
    closed = await consultations.campaign_create(
        organisation_id=organisation_id, user_id=user_id,
        data=consultations.CampaignInput(
            title="Consultation des parties prenantes 2026", referentiel_key="complet", threshold=5, audience=audience,
            message="Merci de prendre dix minutes pour nous dire comment vous voyez notre association.",
        ),
    )
    await consultations.campaign_launch(organisation_id=organisation_id, campaign_id=closed.id, accept_warnings=True)
    invitations = await Invitation.select(Invitation.id, Invitation.nonce, Invitation.campaign_group.category.as_alias("category")).where(
        Invitation.campaign == closed.id
    ).order_by(Invitation.contact.email)  # a stable order: ids are random
    for invitation in invitations:
        mean, rate = _DEMO_PERCEPTION.get(invitation["category"], (3.3, 0.7))
        if rng.random() > rate:
            continue
        respondent = await consultations.respondent_for_invitation(
            links.make_token(links.PURPOSE_INVITATION, invitation["id"], invitation["nonce"])
        )
        answers = {}
        for practice in respondent.practices:
            if rng.random() < 0.08:
                answers[practice.key] = {"answer": "dont_know"}
                continue
            level = round(rng.gauss(mean + _DEMO_THEME_SHIFT.get(practice.theme, 0.0), 0.9))
            answers[practice.key] = {"answer": str(min(5, max(1, level))), "importance": str(min(5, max(1, round(rng.gauss(3.8, 0.9)))))}
            if rng.random() < 0.04:
                answers[practice.key]["comment"] = rng.choice(_DEMO_COMMENTS)
        await consultations.submit(respondent, answers)
    await consultations.campaign_close(organisation_id=organisation_id, campaign_id=closed.id)
    opened = await consultations.campaign_create(
        organisation_id=organisation_id, user_id=user_id,
        data=consultations.CampaignInput(
            title="Consultation des bénévoles — printemps", referentiel_key="essentiel", threshold=5,
            audience=tuple(a for a in audience[:2]),
        ),
    )
    await consultations.campaign_launch(organisation_id=organisation_id, campaign_id=opened.id, accept_warnings=True)
