"""JSON API: session (login/logout), sign-up, current user.

The API authenticates with the same session cookie as the pages; unsafe
methods need the CSRF token in the `x-csrftoken` header (read from the
`essp_csrf` cookie set on any GET).
"""

from __future__ import annotations

from litestar.plugins.htmx import HTMXRequest
from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody

from api.auth import user_guard
from api.security import check_rate_limit, client_address
from api.settings import get_settings
from api.web import clear_session_cookie, set_session_cookie
from organisations import queries, services
from organisations.schemas import LoginIn, MembershipOut, MeOut, OrganisationIn, SignupIn
from organisations.services import CurrentUser, OrganisationInput


def organisation_input(data: OrganisationIn) -> OrganisationInput:
    return OrganisationInput(
        name=data.name,
        legal_form=data.legal_form,
        coop_kind=data.coop_kind,
        siret=data.siret,
        postcode=data.postcode,
        region=data.region,
        headcount_band=data.headcount_band,
    )


async def _me(user_id, email, name, verified) -> MeOut:
    memberships = await queries.memberships_of(user_id=user_id)
    return MeOut(
        id=user_id,
        email=email,
        name=name,
        email_verified=verified,
        organisations=[MembershipOut(organisation_id=m.organisation_id, slug=m.slug, name=m.name, role=m.role) for m in memberships],
    )


class SessionApi(Controller):
    path = "/api/v1"
    tags = ["Compte"]

    @post("/session", status_code=201)
    async def login(self, request: HTMXRequest, data: JSONBody[LoginIn]) -> Response[MeOut]:
        settings = get_settings()
        await check_rate_limit("login-ip", client_address(request), limit=settings.login_rate_per_minute)
        await check_rate_limit("login-account", data.email.strip().lower(), limit=settings.login_rate_per_minute)
        user = await services.authenticate(email=data.email, password=data.password)
        if user is None:
            raise NotAuthorizedException("Adresse e-mail ou mot de passe incorrect.")
        if request.scope.get("auth"):
            await services.session_close(token=request.scope["auth"])
        token = await services.session_open(user_id=user.id)
        me = await _me(user.id, user.email, user.name, user.email_verified)
        return set_session_cookie(Response(me, status_code=201), token)

    @delete("/session", status_code=204)
    async def logout(self, request: HTMXRequest) -> Response[None]:
        if request.scope.get("auth"):
            await services.session_close(token=request.scope["auth"])
        return clear_session_cookie(Response(None, status_code=204))

    @post("/signup", status_code=201)
    async def signup(self, request: HTMXRequest, data: JSONBody[SignupIn]) -> Response[MeOut]:
        await check_rate_limit("signup", client_address(request), limit=get_settings().login_rate_per_minute)
        user, _org = await services.signup(
            email=data.email, password=data.password, name=data.name, organisation=organisation_input(data.organisation)
        )
        token = await services.session_open(user_id=user.id)
        me = await _me(user.id, user.email, user.name, user.email_verified)
        return set_session_cookie(Response(me, status_code=201), token)

    @get("/me", guards=[user_guard])
    async def me(self, user: NamedDependency[CurrentUser]) -> MeOut:
        return await _me(user.id, user.email, user.name, user.email_verified)
