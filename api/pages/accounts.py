"""Public pages: home, sign-up, login, logout, verification, password reset, member invitations."""

from __future__ import annotations

from litestar.plugins.htmx import HTMXRequest
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from api.auth import current_user, user_guard
from api.errors import Gone, ValidationFailed
from api.security import check_rate_limit, client_address
from api.settings import get_settings
from api.web import ORG_FORM_CONTEXT, clear_session_cookie, form_data, page, safe_next, see_other, set_session_cookie
from organisations import services
from organisations.queries import memberships_of
from organisations.services import ROLES, OrganisationInput


def organisation_input(form: dict[str, str], name_key: str = "org_name") -> OrganisationInput:
    return OrganisationInput(
        name=form.get(name_key, ""),
        legal_form=form.get("legal_form", ""),
        coop_kind=form.get("coop_kind") or None,
        siret=form.get("siret") or None,
        postcode=form.get("postcode", ""),
        region=form.get("region") or None,
        headcount_band=form.get("headcount_band", ""),
    )


class AccountPages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: HTMXRequest) -> Response:
        user = current_user(request)
        if user is not None:
            return see_other("/organisations")
        return page("home.html")

    @get("/inscription")
    async def signup_form(self) -> Template:
        return page("auth/signup.html", **ORG_FORM_CONTEXT)

    @post("/inscription")
    async def signup_submit(self, request: HTMXRequest) -> Response:
        await check_rate_limit("signup", client_address(request), limit=get_settings().login_rate_per_minute)
        form = await form_data(request)
        try:
            user, org = await services.signup(
                email=form.get("email", ""),
                password=form.get("password", ""),
                name=form.get("name", ""),
                organisation=organisation_input(form),
            )
        except ValidationFailed as exc:
            return page("auth/signup.html", status_code=400, form=form, errors=exc.errors, **ORG_FORM_CONTEXT)
        token = await services.session_open(user_id=user.id)
        return set_session_cookie(see_other(f"/o/{org.slug}/"), token)

    @get("/connexion")
    async def login_form(self, request: HTMXRequest, next: FromQuery[str | None] = None) -> Template:  # noqa: A002
        return page("auth/login.html", next=safe_next(next, ""), email="")

    @post("/connexion")
    async def login_submit(self, request: HTMXRequest) -> Response:
        form = await form_data(request)
        email = (form.get("email") or "").strip().lower()
        settings = get_settings()
        await check_rate_limit("login-ip", client_address(request), limit=settings.login_rate_per_minute)
        await check_rate_limit("login-account", email, limit=settings.login_rate_per_minute)
        user = await services.authenticate(email=email, password=form.get("password", ""))
        if user is None:
            return page(
                "auth/login.html",
                status_code=400,
                next=safe_next(form.get("next"), ""),
                email=form.get("email", ""),
                errors={"email": "Adresse e-mail ou mot de passe incorrect."},
            )
        # A brand-new session token: any token the browser already had is discarded.
        if request.scope.get("auth"):
            await services.session_close(token=request.scope["auth"])
        token = await services.session_open(user_id=user.id)
        return set_session_cookie(see_other(safe_next(form.get("next"), "/organisations")), token)

    @post("/deconnexion")
    async def logout(self, request: HTMXRequest) -> Response:
        if request.scope.get("auth"):
            await services.session_close(token=request.scope["auth"])
        return clear_session_cookie(see_other("/connexion"))

    @get("/compte/verifier/{token:str}")
    async def verify_confirm(self, token: FromPath[str]) -> Template:
        # GET never consumes the link: mail scanners pre-fetch links.
        return page(
            "auth/confirm.html",
            title="Vérifier votre adresse e-mail",
            text="Cliquez sur le bouton pour confirmer votre adresse e-mail.",
            action=f"/compte/verifier/{token}",
            button="Confirmer mon adresse",
        )

    @post("/compte/verifier/{token:str}")
    async def verify_submit(self, request: HTMXRequest, token: FromPath[str]) -> Response:
        await check_rate_limit("account-link", client_address(request), limit=get_settings().link_rate_per_minute)
        await services.email_verify(token=token)
        return page(
            "auth/message.html",
            title="Adresse vérifiée",
            paragraphs=["Merci, votre adresse e-mail est confirmée."],
            link=("/organisations", "Continuer"),
        )

    @post("/compte/verifier/renvoyer", guards=[user_guard])
    async def verify_resend(self, request: HTMXRequest) -> Response:
        await check_rate_limit("verify-resend", client_address(request), limit=5)
        await services.email_verification_resend(user_id=current_user(request).id)
        return page(
            "auth/message.html",
            title="Lien envoyé",
            paragraphs=["Un nouveau lien de vérification vient de vous être envoyé."],
            link=("/organisations", "Retour"),
        )

    @get("/compte/mot-de-passe-oublie")
    async def forgot_form(self) -> Template:
        return page("auth/forgot.html")

    @post("/compte/mot-de-passe-oublie")
    async def forgot_submit(self, request: HTMXRequest) -> Template:
        form = await form_data(request)
        settings = get_settings()
        await check_rate_limit("reset-ip", client_address(request), limit=settings.login_rate_per_minute)
        await check_rate_limit("reset-account", (form.get("email") or "").strip().lower(), limit=3)
        await services.password_reset_request(email=form.get("email", ""))
        return page("auth/forgot.html", sent=True)

    @get("/compte/reinitialiser/{token:str}")
    async def reset_form(self, token: FromPath[str]) -> Template:
        return page("auth/reset.html", token=token)

    @post("/compte/reinitialiser/{token:str}")
    async def reset_submit(self, request: HTMXRequest, token: FromPath[str]) -> Response:
        await check_rate_limit("account-link", client_address(request), limit=get_settings().link_rate_per_minute)
        form = await form_data(request)
        try:
            await services.password_reset(token=token, password=form.get("password", ""))
        except ValidationFailed as exc:
            return page("auth/reset.html", status_code=400, token=token, errors=exc.errors)
        return clear_session_cookie(
            page(
                "auth/message.html",
                title="Mot de passe modifié",
                paragraphs=["Votre nouveau mot de passe est enregistré. Vous pouvez vous connecter."],
                link=("/connexion", "Se connecter"),
            )
        )

    @get("/invitation/{token:str}")
    async def invitation_form(self, token: FromPath[str]) -> Template:
        invitation = await services.member_invitation_lookup(token=token)
        return page("auth/invitation.html", token=token, invitation=invitation, role_label=ROLES[invitation.role])

    @post("/invitation/{token:str}")
    async def invitation_accept(self, request: HTMXRequest, token: FromPath[str]) -> Response:
        await check_rate_limit("account-link", client_address(request), limit=get_settings().link_rate_per_minute)
        form = await form_data(request)
        user = current_user(request)
        try:
            user_id = await services.member_invitation_accept(
                token=token,
                user_id=user.id if user else None,
                name=form.get("name", ""),
                password=form.get("password", ""),
            )
        except ValidationFailed as exc:
            invitation = await services.member_invitation_lookup(token=token)
            return page(
                "auth/invitation.html",
                status_code=400,
                token=token,
                invitation=invitation,
                role_label=ROLES[invitation.role],
                form=form,
                errors=exc.errors,
            )
        memberships = await memberships_of(user_id=user_id)
        invitation_slug = memberships[0].slug if memberships else ""
        response = see_other(f"/o/{invitation_slug}/" if invitation_slug else "/organisations")
        if user is None:
            response = set_session_cookie(response, await services.session_open(user_id=user_id))
        return response


__all__ = ["AccountPages", "Gone"]
