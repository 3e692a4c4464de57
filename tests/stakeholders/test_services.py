"""The stakeholder map's business rules, called as the controllers call them."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest

from analytics.frames import GROUPS_SCHEMA, validate_groups
from api.errors import Conflict, Gone, NotFound, ValidationFailed
from consultations.tables import Campaign, CampaignGroup, Invitation
from emails.tables import OutboxMessage
from organisations import stakeholder_queries as queries
from organisations import stakeholders as services
from organisations.demo import seed_stakeholders
from organisations.services import OrganisationInput, organisation_create
from organisations.tables import Contact, ContactImport, MemberInvitation, Organisation, StakeholderGroup, User
from tests.stakeholders.test_pages import csv_bytes

UTC = dt.timezone.utc


async def new_org(name: str = "Association Les Amis du Quartier") -> uuid.UUID:
    user = User(email=f"{uuid.uuid4().hex[:8]}@example.org", name="Admin", password_hash="x")
    await user.save()
    org = await organisation_create(
        user_id=user.id,
        data=OrganisationInput(
            name=name, legal_form="association", coop_kind=None, siret=None, postcode="44000", region=None, headcount_band="1-9"
        ),
    )
    return org.id


def group(category: str, **kwargs) -> services.GroupInput:
    return services.GroupInput(category=category, **kwargs)


async def test_an_organisation_builds_its_map_by_hand(db):
    org = await new_org()
    salaries = await services.group_create(organisation_id=org, data=group("salaries", influence=4, importance=5, urgency=True))
    financeurs = await services.group_create(
        organisation_id=org, data=group("financeurs", influence="5", importance="2", power=True, engagement="informer")
    )
    riverains = await services.group_create(
        organisation_id=org, data=group("autre", name="  Riverains   du jardin ", influence=1, importance=2, engagement="codecider")
    )
    await services.contact_create(
        organisation_id=org, data=services.ContactInput(email="Claire.Martin@Example.org ", group_id=salaries, name="Claire Martin")
    )
    await services.contact_create(
        organisation_id=org, data=services.ContactInput(email="bob@example.org", group_id=str(salaries), language="en")
    )

    groups = {g.name: g for g in await queries.groups_list(organisation_id=org)}
    assert list(groups) == ["Salariés", "Financeurs", "Riverains du jardin"]  # category order, custom last
    assert groups["Salariés"].contact_count == 2 and groups["Salariés"].quadrant_label == "Gérer de près"
    assert groups["Salariés"].salience_labels == ["Urgence"]
    assert groups["Financeurs"].quadrant == "satisfaire" and groups["Financeurs"].power
    assert groups["Riverains du jardin"].category_label == "Autre"
    assert groups["Riverains du jardin"].quadrant_label == "Surveiller"
    assert groups["Riverains du jardin"].engagement_label == "Co-décider"
    contacts = await queries.contacts_list(organisation_id=org)
    assert [c["email"] for c in contacts] == ["bob@example.org", "claire.martin@example.org"]
    assert {c["group_name"] for c in contacts} == {"Salariés"}

    await services.group_set_position(organisation_id=org, group_id=riverains, influence="2", importance=4)
    moved = await queries.group_get(organisation_id=org, group_id=riverains)
    assert (moved.influence, moved.importance, moved.quadrant_label) == (2, 4, "Informer")
    assert financeurs in {g.id for g in await queries.groups_list(organisation_id=org)}


async def test_group_validation_speaks_french(db):
    org = await new_org()
    with pytest.raises(ValidationFailed) as caught:
        await services.group_create(
            organisation_id=org,
            data=group("pirates", influence=0, importance="six", engagement="ignorer", weight_override="1,5"),
        )
    assert caught.value.errors == {
        "category": "Choisissez une catégorie dans la liste, ou « Autre » pour un groupe personnalisé.",
        "name": "Indiquez le nom du groupe.",
        "influence": "L'influence doit être un nombre entier de 1 (faible) à 5 (forte).",
        "importance": "L'importance doit être un nombre entier de 1 (faible) à 5 (forte).",
        "engagement": "Choisissez un niveau d'engagement : informer, consulter, impliquer, collaborer ou co-décider.",
        "weight_override": "Le poids doit être un nombre de 0 à 1 (par exemple 0,5), ou rester vide pour le poids calculé.",
    }
    with pytest.raises(ValidationFailed) as caught:
        await services.group_create(organisation_id=org, data=group("autre", name="   "))
    assert caught.value.errors == {"name": "Indiquez le nom du groupe."}
    # Names are unique, as the import matches them: case, accents and spacing don't count.
    await services.group_create(organisation_id=org, data=group("benevoles"))
    with pytest.raises(ValidationFailed) as caught:
        await services.group_create(organisation_id=org, data=group("autre", name="BENEVOLES"))
    assert caught.value.errors == {"name": "Un groupe s'appelle déjà « Bénévoles » : choisissez un autre nom."}
    assert await StakeholderGroup.count().where(StakeholderGroup.organisation == org) == 1


async def test_weight_is_derived_from_the_position_and_can_be_overridden(db):
    assert services.derived_weight(1, 1) == 0.2
    assert services.derived_weight(5, 5) == 1.0
    assert services.derived_weight(5, 1) == services.derived_weight(1, 5) == 0.6
    assert services.group_weight({"influence": 4, "importance": 3, "weight_override": None}) == 0.7
    assert services.group_weight({"influence": 4, "importance": 3, "weight_override": 0.25}) == 0.25

    org = await new_org()
    key = await services.group_create(organisation_id=org, data=group("salaries", influence=4, importance=5))
    low = await services.group_create(organisation_id=org, data=group("voisinage", influence=1, importance=2))
    row = await StakeholderGroup.objects().where(StakeholderGroup.id == key).first()
    assert services.group_weight(row) == 0.9
    # Adjusted (a decimal comma, as typed in a French form), then excluded, then back to derived.
    await services.group_update(organisation_id=org, group_id=low, data=group("voisinage", influence=1, importance=2, weight_override="0,7"))
    assert (await queries.group_get(organisation_id=org, group_id=low)).weight == 0.7
    await services.group_update(organisation_id=org, group_id=low, data=group("voisinage", influence=1, importance=2, weight_override=0))
    assert (await queries.group_get(organisation_id=org, group_id=low)).weight == 0.0
    await services.group_update(organisation_id=org, group_id=low, data=group("voisinage", influence=1, importance=2, weight_override=""))
    assert (await queries.group_get(organisation_id=org, group_id=low)).weight == 0.3

    frame = await queries.groups_frame(org)
    assert frame.schema == pl.Schema(GROUPS_SCHEMA)
    validate_groups(frame)  # the analytics accept it as their `groups` input
    by_id = {r["group_id"]: r for r in frame.to_dicts()}
    assert by_id[str(key)] == {"group_id": str(key), "group_name": "Salariés", "category": "salaries", "weight": 0.9, "open_link": False}
    assert by_id[str(low)]["weight"] == 0.3
    assert (await queries.groups_frame(await new_org("Vide"))).height == 0


async def test_a_group_with_contacts_is_deleted_only_with_them_in_one_go(db):
    org = await new_org()
    gid = await services.group_create(organisation_id=org, data=group("usagers"))
    other = await services.group_create(organisation_id=org, data=group("clients"))
    for i in range(3):
        await services.contact_create(organisation_id=org, data=services.ContactInput(email=f"u{i}@example.org", group_id=gid))
    await services.contact_create(organisation_id=org, data=services.ContactInput(email="keep@example.org", group_id=other))

    with pytest.raises(Conflict) as caught:
        await services.group_delete(organisation_id=org, group_id=gid)
    assert "contient encore 3 contacts" in caught.value.message
    assert await StakeholderGroup.count().where(StakeholderGroup.organisation == org) == 2
    assert await Contact.count() == 4

    assert await services.group_delete(organisation_id=org, group_id=gid, delete_contacts=True) == 3
    assert await StakeholderGroup.count().where(StakeholderGroup.organisation == org) == 1
    assert [r["email"] for r in await Contact.select(Contact.email)] == ["keep@example.org"]
    # An empty group goes without asking; another organisation's group is not found.
    empty = await services.group_create(organisation_id=org, data=group("fournisseurs"))
    assert await services.group_delete(organisation_id=org, group_id=empty) == 0
    with pytest.raises(NotFound):
        await services.group_delete(organisation_id=await new_org("Autre"), group_id=other)


async def test_contact_validation_and_editing(db):
    org = await new_org()
    gid = await services.group_create(organisation_id=org, data=group("adherents"))
    foreign_group = await services.group_create(organisation_id=await new_org("Autre"), data=group("adherents"))
    with pytest.raises(ValidationFailed) as caught:
        await services.contact_create(
            organisation_id=org,
            data=services.ContactInput(email="pas-une-adresse", group_id=foreign_group, language="de", name="x" * 201),
        )
    assert caught.value.errors == {
        "email": "Cette adresse e-mail n'est pas valide (exemple : prenom.nom@exemple.fr).",
        "name": "Le nom est trop long (200 caractères au plus).",
        "language": "Choisissez la langue du contact : français ou anglais.",
        "group_id": "Choisissez le groupe de parties prenantes du contact.",
    }
    first = await services.contact_create(organisation_id=org, data=services.ContactInput(email="ana@example.org", group_id=gid))
    with pytest.raises(ValidationFailed) as caught:
        await services.contact_create(organisation_id=org, data=services.ContactInput(email="ANA@example.org", group_id=gid))
    assert caught.value.errors == {"email": "« ana@example.org » fait déjà partie des contacts de l'organisation."}
    second = await services.contact_create(organisation_id=org, data=services.ContactInput(email="bea@example.org", group_id=gid))
    with pytest.raises(ValidationFailed):
        await services.contact_update(organisation_id=org, contact_id=second, data=services.ContactInput(email="ana@example.org", group_id=gid))
    await services.contact_update(
        organisation_id=org,
        contact_id=first,
        data=services.ContactInput(email="ana@example.org", group_id=gid, name="Ana Lopes", organisation_name="Coop", language="en"),
    )
    row = await queries.contact_get(organisation_id=org, contact_id=first)
    assert (row["name"], row["organisation_name"], row["language"]) == ("Ana Lopes", "Coop", "en")


async def _campaign_with_invitation(org: uuid.UUID, group_id: uuid.UUID, contact_id: uuid.UUID, **campaign) -> uuid.UUID:
    c = Campaign(organisation=org, title="Consultation 2026", referentiel_key="essentiel", referentiel_version="2026.1", **campaign)
    await c.save()
    cg = CampaignGroup(campaign=c.id, group=group_id, name="Salariés", category="salaries", weight=0.9)
    await cg.save()
    inv = Invitation(campaign=c.id, campaign_group=cg.id, contact=contact_id, nonce="n" * 32)
    await inv.save()
    return inv.id


async def test_erasing_a_contact_removes_the_person_and_their_survey_emails(db):
    org = await new_org()
    gid = await services.group_create(organisation_id=org, data=group("salaries"))
    cid = await services.contact_create(organisation_id=org, data=services.ContactInput(email="zoe@example.org", group_id=gid, name="Zoé"))
    keep = await services.contact_create(organisation_id=org, data=services.ContactInput(email="yves@example.org", group_id=gid))
    invitation = await _campaign_with_invitation(org, gid, cid, status="open")
    for kind, to in [("invitation", "zoe@example.org"), ("reminder", "zoe@example.org"), ("invitation", "yves@example.org")]:
        await OutboxMessage(organisation=org, kind=kind, to_address=to, subject="s", html="h", text="t").save()
    await OutboxMessage(organisation=org, kind="member_invitation", to_address="zoe@example.org", subject="s", html="h", text="t").save()

    await services.contact_delete(organisation_id=org, contact_id=cid)

    assert [r["id"] for r in await Contact.select(Contact.id)] == [keep]
    # The invitation stays (the campaign's counts hold) but no longer points to anyone.
    assert (await Invitation.select(Invitation.contact).where(Invitation.id == invitation).first())["contact"] is None
    left = {(r["kind"], r["to_address"]) for r in await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.to_address)}
    assert left == {("invitation", "yves@example.org"), ("member_invitation", "zoe@example.org")}
    assert await queries.person_data(organisation_id=org, email="zoe@example.org") is not None
    assert (await queries.person_data(organisation_id=org, email="zoe@example.org"))["contacts"] == []
    with pytest.raises(NotFound):
        await services.contact_delete(organisation_id=org, contact_id=cid)


async def test_retention_erases_contacts_after_the_configured_months(db):
    org = await new_org()
    other_org = await new_org("Autre")
    gid = await services.group_create(organisation_id=org, data=group("benevoles"))
    other_gid = await services.group_create(organisation_id=other_org, data=group("benevoles"))
    closed = dt.datetime(2025, 1, 31, 18, 0, tzinfo=UTC)
    old = Contact(organisation=org, group=gid, email="old@example.org", created_at=dt.datetime(2024, 11, 1, tzinfo=UTC))
    new = Contact(organisation=org, group=gid, email="new@example.org", created_at=dt.datetime(2025, 3, 1, tzinfo=UTC))
    elsewhere = Contact(organisation=other_org, group=other_gid, email="old@example.org", created_at=dt.datetime(2024, 11, 1, tzinfo=UTC))
    for c in (old, new, elsewhere):
        await c.save()
    await OutboxMessage(organisation=org, kind="reminder", to_address="old@example.org", subject="s", html="h", text="t").save()

    # 31 January + 12 months = 31 January 2026; 31 January + 1 month = 28 February.
    assert services.retention_deadline(closed, 12) == dt.datetime(2026, 1, 31, 18, 0, tzinfo=UTC)
    assert services.add_months(closed, 1) == dt.datetime(2025, 2, 28, 18, 0, tzinfo=UTC)
    just_before = dt.datetime(2026, 1, 31, 17, 59, tzinfo=UTC)
    assert await services.contacts_erase_expired(organisation_id=org, last_campaign_closed_at=closed, now=just_before) == 0
    assert await services.contacts_erase_expired(organisation_id=org, last_campaign_closed_at=None, now=just_before) == 0
    assert await Contact.count() == 3

    on_time = dt.datetime(2026, 1, 31, 18, 0, tzinfo=UTC)
    assert await services.contacts_erase_expired(organisation_id=org, last_campaign_closed_at=closed, now=on_time) == 1
    # Only contacts that existed at the close go; one added for the next campaign stays; other organisations are untouched.
    assert {(r["organisation"], r["email"]) for r in await Contact.select(Contact.organisation, Contact.email)} == {
        (org, "new@example.org"),
        (other_org, "old@example.org"),
    }
    assert await OutboxMessage.count() == 0
    # A shorter configured period (here 3 months, as CONTACT_RETENTION_MONTHS would set it).
    assert await services.contacts_erase_expired(
        organisation_id=org, last_campaign_closed_at=dt.datetime(2025, 6, 1, tzinfo=UTC), now=dt.datetime(2025, 9, 1, tzinfo=UTC), retention_months=3
    ) == 1
    assert await Contact.count().where(Contact.organisation == org) == 0
    with pytest.raises(ValueError):
        services.retention_deadline(dt.datetime(2025, 1, 1), 12)


async def test_the_daily_job_is_fed_with_each_organisations_last_close(db):
    org, other_org, running = await new_org("Close"), await new_org("Récente"), await new_org("En cours")
    ids = {}
    for o in (org, other_org, running):
        gid = await services.group_create(organisation_id=o, data=group("salaries"))
        c = Contact(organisation=o, group=gid, email="p@example.org", created_at=dt.datetime(2024, 1, 1, tzinfo=UTC))
        await c.save()
        ids[o] = (gid, c.id)
    now = dt.datetime(2026, 6, 1, tzinfo=UTC)

    # Fed explicitly (what later code can do)…
    erased = await services.erase_expired_contacts(
        last_closed_at_by_org={org: dt.datetime(2025, 1, 1, tzinfo=UTC), other_org: dt.datetime(2026, 1, 1, tzinfo=UTC), running: None}, now=now
    )
    assert erased == {org: 1}

    # …or by default from the campaigns: the latest close counts, an open campaign holds everything.
    c = Contact(organisation=org, group=ids[org][0], email="q@example.org", created_at=dt.datetime(2024, 1, 1, tzinfo=UTC))
    await c.save()
    await _campaign_with_invitation(org, ids[org][0], c.id, status="closed", closed_at=dt.datetime(2025, 2, 1, tzinfo=UTC))
    await _campaign_with_invitation(other_org, ids[other_org][0], ids[other_org][1], status="closed", closed_at=dt.datetime(2024, 6, 1, tzinfo=UTC))
    await _campaign_with_invitation(other_org, ids[other_org][0], ids[other_org][1], status="archived", closed_at=dt.datetime(2025, 12, 1, tzinfo=UTC))
    await _campaign_with_invitation(running, ids[running][0], ids[running][1], status="closed", closed_at=dt.datetime(2024, 6, 1, tzinfo=UTC))
    await _campaign_with_invitation(running, ids[running][0], ids[running][1], status="open")
    closes = await queries.last_campaign_closed_at_by_org()
    assert closes == {org: dt.datetime(2025, 2, 1, tzinfo=UTC), other_org: dt.datetime(2025, 12, 1, tzinfo=UTC), running: None}
    assert await services.erase_expired_contacts(now=now) == {org: 1}
    assert await services.erase_expired_contacts(now=dt.datetime(2026, 12, 1, tzinfo=UTC)) == {other_org: 1}
    assert [r["organisation"] for r in await Contact.select(Contact.organisation)] == [running]


async def test_person_data_export_gathers_everything_held_about_an_address(db):
    org = await new_org()
    gid = await services.group_create(organisation_id=org, data=group("partenaires"))
    cid = await services.contact_create(
        organisation_id=org,
        data=services.ContactInput(email="lea@example.org", group_id=gid, name="Léa Roy", organisation_name="Réseau Ouest"),
    )
    await _campaign_with_invitation(org, gid, cid, status="open")
    await OutboxMessage(organisation=org, kind="invitation", to_address="lea@example.org", subject="Votre avis compte", html="h", text="secret-link").save()
    await MemberInvitation(
        organisation=org, email="lea@example.org", role="reader", token_hash="h" * 64, expires_at=dt.datetime(2030, 1, 1, tzinfo=UTC)
    ).save()
    other = await new_org("Autre")
    other_gid = await services.group_create(organisation_id=other, data=group("partenaires"))
    await services.contact_create(organisation_id=other, data=services.ContactInput(email="lea@example.org", group_id=other_gid, name="Autre Léa"))

    data = await queries.person_data(organisation_id=org, email=" LEA@example.org ")
    assert data["email"] == "lea@example.org" and data["organisation"] == "Association Les Amis du Quartier"
    assert [(c["name"], c["organisation_name"], c["group_name"], c["group_category"]) for c in data["contacts"]] == [
        ("Léa Roy", "Réseau Ouest", "Partenaires / réseaux", "Partenaires / réseaux")
    ]
    assert [(i["campaign_title"], i["group_name"]) for i in data["campaign_invitations"]] == [("Consultation 2026", "Salariés")]
    assert "used" not in data["campaign_invitations"][0]  # the team must not learn who answered
    assert [m["role"] for m in data["member_invitations"]] == ["reader"]
    assert [(e["kind"], e["subject"]) for e in data["emails"]] == [("invitation", "Votre avis compte")]
    assert "secret-link" not in repr(data)
    assert await queries.person_data(organisation_id=org, email="pas une adresse") is None
    nobody = await queries.person_data(organisation_id=org, email="nobody@example.org")
    assert nobody["contacts"] == nobody["emails"] == nobody["memberships"] == []


async def test_import_confirm_checks_the_rows_again(db):
    org = await new_org()
    salaries = await services.group_create(organisation_id=org, data=group("salaries"))
    await services.group_create(organisation_id=org, data=group("benevoles"))
    data = csv_bytes([("a@example.org", "Salariés"), ("b@example.org", "Bénévoles")])

    # An address added by hand after the preview: refused, nothing written.
    import_id, preview = await services.contact_import_preview(organisation_id=org, user_id=None, data=data, filename="c.csv")
    assert preview.ok and await Contact.count() == 0
    await services.contact_create(organisation_id=org, data=services.ContactInput(email="b@example.org", group_id=salaries))
    with pytest.raises(ValidationFailed) as caught:
        await services.contact_import_confirm(organisation_id=org, import_id=import_id)
    assert list(caught.value.errors.values()) == ["Ligne 3 : « b@example.org » a été ajouté aux contacts depuis l'aperçu."]
    assert await Contact.count() == 1

    # A group deleted after the preview: refused too.
    await Contact.delete(force=True)
    import_id, _ = await services.contact_import_preview(organisation_id=org, user_id=None, data=data, filename="c.csv")
    benevoles = (await StakeholderGroup.select(StakeholderGroup.id).where(StakeholderGroup.name == "Bénévoles").first())["id"]
    await services.group_delete(organisation_id=org, group_id=benevoles)
    with pytest.raises(ValidationFailed) as caught:
        await services.contact_import_confirm(organisation_id=org, import_id=import_id)
    assert "le groupe « Bénévoles » n'existe plus" in " ".join(caught.value.errors.values())
    assert await Contact.count() == 0

    # Another organisation can't confirm it; an expired preview is gone; a confirmed one can't be replayed.
    await services.group_create(organisation_id=org, data=group("benevoles"))
    import_id, _ = await services.contact_import_preview(organisation_id=org, user_id=None, data=data, filename="c.csv")
    with pytest.raises(Gone):
        await services.contact_import_confirm(organisation_id=await new_org("Intrus"), import_id=import_id)
    assert await services.contact_import_confirm(organisation_id=org, import_id=import_id) == 2
    with pytest.raises(Gone):
        await services.contact_import_confirm(organisation_id=org, import_id=import_id)
    await Contact.delete(force=True)
    import_id, _ = await services.contact_import_preview(organisation_id=org, user_id=None, data=data, filename="c.csv")
    await ContactImport.update({ContactImport.expires_at: dt.datetime(2020, 1, 1, tzinfo=UTC)}).where(ContactImport.id == import_id)
    with pytest.raises(Gone):
        await services.contact_import_confirm(organisation_id=org, import_id=import_id)
    assert await queries.import_get(organisation_id=org, import_id=import_id) is None
    assert await Contact.count() == 0


async def test_a_large_clean_import_is_written_in_one_go(db):
    org = await new_org()
    await services.group_create(organisation_id=org, data=group("usagers"))
    data = csv_bytes([(f"usager{i}@example.org", "Usagers / bénéficiaires") for i in range(1200)])
    import_id, preview = await services.contact_import_preview(organisation_id=org, user_id=None, data=data, filename="gros.csv")
    assert preview.ok and len(preview.rows) == 1200
    assert await services.contact_import_confirm(organisation_id=org, import_id=import_id) == 1200
    assert await Contact.count().where(Contact.organisation == org) == 1200


async def test_upload_limits(db):
    org = await new_org()
    with pytest.raises(ValidationFailed) as caught:
        await services.contact_import_preview(organisation_id=org, user_id=None, data=b"", filename="vide.csv")
    assert caught.value.errors == {"file": "Choisissez un fichier CSV ou XLSX à importer."}
    with pytest.raises(ValidationFailed) as caught:
        await services.contact_import_preview(organisation_id=org, user_id=None, data=b"x" * (2 * 1024 * 1024 + 1), filename="gros.csv")
    assert caught.value.errors == {"file": "Le fichier dépasse 2 Mo. Découpez-le en plusieurs fichiers."}
    assert await ContactImport.count() == 0


async def test_demo_map_is_realistic(db):
    org = await new_org("Les Jardins partagés du Val")
    assert await seed_stakeholders(org) is True
    groups = await queries.groups_list(organisation_id=org)
    assert len(groups) == 7
    sizes = {g.name: g.contact_count for g in groups}
    assert sizes["Salariés"] == 12 and sizes["Bénévoles"] == 15 and sizes["Financeurs"] == 3 and sizes["Collectivités"] == 2
    assert 55 <= sum(sizes.values()) <= 65
    assert {g.quadrant for g in groups} == {"gerer", "satisfaire", "informer", "surveiller"}
    contacts = await queries.contacts_list(organisation_id=org)
    assert all(c["email"].endswith(("@example.org", "@example.fr")) for c in contacts)
    assert sum(c["language"] == "en" for c in contacts) >= 3
    assert await seed_stakeholders(org) is False  # a second call duplicates nothing
    assert await Contact.count() == len(contacts)
    assert await Organisation.count() == 1
