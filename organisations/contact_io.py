"""Import and export of stakeholder contacts (CSV / XLSX) for an organisation's
stakeholder map.

Pure functions: no database, no HTTP. Users are French association staff who
export lists from Excel or LibreOffice, so every message is in French and the
line numbers are the spreadsheet row numbers (the header is line 1).

Import is ALL OR NOTHING. Typical use::

    preview = parse_contacts(data, filename=upload.filename, groups=groups_by_name,
                             existing_emails=emails_already_in_org)
    if not preview.ok:
        # show preview.file_errors and preview.errors, write nothing
        ...
    else:
        for row in preview.rows_to_import():   # raises if not ok
            ...                                 # insert row.email, row.group_id, ...

``preview.rows`` holds the rows that are individually valid even when other rows
failed (handy to show "42 lignes valides, 3 erreurs"), so never insert
``preview.rows`` directly: check ``preview.ok`` or call ``rows_to_import()``.

``parse_contacts`` never raises on bad input (garbage bytes, empty file, PDF
renamed .csv, broken XLSX…): problems come back in ``file_errors``.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any
from xml.etree import ElementTree

import msgspec
import polars as pl
import xlsxwriter
from email_validator import EmailNotValidError, validate_email

__all__ = [
    "ContactRow",
    "RowError",
    "ImportPreview",
    "ImportNotOkError",
    "parse_contacts",
    "export_contacts_csv",
    "export_contacts_xlsx",
    "EXPORT_COLUMNS",
    "MAX_TEXT_LENGTH",
]

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 200
EXPORT_COLUMNS = ("email", "nom", "organisation", "langue", "groupe")
# Rows scanned to find the header (allows a title line above the header).
_HEADER_SEARCH_ROWS = 10
# Guard against zip bombs: total uncompressed size of the XML parts of an XLSX.
_MAX_XLSX_XML_BYTES = 100 * 1024 * 1024


# --------------------------------------------------------------------------- #
# Result types
# --------------------------------------------------------------------------- #


class ContactRow(msgspec.Struct, frozen=True, kw_only=True):
    """One valid contact line."""

    line: int  # spreadsheet row number (header = 1)
    email: str  # normalised, lower-cased
    name: str  # "" when absent
    organisation: str  # "" when absent
    language: str  # "fr" or "en"
    group_id: str
    group_name: str  # the group's name as defined in the map (not the file's spelling)


class RowError(msgspec.Struct, frozen=True, kw_only=True):
    """A problem on one line (``line``) and column (``field``); message in French.

    ``field`` is one of "email", "group", "name", "organisation", "language"
    (or None). ``line`` is None for errors not tied to a line.
    """

    line: int | None
    field: str | None
    message: str


class ImportNotOkError(ValueError):
    """Raised by ImportPreview.rows_to_import() when the preview has errors."""


class ImportPreview(msgspec.Struct, kw_only=True):
    """Outcome of parse_contacts. Write NOTHING unless ``ok`` is True."""

    rows: list[ContactRow] = []
    errors: list[RowError] = []
    file_errors: list[str] = []

    @property
    def ok(self) -> bool:
        """True only if there is no error of any kind and at least one row."""
        return not self.file_errors and not self.errors and bool(self.rows)

    def rows_to_import(self) -> list[ContactRow]:
        """The rows to write; raises ImportNotOkError unless ``ok``."""
        if not self.ok:
            raise ImportNotOkError("contact import has errors; nothing must be written")
        return list(self.rows)


# --------------------------------------------------------------------------- #
# Normalisation helpers
# --------------------------------------------------------------------------- #

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "‘": "'", "ʼ": "'"})
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# Characters that make a spreadsheet treat a cell as a formula (OWASP), plus
# their full-width forms.
_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _group_key(text: str) -> str:
    """Case-, accent- and spacing-insensitive key for group names."""
    return " ".join(_strip_accents(text).casefold().split())


def _header_key(text: str) -> str:
    """Key for column headers: also ignores punctuation and "(...)" remarks."""
    text = re.sub(r"\(.*?\)", " ", text)
    text = _strip_accents(text).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _clean_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip(_INVISIBLE + " \t\r\n\u00a0\u202f").strip()
    # Undo our own formula-injection escaping so exports round-trip.
    if len(text) > 1 and text[0] == "'" and text[1].startswith(_FORMULA_CHARS):
        text = text[1:]
    return text


def _neutralise(value: Any) -> str:
    """Prefix an apostrophe to cells a spreadsheet would run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_CHARS):
        return "'" + text
    return text


