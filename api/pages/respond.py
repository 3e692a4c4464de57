"""Respondent pages: the survey a stakeholder answers through a personal or shared link.

No account, no login. GET never changes anything (mail scanners pre-fetch links);
answers are saved on POST as the person goes and sealed on the final POST.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from api.errors import ValidationFailed
from api.security import check_rate_limit, client_address
from api.settings import get_settings
from api.web import form_data, see_other
from consultations import services
from consultations.i18n import translator
from consultations.services import AlreadySubmitted, LinkProblem, Respondent
from organisations.tables import Contact
from consultations import links

OPEN_COOKIE = "essp_q"
PROBLEM_STATUS = {"invalid": 404, "revoked": 410, "used": 200, "closed": 410, "expired": 410, "not_open": 403}


def _lang(requested: str | None, respondent: Respondent | None = None, draft_lang: str | None = None) -> str:
    allowed = respondent.campaign["languages"] if respondent else ["fr", "en"]
    for candidate in (requested, draft_lang, respondent.language if respondent else None):
        if candidate in allowed:
            return candidate
    return "fr"


def _page(template: str, lang: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    return Template(template, context={"lang": lang, "t": translator(lang), **context}, status_code=status_code)


def problem_page(problem: LinkProblem, lang: str | None = None, status_code: int | None = None) -> Template:
    lang = lang if lang in ("fr", "en") else problem.language
    t = translator(lang)
    campaign = problem.campaign or {}
    date = campaign.get("closes_on") if problem.kind == "expired" else campaign.get("opens_on")
    return _page(
        "respond/problem.html",
        lang,
        status_code=status_code or PROBLEM_STATUS[problem.kind],
        title=t(f"{problem.kind}_title"),
        text=t(f"{problem.kind}_text", date=date.strftime("%d/%m/%Y") if date else ""),
        kind=problem.kind,
    )


def _answers_from_form(form: dict[str, str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, value in form.items():
        field, sep, key = name.partition("__")
        if sep and field in ("answer", "importance", "comment"):
            out.setdefault(key, {})[field] = value
    return out


class _RespondentPages(Controller):
    """Shared flow for personal (/r/) and shared (/q/) links."""

    include_in_schema = False
    prefix = ""

    async def _respondent(self, request: HTMXRequest, token: str) -> Respondent:
        raise NotImplementedError

    async def _guard(self, request: HTMXRequest) -> None:
        await check_rate_limit("survey-link", client_address(request), limit=get_settings().link_rate_per_minute)

    def _base(self, token: str) -> str:
        return f"/{self.prefix}/{token}"

    async def _load(self, request: HTMXRequest, token: str) -> Respondent | Template:
        await self._guard(request)
        try:
            return await self._respondent(request, token)
        except LinkProblem as problem:
            return problem_page(problem, request.query_params.get("lang"))

    async def welcome(self, request: HTMXRequest, token: str, lang: str | None) -> Template | Response:
        respondent = await self._load(request, token)
        if isinstance(respondent, Template):
            return respondent
        draft = await services.draft_get(respondent)
        lang = _lang(lang, respondent, draft.get("language"))
        response = _page(
            "respond/welcome.html", lang, r=respondent, base=self._base(token), started=bool(draft["answers"]),
            duration=max(5, round(len(respondent.practices) * 0.4)),
        )
        return self._with_cookie(request, response)

    def _with_cookie(self, request: HTMXRequest, response: Response) -> Response:
        return response

    async def step(self, request: HTMXRequest, token: str, number: int, lang: str | None, errors: dict | None = None, status_code: int = 200) -> Template | Response:
        respondent = await self._load(request, token)
        if isinstance(respondent, Template):
            return respondent
        themes = respondent.themes
        if not 1 <= number <= len(themes):
            return see_other(f"{self._base(token)}?lang={_lang(lang, respondent)}")
        draft = await services.draft_get(respondent)
        lang = _lang(lang, respondent, draft.get("language"))
        theme = themes[number - 1]
        return _page(
            "respond/step.html", lang, status_code=status_code, r=respondent, base=self._base(token), theme=theme,
            practices=[p for p in respondent.practices if p.theme == theme.key], answers=draft["answers"],
            number=number, total=len(themes), errors=errors or {},
        )

    async def save_step(self, request: HTMXRequest, token: str, number: int) -> Template | Response:
        respondent = await self._load(request, token)
        if isinstance(respondent, Template):
            return respondent
        form = await form_data(request)
        lang = _lang(form.get("lang"), respondent)
        try:
            await services.draft_save(respondent, _answers_from_form(form), language=lang)
        except ValidationFailed as exc:
            return await self.step(request, token, number, lang, errors=exc.errors, status_code=400)
        go = form.get("go", "next")
        target = number - 1 if go == "previous" else number + 1
        if target > len(respondent.themes):
            return see_other(f"{self._base(token)}/envoyer?lang={lang}")
        return see_other(f"{self._base(token)}/etape/{max(1, target)}?lang={lang}")

    async def autosave(self, request: HTMXRequest, token: str) -> Template | Response:
        respondent = await self._load(request, token)
        if isinstance(respondent, Template):
            return respondent
        form = await form_data(request)
        lang = _lang(form.get("lang"), respondent)
        try:
            await services.draft_save(respondent, _answers_from_form(form), language=lang)
        except ValidationFailed as exc:
            return _page("respond/_saved.html", lang, status_code=400, errors=exc.errors)
        return _page("respond/_saved.html", lang, saved=True)

    async def review(self, request: HTMXRequest, token: str, lang: str | None) -> Template | Response:
        respondent = await self._load(request, token)
        if isinstance(respondent, Template):
            return respondent
        draft = await services.draft_get(respondent)
        lang = _lang(lang, respondent, draft.get("language"))
        answered = sum(1 for p in respondent.practices if (draft["answers"].get(p.key) or {}).get("answer"))
        return _page("respond/review.html", lang, r=respondent, base=self._base(token), answered=answered, total=len(respondent.practices), steps=len(respondent.themes))

    async def submit(self, request: HTMXRequest, token: str) -> Template:
        respondent = await self._load(request, token)
        if isinstance(respondent, Template):
            return respondent
        form = await form_data(request)
        lang = _lang(form.get("lang"), respondent)
        try:
            await services.submit(respondent, _answers_from_form(form))
        except AlreadySubmitted:
            return problem_page(LinkProblem("used", respondent.campaign, lang), lang, status_code=409)
        except LinkProblem as problem:
            return problem_page(problem, lang)
        return _page("respond/thanks.html", lang, r=respondent)

    # The routes, shared by personal (/r/) and shared (/q/) links.
    @get("/")
    async def get_welcome(self, request: HTMXRequest, token: FromPath[str], lang: FromQuery[str | None] = None) -> Response:
        return await self.welcome(request, token, lang)

    @get("/etape/{number:int}")
    async def get_step(self, request: HTMXRequest, token: FromPath[str], number: FromPath[int], lang: FromQuery[str | None] = None) -> Response:
        return await self.step(request, token, number, lang)

    @post("/etape/{number:int}")
    async def post_step(self, request: HTMXRequest, token: FromPath[str], number: FromPath[int]) -> Response:
        return await self.save_step(request, token, number)

    @post("/brouillon")
    async def post_autosave(self, request: HTMXRequest, token: FromPath[str]) -> Response:
        return await self.autosave(request, token)

    @get("/envoyer")
    async def get_review(self, request: HTMXRequest, token: FromPath[str], lang: FromQuery[str | None] = None) -> Response:
        return await self.review(request, token, lang)

    @post("/envoyer")
    async def post_submit(self, request: HTMXRequest, token: FromPath[str]) -> Template:
        return await self.submit(request, token)


class InvitationPages(_RespondentPages):
    path = "/r/{token:str}"
    prefix = "r"

    async def _respondent(self, request: HTMXRequest, token: str) -> Respondent:
        return await services.respondent_for_invitation(token)

    @post("/reponses.json", opt={"exclude_from_csrf": True}, include_in_schema=True, tags=["Réponses"])
    async def post_json(self, request: HTMXRequest, token: FromPath[str]) -> Response:
        """Integrations: save answers (and optionally submit) with the link token as the only credential."""
        from api.problems import problem

        await self._guard(request)
        try:
            body = await request.json()
        except Exception:  # noqa: BLE001 - malformed JSON is the client's error
            return problem(400, detail="Le corps doit être un objet JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("answers", {}), dict):
            return problem(400, detail="Attendu : {\"answers\": {clé: {\"answer\": \"1\"…\"5\"|\"dont_know\"|\"not_concerned\", \"importance\": …, \"comment\": …}}, \"submit\": true|false}.")
        answers = {str(k): v for k, v in body.get("answers", {}).items() if isinstance(v, dict)}
        try:
            respondent = await services.respondent_for_invitation(token)
            if body.get("submit"):
                await services.submit(respondent, answers)
                return Response({"status": "submitted"}, status_code=201)
            await services.draft_save(respondent, answers)
            return Response({"status": "saved"}, status_code=200)
        except AlreadySubmitted:
            return problem(409, detail="Une réponse a déjà été enregistrée avec ce lien.")
        except LinkProblem as exc:
            return problem(PROBLEM_STATUS[exc.kind] if exc.kind != "used" else 409, title=translator("fr")(f"{exc.kind}_title"))


class OpenLinkPages(_RespondentPages):
    path = "/q/{token:str}"
    prefix = "q"

    def _browser_key(self, request: HTMXRequest, token: str) -> str | None:
        cookie = request.cookies.get(OPEN_COOKIE)
        if not cookie:
            return None
        payload = links.read_token(links.PURPOSE_OPEN_LINK, token)
        key = services.browser_key_hash(cookie)
        return f"{key}:{payload.id}"[:64] if key and payload else None

    async def _respondent(self, request: HTMXRequest, token: str) -> Respondent:
        return await services.respondent_for_open_link(token, self._browser_key(request, token))

    def _with_cookie(self, request: HTMXRequest, response: Response) -> Response:
        if not request.cookies.get(OPEN_COOKIE):
            settings = get_settings()
            response.set_cookie(OPEN_COOKIE, secrets.token_urlsafe(32), path="/q/", httponly=True, secure=settings.secure_cookies, samesite="lax", max_age=90 * 24 * 3600)
        return response

    async def _guard(self, request: HTMXRequest) -> None:
        await super()._guard(request)
        if request.method == "POST" and request.url.path.endswith("/envoyer"):
            # A shared link can't promise one person, one answer: at least slow down repeats.
            await check_rate_limit("open-link-submit", client_address(request), limit=10, period_seconds=3600)


class UnsubscribePages(Controller):
    path = "/desinscription/{token:str}"
    include_in_schema = False

    async def _contact(self, request: HTMXRequest, token: str) -> dict | None:
        await check_rate_limit("survey-link", client_address(request), limit=get_settings().link_rate_per_minute)
        payload = links.read_token(links.PURPOSE_UNSUBSCRIBE, token)
        if payload is None:
            return None
        return await Contact.select(Contact.id, Contact.language, Contact.organisation.name.as_alias("org_name")).where(Contact.id == payload.id).first()

    @get("/")
    async def confirm(self, request: HTMXRequest, token: FromPath[str]) -> Template:
        contact = await self._contact(request, token)
        if contact is None:
            return problem_page(LinkProblem("invalid"))
        return _page("respond/unsubscribe.html", contact["language"], org=contact["org_name"], done=False, token=token)

    @post("/", opt={"exclude_from_csrf": True})
    async def unsubscribe(self, request: HTMXRequest, token: FromPath[str]) -> Template:
        """Also the RFC 8058 one-click target (List-Unsubscribe-Post): the signed token is the credential."""
        contact = await self._contact(request, token)
        if contact is None:
            return problem_page(LinkProblem("invalid"))
        await Contact.update({Contact.opted_out: True}).where(Contact.id == contact["id"])
        return _page("respond/unsubscribe.html", contact["language"], org=contact["org_name"], done=True, token=token)


__all__ = ["InvitationPages", "OpenLinkPages", "UnsubscribePages"]
