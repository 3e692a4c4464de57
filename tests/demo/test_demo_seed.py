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
    assert (await client.get(f"/o/{DEMO_SLUG}/demarche")).status_code == 200


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


async def test_cli_seeds_the_demo_and_exports_results_with_a_progress_bar(db, tmp_path):
    import os
    import subprocess
    import sys

    import polars as pl

    from consultations.tables import Campaign
    from tests.conftest import ROOT

    env = os.environ.copy()
    run = lambda *args: subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: E731
    seeded = run("seed-demo")
    assert seeded.returncode == 0 and "créée" in seeded.stdout, seeded.stderr
    assert "déjà présente" in run("seed-demo").stdout
    campaign = await Campaign.select(Campaign.id).where(Campaign.status == "closed").first()
    out = tmp_path / "resultats.xlsx"
    exported = run("export-results", "--campaign", str(campaign["id"]), "--format", "xlsx", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "[" in exported.stderr and "100%" in exported.stderr  # the progress bar
    sheets = pl.read_excel(out, sheet_id=0)
    assert "Pratiques" in sheets and sheets["Pratiques"].height >= 35
