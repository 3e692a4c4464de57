"""Errors as responses: RFC 9457 problem details under /api, French pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from api.errors import ServiceError

logger = logging.getLogger("esspratiques")

PROBLEM_MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Requête invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    410: "Lien expiré ou déjà utilisé",
    413: "Fichier trop volumineux",
    415: "Format non pris en charge",
    422: "Données invalides",
    429: "Trop de tentatives",
    500: "Erreur interne",
    503: "Service indisponible",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(
    status: int, *, detail: str | None = None, title: str | None = None, errors: Any = None, headers: dict | None = None, instance: str | None = None
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title or TITLES.get(status, "Erreur"), "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def error_page(request: Request, status: int, *, detail: str | None = None, headers: dict | None = None) -> Response:
    if status == 401:
        return Template(
            "auth/login.html",
            context={"next": request.url.path, "errors": {}, "email": "", "notice": detail or "Connectez-vous pour continuer."},
            status_code=401,
            headers=headers,
        )
    return Template(
        "error.html",
        context={"status": status, "title": TITLES.get(status, "Erreur"), "detail": detail},
        status_code=status,
        headers=headers,
    )


def _detail(exc: HTTPException) -> str | None:
    detail = exc.detail
    # Litestar's own default details are English reason phrases: keep ours only.
    if not detail or detail == exc.__class__.__name__ or detail in {
        "Not Found", "Unauthorized", "Forbidden", "Method Not Allowed", "Bad Request", "Too Many Requests",
        "Internal Server Error", "Request Entity Too Large",
    }:
        return None
    return detail


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if is_api(request):
        errors = exc.extra if isinstance(exc, ValidationException) else None
        detail = _detail(exc)
        if isinstance(exc, ValidationException):
            detail = "Le corps de la requête ne respecte pas le schéma attendu."
        return problem(status, detail=detail, errors=errors, headers=headers, instance=request.url.path)
    detail = _detail(exc)
    if isinstance(exc, ValidationException):
        detail = "Les informations envoyées sont incomplètes ou mal formées."
    return error_page(request, status, detail=detail, headers=headers)


def service_error_handler(request: Request, exc: ServiceError) -> Response:
    if is_api(request):
        return problem(exc.status_code, title=exc.title, detail=exc.message, errors=exc.errors or None, instance=request.url.path)
    detail = exc.message
    if exc.errors:
        detail = " ".join([exc.message, *exc.errors.values()])
    return error_page(request, exc.status_code, detail=detail)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    if is_api(request):
        return problem(HTTP_500_INTERNAL_SERVER_ERROR, detail="Une erreur inattendue s'est produite.")
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, detail="Une erreur inattendue s'est produite. Réessayez dans un instant.")


EXCEPTION_HANDLERS = {
    HTTPException: http_exception_handler,
    ServiceError: service_error_handler,
    Exception: internal_error_handler,
}
