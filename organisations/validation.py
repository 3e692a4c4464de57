"""Checks on organisation identity data: SIRET, postcode → region, legal forms."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

LEGAL_FORMS: dict[str, str] = {
    "association": "Association",
    "cooperative": "Coopérative",
    "mutuelle": "Mutuelle",
    "fondation": "Fondation",
    "entreprise_ess": "Entreprise commerciale de l'ESS",
}
COOP_KINDS: dict[str, str] = {"scop": "SCOP", "scic": "SCIC", "autre": "Autre coopérative"}
HEADCOUNT_BANDS: dict[str, str] = {
    "0": "Aucun salarié",
    "1-9": "1 à 9 salariés",
    "10-49": "10 à 49 salariés",
    "50-249": "50 à 249 salariés",
    "250+": "250 salariés ou plus",
}

REGIONS = (
    "Auvergne-Rhône-Alpes", "Bourgogne-Franche-Comté", "Bretagne", "Centre-Val de Loire", "Corse",
    "Grand Est", "Hauts-de-France", "Île-de-France", "Normandie", "Nouvelle-Aquitaine", "Occitanie",
    "Pays de la Loire", "Provence-Alpes-Côte d'Azur", "Guadeloupe", "Martinique", "Guyane",
    "La Réunion", "Mayotte",
)

_DEPARTMENTS_BY_REGION: dict[str, tuple[str, ...]] = {
    "Auvergne-Rhône-Alpes": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "Bourgogne-Franche-Comté": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "Bretagne": ("22", "29", "35", "56"),
    "Centre-Val de Loire": ("18", "28", "36", "37", "41", "45"),
    "Corse": ("20",),
    "Grand Est": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
    "Hauts-de-France": ("02", "59", "60", "62", "80"),
    "Île-de-France": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "Normandie": ("14", "27", "50", "61", "76"),
    "Nouvelle-Aquitaine": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    "Occitanie": ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    "Pays de la Loire": ("44", "49", "53", "72", "85"),
    "Provence-Alpes-Côte d'Azur": ("04", "05", "06", "13", "83", "84"),
    "Guadeloupe": ("971",),
    "Martinique": ("972",),
    "Guyane": ("973",),
    "La Réunion": ("974",),
    "Mayotte": ("976",),
}
_REGION_BY_DEPARTMENT = {d: r for r, ds in _DEPARTMENTS_BY_REGION.items() for d in ds}


def region_for_postcode(postcode: str) -> str | None:
    if not re.fullmatch(r"\d{5}", postcode or ""):
        return None
    if postcode.startswith("97"):
        return _REGION_BY_DEPARTMENT.get(postcode[:3])
    return _REGION_BY_DEPARTMENT.get(postcode[:2])


def siret_is_valid(siret: str) -> bool:
    """14 digits with a valid Luhn checksum (La Poste's SIRETs use a digit-sum rule)."""
    if not re.fullmatch(r"\d{14}", siret):
        return False
    if siret.startswith("356000000"):  # La Poste: sum of digits multiple of 5
        return sum(int(c) for c in siret) % 5 == 0
    total = 0
    for i, ch in enumerate(reversed(siret)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def normalise_siret(raw: str) -> str:
    return re.sub(r"[\s.\-]", "", raw or "")


def normalise_email(raw: str) -> str | None:
    """The normalised, lower-cased address, or None when it is not a valid address."""
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


PASSWORD_MIN_LENGTH = 10


def password_problem(password: str) -> str | None:
    if len(password or "") < PASSWORD_MIN_LENGTH:
        return f"Le mot de passe doit contenir au moins {PASSWORD_MIN_LENGTH} caractères."
    if len(password) > 256:
        return "Le mot de passe est trop long (256 caractères au plus)."
    return None
