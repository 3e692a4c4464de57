"""A newcomer signs up, logs in and out, verifies their email and resets a forgotten password."""

from __future__ import annotations

from organisations.tables import AuthSession, Organisation, User
from tests.helpers import ORG_FORM, PASSWORD, link_in, log_in, outbox, post_form, sign_up


async def test_sign_up_creates_user_and_organisation_and_logs_in(client):
    account = await sign_up(client)
    home = await client.get(f"/o/{account.slug}/")
    assert home.status_code == 303 and home.headers["location"] == f"/o/{account.slug}/demarche"
    page = await client.get(home.headers["location"])
    assert page.status_code == 200
    assert "Votre démarche" in page.text
    org = await Organisation.objects().where(Organisation.slug == account.slug).first()
    assert org.region == "Pays de la Loire"  # deduced from the postcode
    user = await User.objects().where(User.email == "alice@example.org").first()
    assert user.password_hash.startswith("$argon2id$")


async def test_sign_up_errors_are_in_french_and_nothing_is_written(client):
    response = await post_form(
        client,
        "/inscription",
        {**ORG_FORM, "siret": "12345678901234", "postcode": "4400", "name": "", "email": "pas-une-adresse", "password": "court"},
    )
    assert response.status_code == 400
    for message in [
        "Ce numéro SIRET n&#39;est pas valide",
        "Le code postal doit compter 5 chiffres.",
        "Cette adresse e-mail n&#39;est pas valide.",
        "Le mot de passe doit contenir au moins 10 caractères.",
        "Indiquez votre nom.",
    ]:
        assert message in response.text
    assert await User.count() == 0
    assert await Organisation.count() == 0


async def test_valid_siret_and_cooperative_kind_are_accepted(client):
    response = await post_form(
        client,
        "/inscription",
        {**ORG_FORM, "legal_form": "cooperative", "coop_kind": "scic", "siret": "732 829 320 00074", "name": "Bob",
         "email": "bob@example.org", "password": PASSWORD},
    )
    assert response.status_code == 303
    org = await Organisation.objects().first()
    assert (org.siret, org.coop_kind) == ("73282932000074", "scic")


async def test_cooperative_needs_its_kind(client):
    response = await post_form(
        client, "/inscription", {**ORG_FORM, "legal_form": "cooperative", "name": "Bob", "email": "bob@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "Précisez le type de coopérative" in response.text


async def test_duplicate_email_is_refused(client):
    await sign_up(client)
    client.cookies.clear()
    response = await post_form(client, "/inscription", {**ORG_FORM, "name": "A", "email": "ALICE@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "Un compte existe déjà" in response.text
    assert await User.count() == 1


async def test_login_issues_a_new_session_id_and_ignores_a_planted_one(client):
    await sign_up(client)
    await post_form(client, "/deconnexion", {})
    client.cookies.set("essp_session", "attacker-chosen-session-id", domain="testserver.local")
    response = await log_in(client, "alice@example.org")
    assert response.status_code == 303
    new_token = client.cookies.get("essp_session")
    assert new_token and new_token != "attacker-chosen-session-id"
    # The planted id gives nothing.
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as attacker:
        attacker.cookies.set("essp_session", "attacker-chosen-session-id", domain="testserver.local")
        assert (await attacker.get("/api/v1/me")).status_code == 401


async def test_session_cookie_flags(client):
    await sign_up(client)
    response = await log_in(client, "alice@example.org")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


async def test_session_is_stored_in_the_database_and_survives_a_new_app(client):
    await sign_up(client)
    token = client.cookies.get("essp_session")
    assert await AuthSession.count() == 1
    from litestar.testing import AsyncTestClient

    from api.app import create_app

    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as restarted:
        restarted.cookies.set("essp_session", token, domain="testserver.local")
        assert (await restarted.get("/api/v1/me")).json()["email"] == "alice@example.org"


async def test_wrong_password_gives_a_french_error(client):
    await sign_up(client)
    await post_form(client, "/deconnexion", {})
    response = await log_in(client, "alice@example.org", "mauvais mot de passe")
    assert response.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in response.text


async def test_logout_ends_the_session_server_side(client):
    await sign_up(client)
    token = client.cookies.get("essp_session")
    await post_form(client, "/deconnexion", {})
    assert await AuthSession.count() == 0
    client.cookies.set("essp_session", token, domain="testserver.local")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_login_is_rate_limited(client, monkeypatch):
    import api.security

    frozen = 1_800_000_000.0  # all attempts in the same one-minute window
    monkeypatch.setattr(api.security, "_clock", lambda: frozen)
    await sign_up(client)
    await post_form(client, "/deconnexion", {})
    statuses = [(await log_in(client, "alice@example.org", "faux mot de passe")).status_code for _ in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    # Even the right password is refused while limited.
    assert (await log_in(client, "alice@example.org")).status_code == 429


async def test_forms_without_csrf_token_are_refused(client):
    await client.get("/connexion")
    response = await client.post("/connexion", data={"email": "x@example.org", "password": "x"})
    assert response.status_code == 403


async def test_email_verification_link_works_once(client):
    await sign_up(client)
    [mail] = await outbox("verify_email")
    path = link_in(mail["text"], "/compte/verifier/")
    confirm = await client.get(path)
    assert confirm.status_code == 200
    user = await User.objects().first()
    assert not user.email_verified  # GET consumes nothing (mail scanners)
    assert (await post_form(client, path, {})).status_code == 200
    assert (await User.objects().first()).email_verified
    again = await post_form(client, path, {})
    assert again.status_code == 410
    assert "déjà été utilisé" in again.text


async def test_password_reset_link_works_once_and_expires(client):
    await sign_up(client)
    await post_form(client, "/deconnexion", {})
    response = await post_form(client, "/compte/mot-de-passe-oublie", {"email": "alice@example.org"})
    assert "Si un compte existe" in response.text
    [mail] = await outbox("password_reset")
    path = link_in(mail["text"], "/compte/reinitialiser/")
    assert (await post_form(client, path, {"password": "court"})).status_code == 400
    assert (await post_form(client, path, {"password": "nouveau mot de passe"})).status_code == 200
    assert (await log_in(client, "alice@example.org", "nouveau mot de passe")).status_code == 303
    assert (await post_form(client, path, {"password": "encore un autre"})).status_code == 410

    # An expired link is refused with its own message.
    import datetime as dt

    from organisations.tables import AccountToken

    await post_form(client, "/compte/mot-de-passe-oublie", {"email": "alice@example.org"})
    mails = await outbox("password_reset")
    path2 = link_in(mails[-1]["text"], "/compte/reinitialiser/")
    await AccountToken.update({AccountToken.expires_at: dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)}).where(
        AccountToken.used == False  # noqa: E712
    )
    expired = await post_form(client, path2, {"password": "encore un autre"})
    assert expired.status_code == 410 and "expiré" in expired.text


async def test_password_reset_does_not_reveal_whether_an_account_exists(client):
    await client.get("/connexion")
    response = await post_form(client, "/compte/mot-de-passe-oublie", {"email": "nobody@example.org"})
    assert response.status_code == 200
    assert "Si un compte existe" in response.text
    assert await outbox("password_reset") == []


async def test_bad_reset_token_gives_a_kind_page_not_a_500(client):
    response = await post_form(client, "/compte/reinitialiser/nimporte-quoi", {"password": "nouveau mot de passe"})
    assert response.status_code == 410
    assert "Ce lien n&#39;est pas valide" in response.text
