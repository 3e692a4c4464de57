"""Tests for organisations.contact_io (pure parsing / export of contacts)."""

from __future__ import annotations

import io

import pytest
import xlsxwriter

from organisations.contact_io import (
    ContactRow,
    ImportNotOkError,
    ImportPreview,
    export_contacts_csv,
    export_contacts_xlsx,
    parse_contacts,
)

GROUPS = {"Bénévoles": "g-benev", "Salariés": "g-sal", "Partenaires financiers": "g-fin"}


def parse(data: bytes, filename: str = "contacts.csv", **kw) -> ImportPreview:
    kw.setdefault("groups", GROUPS)
    return parse_contacts(data, filename=filename, **kw)


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def make_xlsx(rows: list[list[object]], *, start_row: int = 0, sheet: str = "Feuille1") -> bytes:
    buf = io.BytesIO()
    with xlsxwriter.Workbook(buf) as wb:
        ws = wb.add_worksheet(sheet)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(start_row + r, c, value)
        wb.add_worksheet("Autre").write(0, 0, "ignored")
    return buf.getvalue()


def only_error(preview: ImportPreview):
    assert len(preview.errors) == 1, preview.errors
    return preview.errors[0]


# --------------------------------------------------------------------------- #
# Happy paths
# --------------------------------------------------------------------------- #


def test_semicolon_csv_cp1252_with_bom_and_accents():
    text = (
        "Courriel;Nom;Structure;Langue;Groupe\n"
        "helene@asso.fr;Hélène Dupré;Les Amis du Quartier;français;Bénévoles\n"
        '"Jean.Martin@Exemple.FR";"Martin; Jean";"Café ""solidaire""";EN;  benevoles \n'
    )
    # utf-8 BOM bytes followed by cp1252 content: not valid UTF-8, must fall back.
    data = b"\xef\xbb\xbf" + csv_bytes(text, "cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8-sig")
    preview = parse(data)
    assert preview.file_errors == [] and preview.errors == []
    assert preview.ok
    first, second = preview.rows
    assert first == ContactRow(
        line=2,
        email="helene@asso.fr",
        name="Hélène Dupré",
        organisation="Les Amis du Quartier",
        language="fr",
        group_id="g-benev",
        group_name="Bénévoles",
    )
    assert second.line == 3
    assert second.email == "jean.martin@exemple.fr"
    assert second.name == "Martin; Jean"
    assert second.organisation == 'Café "solidaire"'
    assert second.language == "en"
    assert second.group_name == "Bénévoles"


def test_pure_cp1252_csv_without_bom():
    data = csv_bytes("email;groupe;nom\nh@asso.fr;Salariés;Hélène Œuvre\n", "cp1252")
    preview = parse(data)
    assert preview.ok, preview
    assert preview.rows[0].name == "Hélène Œuvre"
    assert preview.rows[0].group_id == "g-sal"


def test_comma_csv_utf8_lf_and_quoted_fields():
    text = (
        "E-mail,Partie prenante,Nom complet,Organisation\n"
        'zoe@coop.fr,SALARIES,"Zoé, Durand","Coop ""Énergie"""\n'
        "\n"  # blank line: skipped silently but counted in line numbers
        "bob@coop.fr,Partenaires  financiers,,\n"
    )
    preview = parse(text.encode("utf-8"))
    assert preview.ok, preview
    assert [r.line for r in preview.rows] == [2, 4]
    assert preview.rows[0].name == "Zoé, Durand"
    assert preview.rows[0].organisation == 'Coop "Énergie"'
    assert preview.rows[0].group_id == "g-sal"
    assert preview.rows[1].group_id == "g-fin"
    assert preview.rows[1].name == "" and preview.rows[1].language == "fr"


def test_tab_separated_utf16_excel_unicode_text():
    text = "Adresse électronique\tCatégorie\nana@asso.fr\tBénévoles\n"
    preview = parse(text.encode("utf-16"), filename="export.txt")
    assert preview.ok, preview
    assert preview.rows[0].email == "ana@asso.fr"


def test_excel_blank_rows_with_separators_and_trailing_spaces_skipped():
    text = "email;groupe\n;\n ; \na@asso.fr ;Bénévoles\n;;;\n"
    preview = parse(csv_bytes(text))
    assert preview.ok
    assert [r.line for r in preview.rows] == [4]


def test_xlsx_built_with_xlsxwriter_parses():
    data = make_xlsx(
        [
            ["Adresse e-mail", "Prénom", "Nom", "Entreprise", "Lang", "Groupe de parties prenantes"],
            ["Lea@Asso.fr", "Léa", "Brun", "Asso A", "english", "bénévoles"],
            [None, None, None, None, None, None],
            ["max@asso.fr", "Max", None, 12345, None, "Salariés"],
        ]
    )
    assert data.startswith(b"PK\x03\x04")
    preview = parse(data, filename="contacts.xlsx")
    assert preview.ok, preview
    lea, max_ = preview.rows
    assert (lea.line, lea.email, lea.name, lea.organisation, lea.language, lea.group_id) == (
        2, "lea@asso.fr", "Léa Brun", "Asso A", "en", "g-benev"
    )
    assert (max_.line, max_.name, max_.organisation) == (4, "Max", "12345")


