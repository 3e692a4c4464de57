"""The Jinja environment for pages: autoescape on, French formatting filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine

TEMPLATES = Path(__file__).resolve().parent / "templates"


def fr_number(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return format_decimal(round(float(value), digits), format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale="fr_FR")


def fr_percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value, locale="fr_FR")


def fr_date(value: dt.date | dt.datetime | None, fmt: str = "long") -> str:
    if value is None:
        return "—"
    return format_date(value, format=fmt, locale="fr_FR")


def fr_datetime(value: dt.datetime | None) -> str:
    return "—" if value is None else format_datetime(value, format="d MMMM y 'à' HH:mm", locale="fr_FR", tzinfo="Europe/Paris")


NAV_SECTIONS = ["demarche", "diagnostic", "parties-prenantes", "consultations", "resultats", "plan", "equipe"]


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        # Autoescape MUST stay on (stack notes §1.2: a custom Environment defaults to off).
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Sections of the cycle the navigation shows (each domain adds its key when its pages exist).
    env.globals["NAV_SECTIONS"] = NAV_SECTIONS
    env.filters.update(fr_number=fr_number, fr_percent=fr_percent, fr_date=fr_date, fr_datetime=fr_datetime)
    return env


def build_template_engine() -> JinjaTemplateEngine:
    return JinjaTemplateEngine.from_environment(build_environment())
