"""The JSON API of the stakeholder map: CRUD, import preview and confirm, export, RGPD, problem details."""

from __future__ import annotations

import uuid

from organisations.tables import Contact, ContactImport, StakeholderGroup
from tests.helpers import api, csrf_token, sign_up
from tests.stakeholders.test_pages import csv_bytes, member_client

PROBLEM = "application/problem+json"


async def test_groups_crud_with_weights_and_quadrants(client):
    account = await sign_up(client)
    url = f"/api/v1/organisations/{account.org_id}/groups"
    created = await api(client, "POST", url, json={"category": "salaries", "influence": 4, "importance": 5, "urgency": True, "engagement": "impliquer"})
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["name"], group["category_label"], group["weight"], group["quadrant"], group["quadrant_label"], group["contact_count"]) == (
        "Salariés", "Salariés", 0.9, "gerer", "Gérer de près", 0
    )
    custom = (await api(client, "POST", url, json={"category": "autre", "name": "Riverains", "influence": 1, "importance": 1})).json()
    assert custom["weight"] == 0.2 and custom["quadrant"] == "surveiller" and custom["weight_override"] is None

    patched = await api(client, "PATCH", f"{url}/{custom['id']}", json={"importance": 4, "weight_override": 0.35})
    assert patched.status_code == 200
    body = patched.json()
    assert (body["name"], body["influence"], body["importance"], body["quadrant"], body["weight"], body["weight_override"]) == (
        "Riverains", 1, 4, "informer", 0.35, 0.35
    )
    restored = (await api(client, "PATCH", f"{url}/{custom['id']}", json={"weight_override": None})).json()
    assert restored["weight"] == 0.5 and restored["weight_override"] is None

    listing = (await client.get(url)).json()
    assert [g["name"] for g in listing] == ["Salariés", "Riverains"]
    assert (await client.get(f"{url}/{group['id']}")).json()["id"] == group["id"]

    contacts = f"/api/v1/organisations/{account.org_id}/contacts"
    await api(client, "POST", contacts, json={"email": "a@example.org", "group_id": group["id"]})
    refused = await api(client, "DELETE", f"{url}/{group['id']}")
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    assert "contient encore 1 contact" in refused.json()["detail"]
    assert (await api(client, "DELETE", f"{url}/{group['id']}?delete_contacts=true")).status_code == 204
    assert await StakeholderGroup.count() == 1 and await Contact.count() == 0
    missing = await client.get(f"{url}/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["detail"] == "Groupe de parties prenantes introuvable."


async def test_bad_input_gets_problem_details(client):
    account = await sign_up(client)
    url = f"/api/v1/organisations/{account.org_id}/groups"
    schema_error = await api(client, "POST", url, json={"category": "salaries", "influence": 9})
    assert schema_error.status_code == 400 and schema_error.headers["content-type"] == PROBLEM
    assert schema_error.json()["detail"] == "Le corps de la requête ne respecte pas le schéma attendu."
    unknown_field = await api(client, "POST", url, json={"category": "salaries", "colour": "red"})
    assert unknown_field.status_code == 400
    rule = await api(client, "POST", url, json={"category": "pirates"})
    assert rule.status_code == 422 and rule.headers["content-type"] == PROBLEM
    problem = rule.json()
    assert problem["title"] == "Données invalides" and problem["status"] == 422
    assert problem["errors"]["category"] == "Choisissez une catégorie dans la liste, ou « Autre » pour un groupe personnalisé."

    gid = (await api(client, "POST", url, json={"category": "salaries"})).json()["id"]
    duplicate = await api(client, "POST", url, json={"category": "autre", "name": "salariés"})
    assert duplicate.status_code == 422 and "Un groupe s'appelle déjà « Salariés »" in duplicate.json()["errors"]["name"]
    contacts = f"/api/v1/organisations/{account.org_id}/contacts"
    bad_email = await api(client, "POST", contacts, json={"email": "claire@@example.org", "group_id": gid})
    assert bad_email.status_code == 422
    assert bad_email.json()["errors"] == {"email": "Cette adresse e-mail n'est pas valide (exemple : prenom.nom@exemple.fr)."}
    bad_group = await api(client, "POST", contacts, json={"email": "c@example.org", "group_id": str(uuid.uuid4())})
    assert bad_group.json()["errors"] == {"group_id": "Choisissez le groupe de parties prenantes du contact."}
    bad_language = await api(client, "POST", contacts, json={"email": "c@example.org", "group_id": gid, "language": "de"})
    assert bad_language.status_code == 400
    person = await api(client, "POST", f"{contacts}/person-data", json={"email": "pas-une-adresse"})
    assert person.status_code == 422 and person.json()["errors"] == {"email": "Cette adresse e-mail n'est pas valide."}
    assert await Contact.count() == 0


async def test_contacts_crud_import_and_export_through_the_api(client):
    account = await sign_up(client)
    groups = f"/api/v1/organisations/{account.org_id}/groups"
    contacts = f"/api/v1/organisations/{account.org_id}/contacts"
    benevoles = (await api(client, "POST", groups, json={"category": "benevoles"})).json()["id"]
    financeurs = (await api(client, "POST", groups, json={"category": "financeurs"})).json()["id"]

    created = await api(client, "POST", contacts, json={"email": "Zoe@Example.org", "group_id": benevoles, "name": "Zoé", "language": "en"})
    assert created.status_code == 201
    contact = created.json()
    assert (contact["email"], contact["group_name"], contact["language"], contact["opted_out"]) == ("zoe@example.org", "Bénévoles", "en", False)
    moved = await api(client, "PATCH", f"{contacts}/{contact['id']}", json={"group_id": financeurs, "organisation_name": "Fondation"})
    assert moved.status_code == 200 and moved.json()["group_name"] == "Financeurs" and moved.json()["name"] == "Zoé"

    # Import: preview (nothing written), then confirm.
    token = await csrf_token(client)
    data = csv_bytes([("a@example.org", "Bénévoles"), ("b@example.org", "financeurs")])
    preview = await client.post(f"{contacts}/imports", files={"file": ("c.csv", data, "text/csv")}, headers={"x-csrftoken": token})
    assert preview.status_code == 201, preview.text
    body = preview.json()
    assert body["ok"] is True and [r["email"] for r in body["rows"]] == ["a@example.org", "b@example.org"] and body["errors"] == []
    assert await Contact.count() == 1
    assert (await client.get(f"{contacts}/imports/{body['id']}")).json()["id"] == body["id"]
    confirmed = await api(client, "POST", f"{contacts}/imports/{body['id']}/confirm")
    assert confirmed.status_code == 201 and confirmed.json() == {"created": 2}
    assert (await api(client, "POST", f"{contacts}/imports/{body['id']}/confirm")).status_code == 410

    # A bad file: the preview lists the errors, and confirming it is refused.
    bad = await client.post(
        f"{contacts}/imports",
        files={"file": ("c.csv", csv_bytes([("a@example.org", "Bénévoles"), ("nope", "Inconnus")]), "text/csv")},
        headers={"x-csrftoken": token},
    )
    bad_body = bad.json()
    assert bad_body["ok"] is False
    assert [(e["line"], e["field"]) for e in bad_body["errors"]] == [(2, "email"), (3, "email"), (3, "group")]
    assert bad_body["errors"][0]["message"] == "Ligne 2 : « a@example.org » fait déjà partie des contacts de l'organisation."
    refused = await api(client, "POST", f"{contacts}/imports/{bad_body['id']}/confirm")
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["detail"] == "Import refusé : le fichier contient des erreurs. Aucun contact n'a été importé."
    assert (await api(client, "DELETE", f"{contacts}/imports/{bad_body['id']}")).status_code == 204
    assert await ContactImport.count() == 0 and await Contact.count() == 3

    # Export XLSX, erase everyone, import it back: the same contacts.
    before = sorted((c["email"], c["name"], c["organisation_name"], c["language"], c["group_name"]) for c in (await client.get(contacts)).json())
    exported = await client.get(f"{contacts}/export.xlsx")
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    for c in (await client.get(contacts)).json():
        assert (await api(client, "DELETE", f"{contacts}/{c['id']}")).status_code == 204
    assert (await client.get(contacts)).json() == []
    again = await client.post(
        f"{contacts}/imports",
        files={"file": ("export.xlsx", exported.content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
        headers={"x-csrftoken": token},
    )
    assert again.json()["ok"] is True
    await api(client, "POST", f"{contacts}/imports/{again.json()['id']}/confirm")
    after = sorted((c["email"], c["name"], c["organisation_name"], c["language"], c["group_name"]) for c in (await client.get(contacts)).json())
    assert after == before and len(after) == 3
    filtered = (await client.get(f"{contacts}?group_id={financeurs}")).json()
    assert {c["email"] for c in filtered} == {"zoe@example.org", "b@example.org"}
    csv_export = await client.get(f"{contacts}/export.csv")
    assert csv_export.content.startswith(b"\xef\xbb\xbfemail;nom;organisation;langue;groupe")

    person = await api(client, "POST", f"{contacts}/person-data", json={"email": "ZOE@example.org"})
    assert person.status_code == 200
    assert [(c["name"], c["organisation_name"], c["group_name"]) for c in person.json()["contacts"]] == [("Zoé", "Fondation", "Financeurs")]


async def test_roles_on_the_api(client):
    owner = await sign_up(client)
    groups = f"/api/v1/organisations/{owner.org_id}/groups"
    contacts = f"/api/v1/organisations/{owner.org_id}/contacts"
    gid = (await api(client, "POST", groups, json={"category": "salaries"})).json()["id"]
    async with member_client(owner, "reader") as reader:
        assert (await reader.get(groups)).status_code == 200
        for method, url, body in (
            ("POST", groups, {"category": "clients"}),
            ("PATCH", f"{groups}/{gid}", {"influence": 1}),
            ("DELETE", f"{groups}/{gid}", None),
            ("GET", contacts, None),
            ("POST", contacts, {"email": "x@example.org", "group_id": gid}),
            ("GET", f"{contacts}/export.csv", None),
            ("POST", f"{contacts}/person-data", {"email": "x@example.org"}),
        ):
            response = await api(reader, method, url, json=body)
            assert response.status_code == 403, f"{method} {url} → {response.status_code}"
            assert response.headers["content-type"] == PROBLEM
    assert (await client.get(f"{groups}/{gid}")).json()["influence"] == 3


async def test_the_openapi_schema_documents_the_routes(client):
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    assert "/api/v1/organisations/{org_id}/groups" in paths
    assert "/api/v1/organisations/{org_id}/contacts/imports/{import_id}/confirm" in paths
    assert "multipart/form-data" in paths["/api/v1/organisations/{org_id}/contacts/imports"]["post"]["requestBody"]["content"]
    assert not any(p.startswith("/o/") for p in paths)  # pages stay out of the API schema
