"""Tenants are sealed: every registered route, walked as a member of another
organisation and as an anonymous visitor, never gives the data.

Routes are read from the application itself, so routes added later are walked
automatically. A new path parameter must be given a value from organisation B
below (the test fails until it is), and a new public route must be added to
PUBLIC consciously.
"""

from __future__ import annotations

import re
import uuid

from litestar.testing import AsyncTestClient

from api.app import create_app
from organisations.tables import Membership, Organisation
from surveys import services as surveys_services
from tests.helpers import api, csrf_token, sign_up

# Routes anyone may call (path, method). Everything else needs a login.
PUBLIC = {
    ("/", "GET"),
    ("/health", "GET"),
    ("/inscription", "GET"), ("/inscription", "POST"),
    ("/connexion", "GET"), ("/connexion", "POST"),
    ("/deconnexion", "POST"),
    ("/compte/verifier/{token:str}", "GET"), ("/compte/verifier/{token:str}", "POST"),
    ("/compte/mot-de-passe-oublie", "GET"), ("/compte/mot-de-passe-oublie", "POST"),
    ("/compte/reinitialiser/{token:str}", "GET"), ("/compte/reinitialiser/{token:str}", "POST"),
    ("/invitation/{token:str}", "GET"), ("/invitation/{token:str}", "POST"),
    ("/api/v1/session", "POST"), ("/api/v1/session", "DELETE"),
    ("/api/v1/signup", "POST"),
    ("/api/v1/referentiels", "GET"), ("/api/v1/referentiels/{key:str}/{version:str}", "GET"),
}
# Routes that need a login but no organisation: they only ever show the caller's own data.
OWN_DATA = {
    ("/organisations", "GET"), ("/organisations", "POST"),
    ("/compte/verifier/renvoyer", "POST"),
    ("/api/v1/me", "GET"),
    ("/api/v1/organisations", "GET"), ("/api/v1/organisations", "POST"),
}


def all_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        path = route.path
        if path.startswith(("/schema", "/static")):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}):
            found.append((path, method))
    return found


def fill(path: str, values: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        assert name in values, f"route {path}: give the path parameter '{name}' a value from organisation B"
        return values[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", replace, path)


async def test_every_route_is_sealed_from_other_organisations_and_anonymous_visitors(client):
    app = create_app()
    # Organisation B, with data.
    owner_b = client
    b = await sign_up(owner_b, email="bob@example.org", org_name="Organisation Secrète B")
    b_member = await Membership.select(Membership.id).where(Membership.organisation == uuid.UUID(b.org_id)).first()
    b_user = await Membership.select(Membership.user).where(Membership.organisation == uuid.UUID(b.org_id)).first()
    b_practice = await surveys_services.custom_practice_add(
        organisation_id=uuid.UUID(b.org_id), theme="gouvernance", org_statement="Pratique secrète de B", stakeholder_statement="", categories=[]
    )
    b_diagnosis = await surveys_services.diagnosis_open(
        organisation_id=uuid.UUID(b.org_id), user_id=b_user["user"], referentiel_key="essentiel"
    )
    values = {
        "slug": b.slug,
        "org_id": b.org_id,
        "member_id": str(b_member["id"]),
        "token": "jeton-inconnu",
        "key": "essentiel",
        "version": "2026.1",
        "practice_id": str(b_practice.id),
        "diagnosis_id": str(b_diagnosis.id),
        "theme_key": "gouvernance",
        "practice_key": "gouv.elections",
    }

    async with AsyncTestClient(app=app, base_url="http://testserver.local") as a_client:
        a_client.follow_redirects = False
        a = await sign_up(a_client, email="alice@example.org", org_name="Organisation A")
        own_values = {"slug": a.slug, "org_id": a.org_id}
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as anonymous:
            anonymous.follow_redirects = False
            walked = 0
            for path, method in all_routes(app):
                url = fill(path, values)
                key = (path, method)
                anon = await api(anonymous, method, url, json={} if method != "GET" else None)
                if key in PUBLIC:
                    continue
                walked += 1
                assert anon.status_code == 401, f"anonymous {method} {url} → {anon.status_code}"
                assert "Organisation Secrète B" not in anon.text
                if key in OWN_DATA:
                    own = await api(a_client, method, url, json={} if method != "GET" else None)
                    assert "Organisation Secrète B" not in own.text, f"{method} {url} leaked B"
                    continue
                assert "{slug" in path or "{org_id" in path, f"{method} {path}: routes with organisation data name the organisation"
                response = await api(a_client, method, url, json={} if method != "GET" else None)
                assert response.status_code in (401, 403, 404), f"member of A: {method} {url} → {response.status_code}"
                assert "Organisation Secrète B" not in response.text
                if method == "GET" and set(re.findall(r"\{(\w+)", path)) <= set(own_values):
                    # The same page of A's own organisation opens: the guard tells tenants apart.
                    own = await api(a_client, method, fill(path, own_values))
                    assert own.status_code == 200, f"A on its own {path} → {own.status_code}"
            assert walked >= 10

    # B's data is untouched.
    assert await Organisation.count().where(Organisation.name == "Organisation Secrète B") == 1
    assert await Membership.count().where(Membership.organisation == uuid.UUID(b.org_id)) == 1
