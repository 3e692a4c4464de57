"""Who is calling: the session middleware, and the guards that seal each organisation.

Every route that touches an organisation's data names it in its path
(`/o/{slug}/…` for pages, `/api/v1/organisations/{org_id}/…` for the API) and
carries `org_guard(role)`: the caller must be a member of *that* organisation
with at least that role. Non-members get 404, so an organisation's existence
isn't revealed; anonymous callers get 401.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.plugins.htmx import HTMXRequest
from litestar.types import ASGIApp, Receive, Scope, Send

from api.security import SESSION_COOKIE
from organisations.queries import OrgMembership, membership_for
from organisations.services import CurrentUser, role_at_least, session_user


class SessionMiddleware(ASGIMiddleware):
    """Attach the logged-in user (or None) to every HTTP request. Never rejects by itself."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        user: CurrentUser | None = None
        token: str | None = None
        if scope["type"] == "http":
            for name, value in scope.get("headers", []):
                if name == b"cookie":
                    token = _cookie_value(value.decode("latin-1"), SESSION_COOKIE) or token
            if token:
                user = await session_user(token=token)
        scope["user"] = user
        scope["auth"] = token if user else None
        await next_app(scope, receive, send)


def _cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def current_user(connection: ASGIConnection) -> CurrentUser | None:
    return connection.scope.get("user")


async def user_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException("Connectez-vous pour continuer.")


def org_guard(minimum_role: str):
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException("Connectez-vous pour continuer.")
        params: dict[str, Any] = connection.path_params
        membership: OrgMembership | None = None
        if "slug" in params:
            membership = await membership_for(user_id=user.id, slug=str(params["slug"]))
        elif "org_id" in params:
            org_id = params["org_id"]
            membership = await membership_for(
                user_id=user.id, organisation_id=org_id if isinstance(org_id, uuid.UUID) else uuid.UUID(str(org_id))
            )
        if membership is None:
            raise NotFoundException("Organisation introuvable.")
        if not role_at_least(membership.role, minimum_role):
            raise PermissionDeniedException("Votre rôle dans cette organisation ne permet pas cette action.")
        connection.state.membership = membership

    guard.__name__ = f"org_guard_{minimum_role}"
    return guard


def provide_membership(request: HTMXRequest) -> OrgMembership:
    return request.state.membership


def provide_user(request: HTMXRequest) -> CurrentUser:
    user = current_user(request)
    if user is None:  # pragma: no cover - guards run first
        raise NotAuthorizedException("Connectez-vous pour continuer.")
    return user
