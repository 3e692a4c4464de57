"""The demo organisation: realistic, and idempotent (seeding twice duplicates nothing)."""

from __future__ import annotations

import random

from api.db import transaction
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
