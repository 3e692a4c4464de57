"""Exports of a campaign's published results: CSV for French spreadsheets, XLSX, Parquet.

Built only from `CampaignResults`, so suppressed figures stay suppressed (empty cells
marked « masqué »)."""

from __future__ import annotations

import io

import polars as pl
import xlsxwriter

from consultations.results import CampaignResults

MASKED = "masqué"
VIEWS = ("pratiques", "groupes", "themes", "priorites", "commentaires")


def frames(results: CampaignResults) -> dict[str, pl.DataFrame]:
    """One frame per view, with French column names."""
    practices = pl.DataFrame(
        [
            {
                "Thème": p["theme_title"], "Pratique": p["label"], "Clé": p["practice_key"],
                "Réponses": p["n"], "Moyenne parties prenantes": p["mean"], "Médiane": p["median"], "Écart-type": p["std"],
                "IC 95 % bas": p["ci_low"], "IC 95 % haut": p["ci_high"], "Part « je ne sais pas »": p["dont_know_share"],
                "Accord (rwg)": p["rwg"], "Importance (parties prenantes)": p["mean_importance"],
                "Auto-diagnostic": p["self_mean"], "Écart": p["gap"], "Lecture": p["category_label"],
                "Statut": MASKED if p["suppressed"] else "publié",
            }
            for p in results.practices
        ],
        schema={
            "Thème": pl.String, "Pratique": pl.String, "Clé": pl.String, "Réponses": pl.Int64,
            "Moyenne parties prenantes": pl.Float64, "Médiane": pl.Float64, "Écart-type": pl.Float64, "IC 95 % bas": pl.Float64,
            "IC 95 % haut": pl.Float64, "Part « je ne sais pas »": pl.Float64, "Accord (rwg)": pl.Float64,
            "Importance (parties prenantes)": pl.Float64, "Auto-diagnostic": pl.Float64, "Écart": pl.Float64, "Lecture": pl.String,
            "Statut": pl.String,
        },
    )
    cells = pl.DataFrame(
        [
            {
                "Groupe": c["group_name"], "Clé": c["practice_key"], "Réponses": c["n"], "Moyenne": c["mean"],
                "Médiane": c["median"], "Écart-type": c["std"], "IC 95 % bas": c["ci_low"], "IC 95 % haut": c["ci_high"],
                "Part « je ne sais pas »": c["dont_know_share"],
                "Importance": c["mean_importance"], "Lien ouvert": "oui" if c["open_link"] else "non",
                "Statut": MASKED if c["suppressed"] else "publié",
            }
            for c in results.cells
        ],
        schema={"Groupe": pl.String, "Clé": pl.String, "Réponses": pl.Int64, "Moyenne": pl.Float64, "Médiane": pl.Float64,
                "Écart-type": pl.Float64, "IC 95 % bas": pl.Float64, "IC 95 % haut": pl.Float64, "Part « je ne sais pas »": pl.Float64,
                "Importance": pl.Float64, "Lien ouvert": pl.String, "Statut": pl.String},
    )
    themes = pl.DataFrame(
        [{"Thème": t["title"], "Score parties prenantes": t["score"], "Auto-diagnostic": t["self_score"], "Pratiques": t["n_practices"]} for t in results.themes],
        schema={"Thème": pl.String, "Score parties prenantes": pl.Float64, "Auto-diagnostic": pl.Float64, "Pratiques": pl.Int64},
    )
    priorities = pl.DataFrame(
        [{"Rang": p["rank"], "Pratique": p["label"], "Thème": p["theme_title"], "Score": p["score"], "Pourquoi": p["reason"],
          "Choix": {"pinned": "retenue", "dismissed": "écartée"}.get(p["mark"], "")} for p in results.priorities],
        schema={"Rang": pl.Int64, "Pratique": pl.String, "Thème": pl.String, "Score": pl.Float64, "Pourquoi": pl.String, "Choix": pl.String},
    )
    comments = pl.DataFrame(
        [{"Groupe": c["group_name"], "Pratique": c["practice"], "Commentaire": c["comment"]} for c in results.comments],
        schema={"Groupe": pl.String, "Pratique": pl.String, "Commentaire": pl.String},
    )
    return {"pratiques": practices, "groupes": cells, "themes": themes, "priorites": priorities, "commentaires": comments}


def _neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Spreadsheet formula injection: text starting with = + - @ is prefixed with an apostrophe."""
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )


def to_csv(results: CampaignResults, view: str) -> bytes:
    frame = _neutralise(frames(results)[view])
    # Suppressed numbers are empty cells; the "Statut" column says « masqué ».
    buffer = io.BytesIO()
    frame.write_csv(buffer, separator=";", include_bom=True, decimal_comma=True, float_precision=2)
    return buffer.getvalue()


def to_xlsx(results: CampaignResults) -> bytes:
    buffer = io.BytesIO()
    sheets = {"pratiques": "Pratiques", "groupes": "Par groupe", "themes": "Thèmes", "priorites": "Priorités", "commentaires": "Commentaires"}
    with xlsxwriter.Workbook(buffer) as workbook:
        for view, frame in frames(results).items():
            _neutralise(frame).write_excel(workbook, worksheet=sheets[view], autofit=True, float_precision=2)
    return buffer.getvalue()


def to_parquet(results: CampaignResults, view: str) -> bytes:
    buffer = io.BytesIO()
    frames(results)[view].write_parquet(buffer)
    return buffer.getvalue()