def _fmt_int(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


# --------------------------------------------------------------------------- #
# Columns
# --------------------------------------------------------------------------- #

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "e mail", "emails", "courriel", "mail", "mel", "adresse e mail",
        "adresse email", "adresse mail", "adresse electronique", "adresse courriel",
        "email address", "e mail address",
    ),
    "group": (
        "groupe", "group", "groupe de parties prenantes", "partie prenante",
        "parties prenantes", "categorie", "category", "stakeholder group",
        "groupe de partie prenante", "categorie de partie prenante",
    ),
    "name": (
        "nom", "nom complet", "prenom nom", "nom prenom", "prenom et nom", "nom et prenom",
        "name", "full name",
    ),
    "first_name": ("prenom", "first name", "firstname", "given name"),
    "last_name": ("nom de famille", "last name", "lastname", "surname", "family name"),
    "organisation": (
        "organisation", "organization", "structure", "entreprise", "organisme",
        "association", "company",
    ),
    "language": ("langue", "language", "lang", "langue preferee", "preferred language"),
}
_HEADER_TO_FIELD = {syn: field for field, syns in _SYNONYMS.items() for syn in syns}

_LANGUAGES = {
    "fr": "fr", "fra": "fr", "fre": "fr", "fr fr": "fr", "francais": "fr", "french": "fr",
    "en": "en", "eng": "en", "en gb": "en", "en us": "en", "anglais": "en", "english": "en",
}

_MISSING_COLUMNS_HELP = (
    "La première ligne du fichier doit contenir les intitulés de colonnes, "
    "au minimum « email » (ou « courriel », « e-mail », « adresse e-mail ») et "
    "« groupe » (ou « partie prenante », « catégorie »). Colonnes facultatives : "
    "« nom », « organisation » (ou « structure »), « langue » (fr ou en)."
)


def _map_header(cells: list[str]) -> dict[str, int]:
    """field -> column index, first matching column wins."""
    mapping: dict[str, int] = {}
    for idx, cell in enumerate(cells):
        field = _HEADER_TO_FIELD.get(_header_key(_clean_cell(cell)))
        if field is not None and field not in mapping:
            mapping[field] = idx
    return mapping


