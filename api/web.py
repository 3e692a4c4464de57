"""Small helpers shared by page controllers: forms, redirects, cookies, page context."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template

from api.security import SESSION_COOKIE
from api.settings import get_settings
from organisations.services import ROLES
from organisations.validation import COOP_KINDS, HEADCOUNT_BANDS, LEGAL_FORMS, REGIONS


async def form_data(request: Request) -> dict[str, str]:
    """The urlencoded/multipart form as a plain dict of strings (last value wins)."""
    form = await request.form()
    return {key: (value if isinstance(value, str) else "") for key, value in form.items()}


def safe_next(value: str | None, default: str) -> str:
    """Only local paths: never redirect to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def page(template: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("roles", ROLES)
    return Template(template, context=context, status_code=status_code)


ORG_FORM_CONTEXT = {
    "legal_forms": LEGAL_FORMS,
    "coop_kinds": COOP_KINDS,
    "headcount_bands": HEADCOUNT_BANDS,
    "regions": REGIONS,
}


def set_session_cookie(response: Response, token: str) -> Response:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 24 * 3600,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )
    return response


def clear_session_cookie(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303)
