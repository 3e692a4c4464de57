"""The référentiel format, its loader and the two shipped référentiels (no database)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest

from organisations.categories import CATEGORY_KEYS, STAKEHOLDER_CATEGORIES, category_label
from surveys import referentiel as ref_module
from surveys.iso26000 import CORE_SUBJECTS, ISSUES, iso_core_subject, iso_label, is_valid_iso_ref
from surveys.referentiel import (
    DONT_KNOW,
    IMPORTANCE_LEVELS,
    LEVELS,
    NOT_CONCERNED,
    REFERENTIELS_DIR,
    SPECIAL_ANSWERS,
    Referentiel,
    ReferentielError,
    ReferentielNotFound,
    answer_label,
    available_referentiels,
    get_referentiel,
    is_valid_answer,
    load_referentiel,
)

THEME_KEYS = [
    "gouvernance",
    "concertation",
    "territoire",
    "social",
    "usagers",
    "diversite",
    "environnement",
    "ethique",
]
NBSP, NNBSP = "\u00a0", "\u202f"


# ---------------------------------------------------------------------------
# The shipped référentiels
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def essentiel() -> Referentiel:
    return load_referentiel(REFERENTIELS_DIR / "essentiel-2026.1.toml")


@pytest.fixture(scope="module")
def complet() -> Referentiel:
    return load_referentiel(REFERENTIELS_DIR / "complet-2026.1.toml")


@pytest.fixture(params=["essentiel", "complet"])
def shipped(request, essentiel, complet) -> Referentiel:
    return {"essentiel": essentiel, "complet": complet}[request.param]


def test_both_shipped_referentiels_are_available():
    refs = available_referentiels()
    assert sorted(r.slug for r in refs) == ["complet-2026.1", "essentiel-2026.1"]
    assert get_referentiel("essentiel", "2026.1").key == "essentiel"
    assert get_referentiel("complet").version == "2026.1"  # latest version by default


def test_unknown_referentiel_raises_a_key_error_naming_it():
    with pytest.raises(ReferentielNotFound) as info:
        get_referentiel("essentiel", "1999.1")
    assert isinstance(info.value, KeyError)
    assert "essentiel-1999.1" in str(info.value)
    with pytest.raises(KeyError):
        get_referentiel("nope")


def test_shipped_files_are_named_after_their_key_and_version(shipped):
    assert (REFERENTIELS_DIR / f"{shipped.key}-{shipped.version}.toml").is_file()
    assert shipped.title.fr and shipped.title.en and shipped.description.fr and shipped.description.en


def test_the_eight_themes_of_the_guide_numbered_1_to_8(shipped):
    assert [t.number for t in shipped.themes] == list(range(1, 9))
    assert [t.key for t in shipped.themes] == THEME_KEYS
    assert shipped.theme("ethique").title.fr == "Éthique et déontologie"
    for theme in shipped.themes:
        assert theme.title.fr.strip() and theme.title.en.strip()
        assert theme.summary.fr.strip() and theme.summary.en.strip()


def test_essentiel_has_a_short_list_with_every_theme_covered(essentiel):
    assert 14 <= len(essentiel.practices) <= 17
    for key in THEME_KEYS:
        assert len(essentiel.practices_for_theme(key)) >= 1, key


def test_complet_covers_every_theme_in_depth_with_subthemes(complet):
    assert 35 <= len(complet.practices) <= 45
    for key in THEME_KEYS:
        assert len(complet.practices_for_theme(key)) >= 3, key
    for practice in complet.practices:
        assert practice.subtheme is not None, practice.key
        assert practice.subtheme.fr and practice.subtheme.en


def test_every_practice_is_bilingual_mapped_to_iso_and_asked_to_someone(shipped):
    for p in shipped.practices:
        for text in (p.org_statement, p.stakeholder_statement, p.help):
            assert text.fr.strip() and text.en.strip(), p.key
            assert text.fr != text.en, p.key
        assert p.iso26000 and all(is_valid_iso_ref(code) for code in p.iso26000), p.key
        assert p.categories and all(c in STAKEHOLDER_CATEGORIES for c in p.categories), p.key
        assert len(p.indicators) <= 3, p.key
        for indicator in p.indicators:
            assert indicator.fr.strip() and indicator.en.strip(), p.key
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*", p.key)
        assert shipped.theme(p.theme).key == p.theme


def test_practice_keys_are_unique(shipped):
    keys = [p.key for p in shipped.practices]
    assert len(keys) == len(set(keys))


def test_shared_practices_mean_the_same_thing_in_both_referentiels(essentiel, complet):
    # Results are matched by key across référentiels, so a shared key must be the same question.
    for p in essentiel.practices:
        other = complet.practice(p.key)  # every essentiel practice also exists in complet
        assert other.theme == p.theme, p.key
        assert other == p, p.key


def test_stakeholder_statements_speak_about_the_organisation_from_outside(shipped):
    for p in shipped.practices:
        assert not re.search(r"\b(nous|nos|notre)\b", p.stakeholder_statement.fr, re.IGNORECASE), p.key
        assert not re.search(r"\b(we|our|us)\b", p.stakeholder_statement.en, re.IGNORECASE), p.key


def test_internal_matters_are_not_asked_to_outsiders(shipped):
    pay = shipped.practice("soc.remuneration")
    assert "salaries" in pay.categories
    assert not {"financeurs", "fournisseurs", "clients", "voisinage"} & set(pay.categories)
    for p in shipped.practices_for_theme("social"):
        assert {"salaries", "benevoles"} & set(p.categories), p.key
    for p in shipped.practices_for_theme("gouvernance"):
        assert {"adherents", "administrateurs"} <= set(p.categories), p.key


def test_every_stakeholder_category_is_asked_at_least_one_practice(shipped):
    assert shipped.category_keys == CATEGORY_KEYS
    for key in CATEGORY_KEYS:
        assert shipped.practices_for_category(key), key


def test_french_typography_is_consistent(shipped):
    texts = [shipped.title, shipped.description]
    texts += [t for theme in shipped.themes for t in (theme.title, theme.summary)]
    for p in shipped.practices:
        texts += [p.org_statement, p.stakeholder_statement, p.help, *p.indicators]
        if p.subtheme:
            texts.append(p.subtheme)
    for text in texts:
        for s in (text.fr, text.en):
            assert "'" not in s, s  # typographic apostrophe ’ everywhere
        assert "« " not in text.fr and " »" not in text.fr, text.fr
        assert not re.search(r" [:;?!]", text.fr), text.fr


def test_referentiel_lookups(complet):
    assert complet.practice("gouv.elections").theme == "gouvernance"
    assert complet.theme("gouvernance").number == 1
    assert complet.practice("soc.remuneration") in complet.practices_for_category("salaries")
    assert complet.practice("soc.remuneration") not in complet.practices_for_category("financeurs")
    assert all(p.theme == "environnement" for p in complet.practices_for_theme("environnement"))
    assert complet.practice("gouv.elections").statement("stakeholder", "en").startswith("The organisation")
    with pytest.raises(KeyError):
        complet.practice("gouv.nope")
    with pytest.raises(KeyError):
        complet.theme("nope")
    with pytest.raises(KeyError):
        complet.practices_for_theme("nope")
    with pytest.raises(KeyError):
        complet.practices_for_category("financeur")


def test_referentiel_encodes_to_json(essentiel):
    data = msgspec.json.decode(msgspec.json.encode(essentiel))
    assert data["key"] == "essentiel"
    assert len(data["practices"]) == len(essentiel.practices)
    assert msgspec.convert(data, Referentiel) == essentiel


# ---------------------------------------------------------------------------
# Answer scales, categories and ISO 26000
# ---------------------------------------------------------------------------


def test_answer_scales():
    assert list(LEVELS) == [1, 2, 3, 4, 5]
    assert list(IMPORTANCE_LEVELS) == [1, 2, 3, 4, 5]
    for scale in (LEVELS, IMPORTANCE_LEVELS):
        assert len({level.label.fr for level in scale.values()}) == 5
        assert len({level.label.en for level in scale.values()}) == 5
        assert all(level.value == value and level.hint.fr and level.hint.en for value, level in scale.items())
    assert IMPORTANCE_LEVELS[1].label.fr == "Pas important"
    assert IMPORTANCE_LEVELS[5].label.fr == "Essentiel"
    assert DONT_KNOW == "dont_know" and NOT_CONCERNED == "not_concerned"
    assert SPECIAL_ANSWERS[DONT_KNOW].fr == "Je ne sais pas"
    assert answer_label(NOT_CONCERNED, "en") == "Not applicable"
    assert answer_label(3) == LEVELS[3].label.fr
    assert is_valid_answer(1) and is_valid_answer(5) and is_valid_answer(DONT_KNOW)
    assert not is_valid_answer(0) and not is_valid_answer(6) and not is_valid_answer(True)
    assert not is_valid_answer("3") and not is_valid_answer(None)
    with pytest.raises(KeyError):
        answer_label(9)


def test_stakeholder_categories():
    assert list(STAKEHOLDER_CATEGORIES) == [
        "salaries", "benevoles", "adherents", "administrateurs", "usagers", "clients",
        "fournisseurs", "financeurs", "collectivites", "partenaires", "voisinage",
    ]  # fmt: skip
    assert category_label("salaries") == "Salariés"
    assert category_label("collectivites", "en") == "Local authorities / State"
    assert STAKEHOLDER_CATEGORIES["adherents"].label_fr == "Adhérents / sociétaires"
    with pytest.raises(KeyError):
        category_label("financeur")
    with pytest.raises(ValueError):
        category_label("salaries", "de")


def test_iso26000_references():
    assert list(CORE_SUBJECTS) == ["6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "6.8"]
    assert len(ISSUES) == 36
    for code in ("5.3", "6.2", "6.3.10", "6.4.3", "6.4.7", "6.5.6", "6.6.7", "6.7.9", "6.8.9"):
        assert is_valid_iso_ref(code), code
    for code in ("6.1", "6.2.1", "6.4.8", "6.5.7", "6.3.2", "6.8.10", "5", "", " 6.4.3", 6.4):
        assert not is_valid_iso_ref(code), code
    assert iso_label("6.4.5") == "Dialogue social"
    assert iso_label("6.4.5", "en") == "Social dialogue"
    assert iso_core_subject("6.4.5") == "6.4" and iso_core_subject("5.3") is None
    with pytest.raises(KeyError):
        iso_label("6.9")


# ---------------------------------------------------------------------------
# Malformed files
# ---------------------------------------------------------------------------


def _text(label: str) -> dict[str, str]:
    return {"fr": f"{label} (fr)", "en": f"{label} (en)"}


def _minimal() -> dict:
    """A small valid référentiel: 8 themes, one practice per theme."""
    return {
        "key": "mini",
        "version": "2026.1",
        "title": _text("Titre"),
        "description": _text("Description"),
        "themes": [
            {"key": key, "number": n, "title": _text(key), "summary": _text(f"résumé {key}")}
            for n, key in enumerate(THEME_KEYS, start=1)
        ],
        "practices": [
            {
                "key": f"{key}.pratique",
                "theme": key,
                "org_statement": _text("Nous faisons"),
                "stakeholder_statement": _text("La structure fait"),
                "categories": ["salaries", "benevoles"],
                "iso26000": ["6.2"],
                "indicators": [_text("Indicateur")],
                "help": _text("Aide"),
            }
            for key in THEME_KEYS
        ],
    }


def _value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def _fields(table: dict) -> list[str]:
    lines = []
    for name, value in table.items():
        if isinstance(value, dict):  # bilingual text, written with dotted keys as in the shipped files
            lines += [f"{name}.{lang} = {_value(text)}" for lang, text in value.items()]
        else:
            lines.append(f"{name} = {_value(value)}")
    return lines


def _render(data: dict) -> str:
    top = {k: v for k, v in data.items() if k not in ("themes", "practices")}
    lines = _fields(top)
    for array in ("themes", "practices"):
        for table in data.get(array, []):
            lines += ["", f"[[{array}]]", *_fields(table)]
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, data: dict | str, name: str = "mini-2026.1.toml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else _render(data), encoding="utf-8")
    return path


def _error(tmp_path: Path, data: dict | str) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(ReferentielError) as info:
        load_referentiel(path)
    message = str(info.value)
    assert message.startswith("mini-2026.1.toml : ")
    assert info.value.problems and all(p.file == "mini-2026.1.toml" for p in info.value.problems)
    return message


def test_the_minimal_referentiel_used_below_is_valid(tmp_path):
    ref = load_referentiel(_write(tmp_path, _minimal()))
    assert ref.slug == "mini-2026.1"
    assert len(ref.practices) == 8
    assert ref.practice("territoire.pratique").indicators[0].en == "Indicateur (en)"


def test_toml_syntax_error_names_the_file_and_the_line(tmp_path):
    text = _render(_minimal()).replace('version = "2026.1"', 'version = "2026.1', 1)
    message = _error(tmp_path, text)
    assert "ligne 2" in message
    assert "syntaxe TOML" in message


def test_missing_field_names_the_practice_and_the_field(tmp_path):
    data = _minimal()
    del data["practices"][2]["theme"]
    message = _error(tmp_path, data)
    assert "practices[3] (clé « territoire.pratique »" in message
    assert "champ « theme » : champ obligatoire manquant" in message


def test_unknown_category_is_reported_with_a_suggestion(tmp_path):
    data = _minimal()
    data["practices"][2]["categories"] = ["salaries", "financeur"]
    message = _error(tmp_path, data)
    assert "practices[3] (clé « territoire.pratique »" in message
    assert "champ « categories » : catégorie inconnue « financeur »" in message
    assert "vouliez-vous dire « financeurs »" in message


def test_unknown_theme(tmp_path):
    data = _minimal()
    data["practices"].append({**data["practices"][0], "key": "gouvernance.autre", "theme": "gouvernanse"})
    message = _error(tmp_path, data)
    assert "practices[9] (clé « gouvernance.autre »" in message
    assert "champ « theme » : thème inconnu « gouvernanse »" in message


def test_duplicate_practice_key(tmp_path):
    data = _minimal()
    data["practices"][4]["key"] = "gouvernance.pratique"
    message = _error(tmp_path, data)
    assert "practices[5] (clé « gouvernance.pratique »" in message
    assert (
        "champ « key » : clé « gouvernance.pratique » en double : déjà utilisée par practices[1]" in message
    )


def test_missing_english_text(tmp_path):
    data = _minimal()
    del data["practices"][1]["stakeholder_statement"]["en"]
    message = _error(tmp_path, data)
    assert "practices[2] (clé « concertation.pratique »" in message
    assert "champ « stakeholder_statement.en » : texte anglais manquant" in message


def test_empty_french_text(tmp_path):
    data = _minimal()
    data["themes"][3]["title"]["fr"] = "   "
    message = _error(tmp_path, data)
    assert "themes[4] (clé « social »" in message
    assert "champ « title.fr » : texte français vide" in message


def test_missing_english_indicator(tmp_path):
    data = _minimal()
    data["practices"][0]["indicators"] = [_text("A"), {"fr": "B"}]
    message = _error(tmp_path, data)
    assert "practices[1] (clé « gouvernance.pratique »" in message
    assert "champ « indicators[2].en » : texte anglais manquant" in message


def test_bad_iso_reference(tmp_path):
    data = _minimal()
    data["practices"][6]["iso26000"] = ["6.2", "6.5.9"]
    message = _error(tmp_path, data)
    assert "practices[7] (clé « environnement.pratique »" in message
    assert "champ « iso26000 » : référence ISO 26000 inconnue « 6.5.9 »" in message


def test_unknown_field(tmp_path):
    data = _minimal()
    data["practices"][7]["categorie"] = ["salaries"]
    message = _error(tmp_path, data)
    assert "practices[8] (clé « ethique.pratique »" in message
    assert "champ « categorie » : champ inconnu ; vouliez-vous dire « categories » ?" in message


def test_unknown_top_level_field(tmp_path):
    data = _minimal()
    data["auteur"] = "moi"
    message = _error(tmp_path, data)
    assert "mini-2026.1.toml : champ « auteur » : champ inconnu" in message


def test_wrong_type(tmp_path):
    data = _minimal()
    data["practices"][0]["categories"] = "salaries"
    data["themes"][0]["number"] = "1"
    message = _error(tmp_path, data)
    assert "champ « categories » : doit être une liste de textes" in message
    assert "themes[1] (clé « gouvernance »" in message
    assert "champ « number » : doit être un nombre entier de 1 à 8, pas un texte" in message


def test_invalid_practice_key(tmp_path):
    data = _minimal()
    data["practices"][0]["key"] = "Gouv.Élections"
    message = _error(tmp_path, data)
    assert "practices[1] (clé « Gouv.Élections »" in message
    assert "champ « key » : valeur invalide « Gouv.Élections »" in message


def test_themes_must_be_the_eight_of_the_guide(tmp_path):
    data = _minimal()
    data["themes"].pop()
    data["practices"].pop()
    message = _error(tmp_path, data)
    assert "champ « themes » : 8 thèmes attendus" in message
    assert "7 trouvé(s)" in message

    data = _minimal()
    data["themes"][7]["number"] = 7
    message = _error(tmp_path, data)
    assert "themes[8] (clé « ethique »" in message
    assert "champ « number » : numéro 7 en double : déjà utilisé par themes[7]" in message


def test_theme_without_practice(tmp_path):
    data = _minimal()
    data["practices"][3]["theme"] = "gouvernance"
    message = _error(tmp_path, data)
    assert "themes[4] (clé « social »" in message
    assert "aucune pratique ne se rattache à ce thème" in message


def test_every_problem_is_listed_on_its_own_line(tmp_path):
    data = _minimal()
    data["practices"][0]["categories"] = ["salarie"]
    data["practices"][5]["iso26000"] = ["26000"]
    message = _error(tmp_path, data)
    lines = message.splitlines()
    assert len(lines) == 2
    assert "practices[1]" in lines[0] and "« salarie »" in lines[0]
    assert "practices[6]" in lines[1] and "« 26000 »" in lines[1]


def test_error_points_at_the_line_of_the_practice_block(tmp_path):
    data = _minimal()
    data["practices"][2]["categories"] = ["personne"]
    text = _render(data)
    line = text.splitlines().index('key = "territoire.pratique"')  # 0-based index of the key line
    message = _error(tmp_path, text)
    assert (
        f"practices[3] (clé « territoire.pratique », ligne {line}) :" in message
    )  # header is the line before


def test_unreadable_or_non_utf8_file(tmp_path):
    with pytest.raises(ReferentielError, match="absent-2026.1.toml : lecture impossible"):
        load_referentiel(tmp_path / "absent-2026.1.toml")
    path = tmp_path / "latin1-2026.1.toml"
    path.write_bytes('key = "mini"\ntitle.fr = "Référentiel"\n'.encode("latin-1"))
    with pytest.raises(ReferentielError, match=r"latin1-2026\.1\.toml : ligne 2 : .*UTF-8"):
        load_referentiel(path)


def test_shipped_directory_rejects_a_misnamed_file(tmp_path, monkeypatch):
    _write(tmp_path, _minimal(), name="mauvais-nom.toml")
    monkeypatch.setattr(ref_module, "REFERENTIELS_DIR", tmp_path)
    ref_module._shipped_referentiels.cache_clear()
    try:
        with pytest.raises(ReferentielError, match="mauvais-nom.toml : .*« mini-2026.1.toml »"):
            available_referentiels()
    finally:
        monkeypatch.undo()
        ref_module._shipped_referentiels.cache_clear()