def _find_header(rows: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int]] | None:
    """Return (index in rows, mapping) of the first row that has email+group."""
    for i, (_, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        mapping = _map_header(cells)
        if "email" in mapping and "group" in mapping:
            return i, mapping
    return None


def _missing_columns_error(rows: list[tuple[int, list[str]]]) -> str:
    if not rows:
        return "Le fichier est vide."
    cells = [c for c in (_clean_cell(x) for x in rows[0][1]) if c]
    mapping = _map_header(rows[0][1])
    missing = [label for field, label in (("email", "« email »"), ("group", "« groupe »")) if field not in mapping]
    found = ", ".join(f"« {c[:40]} »" for c in cells[:10]) or "aucune"
    which = " et ".join(missing) if missing else "« email » et « groupe »"
    return (
        f"Colonne obligatoire introuvable : {which}. {_MISSING_COLUMNS_HELP} "
        f"Colonnes trouvées sur la première ligne : {found}."
    )


# --------------------------------------------------------------------------- #
# Reading files
# --------------------------------------------------------------------------- #

ERR_EMPTY = "Le fichier est vide."
ERR_FORMAT = "Format non reconnu : enregistrez votre fichier en CSV ou XLSX."
ERR_XLS = (
    "Les fichiers Excel 97-2003 (.xls) ne sont pas acceptés : dans Excel, faites "
    "« Fichier > Enregistrer sous » et choisissez le format XLSX ou CSV."
)
ERR_ODS = (
    "Les fichiers LibreOffice (.ods) ne sont pas acceptés : dans LibreOffice, faites "
    "« Fichier > Enregistrer sous » et choisissez le format XLSX (Excel 2007-365) ou CSV."
)
ERR_XLSX_BROKEN = (
    "Le fichier XLSX est illisible ou endommagé. Ouvrez-le dans Excel ou LibreOffice, "
    "enregistrez-le à nouveau au format XLSX ou CSV, puis réessayez."
)
ERR_TEXT_ENCODING = (
    "Le fichier CSV n'a pas pu être lu (encodage inconnu). Enregistrez-le en "
    "« CSV UTF-8 » depuis Excel ou LibreOffice."
)
ERR_TOO_BIG = "Le fichier est trop volumineux."

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGICS = (
    b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf",
    b"\x7fELF", b"MZ", b"{\\rtf",
)
_TEXT_EXTENSIONS = {"", "csv", "txt", "tsv", "tab"}
_XLSX_EXTENSIONS = {"xlsx", "xlsm"}


class _FileError(Exception):
    """Internal: a file-level problem, message in French."""


def _extension(filename: str) -> str:
    base = posixpath.basename((filename or "").replace("\\", "/"))
    return base.rsplit(".", 1)[1].lower().strip() if "." in base else ""


def _read_table(data: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """Return non-blank rows as (spreadsheet line number, cells). Raises _FileError."""
    if not data or not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise _FileError(ERR_EMPTY)
    ext = _extension(filename)
    if data.startswith(_ZIP_MAGIC):
        if ext == "ods" or b"application/vnd.oasis.opendocument" in data[:200]:
            raise _FileError(ERR_ODS)
        return _read_xlsx(data)
    if data.startswith(_OLE_MAGIC):
        raise _FileError(ERR_XLS)
    if ext == "ods":
        raise _FileError(ERR_ODS)
    if ext == "xls":
        raise _FileError(ERR_XLS)
    if ext in _XLSX_EXTENSIONS:
        raise _FileError(ERR_XLSX_BROKEN)
    if ext not in _TEXT_EXTENSIONS or data.startswith(_BINARY_MAGICS):
        raise _FileError(ERR_FORMAT)
    return _read_csv(data)


def _decode_text(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Texte Unicode (*.txt)" export: UTF-16 with BOM, tab separated.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _FileError(ERR_TEXT_ENCODING) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # A UTF-8 BOM may precede Windows-1252 text (tools that add a BOM blindly).
        return data.removeprefix(codecs.BOM_UTF8).decode("cp1252")
    except UnicodeDecodeError:
        raise _FileError(ERR_FORMAT) from None


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\r\n\f")
    return "\x00" in sample or controls > max(2, len(sample) // 100)


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """All records with their spreadsheet row number (blank lines count)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    for line, record in enumerate(reader, start=1):
        yield line, record


def _non_blank(records: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    for line, cells in records:
        if any(_clean_cell(c) for c in cells):
            yield line, cells


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
    text = _decode_text(data)
    if _looks_binary(text):
        raise _FileError(ERR_FORMAT)
    if not text.strip(_INVISIBLE + " \t\r\n"):
        raise _FileError(ERR_EMPTY)
    try:
        # Sniff: the delimiter under which a header with email + group appears.
        chosen = None
        for delimiter in (";", ",", "\t"):
            head = []
            for item in _non_blank(_csv_records(text, delimiter)):
                head.append(item)
                if len(head) >= _HEADER_SEARCH_ROWS:
                    break
            if _find_header(head) is not None:
                chosen = delimiter
                break
        if chosen is None:
            first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
            chosen = max((";", ",", "\t"), key=first_line.count)
        return list(_non_blank(_csv_records(text, chosen)))
    except csv.Error as exc:
        raise _FileError(
            "Le fichier CSV est mal formé (guillemets non fermés ou cellule trop longue). "
            "Enregistrez-le à nouveau en CSV depuis Excel ou LibreOffice."
        ) from exc


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names and not any(n.startswith("xl/") for n in names):
                if "content.xml" in names:
                    raise _FileError(ERR_ODS)
                raise _FileError(ERR_FORMAT)
            xml_size = sum(i.file_size for i in zf.infolist() if i.filename.endswith(".xml"))
            if xml_size > _MAX_XLSX_XML_BYTES:
                raise _FileError(ERR_TOO_BIG)
    except _FileError:
        raise
    except Exception:  # BadZipFile, NotImplementedError, struct.error… on damaged zips
        raise _FileError(ERR_XLSX_BROKEN) from None

    import fastexcel  # imported lazily: only needed for XLSX

    try:
        reader = fastexcel.read_excel(data)
        if not reader.sheet_names:
            raise _FileError(ERR_EMPTY)
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        if sheet.width == 0 or sheet.height == 0:
            raise _FileError(ERR_EMPTY)
        grid = sheet.to_polars().rows()
    except _FileError:
        raise
    except Exception:  # fastexcel/calamine/arrow errors on damaged files
        logger.info("unreadable xlsx", exc_info=True)
        raise _FileError(ERR_XLSX_BROKEN) from None

    # calamine drops leading empty rows: find the real row number of the first
    # returned row so that line numbers match what the user sees.
    first_line = _xlsx_first_row_number(data)
    records = ((first_line + i, ["" if v is None else str(v) for v in row]) for i, row in enumerate(grid))
    return list(_non_blank(records))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xlsx_first_row_number(data: bytes) -> int:
    """1-based row number of the first row holding a value in the first sheet.

    Falls back to 1 when the workbook structure is unusual.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rel_id = None
            for elem in workbook.iter():
                if _local(elem.tag) == "sheet":
                    rel_id = next((v for k, v in elem.attrib.items() if _local(k) == "id"), None)
                    break
            if rel_id is None:
                return 1
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
            target = next(
                (r.get("Target") for r in rels.iter() if _local(r.tag) == "Relationship" and r.get("Id") == rel_id),
                None,
            )
            if not target:
                return 1
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            with zf.open(path) as fh:
                row_number = 0
                for _, elem in ElementTree.iterparse(fh, events=("end",)):
                    if _local(elem.tag) != "row":
                        continue
                    r_attr = elem.get("r")
                    row_number = int(r_attr) if r_attr and r_attr.isdigit() else row_number + 1
                    for cell in elem:
                        if _local(cell.tag) != "c":
                            continue
                        for child in cell:
                            name = _local(child.tag)
                            if name == "is" or (name == "v" and child.text):
                                return row_number
                    elem.clear()
    except Exception:
        logger.debug("could not locate first xlsx row", exc_info=True)
    return 1


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #


def _email_problem(raw: str) -> str:
    if "@" not in raw:
        return "il manque le signe « @ »"
    if raw.count("@") > 1:
        return "elle contient plusieurs signes « @ »"
    if any(c.isspace() for c in raw):
        return "elle contient un espace"
    local, _, domain = raw.partition("@")
    if not local:
        return "il manque la partie avant le « @ »"
    if "." not in domain:
        return "le nom de domaine après le « @ » est incomplet"
    return "vérifiez l'orthographe"


def _normalise_email(raw: str) -> str | None:
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None
    except Exception:  # defensive: never raise on user input
        return None


def _normalise_existing(emails: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for e in emails:
        if not e:
            continue
        raw = str(e).strip()
        out.add(raw.lower())
        normalised = _normalise_email(raw)
        if normalised:
            out.add(normalised)
    return out


def parse_contacts(
    data: bytes,
    *,
    filename: str,
    groups: dict[str, str],
    existing_emails: AbstractSet[str] = frozenset(),
    max_rows: int = 5000,
) -> ImportPreview:
    """Parse an uploaded CSV or XLSX list of contacts. Never raises on bad input.

    ``groups`` maps group names (as typed in the stakeholder map) to group ids.
    ``existing_emails`` are the organisation's current contact emails.
    The result is all-or-nothing: write nothing unless ``preview.ok``.
    """
    try:
        return _parse(bytes(data or b""), filename or "", groups, existing_emails, max_rows)
    except Exception:  # last-resort safety net; a bug here must not become a 500
        logger.exception("unexpected error while parsing a contact import (%s)", filename)
        return ImportPreview(
            file_errors=["Le fichier n'a pas pu être lu. Vérifiez qu'il s'agit bien d'un fichier CSV ou XLSX."]
        )


def _parse(
    data: bytes,
    filename: str,
    groups: Mapping[str, str],
    existing_emails: Iterable[str],
    max_rows: int,
) -> ImportPreview:
    if not groups:
        return ImportPreview(
            file_errors=[
                "Aucun groupe de parties prenantes n'est défini pour cette organisation : "
                "créez les groupes dans la cartographie avant d'importer des contacts."
            ]
        )
    try:
        table = _read_table(data, filename)
    except _FileError as exc:
        return ImportPreview(file_errors=[str(exc)])

    if not table:
        return ImportPreview(file_errors=[ERR_EMPTY])
    found = _find_header(table)
    if found is None:
        return ImportPreview(file_errors=[_missing_columns_error(table)])
    header_index, columns = found
    body = table[header_index + 1 :]
    if not body:
        return ImportPreview(
            file_errors=["Le fichier ne contient aucun contact : seule la ligne d'intitulés est remplie."]
        )
    if len(body) > max_rows:
        return ImportPreview(
            file_errors=[
                f"Le fichier contient {_fmt_int(len(body))} lignes de contacts ; le maximum est "
                f"{_fmt_int(max_rows)} par import. Découpez-le en plusieurs fichiers."
            ]
        )

    group_lookup: dict[str, tuple[str, str]] = {}
    for name, gid in groups.items():
        group_lookup.setdefault(_group_key(name), (name, gid))
    known_groups = ", ".join(f"« {name} »" for name in groups)
    existing = _normalise_existing(existing_emails)

    rows: list[ContactRow] = []
    errors: list[RowError] = []
    first_seen: dict[str, int] = {}

    def cell(cells: list[str], field: str) -> str:
        idx = columns.get(field)
        return _clean_cell(cells[idx]) if idx is not None and idx < len(cells) else ""

    for line, cells in body:
        problems: list[tuple[str, str]] = []  # (field, message without the "Ligne N : " prefix)

        # email
        raw_email = cell(cells, "email")
        if raw_email.lower().startswith("mailto:"):
            raw_email = raw_email[7:].strip()
        email = None
        if not raw_email:
            problems.append(("email", "l'adresse e-mail est vide."))
        else:
            email = _normalise_email(raw_email)
            if email is None:
                problems.append(("email", f"l'adresse e-mail « {raw_email[:100]} » n'est pas valide ({_email_problem(raw_email)})."))
            elif email in existing or raw_email.lower() in existing:
                problems.append(("email", f"« {email} » fait déjà partie des contacts de l'organisation."))
            elif email in first_seen:
                problems.append(("email", f"l'adresse « {email} » apparaît déjà à la ligne {first_seen[email]}."))
            else:
                first_seen[email] = line

        # group
        raw_group = cell(cells, "group")
        group = group_lookup.get(_group_key(raw_group)) if raw_group else None
        if not raw_group:
            problems.append(("group", f"le groupe est vide. Groupes connus : {known_groups}."))
        elif group is None:
            problems.append(("group", f"groupe inconnu « {raw_group[:100]} ». Groupes connus : {known_groups}."))

        # name (full name, or first name + last name columns)
        name = cell(cells, "name")
        if not name:
            name = " ".join(p for p in (cell(cells, "first_name"), cell(cells, "last_name")) if p)
        elif "first_name" in columns and "last_name" not in columns:
            first = cell(cells, "first_name")
            name = f"{first} {name}" if first else name
        if len(name) > MAX_TEXT_LENGTH:
            problems.append(("name", f"le nom dépasse {MAX_TEXT_LENGTH} caractères ({len(name)})."))

        organisation = cell(cells, "organisation")
        if len(organisation) > MAX_TEXT_LENGTH:
            problems.append(("organisation", f"l'organisation dépasse {MAX_TEXT_LENGTH} caractères ({len(organisation)})."))

        raw_language = cell(cells, "language")
        language = _LANGUAGES.get(_header_key(raw_language)) if raw_language else "fr"
        if language is None:
            problems.append(
                ("language", f"langue inconnue « {raw_language[:50]} ». Valeurs acceptées : fr (français) ou en (anglais).")
            )

        if problems:
            errors.extend(RowError(line=line, field=f, message=f"Ligne {line} : {msg}") for f, msg in problems)
        else:
            assert email is not None and group is not None and language is not None
            rows.append(
                ContactRow(
                    line=line,
                    email=email,
                    name=name,
                    organisation=organisation,
                    language=language,
                    group_id=group[1],
                    group_name=group[0],
                )
            )

    return ImportPreview(rows=rows, errors=errors)


# --------------------------------------------------------------------------- #
# Export
# --------------------------------------------------------------------------- #


def _first(row: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = row.get(key)
        if value is not None:
            return value
    return None


def _export_frame(rows: Iterable[Mapping[str, Any] | msgspec.Struct]) -> pl.DataFrame:
    columns: dict[str, list[str]] = {c: [] for c in EXPORT_COLUMNS}
    for row in rows:
        if isinstance(row, msgspec.Struct):
            row = msgspec.structs.asdict(row)
        values = (
            _first(row, "email"),
            _first(row, "name", "nom"),
            _first(row, "organisation", "organization"),
            _first(row, "language", "langue"),
            _first(row, "group_name", "group", "groupe"),
        )
        for col, value in zip(EXPORT_COLUMNS, values, strict=True):
            columns[col].append(_neutralise(value))
    return pl.DataFrame(columns, schema={c: pl.String for c in EXPORT_COLUMNS})


def export_contacts_csv(rows: list[dict]) -> bytes:
    """CSV for Excel FR: UTF-8 with BOM, ``;`` separator, CRLF.

    Each row is a mapping with keys ``email``, ``name``, ``organisation``,
    ``language`` and ``group_name`` (or ``group``); ContactRow structs work too.
    Cells that a spreadsheet would run as a formula get a leading apostrophe.
    """
    buf = io.BytesIO()
    _export_frame(rows).write_csv(
        buf, separator=";", include_bom=True, line_terminator="\r\n", quote_style="necessary"
    )
    return buf.getvalue()


def export_contacts_xlsx(rows: list[dict]) -> bytes:
    """XLSX with one sheet "Contacts" (header row, autofit). Same rows as the CSV export."""
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with xlsxwriter.Workbook(buf, options) as workbook:
        _export_frame(rows).write_excel(workbook, worksheet="Contacts", autofit=True, autofilter=True)
    return buf.getvalue()
