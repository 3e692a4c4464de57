"""Standard stakeholder categories of an ESS organisation.

Pure constants: the keys are stable identifiers stored in the database and
used by the référentiels (``categories = [...]`` in each practice); the labels
are for display. Order matters: it is the order shown to users, from the
inside of the organisation (employees, volunteers, members, board) to the
outside (users, economic partners, public bodies, neighbourhood).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Category",
    "STAKEHOLDER_CATEGORIES",
    "CATEGORY_KEYS",
    "LANGUAGES",
    "category_label",
    "is_valid_category",
]

LANGUAGES = ("fr", "en")


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    label_fr: str
    label_en: str

    def label(self, lang: str = "fr") -> str:
        return self.label_en if _check_lang(lang) == "en" else self.label_fr


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")
    return lang


_CATEGORIES = (
    Category("salaries", "Salariés", "Employees"),
    Category("benevoles", "Bénévoles", "Volunteers"),
    Category("adherents", "Adhérents / sociétaires", "Members / co-op members"),
    Category("administrateurs", "Administrateurs / élus", "Board members / elected officers"),
    Category("usagers", "Usagers / bénéficiaires", "Service users / beneficiaries"),
    Category("clients", "Clients", "Customers"),
    Category("fournisseurs", "Fournisseurs", "Suppliers"),
    Category("financeurs", "Financeurs", "Funders"),
    Category("collectivites", "Collectivités territoriales / État", "Local authorities / State"),
    Category("partenaires", "Partenaires / réseaux", "Partners / networks"),
    Category("voisinage", "Voisinage / société civile", "Neighbours / civil society"),
)

#: Ordered mapping key -> Category (dicts keep insertion order).
STAKEHOLDER_CATEGORIES: dict[str, Category] = {c.key: c for c in _CATEGORIES}

#: The keys alone, in display order.
CATEGORY_KEYS: tuple[str, ...] = tuple(STAKEHOLDER_CATEGORIES)


def is_valid_category(key: str) -> bool:
    return key in STAKEHOLDER_CATEGORIES


def category_label(key: str, lang: str = "fr") -> str:
    """Label of a category; raises KeyError for an unknown key, ValueError for an unknown language."""
    try:
        category = STAKEHOLDER_CATEGORIES[key]
    except KeyError:
        raise KeyError(f"unknown stakeholder category {key!r}") from None
    return category.label(lang)