def test_xlsx_detected_by_content_even_with_wrong_extension():
    data = make_xlsx([["email", "groupe"], ["a@asso.fr", "Salariés"]])
    assert parse(data, filename="contacts.csv").ok
    assert parse(data, filename="sans_extension").ok


def test_xlsx_line_numbers_account_for_leading_empty_rows():
    data = make_xlsx([["email", "groupe"], ["pas-un-email", "Salariés"]], start_row=2)
    preview = parse(data, filename="c.xlsx")
    error = only_error(preview)
    assert error.line == 4  # header on spreadsheet row 3
    assert error.message.startswith("Ligne 4 :")


def test_title_row_above_header_is_tolerated():
    text = "Liste des contacts 2026;;\nemail;groupe;nom\na@asso.fr;Salariés;A\nbad;Salariés;B\n"
    preview = parse(csv_bytes(text))
    assert [r.line for r in preview.rows] == [3]
    assert only_error(preview).line == 4


@pytest.mark.parametrize(
    "header",
    [
        "Email;Groupe",
        "E-MAIL;GROUPE",
        "courriel;catégorie",
        "Mail;Partie prenante",
        "Adresse e-mail;Groupe de parties prenantes",
        "Adresse électronique;categorie",
        "Courriel *;Groupe (obligatoire)",
    ],
)
def test_header_synonyms_for_required_columns(header):
    preview = parse(csv_bytes(f"{header}\na@asso.fr;Salariés\n"))
    assert preview.ok, preview


@pytest.mark.parametrize(
    ("name_header", "org_header", "lang_header"),
    [
        ("Nom", "Organisation", "Langue"),
        ("Nom complet", "Structure", "Language"),
        ("Prénom Nom", "Entreprise", "lang"),
        ("name", "Organisme", "LANGUE"),
    ],
)
def test_header_synonyms_for_optional_columns(name_header, org_header, lang_header):
    text = f"email;{name_header};{org_header};{lang_header};groupe\na@asso.fr;Ana Lopez;Coop X;anglais;Salariés\n"
    row = parse(csv_bytes(text)).rows[0]
    assert (row.name, row.organisation, row.language) == ("Ana Lopez", "Coop X", "en")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("fr", "fr"), ("FR", "fr"), ("Français", "fr"), ("french", "fr"), ("", "fr"),
     ("en", "en"), ("Anglais", "en"), ("English", "en")],
)
def test_language_values(value, expected):
    preview = parse(csv_bytes(f"email;groupe;langue\na@asso.fr;Salariés;{value}\n"))
    assert preview.ok
    assert preview.rows[0].language == expected


def test_group_matching_is_case_accent_and_space_insensitive():
    text = "email;groupe\na@x.fr;benevoles \nb@x.fr;BÉNÉVOLES\nc@x.fr;  partenaires   FINANCIERS\n"
    preview = parse(csv_bytes(text))
    assert preview.ok
    assert [r.group_id for r in preview.rows] == ["g-benev", "g-benev", "g-fin"]
    assert {r.group_name for r in preview.rows} == {"Bénévoles", "Partenaires financiers"}


# --------------------------------------------------------------------------- #
# Row errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("email", "fragment"),
    [
        ("jean.dupont.asso.fr", "il manque le signe « @ »"),
        ("jean@@asso.fr", "plusieurs signes « @ »"),
        ("jean dupont@asso.fr", "contient un espace"),
        ("jean@asso", "domaine"),
    ],
)
def test_invalid_email(email, fragment):
    text = f"email;groupe\nok@asso.fr;Salariés\n{email};Salariés\n"
    preview = parse(csv_bytes(text))
    error = only_error(preview)
    assert error.line == 3 and error.field == "email"
    assert error.message.startswith("Ligne 3 : l'adresse e-mail")
    assert "n'est pas valide" in error.message and fragment in error.message
    assert not preview.ok
    assert [r.line for r in preview.rows] == [2]  # valid rows are still previewed


def test_empty_email():
    error = only_error(parse(csv_bytes("email;groupe;nom\n;Salariés;Sans Adresse\n")))
    assert (error.line, error.field) == (2, "email")
    assert error.message == "Ligne 2 : l'adresse e-mail est vide."


