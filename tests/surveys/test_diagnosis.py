"""A team fills a self-diagnosis together, closes it and reads the results."""

from __future__ import annotations

import re
import statistics

from litestar.testing import AsyncTestClient

from api.app import create_app
from surveys.referentiel import get_referentiel
from surveys.tables import Diagnosis, DiagnosisAnswer
from tests.helpers import PASSWORD, api, link_in, outbox, post_form, sign_up

PHONE = {"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}


async def _client():
    c = AsyncTestClient(app=create_app(), base_url="http://testserver.local")
    await c.__aenter__()
    c.follow_redirects = False
    return c


async def _join(admin, slug: str, email: str, role: str = "contributor"):
    await post_form(admin, f"/o/{slug}/membres/inviter", {"email": email, "role": role})
    [mail] = await outbox("member_invitation", to=email)
    member = await _client()
    response = await post_form(member, link_in(mail["text"], "/invitation/"), {"name": email.split("@")[0], "password": PASSWORD})
    assert response.status_code == 303
    return member


def level_for(member_index: int, practice_index: int) -> int:
    return 1 + (practice_index * 7 + member_index * 3) % 5


async def test_a_team_of_three_fills_the_complete_referentiel_and_reads_results(client):
    account = await sign_up(client)
    slug = account.slug
    members = [client, await _join(client, slug, "claire@example.org"), await _join(client, slug, "karim@example.org")]
    try:
        opened = await post_form(client, f"/o/{slug}/diagnostic/ouvrir", {"referentiel": "complet", "title": "Diagnostic 2026"})
        assert opened.status_code == 303
        diagnosis = await Diagnosis.objects().first()
        referentiel = get_referentiel("complet")
        themes = [t.key for t in referentiel.themes]
        first = await client.get(opened.headers["location"])
        assert first.headers["location"].endswith(f"/theme/{themes[0]}")

        for m_index, member in enumerate(members):
            for t_index, theme in enumerate(themes):
                url = f"/o/{slug}/diagnostic/{diagnosis.id}/theme/{theme}"
                page = await member.get(url, headers=PHONE)
                assert page.status_code == 200
                assert 'name="viewport"' in page.text
                form = {}
                for p_index, practice in enumerate(referentiel.practices_for_theme(theme)):
                    index = referentiel.practices.index(practice)
                    form[f"answer__{practice.key}"] = str(level_for(m_index, index))
                    form[f"importance__{practice.key}"] = str(1 + index % 5)
                    if p_index == 0:
                        form[f"existing__{practice.key}"] = "Une charte signée en 2024"
                if t_index + 1 < len(themes):
                    form["go"] = themes[t_index + 1]
                saved = await post_form(member, url, form)
                assert saved.status_code == 303

        overview = await client.get(f"/o/{slug}/diagnostic")
        assert "3 membres ont commencé à répondre" in overview.text
        closed = await post_form(client, f"/o/{slug}/diagnostic/{diagnosis.id}/cloturer", {})
        assert closed.status_code == 303

        results = await client.get(closed.headers["location"])
        assert results.status_code == 200
        assert "<svg" in results.text and 'role="img"' in results.text
        assert "<table" in results.text
        # Theme scores match an independent computation.
        api_results = (await client.get(f"/api/v1/organisations/{account.org_id}/diagnoses/{diagnosis.id}/results")).json()
        assert api_results["members"] == 3
        for theme in api_results["themes"]:
            practice_means = []
            for practice in referentiel.practices_for_theme(theme["theme_key"]):
                index = referentiel.practices.index(practice)
                practice_means.append(statistics.mean(level_for(m, index) for m in range(3)))
            assert abs(theme["self_score"] - statistics.mean(practice_means)) < 1e-9
        # Members gave 3 different levels on some practices: flagged as internal disagreement.
        by_key = {p["practice_key"]: p for p in api_results["practices"]}
        spread = {k for k, p in by_key.items() if p["self_max"] - p["self_min"] >= 2}
        assert spread and set(api_results["internal_disagreements"]) == spread
        assert "avis partagés en interne" in results.text
        # Closed: nothing changes any more.
        late = await api(members[1], "PUT", f"/api/v1/organisations/{account.org_id}/diagnoses/{diagnosis.id}/answers/gouv.elections", json={"answer": "5"})
        assert late.status_code == 409
    finally:
        for member in members[1:]:
            await member.__aexit__(None, None, None)


async def test_each_answer_is_saved_as_it_is_given_and_can_be_resumed(client):
    account = await sign_up(client)
    await post_form(client, f"/o/{account.slug}/diagnostic/ouvrir", {"referentiel": "essentiel"})
    diagnosis = await Diagnosis.objects().first()
    # htmx posts one practice's fieldset on change.
    saved = await post_form(client, f"/o/{account.slug}/diagnostic/{diagnosis.id}/reponse", {"answer__gouv.elections": "4"})
    assert saved.status_code == 200 and "Réponse enregistrée" in saved.text
    await post_form(client, f"/o/{account.slug}/diagnostic/{diagnosis.id}/reponse", {"comment__gouv.elections": "AG annuelle"})
    row = await DiagnosisAnswer.objects().first()
    assert (row.level, row.comment) == (4, "AG annuelle")  # the comment didn't erase the level
    # Coming back later: the answer is there, checked.
    page = await client.get(f"/o/{account.slug}/diagnostic/{diagnosis.id}/theme/gouvernance")
    assert re.search(r'value="4"\s+checked', page.text)
    assert "AG annuelle" in page.text
    # Bad values get a French error, nothing changes.
    bad = await post_form(client, f"/o/{account.slug}/diagnostic/{diagnosis.id}/reponse", {"answer__gouv.elections": "9"})
    assert bad.status_code == 400 and "Choisissez un niveau de 1 à 5" in bad.text
    assert (await DiagnosisAnswer.objects().first()).level == 4
    # "Je ne sais pas" is kept apart from levels.
    await post_form(client, f"/o/{account.slug}/diagnostic/{diagnosis.id}/reponse", {"answer__gouv.elections": "dont_know"})
    row = await DiagnosisAnswer.objects().first()
    assert (row.answer, row.level) == ("dont_know", None)


async def test_chosen_themes_and_own_practices_shape_the_diagnosis(client):
    account = await sign_up(client)
    response = await post_form(client, f"/o/{account.slug}/diagnostic/themes", {"themes": ["gouvernance", "environnement"]})
    assert response.status_code == 303
    empty = await post_form(client, f"/o/{account.slug}/diagnostic/pratiques", {"theme": "environnement", "org_statement": ""})
    assert empty.status_code == 400 and "Écrivez la pratique" in empty.text
    added = await post_form(
        client, f"/o/{account.slug}/diagnostic/pratiques",
        {"theme": "environnement", "org_statement": "Nous compostons les déchets du jardin.", "categories": ["benevoles"]},
    )
    assert added.status_code == 303
    created = await api(client, "POST", f"/api/v1/organisations/{account.org_id}/diagnoses", json={"referentiel": "complet"})
    assert created.status_code == 201
    diagnosis_id = created.json()["id"]
    mine = (await client.get(f"/api/v1/organisations/{account.org_id}/diagnoses/{diagnosis_id}/my-answers")).json()
    assert [t["theme_key"] for t in mine["progress"]] == ["gouvernance", "environnement"]
    env = await client.get(f"/o/{account.slug}/diagnostic/{diagnosis_id}/theme/environnement")
    assert "Nous compostons les déchets du jardin." in env.text
    # A theme outside the scope is a 404, not a 500.
    assert (await client.get(f"/o/{account.slug}/diagnostic/{diagnosis_id}/theme/ethique")).status_code == 404
    # Only one diagnosis open at a time.
    again = await api(client, "POST", f"/api/v1/organisations/{account.org_id}/diagnoses", json={"referentiel": "complet"})
    assert again.status_code == 409


async def test_results_compare_with_the_previous_diagnosis(client):
    account = await sign_up(client)
    base = f"/api/v1/organisations/{account.org_id}"
    first = (await api(client, "POST", f"{base}/diagnoses", json={"referentiel": "essentiel"})).json()["id"]
    for key in ("gouv.elections", "gouv.participation_ag"):
        assert (await api(client, "PUT", f"{base}/diagnoses/{first}/answers/{key}", json={"answer": "2"})).status_code == 200
    await api(client, "POST", f"{base}/diagnoses/{first}/close")
    # The next year, with the complete référentiel: matched by practice key.
    second = (await api(client, "POST", f"{base}/diagnoses", json={"referentiel": "complet"})).json()["id"]
    for key, level in (("gouv.elections", "4"), ("gouv.participation_ag", "3"), ("gouv.regles_ecrites", "5")):
        await api(client, "PUT", f"{base}/diagnoses/{second}/answers/{key}", json={"answer": level})
    results = (await client.get(f"{base}/diagnoses/{second}/results")).json()
    assert results["previous_diagnosis_id"] == first
    [gouv] = results["evolution"]
    assert (gouv["before"], gouv["now"], gouv["n_practices"]) == (2.0, 3.5, 2)
    page = await client.get(f"/o/{account.slug}/diagnostic/{second}/resultats")
    assert "Diagnostic précédent" in page.text and "+1,5" in page.text


async def test_api_answer_validation_is_problem_details(client):
    account = await sign_up(client)
    base = f"/api/v1/organisations/{account.org_id}"
    diagnosis = (await api(client, "POST", f"{base}/diagnoses", json={"referentiel": "essentiel"})).json()["id"]
    bad = await api(client, "PUT", f"{base}/diagnoses/{diagnosis}/answers/gouv.elections", json={"answer": "7"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    unknown = await api(client, "PUT", f"{base}/diagnoses/{diagnosis}/answers/pas.une.pratique", json={"answer": "3"})
    assert unknown.status_code == 422 and "ne fait pas partie" in unknown.json()["errors"]["practice_key"]
    wrong_ref = await api(client, "POST", f"{base}/diagnoses", json={"referentiel": "inconnu"})
    assert wrong_ref.status_code in (409, 422)


async def test_a_reader_can_read_but_not_answer(client):
    account = await sign_up(client)
    await post_form(client, f"/o/{account.slug}/diagnostic/ouvrir", {"referentiel": "essentiel"})
    diagnosis = await Diagnosis.objects().first()
    reader = await _join(client, account.slug, "lea@example.org", role="reader")
    try:
        page = await reader.get(f"/o/{account.slug}/diagnostic/{diagnosis.id}/theme/gouvernance")
        assert page.status_code == 200 and "permet de consulter" in page.text
        denied = await post_form(reader, f"/o/{account.slug}/diagnostic/{diagnosis.id}/reponse", {"answer__gouv.elections": "4"})
        assert denied.status_code == 403
        assert await DiagnosisAnswer.count() == 0
    finally:
        await reader.__aexit__(None, None, None)


async def test_referentiels_are_listed_in_the_api(client):
    listing = (await client.get("/api/v1/referentiels")).json()
    assert {(r["key"], r["themes"]) for r in listing} == {("essentiel", 8), ("complet", 8)}
    detail = await client.get("/api/v1/referentiels/complet/2026.1")
    assert detail.status_code == 200 and len(detail.json()["practices"]) >= 35
    assert (await client.get("/api/v1/referentiels/complet/1999.1")).status_code == 404


async def test_the_same_answer_saved_twice_at_once_keeps_one_row(client):
    import asyncio
    import uuid

    from organisations.tables import Membership
    from surveys import services

    account = await sign_up(client)
    org_id = uuid.UUID(account.org_id)
    user = (await Membership.select(Membership.user).first())["user"]
    diagnosis = await services.diagnosis_open(organisation_id=org_id, user_id=user, referentiel_key="essentiel")
    saves = [
        services.answer_save(organisation_id=org_id, diagnosis_id=diagnosis.id, user_id=user,
                             data=services.AnswerInput(practice_key="gouv.elections", answer=str(level)))
        for level in (2, 3, 4, 5)
    ]
    await asyncio.gather(*saves)
    rows = await DiagnosisAnswer.select().where(DiagnosisAnswer.practice_key == "gouv.elections")
    assert len(rows) == 1 and rows[0]["level"] in (2, 3, 4, 5)
