"""Référentiels: the lists of good practices that surveys ask about.

A référentiel is a TOML file in ``surveys/referentiels/`` named
``<key>-<version>.toml`` (see ``docs/referentiels.md`` for the format). It
groups practices under the 8 themes of the *Guide des bonnes pratiques des
entreprises de l'ESS* (CSESS, 2016). Each practice has two phrasings: one for
the organisation assessing itself, one for outside stakeholders, and is asked
only to the stakeholder categories it concerns.

``load_referentiel`` validates a file completely and raises
``ReferentielError`` with French messages of the form
``fichier : endroit : champ « x » : problème`` (one line per problem).
The models are frozen ``msgspec.Struct`` instances, so they can be encoded to
JSON directly.

This module also holds the answer scales shared by every survey:
``LEVELS`` (how far a practice is in place), ``IMPORTANCE_LEVELS`` and the
special answers ``DONT_KNOW`` / ``NOT_CONCERNED``.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from organisations.categories import STAKEHOLDER_CATEGORIES
from surveys.iso26000 import is_valid_iso_ref

__all__ = [
    "LANGUAGES",
    "REFERENTIELS_DIR",
    "Text",
    "Theme",
    "Practice",
    "Referentiel",
    "ReferentielProblem",
    "ReferentielError",
    "ReferentielNotFound",
    "load_referentiel",
    "parse_referentiel",
    "available_referentiels",
    "get_referentiel",
    "Level",
    "LEVELS",
    "IMPORTANCE_LEVELS",
    "DONT_KNOW",
    "NOT_CONCERNED",
    "SPECIAL_ANSWERS",
    "answer_label",
    "is_valid_answer",
]

LANGUAGES = ("fr", "en")
REFERENTIELS_DIR = Path(__file__).with_name("referentiels")
THEME_COUNT = 8


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")
    return lang


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


class Text(msgspec.Struct, frozen=True):
    """A text in French and English (both always present and non-empty)."""

    fr: str
    en: str

    def get(self, lang: str = "fr") -> str:
        return self.en if _check_lang(lang) == "en" else self.fr


class Theme(msgspec.Struct, frozen=True):
    key: str
    number: int
    title: Text
    summary: Text


class Practice(msgspec.Struct, frozen=True):
    key: str
    theme: str
    #: Phrased by the organisation about itself ("Nos instances …").
    org_statement: Text
    #: Phrased for outside stakeholders ("La structure …").
    stakeholder_statement: Text
    #: Stakeholder category keys this practice is asked to.
    categories: tuple[str, ...]
    #: ISO 26000 references (see surveys.iso26000).
    iso26000: tuple[str, ...]
    help: Text
    indicators: tuple[Text, ...] = ()
    subtheme: Text | None = None

    def statement(self, audience: Literal["org", "stakeholder"], lang: str = "fr") -> str:
        if audience == "org":
            return self.org_statement.get(lang)
        if audience == "stakeholder":
            return self.stakeholder_statement.get(lang)
        raise ValueError(f"unknown audience {audience!r}; expected 'org' or 'stakeholder'")


class Referentiel(msgspec.Struct, frozen=True, dict=True):
    key: str
    version: str
    title: Text
    description: Text
    #: Sorted by number (1..8).
    themes: tuple[Theme, ...]
    #: In file order.
    practices: tuple[Practice, ...]

    @property
    def slug(self) -> str:
        """``"<key>-<version>"``, also the shipped file's stem."""
        return f"{self.key}-{self.version}"

    @functools.cached_property
    def _practices_by_key(self) -> dict[str, Practice]:
        return {p.key: p for p in self.practices}

    @functools.cached_property
    def _themes_by_key(self) -> dict[str, Theme]:
        return {t.key: t for t in self.themes}

    @property
    def practice_keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.practices)

    @property
    def category_keys(self) -> tuple[str, ...]:
        """Stakeholder categories asked at least one practice, in the standard order."""
        used = {c for p in self.practices for c in p.categories}
        return tuple(k for k in STAKEHOLDER_CATEGORIES if k in used)

    def practice(self, key: str) -> Practice:
        try:
            return self._practices_by_key[key]
        except KeyError:
            raise KeyError(f"no practice {key!r} in référentiel {self.slug}") from None

    def theme(self, key: str) -> Theme:
        try:
            return self._themes_by_key[key]
        except KeyError:
            raise KeyError(f"no theme {key!r} in référentiel {self.slug}") from None

    def practices_for_theme(self, theme_key: str) -> list[Practice]:
        self.theme(theme_key)  # KeyError for an unknown theme rather than a silent []
        return [p for p in self.practices if p.theme == theme_key]

    def practices_for_category(self, category_key: str) -> list[Practice]:
        if category_key not in STAKEHOLDER_CATEGORIES:
            raise KeyError(f"unknown stakeholder category {category_key!r}")
        return [p for p in self.practices if category_key in p.categories]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class ReferentielProblem(msgspec.Struct, frozen=True):
    """One problem found in a référentiel file."""

    file: str
    #: e.g. 'practices[3] (clé « gouv.elections », ligne 42)' or 'ligne 7, colonne 3'; None at top level.
    place: str | None
    #: e.g. 'categories' or 'title.en'; None when the problem is not about one field.
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.place:
            parts.append(self.place)
        if self.field:
            parts.append(f"champ « {self.field} »")
        parts.append(self.message)
        return " : ".join(parts)


