"""ISO 26000 (2010) references that a référentiel practice may cite.

Allowed codes:

* ``"5.3"`` — clause 5.3, stakeholder identification and engagement;
* the seven core subjects ``"6.2"`` … ``"6.8"`` (clause 6);
* their issues, with the standard's clause numbering: 6.3.3–6.3.10,
  6.4.3–6.4.7, 6.5.3–6.5.6, 6.6.3–6.6.7, 6.7.3–6.7.9, 6.8.3–6.8.9
  (6.2 organisational governance has no separate issues).

Labels are short paraphrases for display, close to the usual French and
English names of the core subjects and issues; they are not the standard's text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "IsoRef",
    "ISO_REFS",
    "CORE_SUBJECTS",
    "ISSUES",
    "is_valid_iso_ref",
    "iso_label",
    "iso_core_subject",
]


@dataclass(frozen=True, slots=True)
class IsoRef:
    code: str
    label_fr: str
    label_en: str
    #: "clause" (5.3), "core_subject" (6.x) or "issue" (6.x.y)
    kind: str

    def label(self, lang: str = "fr") -> str:
        if lang == "fr":
            return self.label_fr
        if lang == "en":
            return self.label_en
        raise ValueError(f"unsupported language {lang!r}; expected 'fr' or 'en'")


def _c(code: str, fr: str, en: str) -> IsoRef:
    return IsoRef(code, fr, en, "core_subject")


def _i(code: str, fr: str, en: str) -> IsoRef:
    return IsoRef(code, fr, en, "issue")


_ALL = (
    IsoRef(
        "5.3",
        "Identification des parties prenantes et dialogue avec elles",
        "Stakeholder identification and engagement",
        "clause",
    ),
    _c("6.2", "Gouvernance de l’organisation", "Organizational governance"),
    _c("6.3", "Droits de l’Homme", "Human rights"),
    _i("6.3.3", "Devoir de vigilance", "Due diligence"),
    _i("6.3.4", "Situations à risque pour les droits de l’Homme", "Human rights risk situations"),
    _i("6.3.5", "Prévention de la complicité", "Avoidance of complicity"),
    _i("6.3.6", "Remédier aux atteintes aux droits de l’Homme", "Resolving grievances"),
    _i("6.3.7", "Discrimination et groupes vulnérables", "Discrimination and vulnerable groups"),
    _i("6.3.8", "Droits civils et politiques", "Civil and political rights"),
    _i("6.3.9", "Droits économiques, sociaux et culturels", "Economic, social and cultural rights"),
    _i(
        "6.3.10",
        "Principes fondamentaux et droits au travail",
        "Fundamental principles and rights at work",
    ),
    _c("6.4", "Relations et conditions de travail", "Labour practices"),
    _i("6.4.3", "Emploi et relations employeur-employé", "Employment and employment relationships"),
    _i("6.4.4", "Conditions de travail et protection sociale", "Conditions of work and social protection"),
    _i("6.4.5", "Dialogue social", "Social dialogue"),
    _i("6.4.6", "Santé et sécurité au travail", "Health and safety at work"),
    _i(
        "6.4.7",
        "Développement du capital humain et formation",
        "Human development and training in the workplace",
    ),
    _c("6.5", "Environnement", "The environment"),
    _i("6.5.3", "Prévention de la pollution", "Prevention of pollution"),
    _i("6.5.4", "Utilisation durable des ressources", "Sustainable resource use"),
    _i(
        "6.5.5",
        "Atténuation du changement climatique et adaptation",
        "Climate change mitigation and adaptation",
    ),
    _i(
        "6.5.6",
        "Protection de l’environnement, biodiversité et réhabilitation des habitats naturels",
        "Protection of the environment, biodiversity and restoration of natural habitats",
    ),
    _c("6.6", "Loyauté des pratiques", "Fair operating practices"),
    _i("6.6.3", "Lutte contre la corruption", "Anti-corruption"),
    _i("6.6.4", "Engagement politique responsable", "Responsible political involvement"),
    _i("6.6.5", "Concurrence loyale", "Fair competition"),
    _i(
        "6.6.6",
        "Promotion de la responsabilité sociétale dans la chaîne de valeur",
        "Promoting social responsibility in the value chain",
    ),
    _i("6.6.7", "Respect des droits de propriété", "Respect for property rights"),
    _c("6.7", "Questions relatives aux consommateurs", "Consumer issues"),
    _i(
        "6.7.3",
        "Pratiques loyales d’information, de commercialisation et de contrat",
        "Fair marketing, factual and unbiased information and fair contractual practices",
    ),
    _i(
        "6.7.4",
        "Protection de la santé et de la sécurité des consommateurs",
        "Protecting consumers’ health and safety",
    ),
    _i("6.7.5", "Consommation durable", "Sustainable consumption"),
    _i(
        "6.7.6",
        "Service après-vente, assistance et traitement des réclamations et litiges",
        "Consumer service, support, and complaint and dispute resolution",
    ),
    _i(
        "6.7.7",
        "Protection des données et de la vie privée des consommateurs",
        "Consumer data protection and privacy",
    ),
    _i("6.7.8", "Accès aux services essentiels", "Access to essential services"),
    _i("6.7.9", "Éducation et sensibilisation", "Education and awareness"),
    _c("6.8", "Communautés et développement local", "Community involvement and development"),
    _i("6.8.3", "Implication auprès des communautés", "Community involvement"),
    _i("6.8.4", "Éducation et culture", "Education and culture"),
    _i(
        "6.8.5",
        "Création d’emplois et développement des compétences",
        "Employment creation and skills development",
    ),
    _i(
        "6.8.6",
        "Développement des technologies et accès à la technologie",
        "Technology development and access",
    ),
    _i("6.8.7", "Création de richesses et de revenus", "Wealth and income creation"),
    _i("6.8.8", "Santé", "Health"),
    _i("6.8.9", "Investissement dans la société", "Social investment"),
)

#: Every allowed reference, keyed by code, in clause order.
ISO_REFS: dict[str, IsoRef] = {ref.code: ref for ref in _ALL}
#: The seven core subjects 6.2 … 6.8.
CORE_SUBJECTS: dict[str, IsoRef] = {c: r for c, r in ISO_REFS.items() if r.kind == "core_subject"}
#: The issues (6.x.y) of the core subjects.
ISSUES: dict[str, IsoRef] = {c: r for c, r in ISO_REFS.items() if r.kind == "issue"}


def is_valid_iso_ref(code: object) -> bool:
    """True if ``code`` is an allowed ISO 26000 reference (exact string, e.g. ``"6.4.3"``)."""
    return isinstance(code, str) and code in ISO_REFS


def iso_label(code: str, lang: str = "fr") -> str:
    """Short label of a reference; KeyError for an unknown code, ValueError for an unknown language."""
    try:
        ref = ISO_REFS[code]
    except KeyError:
        raise KeyError(f"unknown ISO 26000 reference {code!r}") from None
    return ref.label(lang)


def iso_core_subject(code: str) -> str | None:
    """Core subject of a reference: ``"6.4.3"`` → ``"6.4"``, ``"6.4"`` → ``"6.4"``, ``"5.3"`` → None."""
    ref = ISO_REFS.get(code)
    if ref is None:
        raise KeyError(f"unknown ISO 26000 reference {code!r}")
    if ref.kind == "clause":
        return None
    return ".".join(code.split(".")[:2])
