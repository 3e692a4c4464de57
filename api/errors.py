"""Domain errors raised by services. Controllers turn them into HTTP responses.

Messages are in French: they are shown to the user as they are.
"""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400
    title = "Requête invalide"

    def __init__(self, message: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ValidationFailed(ServiceError):
    status_code = 422
    title = "Données invalides"

    def __init__(self, errors: dict[str, str], message: str = "Certaines informations sont à corriger.") -> None:
        super().__init__(message, errors=errors)


class NotFound(ServiceError):
    status_code = 404
    title = "Introuvable"


class Forbidden(ServiceError):
    status_code = 403
    title = "Action non autorisée"


class Conflict(ServiceError):
    status_code = 409
    title = "Conflit"


class Gone(ServiceError):
    status_code = 410
    title = "Lien expiré ou déjà utilisé"