class ReferentielError(ValueError):
    """A référentiel file is unreadable or invalid. ``str(err)`` lists every problem, one per line."""

    def __init__(self, problems: list[ReferentielProblem] | tuple[ReferentielProblem, ...]):
        self.problems: tuple[ReferentielProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def file(self) -> str | None:
        return self.problems[0].file if self.problems else None


class ReferentielNotFound(KeyError):
    def __str__(self) -> str:  # KeyError would show the repr with quotes
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------

_REF_KEY_RE = re.compile(r"[a-z][a-z0-9_-]*")
_VERSION_RE = re.compile(r"\d{4}\.\d+")
_THEME_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
_PRACTICE_KEY_RE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")

_TOP_FIELDS = ("key", "version", "title", "description", "themes", "practices")
_THEME_FIELDS = ("key", "number", "title", "summary")
_PRACTICE_REQUIRED = (
    "key",
    "theme",
    "org_statement",
    "stakeholder_statement",
    "categories",
    "iso26000",
    "help",
)
_PRACTICE_OPTIONAL = ("indicators", "subtheme")
_LANG_NAMES = {"fr": "français", "en": "anglais"}


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, int):
        return "un nombre entier"
    if isinstance(value, float):
        return "un nombre décimal"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "une table"
    return "une date ou une heure"


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" ; vouliez-vous dire « {close[0]} » ?" if close else ""


def _header_lines(text: str, table: str) -> list[int]:
    """Line numbers of the ``[[table]]`` headers, to point at a block in the file."""
    pattern = re.compile(rf"^[ \t]*\[\[[ \t]*{table}[ \t]*\]\]", re.MULTILINE)
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


