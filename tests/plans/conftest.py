"""Fixtures for the plans tests: a small organisation with a team, and the demo organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.helpers import PASSWORD


@dataclass
class Team:
    org_id: uuid.UUID
    slug: str
    admin: uuid.UUID
    contributor: uuid.UUID
    reader: uuid.UUID
    emails: dict[str, str]


async def add_member(org_id: uuid.UUID, email: str, name: str, role: str) -> uuid.UUID:
    from api.security import hash_password
    from organisations.tables import Membership, User

    user = User(email=email, name=name, password_hash=await hash_password(PASSWORD), email_verified=True)
    await user.save()
    await Membership(user=user.id, organisation=org_id, role=role).save()
    return user.id


@pytest.fixture
async def team(db) -> Team:
    from organisations.services import OrganisationInput, signup
    from organisations.tables import Organisation, User

    user, org = await signup(
        email="alice@example.org", password=PASSWORD, name="Alice Admin",
        organisation=OrganisationInput(name="Association Les Amis du Quartier", legal_form="association", coop_kind=None,
                                       siret=None, postcode="44000", region=None, headcount_band="1-9"),
    )
    await User.update({User.email_verified: True}).where(User.id == user.id)
    contributor = await add_member(org.id, "carla@example.org", "Carla Contributrice", "contributor")
    reader = await add_member(org.id, "remi@example.org", "Rémi Lecteur", "reader")
    slug = (await Organisation.select(Organisation.slug).where(Organisation.id == org.id).first())["slug"]
    return Team(org_id=org.id, slug=slug, admin=user.id, contributor=contributor, reader=reader,
                emails={"admin": "alice@example.org", "contributor": "carla@example.org", "reader": "remi@example.org"})


@dataclass
class Demo:
    org_id: uuid.UUID
    slug: str
    user_ids: list[uuid.UUID]
    campaign_id: uuid.UUID
    diagnosis_id: uuid.UUID


@pytest.fixture
async def demo(db) -> Demo:
    from api.demo import DEMO_SLUG, seed_demo
    from consultations.tables import Campaign
    from organisations.tables import Membership, Organisation
    from surveys.tables import Diagnosis

    assert await seed_demo() is True
    # These tests build the plan themselves: start from the demo's results without its plan.
    import plans.tables as plan_tables
    from piccolo.table import Table

    for table in [t for t in vars(plan_tables).values() if isinstance(t, type) and issubclass(t, Table) and t is not Table
                  and t.__module__ == plan_tables.__name__]:
        await table.delete(force=True)
    org = await Organisation.select(Organisation.id).where(Organisation.slug == DEMO_SLUG).first()
    members = await Membership.select(Membership.user).where(Membership.organisation == org["id"]).order_by(Membership.created_at)
    campaign = await Campaign.select(Campaign.id).where((Campaign.organisation == org["id"]) & (Campaign.status == "closed")).first()
    diagnosis = await Diagnosis.select(Diagnosis.id).where((Diagnosis.organisation == org["id"]) & (Diagnosis.status == "closed")).first()
    return Demo(org_id=org["id"], slug=DEMO_SLUG, user_ids=[m["user"] for m in members], campaign_id=campaign["id"], diagnosis_id=diagnosis["id"])


def png_bytes(width: int = 1200, height: int = 800, mode: str = "RGBA") -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, (width, height), (31, 95, 63, 255) if mode == "RGBA" else (31, 95, 63)).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(width: int = 900, height: int = 300) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buf, format="JPEG")
    return buf.getvalue()


def pdf_text(content: bytes) -> str:
    """The PDF's text, one string, with French spaces (non-breaking, narrow) turned into plain ones."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return text.replace("\u00a0", " ").replace("\u202f", " ")
