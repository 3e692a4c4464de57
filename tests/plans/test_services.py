"""Action plan rules: validation in French, reviews in one transaction, reminders, the cycle, the logo, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import polars as pl
import pytest

from api.errors import Conflict, NotFound, ValidationFailed
from plans import exports, queries, services
from plans.services import ActionInput, IndicatorInput, ReviewInput, ReviewItemInput
from plans.tables import Action, IndicatorValue, Review, ReviewEntry
from tests.helpers import outbox
from tests.plans.conftest import jpeg_bytes, png_bytes


def test_french_numbers_and_dates_are_understood():
    assert services.parse_number("1 234,5") == 1234.5
    assert services.parse_number("12.5") == 12.5
    assert services.parse_number("\u202f-3 ") == -3
    assert services.parse_number("") is None
    for bad in ("douze", "1,2,3", "nan", "1e400"):
        with pytest.raises(ValueError):
            services.parse_number(bad)
    assert services.parse_date("30/06/2027") == dt.date(2027, 6, 30)
    assert services.parse_date("2027-06-30") == dt.date(2027, 6, 30)
    with pytest.raises(ValueError):
        services.parse_date("31/02/2027")


async def test_an_action_is_validated_in_french(team):
    with pytest.raises(ValidationFailed) as caught:
        await services.action_create(
            organisation_id=team.org_id, user_id=team.admin,
            data=ActionInput(
                title="", theme_key="inconnu", owner_id=uuid.uuid4(), due_on="31/13/2027", status="abandonnee",
                practice_keys=("pas.une.pratique",), groups=("Groupe fantôme",),
                indicators=(IndicatorInput(name="", baseline="beaucoup"),),
            ),
        )
    errors = caught.value.errors
    assert errors["title"] == "Donnez un titre à l'action."
    assert errors["theme_key"] == "Choisissez un thème dans la liste."
    assert errors["owner_id"] == "Le responsable doit être un membre de l'équipe."
    assert errors["due_on"].startswith("Indiquez une date valide")
    assert errors["abandon_reason"] == "Indiquez pourquoi l'action est abandonnée."
    assert errors["practice_keys"].startswith("Une des pratiques choisies n'existe pas")
    assert errors["groups"] == "Groupe de parties prenantes inconnu : Groupe fantôme."
    assert errors["ind_name__0"].startswith("Donnez un nom à l'indicateur")
    assert errors["ind_baseline__0"].startswith("Indiquez un nombre")
    assert await Action.count() == 0


async def test_an_owner_must_belong_to_the_organisation(team):
    from organisations.services import OrganisationInput, signup

    outsider, _ = await signup(
        email="olivier@example.org", password="un mot de passe solide", name="Olivier",
        organisation=OrganisationInput(name="Autre association", legal_form="association", coop_kind=None, siret=None,
                                       postcode="75001", region=None, headcount_band="1-9"),
    )
    with pytest.raises(ValidationFailed) as caught:
        await services.action_create(organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Agir", owner_id=outsider.id))
    assert caught.value.errors == {"owner_id": "Le responsable doit être un membre de l'équipe."}
    action_id = await services.action_create(organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Agir", owner_id=team.contributor))
    assert (await queries.action_get(organisation_id=team.org_id, action_id=action_id))["owner_name"] == "Carla Contributrice"


async def test_an_action_with_indicators_is_created_updated_and_sealed_to_its_organisation(team):
    action_id = await services.action_create(
        organisation_id=team.org_id, user_id=team.admin,
        data=ActionInput(
            title="Faire venir plus d'adhérents à l'AG", practice_keys=("gouv.participation_ag",), objective_1y="25 %", objective_3y="33 %",
            owner_id=team.admin, due_on="2027-06-30",
            indicators=(IndicatorInput(name="Participation à l'AG", unit="%", baseline="18", target="33", current_value="21,5"),),
        ),
    )
    action = await queries.action_get(organisation_id=team.org_id, action_id=action_id)
    assert action["theme_key"] == "gouvernance"  # from the practice
    [indicator] = action["indicators"]
    assert (indicator["baseline"], indicator["target"], indicator["current_value"]) == (18.0, 33.0, 21.5)
    assert indicator["current_on"] == services.today()
    assert await IndicatorValue.count() == 1  # the typed value entered the history

    await services.action_update(
        organisation_id=team.org_id, action_id=action_id,
        data=ActionInput(
            title="Faire venir plus d'adhérents à l'AG", status="realisee",
            indicators=(IndicatorInput(id=indicator["id"], delete=True), IndicatorInput(name="Votes à distance", unit="votes")),
        ),
    )
    action = await queries.action_get(organisation_id=team.org_id, action_id=action_id)
    assert action["status"] == "realisee" and action["done_on"] == services.today()
    assert [i["name"] for i in action["indicators"]] == ["Votes à distance"]

    with pytest.raises(NotFound):
        await queries.action_get(organisation_id=uuid.uuid4(), action_id=action_id)
    with pytest.raises(NotFound):
        await services.action_delete(organisation_id=uuid.uuid4(), action_id=action_id)


async def test_overdue_means_due_date_passed_and_not_finished(team):
    past = services.today() - dt.timedelta(days=1)
    for title, status, reason in (("En retard", "en_cours", ""), ("Finie", "realisee", ""), ("Abandonnée", "abandonnee", "Plus de budget")):
        await services.action_create(
            organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title=title, due_on=past, status=status, abandon_reason=reason)
        )
    await services.action_create(organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="À venir", due_on=services.today()))
    flagged = {a["title"]: a["overdue"] for a in await queries.actions_list(organisation_id=team.org_id)}
    assert flagged == {"En retard": True, "Finie": False, "Abandonnée": False, "À venir": False}
    assert (await queries.actions_list(organisation_id=team.org_id))[0]["title"] == "En retard"  # overdue first


async def _two_actions(team):
    first = await services.action_create(
        organisation_id=team.org_id, user_id=team.admin,
        data=ActionInput(title="Réunions d'équipe", owner_id=team.contributor,
                         indicators=(IndicatorInput(name="Réunions tenues", unit="réunions", baseline=2, target=10),)),
    )
    second = await services.action_create(organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Bilan énergie"))
    indicator = (await queries.action_get(organisation_id=team.org_id, action_id=first))["indicators"][0]["id"]
    return first, second, indicator


async def test_a_review_records_values_statuses_and_notes_together(team):
    first, second, indicator = await _two_actions(team)
    review_id = await services.review_record(
        organisation_id=team.org_id, user_id=team.admin,
        data=ReviewInput(
            notes="Revue annuelle", items=(
                ReviewItemInput(action_id=first, status="en_cours", note="Bon rythme", values={str(indicator): "6"}),
                ReviewItemInput(action_id=second, status="abandonnee", reason="Local déménagé"),
            ),
        ),
    )
    review = await queries.review_get(organisation_id=team.org_id, review_id=review_id)
    assert {i["title"]: (i["status_before"], i["status_after"]) for i in review["items"]} == {
        "Réunions d'équipe": ("a_lancer", "en_cours"), "Bilan énergie": ("a_lancer", "abandonnee"),
    }
    one = await queries.action_get(organisation_id=team.org_id, action_id=first)
    assert one["status"] == "en_cours" and one["indicators"][0]["current_value"] == 6.0
    two = await queries.action_get(organisation_id=team.org_id, action_id=second)
    assert two["status"] == "abandonnee" and two["abandon_reason"] == "Local déménagé"
    timeline = await queries.action_timeline(organisation_id=team.org_id, action_id=first)
    assert [e["kind"] for e in timeline] == ["creation", "revue", "mesure"]
    assert timeline[1]["text"] == "Statut : À lancer → En cours" and timeline[1]["note"] == "Bon rythme"


async def test_a_review_with_one_bad_value_records_nothing(team):
    first, second, indicator = await _two_actions(team)
    with pytest.raises(ValidationFailed) as caught:
        await services.review_record(
            organisation_id=team.org_id, user_id=team.admin,
            data=ReviewInput(items=(
                ReviewItemInput(action_id=second, status="realisee", note="Fait"),
                ReviewItemInput(action_id=first, values={str(indicator): "six"}),
                ReviewItemInput(action_id=first, status="abandonnee"),
            )),
        )
    assert caught.value.errors[f"value__{indicator}"] == "Indiquez un nombre (par exemple 12 ou 12,5)."
    assert caught.value.errors[f"reason__{first}"] == "Indiquez pourquoi l'action est abandonnée."
    assert (await Review.count(), await ReviewEntry.count()) == (0, 0)
    assert (await queries.action_get(organisation_id=team.org_id, action_id=second))["status"] == "a_lancer"
    with pytest.raises(ValidationFailed) as caught:
        await services.review_record(organisation_id=team.org_id, user_id=team.admin, data=ReviewInput())
    assert caught.value.errors["notes"].startswith("La revue est vide")
    with pytest.raises(ValidationFailed) as caught:
        await services.review_record(
            organisation_id=team.org_id, user_id=team.admin,
            data=ReviewInput(held_on=services.today() + dt.timedelta(days=3), notes="Plus tard"),
        )
    assert caught.value.errors["held_on"] == "La date de la revue ne peut pas être dans le futur."


async def test_a_review_cannot_touch_another_organisations_action(team, demo):
    first, _second, _ = await _two_actions(team)
    with pytest.raises(ValidationFailed) as caught:
        await services.review_record(
            organisation_id=demo.org_id, user_id=demo.user_ids[0], data=ReviewInput(items=(ReviewItemInput(action_id=first, status="realisee"),)),
        )
    assert caught.value.errors["items"] == "Une des actions de la revue n'existe pas."
    assert (await queries.action_get(organisation_id=team.org_id, action_id=first))["status"] == "a_lancer"


async def test_the_review_schedule_is_yearly_by_default_and_configurable(team):
    schedule = await queries.review_schedule(organisation_id=team.org_id)
    assert schedule.next_due_on is None and schedule.months == 12
    await services.action_create(organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Agir"))
    schedule = await queries.review_schedule(organisation_id=team.org_id)
    assert schedule.next_due_on == queries.add_months(services.today(), 12) and not schedule.late
    await services.review_record(
        organisation_id=team.org_id, user_id=team.admin, data=ReviewInput(held_on=services.today() - dt.timedelta(days=200), notes="Ancienne revue"),
    )
    await services.review_months_set(organisation_id=team.org_id, months="6")
    schedule = await queries.review_schedule(organisation_id=team.org_id)
    assert schedule.months == 6 and schedule.late
    with pytest.raises(ValidationFailed) as caught:
        await services.review_months_set(organisation_id=team.org_id, months="0")
    assert caught.value.errors["review_months"].startswith("La fréquence des revues va de 1 à 36 mois")
    assert queries.add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)


async def test_reminding_the_owner_queues_one_email_a_day(team):
    action_id = await services.action_create(
        organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Réunions d'équipe", owner_id=team.contributor, due_on="2027-03-01"),
    )
    url = f"http://testserver.local/o/{team.slug}/plan/actions/{action_id}"
    assert await services.action_remind(organisation_id=team.org_id, action_id=action_id, action_url=url) == "carla@example.org"
    [mail] = await outbox("action_reminder")
    assert mail["to_address"] == "carla@example.org"
    assert "Réunions d'équipe" in mail["subject"] and "1 mars 2027" in mail["subject"]
    assert url in mail["text"] and "Association Les Amis du Quartier" in mail["text"]
    with pytest.raises(Conflict, match="moins de 24 heures"):
        await services.action_remind(organisation_id=team.org_id, action_id=action_id, action_url=url)
    later = services.utcnow() + dt.timedelta(hours=25)
    await services.action_remind(organisation_id=team.org_id, action_id=action_id, action_url=url, now=later)
    assert len(await outbox("action_reminder")) == 2
    orphan = await services.action_create(organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Sans responsable"))
    with pytest.raises(Conflict, match="pas de responsable"):
        await services.action_remind(organisation_id=team.org_id, action_id=orphan, action_url=url)


async def test_demarche_steps_follow_the_data_and_the_admin(team):
    d = await queries.demarche(organisation_id=team.org_id, slug=team.slug)
    assert [s.key for s in d.steps] == ["pilote", "themes", "diagnostic", "consultation", "priorites", "objectifs", "plan", "salaries", "ag"]
    assert d.done_count == 0 and d.next_step.key == "pilote"
    await services.action_create(
        organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Agir", objective_1y="Un an", objective_3y="Trois ans"),
    )
    await services.demarche_update(
        organisation_id=team.org_id, data=services.DemarcheInput(pilot_id=team.contributor, employees_informed_on="2026-10-01"),
    )
    d = await queries.demarche(organisation_id=team.org_id, slug=team.slug)
    done = {s.key for s in d.steps if s.done}
    assert done == {"pilote", "objectifs", "plan", "salaries"}
    assert d.pilot_name == "Carla Contributrice" and d.next_step.key == "themes"
    # A partial update keeps the other ticks.
    await services.demarche_update(organisation_id=team.org_id, data=services.DemarcheInput(ag_date="2027-06-12"))
    d = await queries.demarche(organisation_id=team.org_id, slug=team.slug)
    assert {s.key for s in d.steps if s.done} == {"pilote", "objectifs", "plan", "salaries", "ag"}
    with pytest.raises(ValidationFailed) as caught:
        await services.demarche_update(organisation_id=team.org_id, data=services.DemarcheInput(pilot_id=uuid.uuid4(), ag_date="demain"))
    assert caught.value.errors == {"pilot_id": "Le pilote doit être un membre de l'équipe.", "ag_date": "Indiquez une date valide (jour/mois/année)."}


async def test_the_demo_demarche_derives_diagnosis_consultation_and_priorities(demo):
    from plans.demo import seed_plan

    d = await queries.demarche(organisation_id=demo.org_id, slug=demo.slug)
    assert {s.key: s.done for s in d.steps}["diagnostic"] and {s.key: s.done for s in d.steps}["consultation"]
    assert await seed_plan(demo.org_id, demo.user_ids) is True
    assert await seed_plan(demo.org_id, demo.user_ids) is False  # idempotent
    actions = await queries.actions_list(organisation_id=demo.org_id)
    assert 4 <= len(actions) <= 6
    assert await Review.count().where(Review.organisation == demo.org_id) == 1
    assert sum(a["overdue"] for a in actions) == 1
    from_priorities = [a for a in actions if a["source_campaign"] == demo.campaign_id]
    assert from_priorities and all(a["finding"] and a["practice_keys"] for a in from_priorities)
    d = await queries.demarche(organisation_id=demo.org_id, slug=demo.slug)
    steps = {s.key: s.done for s in d.steps}
    assert steps["pilote"] and steps["priorites"] and steps["objectifs"] and steps["plan"] and not steps["ag"]


async def test_an_action_from_a_priority_is_prefilled_with_its_practice_theme_and_finding(demo):
    found = await queries.plan_priorities(organisation_id=demo.org_id)
    top = found["priorities"][0]
    prefill = await queries.priority_prefill(organisation_id=demo.org_id, campaign_id=demo.campaign_id, practice_key=top["practice_key"])
    assert prefill["practice_keys"] == [top["practice_key"]] and prefill["theme_key"] == top["theme_key"]
    assert top["reason"] in prefill["finding"]
    with pytest.raises(NotFound):
        await queries.priority_prefill(organisation_id=demo.org_id, campaign_id=demo.campaign_id, practice_key="pas.une.priorite")


async def test_the_next_cycle_starts_from_the_previous_diagnosis_and_campaign(demo):
    from consultations.tables import Campaign, CampaignGroup
    from surveys.tables import Diagnosis

    previous_diag = await Diagnosis.select().where(Diagnosis.id == demo.diagnosis_id).output(load_json=True).first()
    previous_camp = await Campaign.select().where(Campaign.id == demo.campaign_id).output(load_json=True).first()
    # The demo has an open campaign; a diagnosis can be open too only once the previous one is closed (it is).
    result = await services.next_cycle_prepare(organisation_id=demo.org_id, user_id=demo.user_ids[0])
    assert result.year == services.today().year + 1
    new_diag = await Diagnosis.select().where(Diagnosis.id == result.diagnosis_id).output(load_json=True).first()
    assert new_diag["status"] == "open"
    assert (new_diag["referentiel_key"], new_diag["referentiel_version"]) == (previous_diag["referentiel_key"], previous_diag["referentiel_version"])
    assert new_diag["practice_keys"] == previous_diag["practice_keys"]
    assert str(result.year) in new_diag["title"]
    new_camp = await Campaign.select().where(Campaign.id == result.campaign_id).output(load_json=True).first()
    assert new_camp["status"] == "draft"
    for key in ("threshold", "shared_links", "languages", "message", "practice_keys", "referentiel_key"):
        assert new_camp[key] == previous_camp[key], key
    old_groups = sorted(g["group"] for g in await CampaignGroup.select(CampaignGroup.group).where(CampaignGroup.campaign == demo.campaign_id))
    new_groups = sorted(g["group"] for g in await CampaignGroup.select(CampaignGroup.group).where(CampaignGroup.campaign == result.campaign_id))
    assert new_groups == old_groups
    cycle = await services.cycle_get(organisation_id=demo.org_id)
    assert cycle["year"] == result.year and cycle["started_at"].astimezone(services.PARIS).date() == services.today()
    # A second click changes nothing.
    with pytest.raises(Conflict):
        await services.next_cycle_prepare(organisation_id=demo.org_id, user_id=demo.user_ids[0])
    assert await Diagnosis.count().where(Diagnosis.organisation == demo.org_id) == 2
    # The new cycle's dashboard starts over on data-derived steps.
    d = await queries.demarche(organisation_id=demo.org_id, slug=demo.slug)
    steps = {s.key: s for s in d.steps}
    assert d.year == result.year and not steps["diagnostic"].done and steps["diagnostic"].in_progress


async def test_the_next_cycle_needs_something_closed(team):
    with pytest.raises(Conflict, match="au moins un auto-diagnostic ou une consultation clôturés"):
        await services.next_cycle_prepare(organisation_id=team.org_id, user_id=team.admin)


async def test_the_ag_debate_is_stored_per_year_and_validated(team):
    await services.debate_save(
        organisation_id=team.org_id, year=2026,
        data=services.DebateInput(ag_date="2026-06-20", ag_attendance="42", ag_members="120", ag_debate="Questions sur le bénévolat", ag_decisions="Objectif AG : 30 %"),
    )
    cycle = await services.cycle_get(organisation_id=team.org_id, year=2026)
    assert (cycle["ag_date"], cycle["ag_attendance"], cycle["ag_members"]) == (dt.date(2026, 6, 20), 42, 120)
    assert (await services.cycle_get(organisation_id=team.org_id, year=2025))["ag_debate"] == ""
    with pytest.raises(ValidationFailed) as caught:
        await services.debate_save(organisation_id=team.org_id, year=2026, data=services.DebateInput(ag_attendance="130", ag_members="120"))
    assert caught.value.errors == {"ag_attendance": "Il ne peut y avoir plus de présents ou représentés que de membres convoqués."}
    with pytest.raises(ValidationFailed) as caught:
        await services.debate_save(organisation_id=team.org_id, year=2026, data=services.DebateInput(ag_attendance="beaucoup"))
    assert caught.value.errors == {"ag_attendance": "Indiquez un nombre entier de personnes."}


def test_a_logo_is_checked_by_content_and_resized():
    content, media_type, width, height = services.logo_prepare(png_bytes(1200, 800))
    assert media_type == "image/png" and (width, height) == (600, 400) and content.startswith(b"\x89PNG")
    content, media_type, width, height = services.logo_prepare(jpeg_bytes(900, 300))
    assert media_type == "image/jpeg" and (width, height) == (600, 200) and content.startswith(b"\xff\xd8\xff")
    small = services.logo_prepare(png_bytes(120, 80, mode="RGB"))
    assert small[2:] == (120, 80)
    import io

    from PIL import Image

    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    for bad in (b"Ceci n'est pas une image, juste du texte renomme en .png", gif.getvalue(), b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b""):
        with pytest.raises(ValidationFailed) as caught:
            services.logo_prepare(bad)
        assert "PNG ou JPEG" in caught.value.errors["logo"]


def test_french_spacing_is_applied_to_text_only():
    from plans.reports import french_spacing, french_spacing_html

    assert french_spacing("Seuil : 5 ; vraiment ? oui ! « masqué »") == "Seuil\u00a0: 5\u202f; vraiment\u202f? oui\u202f! «\u00a0masqué\u00a0»"
    assert french_spacing("10:30 et https://exemple.fr/a:b") == "10:30 et https://exemple.fr/a:b"
    html = '<style>@page :first { x : y }</style><p title="a : b">Date : demain</p>'
    assert french_spacing_html(html) == '<style>@page :first { x : y }</style><p title="a : b">Date\u00a0: demain</p>'


async def test_the_plan_exports_round_trip_in_csv_and_xlsx(team):
    await services.action_create(
        organisation_id=team.org_id, user_id=team.admin,
        data=ActionInput(
            title="=Réunions d'équipe", owner_id=team.contributor, due_on="2027-03-01", objective_1y="Dix réunions ; ordre du jour partagé",
            indicators=(IndicatorInput(name="Réunions tenues", unit="réunions", baseline="2", target="10", current_value="6,5", current_on="2026-11-01"),
                        IndicatorInput(name="Participants", unit="personnes", baseline="1234,5")),
        ),
    )
    await services.action_create(organisation_id=team.org_id, user_id=team.admin, data=ActionInput(title="Bilan énergie"))
    actions = await queries.actions_list(organisation_id=team.org_id)

    raw = exports.plan_csv(actions)
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert list(rows[0]) == list(exports.COLUMNS)
    by_indicator = {(r["titre"], r["indicateur"]): r for r in rows}
    meetings = by_indicator[("'=Réunions d'équipe", "Réunions tenues")]  # a formula-looking cell is neutralised
    assert (meetings["valeur de départ"], meetings["cible"], meetings["valeur actuelle"]) == ("2", "10", "6,5")
    assert meetings["date de la valeur actuelle"] == "2026-11-01" and meetings["échéance"] == "2027-03-01"
    assert meetings["responsable"] == "Carla Contributrice" and meetings["objectif à 1 an"] == "Dix réunions ; ordre du jour partagé"
    assert by_indicator[("'=Réunions d'équipe", "Participants")]["valeur de départ"] == "1234,5"
    assert by_indicator[("Bilan énergie", "")]["statut"] == "À lancer"
    assert len(rows) == 3

    sheet = pl.read_excel(io.BytesIO(exports.plan_xlsx(actions)))
    assert sheet.columns == list(exports.COLUMNS)
    assert sheet.height == 3
    first = sheet.filter(pl.col("indicateur") == "Réunions tenues").row(0, named=True)
    assert (first["valeur de départ"], first["cible"], first["valeur actuelle"]) == (2.0, 10.0, 6.5)
    assert first["titre"] == "'=Réunions d'équipe"
    assert first["date de la valeur actuelle"] in (dt.date(2026, 11, 1), dt.datetime(2026, 11, 1))