class _Checker:
    def __init__(self, text: str, filename: str):
        self.source = text
        self.file = filename
        self.problems: list[ReferentielProblem] = []
        # Keys of the declared themes (None when the themes list itself is unusable).
        self.theme_keys: set[str] | None = None
        self.theme_places: dict[str, str] = {}

    def add(self, place: str | None, field: str | None, message: str) -> None:
        self.problems.append(ReferentielProblem(self.file, place, field, message))

    # -- generic field checks ------------------------------------------------

    def fields(
        self,
        data: dict[str, Any],
        place: str | None,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
        prefix: str = "",
    ) -> None:
        allowed = required + optional
        for name in required:
            if name not in data:
                self.add(place, prefix + name, "champ obligatoire manquant")
        for name in data:
            if name not in allowed:
                self.add(
                    place,
                    prefix + name,
                    f"champ inconnu{_suggest(name, allowed)} (champs permis : {', '.join(allowed)})",
                )

    def string(
        self, data: dict[str, Any], name: str, place: str | None, pattern: re.Pattern[str], rule: str
    ) -> str | None:
        if name not in data:
            return None
        value = data[name]
        if not isinstance(value, str):
            self.add(place, name, f"doit être un texte entre guillemets, pas {_type_name(value)}")
            return None
        if not pattern.fullmatch(value):
            self.add(place, name, f"valeur invalide « {value} » : {rule}")
            return None
        return value

    def text(self, value: Any, place: str | None, field: str) -> Text | None:
        if not isinstance(value, dict):
            self.add(
                place,
                field,
                f"doit être une table avec un texte « fr » et un texte « en » "
                f'(par exemple {field}.fr = "…" et {field}.en = "…"), pas {_type_name(value)}',
            )
            return None
        ok = True
        for lang in LANGUAGES:
            name = _LANG_NAMES[lang]
            if lang not in value:
                self.add(place, f"{field}.{lang}", f"texte {name} manquant")
                ok = False
            elif not isinstance(value[lang], str):
                self.add(place, f"{field}.{lang}", f"doit être un texte, pas {_type_name(value[lang])}")
                ok = False
            elif not value[lang].strip():
                self.add(place, f"{field}.{lang}", f"texte {name} vide")
                ok = False
        for extra in value:
            if extra not in LANGUAGES:
                self.add(
                    place, f"{field}.{extra}", f"langue inconnue (langues attendues : {', '.join(LANGUAGES)})"
                )
                ok = False
        if not ok:
            return None
        return Text(fr=value["fr"].strip(), en=value["en"].strip())

    def string_list(self, value: Any, place: str, field: str) -> list[str] | None:
        if not isinstance(value, list):
            self.add(
                place,
                field,
                f'doit être une liste de textes, par exemple ["a", "b"], pas {_type_name(value)}',
            )
            return None
        if not value:
            self.add(place, field, "liste vide : au moins une valeur attendue")
            return None
        result: list[str] = []
        for item in value:
            if not isinstance(item, str):
                self.add(
                    place, field, f"chaque valeur doit être un texte entre guillemets, pas {_type_name(item)}"
                )
                return None
            if item in result:
                self.add(place, field, f"valeur en double « {item} »")
                continue
            result.append(item)
        return result

    def table_list(self, data: dict[str, Any], name: str) -> list[dict[str, Any]] | None:
        if name not in data:
            return None
        value = data[name]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add(
                None, name, f"doit être une liste de tables, écrites [[{name}]], pas {_type_name(value)}"
            )
            return None
        if not value:
            self.add(None, name, "liste vide")
            return None
        return value

    @staticmethod
    def place(table: str, index: int, key: Any, lines: list[int], count: int) -> str:
        details = []
        if isinstance(key, str) and key:
            details.append(f"clé « {key} »")
        if len(lines) == count:
            details.append(f"ligne {lines[index]}")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{table}[{index + 1}]{suffix}"

    # -- the référentiel -----------------------------------------------------

    def referentiel(self, data: dict[str, Any]) -> Referentiel | None:
        self.fields(data, None, _TOP_FIELDS)
        key = self.string(
            data,
            "key",
            None,
            _REF_KEY_RE,
            "lettres minuscules sans accent, chiffres, « - » et « _ », en commençant par une lettre",
        )
        version = self.string(
            data, "version", None, _VERSION_RE, "format attendu AAAA.N, par exemple « 2026.1 »"
        )
        title = self.text(data["title"], None, "title") if "title" in data else None
        description = self.text(data["description"], None, "description") if "description" in data else None
        themes = self.themes(data)
        practices = self.practices(data)
        if self.problems:
            return None
        assert key and version and title and description and themes is not None and practices is not None
        return Referentiel(
            key=key,
            version=version,
            title=title,
            description=description,
            themes=tuple(sorted(themes.values(), key=lambda t: t.number)),
            practices=tuple(practices),
        )

    def themes(self, data: dict[str, Any]) -> dict[str, Theme] | None:
        tables = self.table_list(data, "themes")
        if tables is None:
            return None
        lines = _header_lines(self.source, "themes")
        themes: dict[str, Theme] = {}
        seen_keys: dict[str, str] = {}
        seen_numbers: dict[int, str] = {}
        ok = True
        for index, table in enumerate(tables):
            place = self.place("themes", index, table.get("key"), lines, len(tables))
            before = len(self.problems)
            self.fields(table, place, _THEME_FIELDS)
            key = self.string(
                table,
                "key",
                place,
                _THEME_KEY_RE,
                "lettres minuscules sans accent, chiffres et « _ », en commençant par une lettre",
            )
            number = table.get("number")
            if "number" in table:
                if not isinstance(number, int) or isinstance(number, bool):
                    self.add(
                        place,
                        "number",
                        f"doit être un nombre entier de 1 à {THEME_COUNT}, pas {_type_name(number)}",
                    )
                    number = None
                elif not 1 <= number <= THEME_COUNT:
                    self.add(place, "number", f"numéro {number} hors limites : de 1 à {THEME_COUNT}")
                    number = None
            title = self.text(table["title"], place, "title") if "title" in table else None
            summary = self.text(table["summary"], place, "summary") if "summary" in table else None
            if key is not None:
                if key in seen_keys:
                    self.add(place, "key", f"clé « {key} » en double : déjà utilisée par {seen_keys[key]}")
                else:
                    seen_keys[key] = place
            if number is not None:
                if number in seen_numbers:
                    self.add(
                        place,
                        "number",
                        f"numéro {number} en double : déjà utilisé par {seen_numbers[number]}",
                    )
                else:
                    seen_numbers[number] = place
            if len(self.problems) > before:
                ok = False
                continue
            assert key is not None and number is not None and title and summary
            themes[key] = Theme(key=key, number=number, title=title, summary=summary)
        if len(tables) != THEME_COUNT:
            self.add(
                None,
                "themes",
                f"{THEME_COUNT} thèmes attendus (ceux du guide, numérotés de 1 à {THEME_COUNT}) : {len(tables)} trouvé(s)",
            )
            ok = False
        elif ok and sorted(seen_numbers) != list(range(1, THEME_COUNT + 1)):
            missing = sorted(set(range(1, THEME_COUNT + 1)) - set(seen_numbers))
            self.add(None, "themes", f"numéros manquants : {', '.join(map(str, missing))}")
            ok = False
        # Keep the valid themes even when others failed, so practices can still be checked.
        self.theme_keys = set(seen_keys)
        self.theme_places = dict(seen_keys)
        return themes if ok else None

    def practices(self, data: dict[str, Any]) -> list[Practice] | None:
        tables = self.table_list(data, "practices")
        if tables is None:
            return None
        theme_keys = self.theme_keys
        lines = _header_lines(self.source, "practices")
        practices: list[Practice] = []
        seen_keys: dict[str, str] = {}
        used_themes: set[str] = set()
        ok = True
        for index, table in enumerate(tables):
            place = self.place("practices", index, table.get("key"), lines, len(tables))
            before = len(self.problems)
            self.fields(table, place, _PRACTICE_REQUIRED, _PRACTICE_OPTIONAL)
            key = self.string(
                table,
                "key",
                place,
                _PRACTICE_KEY_RE,
                "lettres minuscules sans accent, chiffres, « _ » et « . », en commençant par une lettre "
                "(par exemple « gouv.elections »)",
            )
            if key is not None:
                if key in seen_keys:
                    self.add(place, "key", f"clé « {key} » en double : déjà utilisée par {seen_keys[key]}")
                else:
                    seen_keys[key] = place

            theme = table.get("theme")
            if "theme" in table:
                if not isinstance(theme, str):
                    self.add(
                        place,
                        "theme",
                        f"doit être la clé d’un thème entre guillemets, pas {_type_name(theme)}",
                    )
                    theme = None
                elif theme_keys is not None and theme not in theme_keys:
                    known = sorted(theme_keys)
                    self.add(
                        place,
                        "theme",
                        f"thème inconnu « {theme} »{_suggest(theme, known)} (thèmes déclarés : {', '.join(known) or 'aucun'})",
                    )
                    theme = None
                else:
                    used_themes.add(theme)

            texts: dict[str, Text | None] = {}
            for name in ("org_statement", "stakeholder_statement", "help", "subtheme"):
                if name in table:
                    texts[name] = self.text(table[name], place, name)

            categories = (
                self.string_list(table["categories"], place, "categories") if "categories" in table else None
            )
            if categories:
                known = list(STAKEHOLDER_CATEGORIES)
                for cat in categories:
                    if cat not in STAKEHOLDER_CATEGORIES:
                        self.add(
                            place,
                            "categories",
                            f"catégorie inconnue « {cat} »{_suggest(cat, known)} (catégories possibles : {', '.join(known)})",
                        )

            iso = self.string_list(table["iso26000"], place, "iso26000") if "iso26000" in table else None
            if iso:
                for ref in iso:
                    if not is_valid_iso_ref(ref):
                        self.add(
                            place,
                            "iso26000",
                            f"référence ISO 26000 inconnue « {ref} » (attendu : « 5.3 », une question centrale "
                            f"de « 6.2 » à « 6.8 » ou un domaine d’action comme « 6.4.3 »)",
                        )

            indicators: list[Text] = []
            if "indicators" in table:
                value = table["indicators"]
                if not isinstance(value, list):
                    self.add(
                        place,
                        "indicators",
                        f'doit être une liste de tables {{ fr = "…", en = "…" }}, pas {_type_name(value)}',
                    )
                else:
                    for i, item in enumerate(value):
                        indicator = self.text(item, place, f"indicators[{i + 1}]")
                        if indicator is not None:
                            indicators.append(indicator)

            if len(self.problems) > before:
                ok = False
                continue
            assert key and theme and categories and iso
            practices.append(
                Practice(
                    key=key,
                    theme=theme,
                    org_statement=texts["org_statement"],  # type: ignore[arg-type]
                    stakeholder_statement=texts["stakeholder_statement"],  # type: ignore[arg-type]
                    categories=tuple(categories),
                    iso26000=tuple(iso),
                    help=texts["help"],  # type: ignore[arg-type]
                    indicators=tuple(indicators),
                    subtheme=texts.get("subtheme"),
                )
            )

        for theme_key, place in self.theme_places.items():
            if theme_key not in used_themes:
                self.add(place, None, "aucune pratique ne se rattache à ce thème (au moins une attendue)")
                ok = False
        return practices if ok else None


