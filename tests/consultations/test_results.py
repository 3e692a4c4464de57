"""Results: comparison, classification, priorities and matrix — and no output ever reveals a
suppressed figure (page, API, CSV, XLSX, Parquet, chart), nor isolates one submission."""

from __future__ import annotations

import io
import re
import uuid

import polars as pl
import pytest

from consultations import services
from organisations.tables import Membership
from surveys import services as surveys
from surveys.referentiel import get_referentiel
from tests.consultations.factories import build_campaign
from tests.helpers import api, post_form, sign_up

SECRET = "Commentaire secret du financeur"


async def _answer(token_path: str, level: str, comment: str = "") -> None:
    token = token_path.rsplit("/", 1)[1]
    respondent = await services.respondent_for_invitation(token)
    answers = {p.key: {"answer": level, "importance": "4", "comment": comment} for p in respondent.practices}
    await services.submit(respondent, answers)


async def _closed_campaign(client):
    """Salariés 6 (level 4), Bénévoles 5 (level 3), Financeurs 2 (level 1, with a comment); threshold 5."""
    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    # The team's own view: a diagnosis where the team rates itself 4 everywhere.
    diagnosis = await surveys.diagnosis_open(organisation_id=org_id, user_id=user, referentiel_key="essentiel")
    _row, scope = await surveys.diagnosis_scope(organisation_id=org_id, diagnosis_id=diagnosis.id)
    for p in scope.practices:
        await surveys.answer_save(organisation_id=org_id, diagnosis_id=diagnosis.id, user_id=user,
                                  data=surveys.AnswerInput(practice_key=p.key, answer="4", importance="3"))
    await surveys.diagnosis_close(organisation_id=org_id, diagnosis_id=diagnosis.id)
    setup = await build_campaign(
        org_id, user, {("Salariés", "salaries"): 6, ("Bénévoles", "benevoles"): 5, ("Financeurs", "financeurs"): 2}, threshold=5
    )
    for path in setup.links["Salariés"]:
        await _answer(path, "2", "Les salaires ne sont pas affichés")
    for path in setup.links["Bénévoles"]:
        await _answer(path, "3")
    for path in setup.links["Financeurs"]:
        await _answer(path, "1", SECRET)
    await services.campaign_close(organisation_id=org_id, campaign_id=setup.campaign_id)
    return account, setup