def test_duplicate_email_in_file_names_first_line():
    text = "email;groupe\na@asso.fr;Salariés\nb@asso.fr;Salariés\n  A@ASSO.FR;Bénévoles\n"
    preview = parse(csv_bytes(text))
    error = only_error(preview)
    assert (error.line, error.field) == (4, "email")
    assert "a@asso.fr" in error.message and "ligne 2" in error.message
    assert error.message.startswith("Ligne 4 :")
    assert not preview.ok


def test_email_already_in_organisation():
    text = "email;groupe\nnew@asso.fr;Salariés\nOld@Asso.FR;Salariés\n"
    preview = parse(csv_bytes(text), existing_emails={"old@asso.fr"})
    error = only_error(preview)
    assert (error.line, error.field) == (3, "email")
    assert "déjà" in error.message and "old@asso.fr" in error.message
    # existing emails are compared normalised too
    preview = parse(csv_bytes(text), existing_emails=frozenset({"  OLD@asso.FR "}))
    assert only_error(preview).line == 3


def test_unknown_group_names_it_and_lists_known_groups():
    error = only_error(parse(csv_bytes("email;groupe\na@asso.fr;Donateurs\n")))
    assert (error.line, error.field) == (2, "group")
    assert "groupe inconnu « Donateurs »" in error.message
    for name in GROUPS:
        assert f"« {name} »" in error.message


def test_empty_group():
    error = only_error(parse(csv_bytes("email;groupe\na@asso.fr;\n")))
    assert (error.line, error.field) == (2, "group")
    assert "le groupe est vide" in error.message


def test_unknown_language():
    error = only_error(parse(csv_bytes("email;groupe;langue\na@asso.fr;Salariés;allemand\n")))
    assert (error.line, error.field) == (2, "language")
    assert error.message.startswith("Ligne 2 : langue inconnue « allemand »")


def test_name_and_organisation_too_long():
    long_ = "x" * 201
    ok_len = "y" * 200
    text = f"email;groupe;nom;organisation\na@asso.fr;Salariés;{long_};{ok_len}\nb@asso.fr;Salariés;{ok_len};{long_}\n"
    preview = parse(csv_bytes(text))
    assert [(e.line, e.field) for e in preview.errors] == [(2, "name"), (3, "organisation")]
    assert "200 caractères" in preview.errors[0].message
    assert preview.rows == []


def test_several_errors_on_one_line_are_all_reported():
    preview = parse(csv_bytes("email;groupe;langue\nnope;Inconnu;xx\n"))
    assert {e.field for e in preview.errors} == {"email", "group", "language"}
    assert {e.line for e in preview.errors} == {2}


def test_too_many_rows_is_a_file_error():
    body = "".join(f"p{i}@asso.fr;Salariés\n" for i in range(6))
    preview = parse(csv_bytes("email;groupe\n" + body), max_rows=5)
    assert preview.rows == [] and preview.errors == []
    assert len(preview.file_errors) == 1 and "maximum" in preview.file_errors[0]
    assert parse(csv_bytes("email;groupe\n" + body), max_rows=6).ok


# --------------------------------------------------------------------------- #
# File errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"", "contacts.csv", "Le fichier est vide."),
        (b"\xef\xbb\xbf\r\n\r\n", "contacts.csv", "Le fichier est vide."),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "contacts.csv", "Format non reconnu"),
        (bytes(range(256)) * 20, "contacts.csv", "Format non reconnu"),
        (b"email;groupe\na@b.fr;X\n", "contacts.pdf", "Format non reconnu"),
        (b"PK\x03\x04" + b"\x00garbage" * 50, "contacts.xlsx", "XLSX est illisible"),
        (b"email;groupe\n", "contacts.xlsx", "XLSX est illisible"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "contacts.xls", ".xls"),
        (b"whatever", "contacts.ods", ".ods"),
    ],
)
def test_bad_files_give_file_errors_and_no_rows(data, filename, expected):
    preview = parse(data, filename=filename)
    assert preview.rows == [] and preview.errors == []
    assert len(preview.file_errors) == 1
    assert expected in preview.file_errors[0]
    assert not preview.ok


