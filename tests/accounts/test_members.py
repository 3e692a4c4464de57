"""An admin invites colleagues; they join with a role; roles limit what they can do."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from api.app import create_app
from organisations.tables import Membership, User
from tests.helpers import PASSWORD, api, link_in, log_in, outbox, post_form, sign_up


async def _new_client():
    c = AsyncTestClient(app=create_app(), base_url="http://testserver.local")
    await c.__aenter__()
    c.follow_redirects = False
    return c


async def test_admin_invites_a_colleague_who_joins_and_logs_in(client):
    account = await sign_up(client)
    response = await post_form(client, f"/o/{account.slug}/membres/inviter", {"email": "Claire@Example.org", "role": "contributor"})
    assert response.status_code == 200
    assert "Invitation envoyée" in response.text
    [mail] = await outbox("member_invitation", to="claire@example.org")
    assert "Association Les Amis du Quartier" in mail["text"]
    path = link_in(mail["text"], "/invitation/")

    colleague = await _new_client()
    try:
        page = await colleague.get(path)
        assert page.status_code == 200 and "Rejoindre l'équipe" in page.text
        bad = await post_form(colleague, path, {"name": "", "password": "court"})
        assert bad.status_code == 400 and "Indiquez votre nom." in bad.text
        joined = await post_form(colleague, path, {"name": "Claire", "password": PASSWORD})
        assert joined.status_code == 303
        assert joined.headers["location"] == f"/o/{account.slug}/"
        assert (await colleague.get(f"/o/{account.slug}/demarche")).status_code == 200
        # The invitation works once.
        again = await post_form(colleague, path, {"name": "Claire", "password": PASSWORD})
        assert again.status_code == 410
        # And the colleague can log in later with their own password.
        await post_form(colleague, "/deconnexion", {})
        assert (await log_in(colleague, "claire@example.org")).status_code == 303
        me = (await colleague.get("/api/v1/me")).json()
        assert [(o["slug"], o["role"]) for o in me["organisations"]] == [(account.slug, "contributor")]
        # A contributor may not invite.
        denied = await post_form(colleague, f"/o/{account.slug}/membres/inviter", {"email": "x@example.org", "role": "admin"})
        assert denied.status_code == 403
    finally:
        await colleague.__aexit__(None, None, None)


async def test_an_existing_user_joins_a_second_organisation_and_switches(client):
    first = await sign_up(client, email="alice@example.org", org_name="Première")
    other = await _new_client()
    try:
        second = await sign_up(other, email="bob@example.org", org_name="Seconde")
        await post_form(other, f"/o/{second.slug}/membres/inviter", {"email": "alice@example.org", "role": "reader"})
        [mail] = await outbox("member_invitation", to="alice@example.org")
        path = link_in(mail["text"], "/invitation/")
        accepted = await post_form(client, path, {})
        assert accepted.status_code == 303
        listing = await client.get("/organisations")
        assert "Première" in listing.text and "Seconde" in listing.text
        assert (await client.get(f"/o/{second.slug}/demarche")).status_code == 200
        assert (await client.get(f"/o/{first.slug}/demarche")).status_code == 200
        # As a reader of Seconde, Alice can't change its settings.
        assert (await client.get(f"/o/{second.slug}/parametres")).status_code == 403
    finally:
        await other.__aexit__(None, None, None)


async def test_invitation_for_another_address_is_refused(client):
    account = await sign_up(client)
    await post_form(client, f"/o/{account.slug}/membres/inviter", {"email": "claire@example.org", "role": "reader"})
    [mail] = await outbox("member_invitation")
    path = link_in(mail["text"], "/invitation/")
    response = await post_form(client, path, {})  # Alice is logged in, the invitation is Claire's
    assert response.status_code == 403
    assert await Membership.count() == 1


async def test_the_last_admin_cannot_leave_or_be_demoted(client):
    account = await sign_up(client)
    membership = await Membership.objects().first()
    response = await post_form(client, f"/o/{account.slug}/membres/{membership.id}/role", {"role": "reader"})
    assert response.status_code == 409
    assert "au moins un administrateur" in response.text
    response = await post_form(client, f"/o/{account.slug}/membres/{membership.id}/retirer", {})
    assert response.status_code == 409
    assert (await Membership.objects().first()).role == "admin"


async def test_invalid_invitation_input_gives_french_errors(client):
    account = await sign_up(client)
    response = await post_form(client, f"/o/{account.slug}/membres/inviter", {"email": "pas une adresse", "role": "contributor"})
    assert response.status_code == 400
    assert "Cette adresse e-mail n&#39;est pas valide." in response.text
    assert await outbox("member_invitation") == []


async def test_settings_update_validates_and_saves(client):
    account = await sign_up(client)
    bad = await post_form(client, f"/o/{account.slug}/parametres", {"org_name": "", "legal_form": "x", "postcode": "1", "headcount_band": "?"})
    assert bad.status_code == 400 and "Indiquez le nom de votre organisation." in bad.text
    ok = await post_form(
        client,
        f"/o/{account.slug}/parametres",
        {"org_name": "Nouveau nom", "legal_form": "fondation", "postcode": "97400", "headcount_band": "250+", "siret": "", "region": ""},
    )
    assert ok.status_code == 200 and "Modifications enregistrées" in ok.text
    detail = (await client.get(f"/api/v1/organisations/{account.org_id}")).json()
    assert (detail["name"], detail["region"], detail["headcount_band"]) == ("Nouveau nom", "La Réunion", "250+")


async def test_members_api_with_problem_details(client):
    account = await sign_up(client)
    base = f"/api/v1/organisations/{account.org_id}"
    created = await api(client, "POST", f"{base}/invitations", json={"email": "dan@example.org", "role": "reader"})
    assert created.status_code == 201 and created.json()["email"] == "dan@example.org"
    bad = await api(client, "POST", f"{base}/invitations", json={"email": "nope", "role": "reader"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"]["email"] == "Cette adresse e-mail n'est pas valide."
    malformed = await api(client, "POST", f"{base}/invitations", json={"email": "a@b.org", "role": "king"})
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")
    members = (await client.get(f"{base}/members")).json()
    assert [m["email"] for m in members] == ["alice@example.org"]
    [me] = members
    demote = await api(client, "PATCH", f"{base}/members/{me['id']}", json={"role": "reader"})
    assert demote.status_code == 409 and demote.json()["detail"] == "L'organisation doit garder au moins un administrateur."


async def test_api_login_logout_and_unauthenticated_problem(client):
    await sign_up(client)
    await api(client, "DELETE", "/api/v1/session")
    unauth = await client.get("/api/v1/me")
    assert unauth.status_code == 401 and unauth.headers["content-type"].startswith("application/problem+json")
    wrong = await api(client, "POST", "/api/v1/session", json={"email": "alice@example.org", "password": "faux"})
    assert wrong.status_code == 401
    ok = await api(client, "POST", "/api/v1/session", json={"email": "alice@example.org", "password": PASSWORD})
    assert ok.status_code == 201 and ok.json()["email"] == "alice@example.org"
    assert (await User.count()) == 1


async def test_health_reports_database(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_unknown_page_is_a_french_404_and_openapi_is_served(client):
    response = await client.get("/nexiste/pas")
    assert response.status_code == 404 and "Page introuvable" in response.text
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200 and "/api/v1/organisations/{org_id}" in schema.json()["paths"]