async def test_results_compare_classify_and_rank_in_pages_and_api(client):
    account, setup = await _closed_campaign(client)
    data = (await client.get(f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}/results")).json()
    assert data["published"] and data["respondents"] == 13
    elections = next(p for p in data["practices"] if p["practice_key"] == "gouv.elections")
    # Self 4 vs stakeholders: asked to employees (2) and volunteers (3), not to funders.
    assert "financeurs" not in get_referentiel("essentiel").practice("gouv.elections").categories
    assert elections["n"] == 11 and abs(elections["mean"] - (6 * 2 + 5 * 3) / 11) < 1e-9
    assert elections["self_mean"] == 4.0 and elections["gap"] < -1
    assert elections["category"] in {"point_aveugle", "perceptions_divisees"}
    assert data["priorities"][0]["rank"] == 1 and data["priorities"][0]["reason"]
    assert data["materiality"] and data["themes"]
    # Trends carry this campaign's published theme scores, equal to the themes section.
    consultation = {t["theme_key"]: t["score"] for t in data["trends"] if t["source"] == "consultation"}
    assert consultation and all(abs(consultation[t["theme_key"]] - t["score"]) < 1e-9 for t in data["themes"] if t["score"] is not None and t["theme_key"] in consultation)
    page = await client.get(f"/o/{account.slug}/resultats/{setup.campaign_id}")
    assert page.status_code == 200
    assert page.text.count('role="img"') >= 4  # radar, gaps, matrix, distribution
    assert "Point aveugle" in page.text or "Perceptions divisées" in page.text
    assert "Axes de progrès" in page.text and "Matrice de matérialité" in page.text
    # Pin a priority: it moves to the top.
    key = data["priorities"][3]["practice_key"]
    await post_form(client, f"/o/{account.slug}/resultats/{setup.campaign_id}/priorites/{key}", {"state": "pinned"})
    again = (await client.get(f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}/results")).json()
    assert again["priorities"][0]["practice_key"] == key and again["priorities"][0]["mark"] == "pinned"


async def test_no_output_reveals_a_suppressed_group(client):
    account, setup = await _closed_campaign(client)
    base = f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}/results"
    data = (await client.get(base)).json()
    groups = {g["name"]: g for g in data["groups"]}
    # Financeurs (2 < 5) is hidden; Bénévoles is hidden too (complementary), else total − Salariés = Financeurs.
    assert groups["Financeurs"]["suppressed"] and groups["Financeurs"]["n_respondents"] is None
    assert groups["Bénévoles"]["suppressed"] and groups["Bénévoles"]["n_respondents"] is None
    assert not groups["Salariés"]["suppressed"] and groups["Salariés"]["n_respondents"] == 6
    hidden = {groups["Financeurs"]["group_id"], groups["Bénévoles"]["group_id"]}
    for cell in data["cells"]:
        if cell["group_id"] in hidden:
            assert cell["suppressed"]
            assert all(cell[k] is None for k in ("n", "mean", "median", "std", "ci_low", "ci_high", "dont_know_share", "rwg", "mean_importance", "distribution"))
    for t in data["theme_groups"]:
        if t["group_id"] in hidden:
            assert t["score"] is None and t["n_practices"] is None
    # What's published can't isolate Financeurs: total minus the published groups leaves nobody
    # (Salariés alone were asked) or at least the threshold, never the 2 funders.
    for p in data["practices"]:
        salaries = next((c for c in data["cells"] if c["practice_key"] == p["practice_key"] and c["group_name"] == "Salariés"), None)
        if p["n"] is not None and salaries and salaries["n"] is not None:
            assert p["n"] - salaries["n"] == 0 or p["n"] - salaries["n"] >= 5, p["practice_key"]
    assert all(c["comment"] != SECRET for c in data["comments"])
    assert any(c["comment"] == "Les salaires ne sont pas affichés" for c in data["comments"])

    page = (await client.get(f"/o/{account.slug}/resultats/{setup.campaign_id}")).text
    assert SECRET not in page
    assert re.search(r"Financeurs</th>\s*<td class=\"num\">masqué", page)

    for view in ("groupes", "commentaires"):
        csv = (await client.get(f"{base}/export/csv?view={view}")).content
        assert csv.startswith(b"\xef\xbb\xbf") and b";" in csv
        assert SECRET.encode() not in csv
    groups_csv = pl.read_csv(io.BytesIO((await client.get(f"{base}/export/csv?view=groupes")).content), separator=";", decimal_comma=True)
    financeurs = groups_csv.filter(pl.col("Groupe") == "Financeurs")
    assert financeurs.height > 0 and financeurs["Moyenne"].null_count() == financeurs.height
    assert set(financeurs["Statut"]) == {"masqué"}

    xlsx = (await client.get(f"{base}/export/xlsx")).content
    sheets = pl.read_excel(io.BytesIO(xlsx), sheet_id=0)
    assert set(sheets) == {"Pratiques", "Par groupe", "Thèmes", "Priorités", "Commentaires"}
    by_group = sheets["Par groupe"].filter(pl.col("Groupe").is_in(["Financeurs", "Bénévoles"]))
    assert by_group["Moyenne"].null_count() == by_group.height and by_group["Réponses"].null_count() == by_group.height
    assert SECRET not in sheets["Commentaires"]["Commentaire"].to_list()

    parquet = pl.read_parquet(io.BytesIO((await client.get(f"{base}/export/parquet?view=groupes")).content))
    hidden_rows = parquet.filter(pl.col("Groupe").is_in(["Financeurs", "Bénévoles"]))
    assert hidden_rows["Moyenne"].null_count() == hidden_rows.height


async def test_french_csv_uses_decimal_comma(client):
    account, setup = await _closed_campaign(client)
    csv = (await client.get(f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}/results/export/csv?view=pratiques")).content.decode("utf-8-sig")
    header, first = csv.splitlines()[:2]
    assert header.startswith("Thème;Pratique;Clé;Réponses;Moyenne parties prenantes")
    assert re.search(r";\d,\d+;", first)


async def test_two_views_around_one_submission_reveal_nothing(client):
    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    setup = await build_campaign(org_id, user, {("Salariés", "salaries"): 8}, threshold=3)
    for path in setup.links["Salariés"][:4]:
        await _answer(path, "3")
    url = f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}/results"
    page_url = f"/o/{account.slug}/resultats/{setup.campaign_id}"
    strip = lambda html: re.sub(r'(csrf[^"]*"|value=)"[^"]*"', "", html)  # noqa: E731
    before_api, before_page = (await client.get(url)).json(), strip((await client.get(page_url)).text)
    await _answer(setup.links["Salariés"][4], "1")
    after_api, after_page = (await client.get(url)).json(), strip((await client.get(page_url)).text)
    assert before_api == after_api and before_api["published"] is False
    assert before_page == after_page
    csv = await client.get(f"{url}/export/csv")
    assert csv.status_code == 404  # nothing to export before the close


async def test_open_link_answers_are_marked_in_results(client):
    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    setup = await build_campaign(org_id, user, {("Usagers", "usagers"): 0, ("Salariés", "salaries"): 3}, threshold=3, shared_links=True)
    campaign = (await api(client, "GET", f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}")).json()
    shared = next(g["shared_link"] for g in campaign["groups"] if g["name"] == "Usagers")
    path = shared.split("testserver.local", 1)[1]
    qr_svg = await client.get(f"/o/{account.slug}/consultations/{setup.campaign_id}/groupes/{next(g['id'] for g in campaign['groups'] if g['name'] == 'Usagers')}/qr/svg")
    assert qr_svg.status_code == 200 and qr_svg.headers["content-type"].startswith("image/svg+xml")
    for _ in range(3):
        async with client.__class__(app=client.app, base_url="http://testserver.local") as browser:
            welcome = await browser.get(path)
            assert welcome.status_code == 200 and "merci de ne répondre qu&#39;une seule fois" in welcome.text
            step = await browser.get(f"{path}/etape/1")
            keys = set(re.findall(r'name="answer__([^"]+)"', step.text))
            await browser.post(f"{path}/etape/1", data={"_csrf_token": browser.cookies.get("essp_csrf"), **{f"answer__{k}": "4" for k in keys}})
            thanks = await browser.post(f"{path}/envoyer", data={"_csrf_token": browser.cookies.get("essp_csrf")})
            assert thanks.status_code == 200 and "Merci" in thanks.text
    participation = (await client.get(f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}/participation")).json()
    usagers = next(g for g in participation["groups"] if g["name"] == "Usagers")
    assert usagers["answered"] == 3 and usagers["open_link_answers"] == 3
    await services.campaign_close(organisation_id=org_id, campaign_id=setup.campaign_id)
    results = (await client.get(f"/api/v1/organisations/{account.org_id}/campaigns/{setup.campaign_id}/results")).json()
    assert next(g for g in results["groups"] if g["name"] == "Usagers")["open_link"] is True
    page = await client.get(f"/o/{account.slug}/resultats/{setup.campaign_id}")
    assert "lien ouvert" in page.text
    png = await client.get(f"/o/{account.slug}/consultations/{setup.campaign_id}/groupes/{next(g['id'] for g in campaign['groups'] if g['name'] == 'Usagers')}/qr/png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


async def test_a_closed_campaign_is_read_and_analysed_once_then_served_from_memory(client, monkeypatch):
    from consultations import results
    from consultations.tables import CampaignGroup

    account, setup = await _closed_campaign(client)
    reads = []
    real = results.responses_and_comments

    async def counting(campaign_id, practice_keys):
        reads.append(campaign_id)
        return await real(campaign_id, practice_keys)

    monkeypatch.setattr(results, "responses_and_comments", counting)
    org_id = uuid.UUID(account.org_id)
    first = await results.campaign_results(organisation_id=org_id, campaign_id=setup.campaign_id)
    second = await results.campaign_results(organisation_id=org_id, campaign_id=setup.campaign_id)
    assert reads == [setup.campaign_id]  # read and analysed once; the second view reused the figures
    assert second.practices == first.practices and second.cells == first.cells and second.comments == first.comments
    # A group's weight changes the priorities: the figures are recomputed, never served stale.
    await CampaignGroup.update({CampaignGroup.weight: 9.0}).where(CampaignGroup.campaign == setup.campaign_id)
    third = await results.campaign_results(organisation_id=org_id, campaign_id=setup.campaign_id)
    assert len(reads) == 2 and all(g["weight"] == 9.0 for g in third.groups)


async def test_closing_mixes_the_last_ballots_in_the_same_transaction(client, monkeypatch):
    from consultations.tables import Ballot, Campaign, Response

    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    setup = await build_campaign(org_id, user, {("Salariés", "salaries"): 4}, threshold=5)
    for path in setup.links["Salariés"][:3]:
        await _answer(path, "3")
    assert await Ballot.count() == 3 and await Response.count() == 0  # fewer than the threshold: still sealed

    async def crash(**_kwargs):
        raise RuntimeError("crash while mixing")

    monkeypatch.setattr(services, "_mix", crash)
    with pytest.raises(RuntimeError, match="crash while mixing"):
        await services.campaign_close(organisation_id=org_id, campaign_id=setup.campaign_id)
    # Nothing half-done: still open, the ballots still in the box, ready for a real close.
    assert (await Campaign.select(Campaign.status).where(Campaign.id == setup.campaign_id).first())["status"] == "open"
    assert await Ballot.count() == 3
    monkeypatch.undo()
    await services.campaign_close(organisation_id=org_id, campaign_id=setup.campaign_id)
    assert await Ballot.count() == 0 and await Response.count() == 3


async def test_the_ballot_box_is_scrubbed_after_a_mix_not_after_every_submission(client, monkeypatch):
    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    setup = await build_campaign(org_id, user, {("Salariés", "salaries"): 3}, threshold=3)
    scrubs = []
    real = services._scrub_deleted_rows

    async def counting():
        scrubs.append(1)
        await real()

    monkeypatch.setattr(services, "_scrub_deleted_rows", counting)
    for path in setup.links["Salariés"][:2]:
        await _answer(path, "3")
    assert scrubs == []  # below the threshold nothing moved: no VACUUM per submission
    await _answer(setup.links["Salariés"][2], "3")
    assert scrubs == [1]  # the batch of 3 was mixed, then the box scrubbed once


def test_the_campaign_id_reaches_the_results_sql_only_as_a_uuid():
    from consultations import results

    sql, params = results._statement(results._SQL[results.engine().engine_type][0], uuid.UUID(int=7))
    assert "00000000-0000-0000-0000-000000000007" in sql + "".join(params)
    for forged in ("x' OR '1'='1", "00000000-0000-0000-0000-000000000007'; DROP TABLE response; --"):
        with pytest.raises(ValueError):
            results._statement(results._SQL["postgres"][0], forged)
