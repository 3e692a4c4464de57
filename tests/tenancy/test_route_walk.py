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
from organisations import stakeholders
from organisations.tables import Contact
from organisations.tables import Membership, Organisation
from consultations import services as consultation_services
from consultations.tables import CampaignGroup, Invitation
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
    ("/demo/boite-de-reception", "GET"), ("/demo/boite-de-reception/{message_id:uuid}", "GET"),  # demo inbox: no SMTP, not production
    ("/api/v1/referentiels", "GET"), ("/api/v1/referentiels/{key:str}/{version:str}", "GET"),
    # Respondents: the signed link token is the only credential (see tests/consultations).
    *{(f"/{kind}/{{token:str}}{suffix}", method) for kind in ("r", "q") for suffix, method in (
        ("", "GET"), ("/etape/{number:int}", "GET"), ("/etape/{number:int}", "POST"), ("/brouillon", "POST"),
        ("/envoyer", "GET"), ("/envoyer", "POST"))},
    ("/r/{token:str}/reponses.json", "POST"),
    ("/desinscription/{token:str}", "GET"), ("/desinscription/{token:str}", "POST"),
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
        "message_id": str(uuid.uuid4()),
        "key": "essentiel",
        "version": "2026.1",
        "practice_id": str(b_practice.id),
        "diagnosis_id": str(b_diagnosis.id),
        "theme_key": "gouvernance",
        "practice_key": "gouv.elections",
    }
    # B's stakeholder map: a group, a contact and a pending import preview.
    b_group = await stakeholders.group_create(
        organisation_id=uuid.UUID(b.org_id), data=stakeholders.GroupInput(category="salaries")
    )
    b_contact = await stakeholders.contact_create(
        organisation_id=uuid.UUID(b.org_id),
        data=stakeholders.ContactInput(email="secret-b@example.org", group_id=b_group, name="Secrète B"),
    )
    b_import, _ = await stakeholders.contact_import_preview(
        organisation_id=uuid.UUID(b.org_id), user_id=None, data="email;groupe\nautre-b@example.org;Salariés\n".encode(), filename="b.csv"
    )
    values.update(group_id=str(b_group), contact_id=str(b_contact), import_id=str(b_import))
    b_campaign = await consultation_services.campaign_create(
        organisation_id=uuid.UUID(b.org_id), user_id=b_user["user"],
        data=consultation_services.CampaignInput(
            title="Consultation secrète B", referentiel_key="essentiel", threshold=3, shared_links=True,
            audience=(consultation_services.AudienceInput(group_id=b_group),),
        ),
    )
    await consultation_services.campaign_launch(organisation_id=uuid.UUID(b.org_id), campaign_id=b_campaign.id, accept_warnings=True)
    b_campaign_group = await CampaignGroup.select(CampaignGroup.id).where(CampaignGroup.campaign == b_campaign.id).first()
    b_invitation = await Invitation.select(Invitation.id).where(Invitation.campaign == b_campaign.id).first()
    values.update(
        campaign_id=str(b_campaign.id), campaign_group_id=str(b_campaign_group["id"]), invitation_id=str(b_invitation["id"]),
        fmt="svg", number="1",
    )
    # B's action plan: an action with an indicator, and a review.
    from plans import services as plan_services

    b_action = await plan_services.action_create(
        organisation_id=uuid.UUID(b.org_id), user_id=b_user["user"],
        data=plan_services.ActionInput(title="Action secrète de B", indicators=(plan_services.IndicatorInput(name="Indicateur de B"),)),
    )
    b_review = await plan_services.review_record(
        organisation_id=uuid.UUID(b.org_id), user_id=b_user["user"],
        data=plan_services.ReviewInput(notes="Revue secrète de B", items=(plan_services.ReviewItemInput(action_id=b_action, status="en_cours"),)),
    )
    values.update(action_id=str(b_action), review_id=str(b_review), year="2026")

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
                    stays_home = own.status_code == 303 and own.headers["location"].startswith(f"/o/{a.slug}/")
                    assert own.status_code == 200 or stays_home, f"A on its own {path} → {own.status_code}"
            assert walked >= 10

    # B's data is untouched.
    assert await Organisation.count().where(Organisation.name == "Organisation Secrète B") == 1
    assert await Membership.count().where(Membership.organisation == uuid.UUID(b.org_id)) == 1
    assert await Contact.count().where(Contact.organisation == uuid.UUID(b.org_id)) == 1
