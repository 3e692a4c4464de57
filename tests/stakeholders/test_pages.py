"""The stakeholder pages, used as a person does: forms, uploads, downloads."""

from __future__ import annotations

import html as html_lib
import io
import re
import uuid
from contextlib import asynccontextmanager

import polars as pl
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from emails.tables import OutboxMessage
from organisations.tables import Contact, ContactImport, Membership, StakeholderGroup, User
from tests.helpers import Account, csrf_token, post_form, sign_up


def text(response) -> str:
    """The page as a person reads it (entities decoded)."""
    return html_lib.unescape(response.text)


def csv_bytes(rows: list[tuple], header: str = "email;groupe", encoding: str = "utf-8-sig", sep: str = ";") -> bytes:
    lines = [header.replace(";", sep)] + [sep.join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


async def upload(client: AsyncTestClient, slug: str, data: bytes, filename: str = "contacts.csv", content_type: str = "text/csv"):
    token = await csrf_token(client)
    return await client.post(
        f"/o/{slug}/parties-prenantes/import",
        data={"_csrf_token": token},
        files={"file": (filename, data, content_type)},
    )


async def add_group(client: AsyncTestClient, slug: str, **fields) -> uuid.UUID:
    form = {"category": "autre", "name": "", "influence": "3", "importance": "3", "engagement": "consulter", "weight_override": ""}
    form.update(fields)
    response = await post_form(client, f"/o/{slug}/parties-prenantes/groupes", form)
    assert response.status_code == 303, response.text
    name = fields.get("name") or None
    query = StakeholderGroup.select(StakeholderGroup.id).order_by(StakeholderGroup.created_at, ascending=False)
    if name:
        query = query.where(StakeholderGroup.name == name)
    return (await query.first())["id"]


async def contact_count(account: Account) -> int:
    return await Contact.count().where(Contact.organisation == uuid.UUID(account.org_id))


@asynccontextmanager
async def member_client(owner: Account, role: str, email: str = "rita@example.org"):
    """Another person, member of the owner's organisation with ``role``."""
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as other:
        other.follow_redirects = False
        await sign_up(other, email=email, org_name="Chez Rita")
        user = await User.select(User.id).where(User.email == email).first()
        await Membership(user=user["id"], organisation=uuid.UUID(owner.org_id), role=role).save()
        yield other


async def test_a_contributor_builds_the_map_by_form_and_sees_it_as_a_chart_and_a_table(client):
    account = await sign_up(client)
    base = f"/o/{account.slug}/parties-prenantes"
    empty = await client.get(base + "/")
    assert empty.status_code == 200 and "Aucun groupe de parties prenantes" in text(empty)
    assert (await client.get(base + "/groupes/nouveau")).status_code == 200

    bad = await post_form(client, base + "/groupes", {"category": "autre", "name": "", "influence": "7", "importance": "3", "engagement": "consulter"})
    assert bad.status_code == 400
    assert "Indiquez le nom du groupe." in text(bad) and "L'influence doit être un nombre entier de 1 (faible) à 5 (forte)." in text(bad)
    assert 'aria-invalid="true"' in text(bad)

    salaries = await add_group(client, account.slug, category="salaries", influence="4", importance="5", urgency="on", engagement="impliquer")
    await add_group(client, account.slug, category="financeurs", influence="5", importance="2", power="on")
    riverains = await add_group(client, account.slug, category="autre", name="Riverains", influence="1", importance="2")
    await post_form(client, base + "/contacts", {"email": "claire@example.org", "group_id": str(salaries), "language": "fr"})

    page = await client.get(base + "/")
    assert page.status_code == 200
    html = page.text
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "Salariés (1)" in svg and "Gérer de près" in svg and "Riverains (0)" in svg
    table = html[html.index("<table") : html.index("</table>")]
    assert re.search(r"Salariés</a></th>\s*<td>Salariés</td>\s*<td class=\"num\">4</td>\s*<td class=\"num\">5</td>\s*<td>Gérer de près</td>\s*<td class=\"num\">1</td>\s*<td class=\"num\">0,90", table)
    assert "Satisfaire" in table and "Surveiller" in table and "Urgence" in table and "Impliquer" in table
    assert 'aria-current="page"' in html  # the section is marked in the sub-navigation

    # Move a group with its form on the map page.
    moved = await post_form(client, f"{base}/groupes/{riverains}/position", {"influence": "2", "importance": "5"})
    assert moved.status_code == 200 and "Position de « Riverains » enregistrée : influence 2, importance 5 (informer)." in text(moved)
    refused = await post_form(client, f"{base}/groupes/{riverains}/position", {"influence": "0", "importance": "5"})
    assert refused.status_code == 400 and "La position n'a pas été enregistrée" in text(refused)
    row = await StakeholderGroup.select().where(StakeholderGroup.id == riverains).first()
    assert (row["influence"], row["importance"]) == (2, 5)

    # Adjust a weight on the group's page.
    detail = await client.get(f"{base}/groupes/{riverains}")
    assert detail.status_code == 200 and 'value="Riverains"' in text(detail)
    saved = await post_form(
        client,
        f"{base}/groupes/{riverains}",
        {"category": "autre", "name": "Riverains du jardin", "influence": "2", "importance": "5", "engagement": "informer", "weight_override": "0,5", "legitimacy": "on"},
    )
    assert saved.status_code == 200 and "Groupe enregistré." in text(saved) and 'value="0,5"' in text(saved)
    page = await client.get(base + "/")
    assert re.search(r"Riverains du jardin</a></th>.*?0,50 <span class=\"hint\">\(ajusté\)</span>", page.text, re.S)
    assert (await client.get(f"{base}/groupes/{uuid.uuid4()}")).status_code == 404


async def test_deleting_a_group_with_contacts_needs_an_explicit_choice(client):
    account = await sign_up(client)
    base = f"/o/{account.slug}/parties-prenantes"
    gid = await add_group(client, account.slug, category="benevoles")
    for email in ("a@example.org", "b@example.org"):
        await post_form(client, base + "/contacts", {"email": email, "group_id": str(gid), "language": "fr"})
    refused = await post_form(client, f"{base}/groupes/{gid}/supprimer", {})
    assert refused.status_code == 409
    assert "Le groupe « Bénévoles » contient encore 2 contacts" in text(refused)
    assert await StakeholderGroup.count() == 1 and await contact_count(account) == 2
    done = await post_form(client, f"{base}/groupes/{gid}/supprimer", {"delete_contacts": "on"})
    assert done.status_code == 200 and "Groupe « Bénévoles » supprimé, avec ses 2 contacts." in text(done)
    assert await StakeholderGroup.count() == 0 and await contact_count(account) == 0


async def test_contacts_are_added_edited_and_erased_by_form(client):
    account = await sign_up(client)
    base = f"/o/{account.slug}/parties-prenantes"
    no_group = await client.get(base + "/contacts")
    assert no_group.status_code == 200 and "Créez d'abord un groupe" in text(no_group)
    gid = await add_group(client, account.slug, category="adherents")

    bad = await post_form(client, base + "/contacts", {"email": "claire@", "group_id": "", "language": "fr"})
    assert bad.status_code == 400
    assert "Cette adresse e-mail n'est pas valide" in text(bad) and "Choisissez le groupe de parties prenantes du contact." in text(bad)
    ok = await post_form(
        client, base + "/contacts", {"email": "Claire@Example.org", "name": "Claire Martin", "organisation_name": "", "group_id": str(gid), "language": "fr"}
    )
    assert ok.status_code == 200 and "Contact ajouté : Claire@Example.org." in text(ok) and "claire@example.org" in text(ok)
    cid = (await Contact.select(Contact.id).first())["id"]
    dup = await post_form(client, base + "/contacts", {"email": "claire@example.org", "group_id": str(gid), "language": "en"})
    assert dup.status_code == 400 and "fait déjà partie des contacts" in text(dup)

    edit = await client.get(f"{base}/contacts/{cid}")
    assert edit.status_code == 200 and 'value="Claire Martin"' in text(edit)
    saved = await post_form(client, f"{base}/contacts/{cid}", {"email": "claire@example.org", "name": "Claire M.", "organisation_name": "Coop", "group_id": str(gid), "language": "en"})
    assert saved.status_code == 200 and "Contact enregistré." in text(saved)
    assert (await Contact.select(Contact.name, Contact.language).first()) == {"name": "Claire M.", "language": "en"}
    listing = await client.get(f"{base}/contacts?groupe={gid}")
    assert "Claire M." in text(listing) and "Anglais" in text(listing)

    await OutboxMessage(organisation=uuid.UUID(account.org_id), kind="invitation", to_address="claire@example.org", subject="s", html="h", text="t").save()
    erased = await post_form(client, f"{base}/contacts/{cid}/supprimer", {})
    assert erased.status_code == 200 and "Contact claire@example.org supprimé" in text(erased)
    assert await contact_count(account) == 0 and await OutboxMessage.count().where(OutboxMessage.kind == "invitation") == 0


@pytest.mark.parametrize(
    ("encoding", "sep", "filename"),
    [("utf-8-sig", ";", "contacts.csv"), ("cp1252", ";", "export-excel.csv"), ("utf-8", ",", "contacts-virgules.csv")],
)
async def test_a_clean_file_is_previewed_then_imported_in_one_go(client, encoding, sep, filename):
    account = await sign_up(client)
    base = f"/o/{account.slug}/parties-prenantes"
    await add_group(client, account.slug, category="benevoles")
    await add_group(client, account.slug, category="financeurs")
    data = csv_bytes(
        [
            ("helene.vidal@example.fr", "Hélène Vidal", "Fondation Élan", "Financeurs", "fr"),
            ("Gerard.Petit@example.fr", "Gérard Petit", "", "bénévoles", ""),
            ("emily@example.org", "Emily Carter", "", "Bénévoles", "en"),
        ],
        header="Adresse e-mail;Nom;Organisation;Groupe;Langue",
        encoding=encoding,
        sep=sep,
    )
    uploaded = await upload(client, account.slug, data, filename=filename)
    assert uploaded.status_code == 303, uploaded.text
    preview_url = uploaded.headers["location"]
    assert preview_url.startswith(base + "/import/")

    preview = await client.get(preview_url)
    assert preview.status_code == 200
    assert "Le fichier est correct : 3 contacts prêts à être importés." in text(preview)
    assert "Hélène Vidal" in text(preview) and "Fondation Élan" in text(preview) and "gerard.petit@example.fr" in text(preview)
    assert await contact_count(account) == 0  # nothing written before the confirmation

    confirmed = await post_form(client, preview_url + "/confirmer", {})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == base + "/contacts?importes=3"
    listing = await client.get(confirmed.headers["location"])
    assert "3 contacts importés." in text(listing)
    rows = await Contact.select(Contact.email, Contact.name, Contact.organisation_name, Contact.language, Contact.group.name).order_by(Contact.email)
    assert [(r["email"], r["name"], r["organisation_name"], r["language"], r["group.name"]) for r in rows] == [
        ("emily@example.org", "Emily Carter", "", "en", "Bénévoles"),
        ("gerard.petit@example.fr", "Gérard Petit", "", "fr", "Bénévoles"),
        ("helene.vidal@example.fr", "Hélène Vidal", "Fondation Élan", "fr", "Financeurs"),
    ]
    assert await ContactImport.count() == 0
    # The preview is used up: a second confirmation writes nothing.
    again = await post_form(client, preview_url + "/confirmer", {})
    assert again.status_code == 410 and await contact_count(account) == 3


async def test_a_malformed_file_gives_per_row_french_errors_and_changes_nothing(client):
    account = await sign_up(client)
    base = f"/o/{account.slug}/parties-prenantes"
    gid = await add_group(client, account.slug, category="salaries")
    await post_form(client, base + "/contacts", {"email": "deja@example.org", "group_id": str(gid), "language": "fr"})
    before = await contact_count(account)
    data = csv_bytes(
        [
            ("ok@example.org", "Salariés", "fr"),
            ("pas-une-adresse", "Salariés", "fr"),
            ("deja@example.org", "Salariés", "fr"),
            ("nouveau@example.org", "Pirates", "fr"),
            ("ok@example.org", "Salariés", "fr"),
            ("autre@example.org", "Salariés", "allemand"),
        ],
        header="email;groupe;langue",
    )
    uploaded = await upload(client, account.slug, data)
    assert uploaded.status_code == 303
    preview_url = uploaded.headers["location"]
    page = await client.get(preview_url)
    assert page.status_code == 200
    page_text = text(page)
    for message in (
        "Ligne 3 : l'adresse e-mail « pas-une-adresse » n'est pas valide (il manque le signe « @ »).",
        "Ligne 4 : « deja@example.org » fait déjà partie des contacts de l'organisation.",
        "Ligne 5 : groupe inconnu « Pirates ». Groupes connus : « Salariés ».",
        "Ligne 6 : l'adresse « ok@example.org » apparaît déjà à la ligne 2.",
        "Ligne 7 : langue inconnue « allemand ». Valeurs acceptées : fr (français) ou en (anglais).",
    ):
        assert message in page_text
    assert "5 erreurs à corriger dans le fichier" in page_text and "Rien n'a été importé." in page_text
    assert "/confirmer" not in page_text  # no confirm button
    assert await contact_count(account) == before

    # Confirming it anyway (a crafted request) is refused, and still writes nothing.
    forced = await post_form(client, preview_url + "/confirmer", {})
    assert forced.status_code == 400
    assert "Import refusé : le fichier contient des erreurs. Aucun contact n'a été importé." in text(forced)
    assert await contact_count(account) == before

    # Files that aren't contact lists at all.
    for payload, name, expected in (
        (b"%PDF-1.4\x00\x01\x02\x03 binary", "liste.csv", "Le fichier"),
        (b"PK\x03\x04 not really a zip", "liste.xlsx", "XLSX"),
        (csv_bytes([("a@example.org", "Salariés")], header="nom;prenom"), "liste.csv", "La première ligne du fichier doit contenir"),
    ):
        bad = await upload(client, account.slug, payload, filename=name)
        assert bad.status_code == 303
        shown = await client.get(bad.headers["location"])
        assert "Le fichier ne peut pas être importé" in text(shown) and expected in text(shown).replace("'", "'")
        assert (await post_form(client, bad.headers["location"] + "/confirmer", {})).status_code == 400
    assert await contact_count(account) == before


async def test_upload_problems_are_reported_in_french(client):
    account = await sign_up(client)
    await add_group(client, account.slug, category="salaries")
    token = await csrf_token(client)
    missing = await client.post(f"/o/{account.slug}/parties-prenantes/import", data={"_csrf_token": token}, files={"other": ("x.txt", b"x", "text/plain")})
    assert missing.status_code == 400 and "Choisissez un fichier CSV ou XLSX à importer." in text(missing)
    too_big = await upload(client, account.slug, b"a" * (2 * 1024 * 1024 + 10))
    assert too_big.status_code == 400 and "Le fichier dépasse 2 Mo. Découpez-le en plusieurs fichiers." in text(too_big)
    huge = await upload(client, account.slug, b"a" * (4 * 1024 * 1024))
    assert huge.status_code == 413 and "Fichier trop volumineux" in text(huge)
    assert await ContactImport.count() == 0
    # Cancelling a preview forgets it.
    ok = await upload(client, account.slug, csv_bytes([("a@example.org", "Salariés")]))
    cancelled = await post_form(client, ok.headers["location"] + "/annuler", {})
    assert cancelled.status_code == 303 and await ContactImport.count() == 0
    assert (await client.get(ok.headers["location"])).status_code == 404


async def test_export_then_reimport_gives_back_the_same_contacts(client):
    account = await sign_up(client)
    base = f"/o/{account.slug}/parties-prenantes"
    gid = await add_group(client, account.slug, category="autre", name="Élus ; référents")
    fin = await add_group(client, account.slug, category="financeurs")
    people = [
        ("zoe@example.org", "Zoé Lefèvre", "", str(gid), "fr"),
        ("formula@example.org", "=HYPERLINK(\"http://x\")", "+Coop, \"Les Œillets\"", str(gid), "en"),
        ("marc@example.fr", "Marc Aubert", "Caisse d'épargne", str(fin), "fr"),
    ]
    for email, name, org, group_id, lang in people:
        r = await post_form(client, base + "/contacts", {"email": email, "name": name, "organisation_name": org, "group_id": group_id, "language": lang})
        assert r.status_code == 200, r.text
    before = sorted(
        (r["email"], r["name"], r["organisation_name"], r["language"], r["group.name"])
        for r in await Contact.select(Contact.email, Contact.name, Contact.organisation_name, Contact.language, Contact.group.name)
    )

    for extension, content_type in (("csv", "text/csv; charset=utf-8"), ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        exported = await client.get(f"{base}/export.{extension}")
        assert exported.status_code == 200 and exported.headers["content-type"] == content_type
        assert exported.headers["content-disposition"].startswith(f'attachment; filename="contacts-{account.slug}-')
        assert exported.headers["cache-control"] == "no-store"
        if extension == "csv":
            assert exported.content.startswith(b"\xef\xbb\xbfemail;nom;organisation;langue;groupe\r\n")
            assert b"'=HYPERLINK" in exported.content  # formulas are neutralised for spreadsheets
        else:
            frame = pl.read_excel(io.BytesIO(exported.content))
            assert frame.columns == ["email", "nom", "organisation", "langue", "groupe"] and frame.height == 3
        # Erase everyone, then import the export back.
        await Contact.delete().where(Contact.organisation == uuid.UUID(account.org_id))
        uploaded = await upload(client, account.slug, exported.content, filename=f"export.{extension}", content_type=content_type)
        preview = await client.get(uploaded.headers["location"])
        assert "Le fichier est correct : 3 contacts" in text(preview), preview.text
        assert (await post_form(client, uploaded.headers["location"] + "/confirmer", {})).status_code == 303
        after = sorted(
            (r["email"], r["name"], r["organisation_name"], r["language"], r["group.name"])
            for r in await Contact.select(Contact.email, Contact.name, Contact.organisation_name, Contact.language, Contact.group.name)
        )
        assert after == before


async def test_person_data_is_exported_on_request(client):
    account = await sign_up(client)
    base = f"/o/{account.slug}/parties-prenantes"
    gid = await add_group(client, account.slug, category="usagers")
    await post_form(client, base + "/contacts", {"email": "lea@example.org", "name": "Léa Roy", "group_id": str(gid), "language": "fr"})
    form = await client.get(base + "/donnees-personnelles")
    assert form.status_code == 200 and "12 mois après la clôture" in text(form)
    bad = await post_form(client, base + "/donnees-personnelles", {"email": "lea@"})
    assert bad.status_code == 400 and "Cette adresse e-mail n'est pas valide." in text(bad)
    exported = await post_form(client, base + "/donnees-personnelles", {"email": "Lea@example.org"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    assert exported.headers["content-disposition"].startswith('attachment; filename="donnees-personnelles-')
    data = exported.json()
    assert data["email"] == "lea@example.org"
    assert [(c["name"], c["group_name"]) for c in data["contacts"]] == [("Léa Roy", "Usagers / bénéficiaires")]
    assert set(data) == {"email", "organisation", "exported_at", "contacts", "campaign_invitations", "memberships", "member_invitations", "emails"}


async def test_a_reader_sees_the_map_but_can_change_nothing(client):
    owner = await sign_up(client)
    base = f"/o/{owner.slug}/parties-prenantes"
    gid = await add_group(client, owner.slug, category="salaries")
    await post_form(client, base + "/contacts", {"email": "c@example.org", "group_id": str(gid), "language": "fr"})
    async with member_client(owner, "reader") as reader:
        page = await reader.get(base + "/")
        assert page.status_code == 200 and "<svg" in text(page) and "Salariés" in text(page)
        assert "Déplacer les groupes" not in text(page) and "Ajouter un groupe" not in text(page)
        assert (await reader.get(f"{base}/groupes/{gid}")).status_code == 200
        for method, url, data in (
            ("POST", base + "/groupes", {"category": "clients"}),
            ("POST", f"{base}/groupes/{gid}", {"category": "clients"}),
            ("POST", f"{base}/groupes/{gid}/position", {"influence": "1", "importance": "1"}),
            ("POST", f"{base}/groupes/{gid}/supprimer", {"delete_contacts": "on"}),
            ("POST", base + "/contacts", {"email": "x@example.org", "group_id": str(gid)}),
            ("GET", base + "/contacts", None),  # contacts are personal data
            ("GET", base + "/export.csv", None),
            ("GET", base + "/import", None),
            ("GET", base + "/donnees-personnelles", None),
        ):
            response = await (post_form(reader, url, data) if method == "POST" else reader.get(url))
            assert response.status_code == 403, f"{method} {url} → {response.status_code}"
        upload_attempt = await upload(reader, owner.slug, csv_bytes([("x@example.org", "Salariés")]))
        assert upload_attempt.status_code == 403
    assert await StakeholderGroup.count() == 1 and await contact_count(owner) == 1
    async with member_client(owner, "contributor", email="carl@example.org") as contributor:
        assert (await post_form(contributor, f"{base}/groupes/{gid}/position", {"influence": "1", "importance": "1"})).status_code == 200
        assert (await contributor.get(base + "/contacts")).status_code == 200
