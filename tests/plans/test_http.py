"""The action plan over HTTP, as a person and as an API client: from the demo's results to the AG report's PDF."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import uuid

import polars as pl

from api.demo import DEMO_EMAIL, DEMO_PASSWORD
from api.templating import fr_number
from consultations.results import campaign_results
from consultations.tables import CampaignGroup, Response
from plans import queries, services
from plans.tables import Action, Logo, Review
from tests.helpers import PASSWORD, api, log_in, outbox, post_form
from tests.plans.conftest import jpeg_bytes, pdf_text, png_bytes

SECTIONS = (
    "1. L'organisation et ses thèmes", "2. L'auto-diagnostic", "3. La consultation des parties prenantes",
    "4. Les principaux constats", "5. Le plan d'action", "6. Les progrès depuis l'an dernier", "7. Le débat en assemblée générale",
)


def text_of(response) -> str:
    return html.unescape(response.text).replace("\u00a0", " ").replace("\u202f", " ")


async def _true_group_sizes(campaign_id: uuid.UUID) -> dict[str, int]:
    groups = await CampaignGroup.select(CampaignGroup.id, CampaignGroup.name).where(CampaignGroup.campaign == campaign_id)
    sizes = {}
    for g in groups:
        sizes[g["name"]] = await Response.count().where(Response.campaign_group == g["id"])
    return sizes


async def test_from_the_demo_results_a_user_plans_reviews_and_downloads_the_ag_report(client, demo):
    assert (await log_in(client, DEMO_EMAIL, DEMO_PASSWORD)).status_code == 303
    base = f"/o/{demo.slug}/plan"
    results = await campaign_results(organisation_id=demo.org_id, campaign_id=demo.campaign_id)
    first, second = results.priorities[0], results.priorities[1]

    # The priorities page offers to turn each priority into an action.
    page = await client.get(f"{base}/priorites")
    assert page.status_code == 200
    assert f"actions/nouvelle?consultation={demo.campaign_id}&amp;pratique={first['practice_key']}" in page.text

    # The form comes pre-filled with the practice, the theme and the finding.
    form = await client.get(f"{base}/actions/nouvelle", params={"consultation": str(demo.campaign_id), "pratique": first["practice_key"]})
    assert form.status_code == 200
    assert first["reason"] in text_of(form)
    assert f'<option value="{first["theme_key"]}" selected>' in form.text
    assert f'<option value="{first["practice_key"]}" selected>' in form.text

    # French errors, re-rendered with status 400.
    bad = await post_form(client, f"{base}/actions/nouvelle", {
        "title": "", "owner_id": str(uuid.uuid4()), "status": "abandonnee", "abandon_reason": "", "ind_name__0": "", "ind_target__0": "trente",
    })
    assert bad.status_code == 400
    for message in ("Donnez un titre à l'action.", "Le responsable doit être un membre de l'équipe.",
                    "Indiquez pourquoi l'action est abandonnée.", "Indiquez un nombre (par exemple 12 ou 12,5)."):
        assert message in text_of(bad)
    assert await Action.count() == 0

    created = await post_form(client, f"{base}/actions/nouvelle", {
        "title": "Clarifier les rôles du conseil et de l'équipe", "theme_key": first["theme_key"], "practice_keys": first["practice_key"],
        "finding": first["reason"], "source_campaign_id": str(demo.campaign_id), "owner_id": str(demo.user_ids[1]),
        "due_on": (dt.date.today() + dt.timedelta(days=120)).isoformat(), "status": "a_lancer",
        "objective_1y": "Une charte des rôles adoptée", "objective_3y": "Des comptes rendus trimestriels", "groups": "Adhérents",
        "ind_name__0": "Réunions du conseil avec compte rendu", "ind_unit__0": "%", "ind_baseline__0": "40", "ind_target__0": "100",
    })
    assert created.status_code == 303, created.text
    action_id = uuid.UUID(created.headers["location"].rsplit("/", 1)[1])
    second_created = await post_form(client, f"{base}/actions/nouvelle", {
        "title": "Tenir une réunion d'équipe mensuelle", "practice_keys": second["practice_key"], "finding": second["reason"],
        "source_campaign_id": str(demo.campaign_id), "owner_id": str(demo.user_ids[0]), "status": "en_cours",
        "objective_1y": "Dix réunions", "objective_3y": "Un accord sur l'organisation du travail",
    })
    assert second_created.status_code == 303
    second_id = uuid.UUID(second_created.headers["location"].rsplit("/", 1)[1])
    action = await queries.action_get(organisation_id=demo.org_id, action_id=action_id)
    assert action["finding"] == first["reason"] and action["practice_keys"] == [first["practice_key"]]
    indicator_id = action["indicators"][0]["id"]

    # A review: an indicator value, a status change and notes, in one go.
    assert (await client.get(f"{base}/revues/nouvelle")).status_code == 200
    bad_review = await post_form(client, f"{base}/revues/nouvelle", {
        "held_on": dt.date.today().isoformat(), f"status__{second_id}": "abandonnee", f"value__{action_id}__{indicator_id}": "beaucoup",
    })
    assert bad_review.status_code == 400
    assert "Indiquez un nombre (par exemple 12 ou 12,5)." in text_of(bad_review)
    assert "Indiquez pourquoi l'action est abandonnée." in text_of(bad_review)
    assert await Review.count() == 0
    review = await post_form(client, f"{base}/revues/nouvelle", {
        "held_on": dt.date.today().isoformat(), "notes": "Première revue, avec le bureau.",
        f"status__{action_id}": "en_cours", f"value__{action_id}__{indicator_id}": "62,5", f"note__{action_id}": "Charte en relecture",
        f"status__{second_id}": "realisee", f"note__{second_id}": "Réunions en place",
    })
    assert review.status_code == 303, review.text
    shown = await client.get(review.headers["location"])
    assert shown.status_code == 200 and "Charte en relecture" in text_of(shown) and "62,5" in shown.text
    reviews = await client.get(f"{base}/revues")
    assert reviews.status_code == 200 and "Première revue, avec le bureau." in text_of(reviews)
    plan = await client.get(f"{base}/")
    assert plan.status_code == 200
    assert "Clarifier les rôles du conseil et de l'équipe" in text_of(plan) and "Réunions du conseil avec compte rendu : 62,5 / 100 %" in text_of(plan)
    detail = await client.get(f"{base}/actions/{action_id}")
    assert detail.status_code == 200
    assert "À lancer → En cours" in text_of(detail) and "Réunions du conseil avec compte rendu : 62,5" in text_of(detail)

    # The report's PDF: the expected sections and figures, and no suppressed figure.
    pdf = await client.get(f"{base}/rapport.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    lines = text.splitlines()
    year = services.today().year
    assert "Les Jardins partagés du Val" in text and f"Rapport à l'assemblée générale {year}" in text
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "Page 1 sur" in text
    assert "Auto-diagnostic 2026" in text and "Consultation des parties prenantes 2026" in text
    assert f"{results.respondents} réponses au total" in text
    threshold = results.campaign["threshold"]
    assert f"aucun résultat n'est publié pour un groupe de moins de {threshold} réponses" in re.sub(r"\s+", " ", text)
    for theme in results.themes:  # "Regards croisés": the team's and the stakeholders' score of each theme
        row = f"{theme['number']}. {theme['title']} {fr_number(theme['self_score'])} {fr_number(theme['score'])}"
        assert row in re.sub(r"[ \n]+", " ", text), row
    participation = text[text.index(SECTIONS[2]):text.index(SECTIONS[3])]
    part_lines = participation.splitlines()
    sizes = await _true_group_sizes(demo.campaign_id)
    suppressed = [g for g in results.groups if g["suppressed"]]
    assert suppressed, "the demo campaign has groups below the threshold"
    for g in results.groups:
        [row] = [line for line in part_lines if line.startswith(g["name"]) and ("masqué" in line or re.search(r"\d", line))]
        if g["suppressed"]:
            assert f"masqué (moins de {threshold} réponses)" in row
            digits = set(re.findall(r"\d+", row.replace(f"moins de {threshold}", "")))
            assert str(sizes[g["name"]]) not in digits, f"{g['name']}: its size leaked"
        else:
            assert row.rstrip().endswith(str(g["n_respondents"]))
    for g in suppressed:  # nowhere in the document does its size sit next to its name
        for line in lines:
            if g["name"] in line:
                assert not re.search(rf"\b{sizes[g['name']]}\b", line.replace(f"moins de {threshold}", "")), line
    assert "Points aveugles" in text and "Les priorités qui en découlent" in text
    flat = re.sub(r"\s+", " ", text)
    assert "Clarifier les rôles du conseil et de l'équipe" in flat and "Tenir une réunion d'équipe mensuelle" in flat
    assert "62,5" in text  # the value recorded at the review
    assert "Actions réalisées" in text and re.search(r"Tenir une réunion d'équipe mensuelle — le \d+", flat)

    # The printable page and the short version for employees.
    page = await client.get(f"{base}/rapport")
    assert page.status_code == 200 and f"masqué (moins de {threshold} réponses)" in text_of(page) and "<svg" in page.text
    short = await client.get(f"{base}/rapport-salaries.pdf")
    assert short.status_code == 200
    short_text = pdf_text(short.content)
    assert f"le point {year}" in short_text and "Tenir une réunion d'équipe mensuelle" in re.sub(r"\s+", " ", short_text)
    assert "7. Le débat en assemblée générale" not in short_text
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(short.content)).pages) < len(PdfReader(io.BytesIO(pdf.content)).pages)


async def test_the_ag_debate_is_recorded_and_printed(client, demo):
    await log_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    base = f"/o/{demo.slug}/plan"
    year = services.today().year
    assert (await client.get(f"{base}/rapport/debat")).status_code == 200
    bad = await post_form(client, f"{base}/rapport/debat", {"year": str(year), "ag_attendance": "130", "ag_members": "120", "ag_date": "12/06"})
    assert bad.status_code == 400
    assert "Il ne peut y avoir plus de présents ou représentés que de membres convoqués." in text_of(bad)
    assert "Indiquez une date valide (jour/mois/année)." in text_of(bad)
    saved = await post_form(client, f"{base}/rapport/debat", {
        "year": str(year), "ag_date": f"{year}-06-20", "ag_attendance": "42", "ag_members": "120",
        "ag_debate": "Les adhérents demandent un vote à distance.", "ag_decisions": "Vote à distance dès l'an prochain.",
    })
    assert saved.status_code == 200 and "Débat enregistré." in saved.text
    text = pdf_text((await client.get(f"{base}/rapport.pdf", params={"annee": year})).content)
    assert "Vote à distance dès l'an prochain." in text and "42 membres présents ou représentés sur 120 convoqués" in text
    assert "20 juin" in text
    d = await queries.demarche(organisation_id=demo.org_id, slug=demo.slug)
    assert {s.key: s.done for s in d.steps}["ag"]


async def test_the_logo_is_uploaded_in_settings_checked_by_content_and_printed(client, demo):
    await log_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    settings = await client.get(f"/o/{demo.slug}/parametres")
    assert f"/o/{demo.slug}/plan/logo" in settings.text
    url = f"/o/{demo.slug}/plan/logo"
    assert (await client.get(url)).status_code == 200
    token = client.cookies.get("essp_csrf")
    renamed = await client.post(url, data={"_csrf_token": token}, files={"logo": ("logo.png", b"Bonjour, je suis un fichier texte.\n", "image/png")})
    assert renamed.status_code == 400 and "Le logo doit être une image PNG ou JPEG." in text_of(renamed)
    assert await Logo.count() == 0
    accepted = await client.post(url, data={"_csrf_token": token}, files={"logo": ("logo.bin", png_bytes(1600, 400), "application/octet-stream")})
    assert accepted.status_code == 200 and "Logo enregistré" in text_of(accepted)
    logo = await Logo.select(Logo.width, Logo.height, Logo.media_type).first()
    assert (logo["width"], logo["height"], logo["media_type"]) == (600, 150, "image/png")
    jpeg = await client.post(url, data={"_csrf_token": token}, files={"logo": ("photo.jpg", jpeg_bytes(), "image/jpeg")})
    assert jpeg.status_code == 200 and await Logo.count() == 1
    page = await client.get(f"/o/{demo.slug}/plan/rapport")
    assert 'src="data:image/jpeg;base64,' in page.text
    pdf = (await client.get(f"/o/{demo.slug}/plan/rapport.pdf")).content
    assert b"/Subtype /Image" in pdf


async def test_the_demarche_dashboard_and_the_next_cycle(client, demo):
    await log_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    page = await client.get(f"/o/{demo.slug}/demarche")
    assert page.status_code == 200
    body = text_of(page)
    assert "Prochaine étape : Nommer un pilote de la démarche." in body and "Préparer le cycle suivant" in body
    assert body.count("fait</span>") == 2  # the diagnosis and the consultation, from the data
    bad = await post_form(client, f"/o/{demo.slug}/demarche", {"pilot_id": str(uuid.uuid4()), "review_months": "48"})
    assert bad.status_code == 400 and "Le pilote doit être un membre de l'équipe." in text_of(bad)
    saved = await post_form(client, f"/o/{demo.slug}/demarche", {
        "pilot_id": str(demo.user_ids[0]), "employees_informed_on": dt.date.today().isoformat(), "ag_date": "", "review_months": "6",
    })
    assert saved.status_code == 303
    api_view = (await client.get(f"/api/v1/organisations/{demo.org_id}/demarche")).json()
    assert api_view["pilot_name"] == "Sophie Durand" and api_view["review_months"] == 6 and api_view["next_step"] == "themes"
    assert {s["key"]: s["done"] for s in api_view["steps"]}["salaries"] is True

    prepared = await post_form(client, f"/o/{demo.slug}/demarche/cycle-suivant", {})
    assert prepared.status_code == 303
    year = services.today().year + 1
    assert prepared.headers["location"] == f"/o/{demo.slug}/demarche?cycle={year}"
    after = await client.get(prepared.headers["location"])
    assert f"cycle {year}" in text_of(after) and "Le cycle" in text_of(after)
    again = await post_form(client, f"/o/{demo.slug}/demarche/cycle-suivant", {})
    assert again.status_code == 409 and f"Le cycle {year} est déjà préparé." in text_of(again)
    evolution = await client.get(f"/o/{demo.slug}/plan/evolution")
    assert evolution.status_code == 200 and "Gouvernance démocratique" in evolution.text


async def test_the_api_covers_actions_reviews_reports_and_exports(client, demo):
    await log_in(client, DEMO_EMAIL, DEMO_PASSWORD)
    root = f"/api/v1/organisations/{demo.org_id}"
    results = await campaign_results(organisation_id=demo.org_id, campaign_id=demo.campaign_id)
    top = results.priorities[0]
    made = await api(client, "POST", f"{root}/actions/from-priority", json={
        "campaign_id": str(demo.campaign_id), "practice_key": top["practice_key"], "owner_id": str(demo.user_ids[1]), "due_on": "2020-01-31",
    })
    assert made.status_code == 201, made.text
    action = made.json()
    assert action["finding"].endswith(top["reason"]) and action["theme_key"] == top["theme_key"] and action["overdue"] is True
    invalid = await api(client, "POST", f"{root}/actions", json={"title": " ", "owner_id": str(uuid.uuid4()), "status": "abandonnee"})
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == {
        "title": "Donnez un titre à l'action.", "owner_id": "Le responsable doit être un membre de l'équipe.",
        "abandon_reason": "Indiquez pourquoi l'action est abandonnée.",
    }
    full = await api(client, "POST", f"{root}/actions", json={
        "title": "Bilan énergie", "theme_key": "environnement", "objective_1y": "Un bilan", "objective_3y": "-20 %",
        "indicators": [{"name": "Électricité", "unit": "kWh", "baseline": 12000.5, "target": 9600}],
    })
    assert full.status_code == 201
    energy = full.json()
    indicator_id = energy["indicators"][0]["id"]
    updated = await api(client, "PUT", f"{root}/actions/{energy['id']}", json={
        "title": "Bilan énergie du local", "theme_key": "environnement",
        "indicators": [{"id": indicator_id, "name": "Électricité", "unit": "kWh", "baseline": 12000.5, "target": 9000}],
    })
    assert updated.status_code == 200 and updated.json()["indicators"][0]["target"] == 9000

    reviewed = await api(client, "POST", f"{root}/reviews", json={
        "notes": "Revue", "items": [{"action_id": energy["id"], "status": "en_cours", "values": {indicator_id: 11000}}],
    })
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["items"][0]["values"][0]["value"] == 11000
    timeline = (await client.get(f"{root}/actions/{energy['id']}/timeline")).json()
    assert [e["kind"] for e in timeline] == ["creation", "revue", "mesure"]

    reminded = await api(client, "POST", f"{root}/actions/{action['id']}/remind")
    assert reminded.status_code == 202 and reminded.json()["queued_to"] == "claire.martin@esspratiques.example"
    [mail] = await outbox("action_reminder")
    assert f"/o/{demo.slug}/plan/actions/{action['id']}" in mail["text"]
    assert (await api(client, "POST", f"{root}/actions/{action['id']}/remind")).status_code == 409

    report = (await client.get(f"{root}/reports/{services.today().year}")).json()
    groups = {g["name"]: g for g in report["groups"]}
    for g in results.groups:
        assert groups[g["name"]]["suppressed"] == g["suppressed"]
        assert groups[g["name"]]["respondents"] == (None if g["suppressed"] else g["n_respondents"])
    assert report["anonymity_threshold"] == results.campaign["threshold"] and report["actions"] == 2
    pdf = await client.get(report["pdf"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    debate = await api(client, "PUT", f"{root}/reports/{services.today().year}/debate", json={"ag_attendance": 30, "ag_members": 20})
    assert debate.status_code == 422 and "ag_attendance" in debate.json()["errors"]

    csv_export = await client.get(f"{root}/actions/export.csv")
    assert csv_export.status_code == 200 and csv_export.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(csv_export.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    energy_row = next(r for r in rows if r["titre"] == "Bilan énergie du local")
    assert (energy_row["valeur de départ"], energy_row["cible"], energy_row["valeur actuelle"]) == ("12000,5", "9000", "11000")
    sheet = pl.read_excel(io.BytesIO((await client.get(f"/o/{demo.slug}/plan/export.xlsx")).content))
    assert set(sheet.get_column("titre").to_list()) == {a["title"] for a in (await client.get(f"{root}/actions")).json()}
    assert (await api(client, "DELETE", f"{root}/actions/{energy['id']}")).status_code == 204
    assert (await client.get(f"{root}/actions/{energy['id']}")).status_code == 404


async def test_roles_readers_read_contributors_plan_admins_steer(client, team):
    base = f"/o/{team.slug}/plan"
    root = f"/api/v1/organisations/{team.org_id}"
    action_id = await services.action_create(
        organisation_id=team.org_id, user_id=team.admin, data=services.ActionInput(title="Agir", owner_id=team.contributor),
    )
    await log_in(client, team.emails["reader"], PASSWORD)
    for url in (f"{base}/", f"{base}/actions/{action_id}", f"{base}/revues", f"{base}/rapport", f"{base}/rapport.pdf", f"/o/{team.slug}/demarche",
                f"{base}/export.csv", f"{root}/actions", f"{root}/demarche"):
        assert (await client.get(url)).status_code == 200, url
    assert (await client.get(f"{base}/actions/nouvelle")).status_code == 403
    assert (await post_form(client, f"{base}/actions/nouvelle", {"title": "Lecteur"})).status_code == 403
    assert (await post_form(client, f"{base}/actions/{action_id}/rappel", {})).status_code == 403
    assert (await post_form(client, f"{base}/revues/nouvelle", {"notes": "x"})).status_code == 403
    assert (await api(client, "POST", f"{root}/actions", json={"title": "Lecteur"})).status_code == 403
    assert (await api(client, "DELETE", f"{root}/actions/{action_id}")).status_code == 403
    assert (await api(client, "POST", f"{root}/reviews", json={"notes": "x"})).status_code == 403
    assert await Action.count() == 1 and await Review.count() == 0
    await post_form(client, "/deconnexion", {})

    await log_in(client, team.emails["contributor"], PASSWORD)
    assert (await post_form(client, f"{base}/actions/nouvelle", {"title": "Contributrice"})).status_code == 303
    assert (await api(client, "POST", f"{root}/reviews", json={"notes": "Point d'étape"})).status_code == 201
    assert (await post_form(client, f"/o/{team.slug}/demarche", {"review_months": "6"})).status_code == 403
    assert (await post_form(client, f"/o/{team.slug}/demarche/cycle-suivant", {})).status_code == 403
    assert (await api(client, "PATCH", f"{root}/demarche", json={"review_months": 6})).status_code == 403
    assert (await client.get(f"{base}/logo")).status_code == 403
    assert (await client.get(f"{base}/rapport/debat")).status_code == 403
    await post_form(client, "/deconnexion", {})

    await log_in(client, team.emails["admin"], PASSWORD)
    assert (await api(client, "PATCH", f"{root}/demarche", json={"review_months": 6})).json()["review_months"] == 6
    plan = await client.get(f"{base}/")
    assert plan.status_code == 200 and "Contributrice" in plan.text
    assert (await client.get(f"{base}/actions/{uuid.uuid4()}")).status_code == 404
