"""The demo organisation: realistic, and idempotent (seeding twice duplicates nothing)."""

from __future__ import annotations

from api.db import transaction
from organisations.services import OrganisationInput, signup
from organisations.tables import Membership, Organisation, User

DEMO_SLUG = "les-jardins-partages-du-val"
DEMO_EMAIL = "demo@esspratiques.localhost"
DEMO_PASSWORD = "demo-ess-pratiques"
DEMO_TEAM = [
    ("claire.martin@esspratiques.localhost", "Claire Martin", "contributor"),
    ("karim.benali@esspratiques.localhost", "Karim Benali", "contributor"),
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
    async with transaction():
        await Organisation.update({Organisation.slug: DEMO_SLUG}).where(Organisation.id == org.id)
        await User.update({User.email_verified: True}).where(User.id == user.id)
        for email, name, role in DEMO_TEAM:
            member = User(email=email, name=name, password_hash=password_hash, email_verified=True)
            await member.save()
            await Membership(user=member.id, organisation=org.id, role=role).save()
    return True
