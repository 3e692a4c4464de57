"""The action plan as a spreadsheet: CSV for French Excel (UTF-8 with BOM, `;`, decimal comma, CRLF) and XLSX.

One row per indicator (an action without indicator gives one row), the action's columns
repeated. Dates are ISO 8601 (AAAA-MM-JJ), which French Excel reads as dates. Cells a
spreadsheet would run as a formula get a leading apostrophe (as the contact export does).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import xlsxwriter
from babel.numbers import format_decimal

COLUMNS = (
    "titre", "statut", "thème", "pratiques", "constat", "description", "objectif à 1 an", "objectif à 3 ans",
    "responsable", "échéance", "en retard", "motif d'abandon", "groupes concernés",
    "indicateur", "unité", "valeur de départ", "cible", "valeur actuelle", "date de la valeur actuelle",
)
NUMBER_COLUMNS = {"valeur de départ", "cible", "valeur actuelle"}
DATE_COLUMNS = {"échéance", "date de la valeur actuelle"}
_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_CHARS) else text


def export_rows(actions: list[dict]) -> list[dict]:
    """Plain rows (Python values) from `plans.queries.actions_list`."""
    rows = []
    for a in actions:
        base = {
            "titre": a["title"], "statut": a["status_label"], "thème": a["theme_title"],
            "pratiques": " | ".join(p["label"] for p in a["practices"]), "constat": a["finding"], "description": a["description"],
            "objectif à 1 an": a["objective_1y"], "objectif à 3 ans": a["objective_3y"], "responsable": a["owner_name"],
            "échéance": a["due_on"], "en retard": "oui" if a["overdue"] else "non",
            "motif d'abandon": a["abandon_reason"], "groupes concernés": ", ".join(a["groups"] or []),
        }
        indicators = a["indicators"] or [None]
        for ind in indicators:
            rows.append({
                **base,
                "indicateur": ind["name"] if ind else "", "unité": ind["unit"] if ind else "",
                "valeur de départ": ind["baseline"] if ind else None, "cible": ind["target"] if ind else None,
                "valeur actuelle": ind["current_value"] if ind else None,
                "date de la valeur actuelle": ind["current_on"] if ind else None,
            })
    return rows


def _csv_cell(column: str, value) -> str:
    if value is None:
        return ""
    if column in NUMBER_COLUMNS:
        # Decimal comma, no grouping (so spreadsheets read it back as a number).
        return format_decimal(value, format="0.######", locale="fr_FR")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _neutralise(str(value))


def plan_csv(actions: list[dict]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in export_rows(actions):
        writer.writerow([_csv_cell(c, row[c]) for c in COLUMNS])
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def plan_xlsx(actions: list[dict]) -> bytes:
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True}
    with xlsxwriter.Workbook(buf, options) as workbook:
        sheet = workbook.add_worksheet("Plan d'action")
        header = workbook.add_format({"bold": True, "bg_color": "#E7F2EC", "text_wrap": True, "valign": "top"})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        date_format = workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top"})
        number_format = workbook.add_format({"valign": "top"})  # General: 10 → 10, 6.5 → 6,5 in French Excel
        widths = {"titre": 40, "pratiques": 50, "constat": 50, "description": 40, "objectif à 1 an": 35, "objectif à 3 ans": 35, "indicateur": 30}
        for col, name in enumerate(COLUMNS):
            sheet.write_string(0, col, name, header)
            sheet.set_column(col, col, widths.get(name, 16))
        rows = export_rows(actions)
        for r, row in enumerate(rows, start=1):
            for col, name in enumerate(COLUMNS):
                value = row[name]
                if value is None or value == "":
                    sheet.write_blank(r, col, None)
                elif name in NUMBER_COLUMNS:
                    sheet.write_number(r, col, float(value), number_format)
                elif name in DATE_COLUMNS and isinstance(value, dt.date):
                    sheet.write_datetime(r, col, dt.datetime.combine(value, dt.time()), date_format)
                else:
                    sheet.write_string(r, col, _neutralise(str(value)), wrap)
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, max(len(rows), 1), len(COLUMNS) - 1)
    return buf.getvalue()


def export_filename(slug: str, extension: str) -> str:
    return f"plan-action-{slug}-{dt.date.today().isoformat()}.{extension}"
