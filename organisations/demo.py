"""Demo data for the stakeholder map: seven groups and about sixty contacts.

The people are invented; their addresses use the reserved domains example.org
and example.fr, so no message can ever reach anyone.
"""

from __future__ import annotations

import uuid

from api.db import transaction
from organisations import stakeholders
from organisations.tables import Contact, StakeholderGroup

# (category, name, influence, importance, power, legitimacy, urgency, engagement)
DEMO_GROUPS = [
    ("salaries", "Salariés", 4, 5, False, True, True, "impliquer"),
    ("benevoles", "Bénévoles", 3, 5, False, True, False, "collaborer"),
    ("adherents", "Adhérents", 5, 4, True, True, False, "codecider"),
    ("usagers", "Jardiniers et familles accueillies", 2, 5, False, True, True, "consulter"),
    ("financeurs", "Financeurs", 5, 2, True, True, False, "consulter"),
    ("collectivites", "Collectivités", 4, 3, True, True, False, "consulter"),
    ("partenaires", "Partenaires et réseaux", 2, 2, False, True, False, "informer"),
]

# group name -> [(name, email, organisation, language)]
DEMO_CONTACTS: dict[str, list[tuple[str, str, str, str]]] = {
    "Salariés": [
        ("Camille Lefèvre", "camille.lefevre@example.org", "", "fr"),
        ("Julien Moreau", "julien.moreau@example.org", "", "fr"),
        ("Nadia Haddad", "nadia.haddad@example.org", "", "fr"),
        ("Thomas Garnier", "thomas.garnier@example.org", "", "fr"),
        ("Élodie Perrin", "elodie.perrin@example.org", "", "fr"),
        ("Mamadou Diallo", "mamadou.diallo@example.org", "", "fr"),
        ("Sarah Lambert", "sarah.lambert@example.org", "", "fr"),
        ("Antoine Roux", "antoine.roux@example.org", "", "fr"),
        ("Inès Benmoussa", "ines.benmoussa@example.org", "", "fr"),
        ("Pierre-Yves Le Gall", "pierre-yves.legall@example.org", "", "fr"),
        ("Manon Faure", "manon.faure@example.org", "", "fr"),
        ("Emily Carter", "emily.carter@example.org", "", "en"),
    ],
    "Bénévoles": [
        ("Jacqueline Bernard", "jacqueline.bernard@example.fr", "", "fr"),
        ("Gérard Petit", "gerard.petit@example.fr", "", "fr"),
        ("Lucie Marchand", "lucie.marchand@example.fr", "", "fr"),
        ("Hugo Chevalier", "hugo.chevalier@example.fr", "", "fr"),
        ("Fatou Ndiaye", "fatou.ndiaye@example.fr", "", "fr"),
        ("Bernard Guérin", "bernard.guerin@example.fr", "", "fr"),
        ("Chloé Blanchard", "chloe.blanchard@example.fr", "", "fr"),
        ("Yannick Morvan", "yannick.morvan@example.fr", "", "fr"),
        ("Monique Girard", "monique.girard@example.fr", "", "fr"),
        ("Rachid Amrani", "rachid.amrani@example.fr", "", "fr"),
        ("Sophie Caron", "sophie.caron@example.fr", "", "fr"),
        ("Louis Fontaine", "louis.fontaine@example.fr", "", "fr"),
        ("Anaïs Robin", "anais.robin@example.fr", "", "fr"),
        ("James O'Connor", "james.oconnor@example.org", "", "en"),
        ("Hannah Schmidt", "hannah.schmidt@example.org", "", "en"),
    ],
    "Adhérents": [
        ("Marie-Claire Dubois", "marie-claire.dubois@example.fr", "", "fr"),
        ("François Mercier", "francois.mercier@example.fr", "", "fr"),
        ("Aurélie Vincent", "aurelie.vincent@example.fr", "", "fr"),
        ("Patrick Lemoine", "patrick.lemoine@example.fr", "", "fr"),
        ("Khadija El Amrani", "khadija.elamrani@example.fr", "", "fr"),
        ("Olivier Rousseau", "olivier.rousseau@example.fr", "", "fr"),
        ("Isabelle Fournier", "isabelle.fournier@example.fr", "", "fr"),
        ("Vincent Bonnet", "vincent.bonnet@example.fr", "", "fr"),
        ("Céline Henry", "celine.henry@example.fr", "", "fr"),
        ("Jean-Marc Colin", "jean-marc.colin@example.fr", "", "fr"),
        ("Sandrine Masson", "sandrine.masson@example.fr", "", "fr"),
        ("Nicolas Picard", "nicolas.picard@example.fr", "", "fr"),
        ("Agnès Renaud", "agnes.renaud@example.fr", "", "fr"),
        ("David Thompson", "david.thompson@example.org", "", "en"),
    ],
    "Jardiniers et familles accueillies": [
        ("Amina Traoré", "amina.traore@example.org", "", "fr"),
        ("Kevin Michel", "kevin.michel@example.org", "", "fr"),
        ("Leïla Bensaïd", "leila.bensaid@example.org", "", "fr"),
        ("Christophe Durand", "christophe.durand@example.org", "", "fr"),
        ("Nathalie Simon", "nathalie.simon@example.org", "", "fr"),
        ("Ousmane Sow", "ousmane.sow@example.org", "", "fr"),
        ("Justine Barbier", "justine.barbier@example.org", "", "fr"),
        ("Mehdi Cherif", "mehdi.cherif@example.org", "", "fr"),
        ("Svetlana Ivanova", "svetlana.ivanova@example.org", "", "en"),
        ("Paulo Silva", "paulo.silva@example.org", "", "en"),
    ],
    "Financeurs": [
        ("Hélène Vidal", "helene.vidal@example.fr", "Fondation des Solidarités Locales", "fr"),
        ("Marc Aubert", "marc.aubert@example.fr", "Caisse d'épargne solidaire de l'Ouest", "fr"),
        ("Claire Joly", "claire.joly@example.fr", "Fonds régional pour l'ESS", "fr"),
    ],
    "Collectivités": [
        ("Stéphane Morel", "stephane.morel@example.fr", "Ville du Val", "fr"),
        ("Véronique Lucas", "veronique.lucas@example.fr", "Communauté de communes du Val", "fr"),
    ],
    "Partenaires et réseaux": [
        ("Benoît Lacroix", "benoit.lacroix@example.org", "Réseau des jardins partagés de l'Ouest", "fr"),
        ("Samia Kaci", "samia.kaci@example.org", "Épicerie solidaire La Navette", "fr"),
        ("Guillaume Perret", "guillaume.perret@example.org", "Lycée agricole du Val", "fr"),
        ("Laura Bennett", "laura.bennett@example.org", "Incredible Edible Network", "en"),
    ],
}


async def seed_stakeholders(organisation_id: uuid.UUID) -> bool:
    """Create the demo map of an organisation. Does nothing (returns False) if it already has groups."""
    if await StakeholderGroup.exists().where(StakeholderGroup.organisation == organisation_id):
        return False
    async with transaction():
        group_ids: dict[str, uuid.UUID] = {}
        for category, name, influence, importance, power, legitimacy, urgency, engagement in DEMO_GROUPS:
            group_ids[name] = await stakeholders.group_create(
                organisation_id=organisation_id,
                data=stakeholders.GroupInput(
                    category=category,
                    name=name,
                    influence=influence,
                    importance=importance,
                    power=power,
                    legitimacy=legitimacy,
                    urgency=urgency,
                    engagement=engagement,
                ),
            )
        await Contact.insert(
            *(
                Contact(
                    organisation=organisation_id,
                    group=group_ids[group_name],
                    email=email,
                    name=name,
                    organisation_name=organisation_name,
                    language=language,
                )
                for group_name, people in DEMO_CONTACTS.items()
                for name, email, organisation_name, language in people
            )
        )
    return True