def parse_referentiel(text: str, filename: str = "<référentiel>") -> Referentiel:
    """Parse and validate a référentiel from TOML text; ``filename`` is used in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        place = None
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if match:
            place = f"ligne {match.group(1)}, colonne {match.group(2)}"
            message = message[: match.start()]
        elif message.endswith("(at end of document)"):
            place = "fin du fichier"
            message = message[: -len("(at end of document)")].strip()
        raise ReferentielError(
            [ReferentielProblem(filename, place, None, f"erreur de syntaxe TOML : {message}")]
        ) from None
    checker = _Checker(text, filename)
    referentiel = checker.referentiel(data)
    if referentiel is None:
        raise ReferentielError(checker.problems)
    return referentiel


def load_referentiel(path: str | Path) -> Referentiel:
    """Load and validate one référentiel file. Raises ReferentielError (French message)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReferentielError(
            [ReferentielProblem(path.name, None, None, f"lecture impossible ({exc.strerror or exc})")]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ReferentielError(
            [ReferentielProblem(path.name, f"ligne {line}", None, "le fichier doit être encodé en UTF-8")]
        ) from None
    return parse_referentiel(text, path.name)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.lru_cache(maxsize=1)
def _shipped_referentiels() -> tuple[Referentiel, ...]:
    referentiels: list[Referentiel] = []
    for path in sorted(REFERENTIELS_DIR.glob("*.toml")):
        referentiel = load_referentiel(path)
        if path.stem != referentiel.slug:
            raise ReferentielError(
                [
                    ReferentielProblem(
                        path.name,
                        None,
                        None,
                        f"le nom du fichier doit être « {referentiel.slug}.toml » (clé et version déclarées dans le fichier)",
                    )
                ]
            )
        referentiels.append(referentiel)
    referentiels.sort(key=lambda r: (r.key, _version_tuple(r.version)))
    return tuple(referentiels)


def available_referentiels() -> list[Referentiel]:
    """Every shipped référentiel (loaded once, then cached), sorted by key then version."""
    return list(_shipped_referentiels())


def get_referentiel(key: str, version: str | None = None) -> Referentiel:
    """A shipped référentiel by key and version; the latest version if ``version`` is None."""
    matches = [r for r in _shipped_referentiels() if r.key == key]
    if version is not None:
        matches = [r for r in matches if r.version == version]
    if not matches:
        wanted = f"{key}-{version}" if version is not None else key
        known = ", ".join(r.slug for r in _shipped_referentiels())
        raise ReferentielNotFound(f"référentiel « {wanted} » introuvable (disponibles : {known})")
    return max(matches, key=lambda r: _version_tuple(r.version))


# ---------------------------------------------------------------------------
# Answer scales
# ---------------------------------------------------------------------------


class Level(msgspec.Struct, frozen=True):
    value: int
    label: Text
    #: One-line explanation shown next to the label.
    hint: Text

    def get(self, lang: str = "fr") -> str:
        return self.label.get(lang)


def _level(value: int, fr: str, en: str, hint_fr: str, hint_en: str) -> Level:
    return Level(value=value, label=Text(fr=fr, en=en), hint=Text(fr=hint_fr, en=hint_en))


#: How far a practice is in place. The labels answer both phrasings
#: ("Nos instances sont élues…" and "La structure informe…").
LEVELS: dict[int, Level] = {
    1: _level(
        1,
        "Pas du tout",
        "Not at all",
        "Rien n’est fait, ou rien n’est visible.",
        "Nothing is done, or nothing can be seen.",
    ),
    2: _level(
        2,
        "Un peu, ça commence",
        "A little, it is starting",
        "Quelques actions ponctuelles, encore rares.",
        "A few one-off actions, still rare.",
    ),
    3: _level(
        3,
        "En partie",
        "Partly",
        "C’est fait, mais pas partout ou pas toujours.",
        "It is done, but not everywhere or not always.",
    ),
    4: _level(
        4,
        "Largement",
        "Largely",
        "C’est fait régulièrement, avec encore quelques manques.",
        "It is done regularly, with a few gaps left.",
    ),
    5: _level(
        5,
        "Pleinement, c’est exemplaire",
        "Fully, it sets an example",
        "C’est fait partout et tout le temps ; cela peut inspirer d’autres structures.",
        "It is done everywhere and all the time; others could learn from it.",
    ),
}

#: How important a practice is to the person answering.
IMPORTANCE_LEVELS: dict[int, Level] = {
    1: _level(
        1, "Pas important", "Not important", "Ce sujet ne compte pas pour moi.", "This does not matter to me."
    ),
    2: _level(2, "Peu important", "Slightly important", "Ce sujet compte un peu.", "This matters a little."),
    3: _level(3, "Assez important", "Fairly important", "Ce sujet compte.", "This matters."),
    4: _level(4, "Très important", "Very important", "Ce sujet compte beaucoup.", "This matters a lot."),
    5: _level(5, "Essentiel", "Essential", "Ce sujet est une priorité.", "This is a priority."),
}

DONT_KNOW = "dont_know"
NOT_CONCERNED = "not_concerned"

#: Answers that are not a level; they are left out of averages.
SPECIAL_ANSWERS: dict[str, Text] = {
    DONT_KNOW: Text(fr="Je ne sais pas", en="I don’t know"),
    NOT_CONCERNED: Text(fr="Non concerné", en="Not applicable"),
}


def is_valid_answer(value: object) -> bool:
    """A level 1..5 (int, not bool) or one of the special answers."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in LEVELS
    return isinstance(value, str) and value in SPECIAL_ANSWERS


def answer_label(value: int | str, lang: str = "fr") -> str:
    """Label of a level (1..5) or a special answer; KeyError if it is neither."""
    if isinstance(value, int) and not isinstance(value, bool) and value in LEVELS:
        return LEVELS[value].get(lang)
    if isinstance(value, str) and value in SPECIAL_ANSWERS:
        return SPECIAL_ANSWERS[value].get(lang)
    raise KeyError(f"unknown answer {value!r}")
