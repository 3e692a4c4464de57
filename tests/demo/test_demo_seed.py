"""The demo organisation is realistic and seeding it twice duplicates nothing."""

from __future__ import annotations

from api.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SLUG, seed_demo
from organisations.tables import Membership, Organisation, User
from surveys.tables import Diagnosis, DiagnosisAnswer
from tests.helpers import log_in


async def test_demo_seed_is_idempotent_and_the_demo_login_works(client):
    assert await seed_demo() is True
    counts = (await Organisation.count(), await User.count(), await Membership.count(), await DiagnosisAnswer.count())
    assert await seed_demo() is False
    assert (await Organisation.count(), await User.count(), await Membership.count(), await DiagnosisAnswer.count()) == counts
    assert (await log_in(client, DEMO_EMAIL, DEMO_PASSWORD)).status_code == 303
    assert (await client.get(f"/o/{DEMO_SLUG}/")).status_code == 200


async def test_demo_has_a_closed_diagnosis_answered_by_three_members(client):
    await seed_demo()
    [diagnosis] = await Diagnosis.select().where(Diagnosis.status == "closed")
    members = await DiagnosisAnswer.select(DiagnosisAnswer.member).where(DiagnosisAnswer.diagnosis == diagnosis["id"]).distinct()
    assert len(members) == 3
    await log_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    results = await client.get(f"/o/{DEMO_SLUG}/diagnostic/{diagnosis['id']}/resultats")
    assert results.status_code == 200 and "Vos axes de progrès" in results.text


async def test_demo_has_a_closed_campaign_with_about_sixty_answers_and_an_open_one(client):
    from consultations.tables import Campaign, CampaignGroup, Response

    await seed_demo()
    closed = await Campaign.objects().where(Campaign.status == "closed").first()
    assert await Campaign.count().where(Campaign.status == "open") == 1
    groups = await CampaignGroup.count().where(CampaignGroup.campaign == closed.id)
    answers = await Response.count().where(Response.campaign == closed.id)
    assert 6 <= groups <= 8
    assert 40 <= answers <= 70
