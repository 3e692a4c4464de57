"""Transactional e-mail rendering: Jinja first, then MJML (mjml-python / MRML).

Public API::

    render_email(kind, *, lang, context) -> RenderedEmail(subject, html, text)

Templates live in ``emails/templates``:

* ``_layout.mjml.j2`` / ``_layout.txt.j2``  shared layouts (header, footer);
* ``_macros.mjml.j2``                     button, copy-paste link, org message;
* ``{lang}/{kind}.mjml.j2``               HTML part (autoescaped, then MJML);
* ``{lang}/{kind}.txt.j2``                plain-text part (NOT escaped) and the
                                          ``{% block subject %}``.

Escaping is decided by file name: ``*.txt.j2`` is plain text and never
escaped; everything else (``.mjml.j2``, ``.html``, strings) is autoescaped.
Missing context keys raise ``jinja2.exceptions.UndefinedError``
(StrictUndefined); optional keys (see ``CONTEXT_KEYS``) default to ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from mjml import mjml2html

__all__ = [
    "CONTEXT_KEYS",
    "KINDS",
    "LANGS",
    "TEMPLATES_DIR",
    "ContextKeys",
    "RenderedEmail",
    "render_email",
]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

LANGS: tuple[str, ...] = ("fr", "en")


@dataclass(frozen=True, slots=True)
class ContextKeys:
    """Context keys a kind uses. ``optional`` keys may be omitted or ``None``."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


_SURVEY_KEYS = ContextKeys(
    required=(
        "org_name",
        "campaign_title",
        "survey_url",
        "closes_on",
        "unsubscribe_url",
        "threshold",
        "duration_minutes",
    ),
    optional=("org_logo_url", "org_message"),
)

CONTEXT_KEYS: dict[str, ContextKeys] = {
    "invitation": _SURVEY_KEYS,
    "reminder": _SURVEY_KEYS,
    "verify_email": ContextKeys(required=("verify_url", "expires_hours"), optional=("user_name",)),
    "password_reset": ContextKeys(required=("reset_url", "expires_minutes")),
    "member_invitation": ContextKeys(
        required=("org_name", "inviter_name", "role_label", "accept_url", "expires_days"),
        optional=("org_logo_url",),
    ),
    "campaign_closed": ContextKeys(
        required=("org_name", "campaign_title", "invited", "answered", "rate_percent", "results_url"),
        optional=("org_logo_url",),
    ),
    "action_reminder": ContextKeys(
        required=("org_name", "action_title", "due_on", "action_url"),
        optional=("org_logo_url",),
    ),
}

KINDS: tuple[str, ...] = tuple(CONTEXT_KEYS)

# Names the renderer itself puts in the template context (they override the caller's).
_RESERVED = ("lang", "subject", "logo_url")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


# --------------------------------------------------------------------------- Jinja

_html_autoescape = select_autoescape(
    enabled_extensions=("html", "htm", "xml", "mjml", "j2"),
    default_for_string=True,
    default=True,
)


def _autoescape(template_name: str | None) -> bool:
    """Plain-text templates (``*.txt.j2`` / ``*.txt``) are never escaped; all else is."""
    if template_name is not None and template_name.endswith((".txt.j2", ".txt")):
        return False
    return _html_autoescape(template_name)


def _nl2br(value: Any) -> Markup:
    """Escape *value* and turn its line breaks into ``<br>`` (for HTML templates)."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return Markup("<br>\n").join(escape(line) for line in text.split("\n"))


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=_autoescape,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    auto_reload=False,  # compiled templates stay cached in the Environment
    cache_size=-1,
)
_env.filters["nl2br"] = _nl2br


# --------------------------------------------------------------------------- helpers

_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACES = re.compile(r"[ \t]+$", re.MULTILINE)


def _clean_text(text: str) -> str:
    text = _TRAILING_SPACES.sub("", text.replace("\r\n", "\n"))
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def _one_line(text: str) -> str:
    """Collapse all whitespace (incl. newlines: header injection) into single spaces."""
    return " ".join(text.split())


def _safe_logo_url(value: Any) -> str | None:
    if not value:
        return None
    url = str(value).strip()
    # Organisation-provided: only plain web URLs end up in <img src>.
    if url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url):
        return url
    return None


def _normalise_message(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return text if text.strip() else None


def _prepare_context(kind: str, lang: str, context: Mapping[str, Any]) -> dict[str, Any]:
    keys = CONTEXT_KEYS[kind]
    ctx: dict[str, Any] = {name: None for name in keys.optional}
    ctx.update({k: v for k, v in context.items() if k not in _RESERVED})
    if "org_message" in keys.optional:
        ctx["org_message"] = _normalise_message(ctx["org_message"])
    ctx["logo_url"] = _safe_logo_url(ctx.get("org_logo_url")) if "org_logo_url" in keys.optional else None
    ctx["lang"] = lang
    return ctx


# --------------------------------------------------------------------------- API


def render_email(kind: str, *, lang: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render e-mail *kind* in *lang* with *context* (see ``CONTEXT_KEYS``).

    Raises ``ValueError`` for an unknown kind or language (or invalid MJML) and
    ``jinja2.exceptions.UndefinedError`` when a required context key is missing.
    """
    if kind not in CONTEXT_KEYS:
        raise ValueError(f"unknown e-mail kind {kind!r}; expected one of {', '.join(KINDS)}")
    if lang not in LANGS:
        raise ValueError(f"unknown e-mail language {lang!r}; expected one of {', '.join(LANGS)}")

    ctx = _prepare_context(kind, lang, context)

    text_tmpl = _env.get_template(f"{lang}/{kind}.txt.j2")
    subject_block = text_tmpl.blocks.get("subject")
    if subject_block is None:  # pragma: no cover - template authoring error
        raise RuntimeError(f"{lang}/{kind}.txt.j2 has no {{% block subject %}}")
    subject = _one_line("".join(subject_block(text_tmpl.new_context(dict(ctx)))))
    ctx["subject"] = subject

    text = _clean_text(text_tmpl.render(ctx))
    mjml_source = _env.get_template(f"{lang}/{kind}.mjml.j2").render(ctx)
    html = mjml2html(mjml_source, fonts={}, disable_comments=True)
    return RenderedEmail(subject=subject, html=html, text=text)