def test_truncated_xlsx_gives_file_error():
    data = make_xlsx([["email", "groupe"], ["a@asso.fr", "Salariés"]])
    preview = parse(data[: len(data) // 2], filename="contacts.xlsx")
    assert preview.file_errors and not preview.rows and not preview.ok


def test_zip_that_is_not_a_workbook():
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    preview = parse(buf.getvalue(), filename="lettre.docx")
    assert preview.file_errors == ["Format non reconnu : enregistrez votre fichier en CSV ou XLSX."]


def test_missing_required_column_names_expected_columns():
    preview = parse(csv_bytes("Nom;Courriel\nAna;a@asso.fr\n"))
    assert preview.rows == [] and not preview.ok
    (message,) = preview.file_errors
    assert "« groupe »" in message and "email" in message
    assert "« Nom »" in message and "« Courriel »" in message  # columns found


def test_header_only_file():
    preview = parse(csv_bytes("email;groupe\n"))
    assert preview.file_errors and "aucun contact" in preview.file_errors[0]
    assert not preview.ok


def test_empty_xlsx_sheet():
    preview = parse(make_xlsx([]), filename="vide.xlsx")
    assert preview.file_errors == ["Le fichier est vide."]


def test_no_groups_defined_is_a_file_error():
    preview = parse(csv_bytes("email;groupe\na@asso.fr;X\n"), groups={})
    assert preview.file_errors and not preview.ok


def test_ok_false_on_any_error_and_rows_to_import_guard():
    clean = parse(csv_bytes("email;groupe\na@asso.fr;Salariés\n"))
    assert clean.ok and clean.rows_to_import() == clean.rows
    dirty = parse(csv_bytes("email;groupe\na@asso.fr;Salariés\nbad;Salariés\n"))
    assert dirty.rows and dirty.errors and not dirty.ok
    with pytest.raises(ImportNotOkError):
        dirty.rows_to_import()
    assert not ImportPreview().ok
    assert not ImportPreview(rows=clean.rows, file_errors=["x"]).ok


# --------------------------------------------------------------------------- #
# Export
# --------------------------------------------------------------------------- #

EXPORT_ROWS = [
    {"email": "helene@asso.fr", "name": "Hélène Dupré", "organisation": "Café; « solidaire »",
     "language": "fr", "group_name": "Bénévoles"},
    {"email": "bob@coop.fr", "name": "Bob \"le\" Bricoleur", "organisation": None,
     "language": "en", "group_name": "Partenaires financiers"},
    {"email": "eve@asso.fr", "name": "=HYPERLINK(\"http://evil\",\"clic\")", "organisation": "+33 1 23",
     "language": "fr", "group_name": "Salariés"},
]


def test_export_csv_format_for_excel_fr():
    data = export_contacts_csv(EXPORT_ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    header = text.split("\r\n", 1)[0]
    assert header == "email;nom;organisation;langue;groupe"
    assert "\r\n" in text


def test_export_csv_round_trip():
    preview = parse(export_contacts_csv(EXPORT_ROWS), filename="export.csv")
    assert preview.ok, preview
    got = [(r.email, r.name, r.organisation, r.language, r.group_name) for r in preview.rows]
    want = [(r["email"], r["name"], r["organisation"] or "", r["language"], r["group_name"]) for r in EXPORT_ROWS]
    assert got == want


def test_export_xlsx_round_trip_and_sheet():
    import fastexcel

    data = export_contacts_xlsx(EXPORT_ROWS)
    reader = fastexcel.read_excel(data)
    assert reader.sheet_names == ["Contacts"]
    preview = parse(data, filename="export.xlsx")
    assert preview.ok, preview
    got = [(r.email, r.name, r.organisation, r.language, r.group_id) for r in preview.rows]
    assert got == [
        ("helene@asso.fr", "Hélène Dupré", "Café; « solidaire »", "fr", "g-benev"),
        ("bob@coop.fr", 'Bob "le" Bricoleur', "", "en", "g-fin"),
        ("eve@asso.fr", '=HYPERLINK("http://evil","clic")', "+33 1 23", "fr", "g-sal"),
    ]


def test_export_accepts_contact_rows_from_a_preview():
    preview = parse(csv_bytes("email;groupe;nom\na@asso.fr;Salariés;Ana\n"))
    again = parse(export_contacts_csv(preview.rows))
    assert again.ok and again.rows == preview.rows


def test_export_empty_list_is_header_only():
    assert export_contacts_csv([])[3:].decode() == "email;nom;organisation;langue;groupe\r\n"
    assert parse(export_contacts_xlsx([]), filename="x.xlsx").file_errors


@pytest.mark.parametrize("payload", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "＝1+1"])
def test_formula_injection_neutralised_in_csv(payload):
    rows = [{"email": "a@asso.fr", "name": payload, "organisation": payload, "language": "fr", "group_name": "Salariés"}]
    text = export_contacts_csv(rows)[3:].decode("utf-8")
    import csv

    record = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1]
    assert record[1] == "'" + payload and record[2] == "'" + payload
    for cell in record:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_formula_injection_neutralised_in_xlsx():
    import fastexcel

    rows = [{"email": "a@asso.fr", "name": "=cmd|' /C calc'!A0", "organisation": "@x", "language": "fr",
             "group_name": "-Salariés"}]
    data = export_contacts_xlsx(rows)
    grid = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string").to_polars().rows()
    assert grid[1][1:] == ("'=cmd|' /C calc'!A0", "'@x", "fr", "'-Salariés")
    # And no formula cell was written at all.
    import zipfile

    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml
