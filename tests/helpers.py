"""Helpers for HTTP tests: CSRF-aware form posts, sign-up and login as a person does it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from litestar.testing import AsyncTestClient

PASSWORD = "un mot de passe solide"

ORG_FORM = {
    "org_name": "Association Les Amis du Quartier",
    "legal_form": "association",
    "coop_kind": "",
    "siret": "",
    "postcode": "44000",
    "region": "",
    "headcount_band": "1-9",
}


async def csrf_token(client: AsyncTestClient) -> str:
    token = client.cookies.get("essp_csrf")
    if not token:
        await client.get("/connexion")
        token = client.cookies.get("essp_csrf")
    assert token, "the CSRF cookie should be set by any GET"
    return token


async def post_form(client: AsyncTestClient, url: str, data: dict, **kwargs):
    token = await csrf_token(client)
    return await client.post(url, data={**data, "_csrf_token": token}, **kwargs)


async def api(client: AsyncTestClient, method: str, url: str, **kwargs):
    headers = kwargs.pop("headers", {})
    if method.upper() not in {"GET", "HEAD", "OPTIONS"}:
        headers["x-csrftoken"] = await csrf_token(client)
    return await client.request(method, url, headers=headers, **kwargs)


@dataclass
class Account:
    email: str
    slug: str
    org_id: str


async def sign_up(client: AsyncTestClient, email: str = "alice@example.org", org_name: str = "Association Les Amis du Quartier", name: str = "Alice") -> Account:
    response = await post_form(
        client,
        "/inscription",
        {**ORG_FORM, "org_name": org_name, "name": name, "email": email, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    slug = re.match(r"/o/([^/]+)/", response.headers["location"]).group(1)
    me = (await client.get("/api/v1/me")).json()
    org_id = next(o["organisation_id"] for o in me["organisations"] if o["slug"] == slug)
    return Account(email=email, slug=slug, org_id=org_id)


async def log_in(client: AsyncTestClient, email: str, password: str = PASSWORD):
    return await post_form(client, "/connexion", {"email": email, "password": password})


async def outbox(kind: str | None = None, to: str | None = None) -> list[dict]:
    from emails.tables import OutboxMessage

    query = OutboxMessage.select().order_by(OutboxMessage.created_at)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return await query


def link_in(text: str, path_prefix: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s\"<>]+)", text)
    assert match, f"no link starting with {path_prefix} in the email"
    return match.group(1)
