"""Boîte de réception de démonstration: the mail captured when no SMTP server is configured.

For local demos only: the routes answer 404 when SMTP is configured or in
production. No login (a newcomer follows a stakeholder's link from here), so
the page says plainly that it is a demo inbox showing every captured message.
"""

from __future__ import annotations

import asyncio
import re
import uuid

from litestar import Controller, get
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup, escape

from api.settings import get_settings
from api.web import page
from emails.delivery import capture_dir, count_due, demo_inbox_enabled, list_captured, read_captured

INBOX_PATH = "/demo/boite-de-reception"

_HEAD_TAG = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING_PUNCTUATION = ".,;:!?)»"


def _is_local(connection: ASGIConnection) -> bool:
    client = connection.scope.get("client")
    host = client[0] if client else ""
    # "testclient" is the ASGI test client's address; a real client always has an IP.
    return host in {"::1", "localhost", "testclient"} or host.startswith("127.")


async def demo_inbox_guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    # Read at request time: the same build serves a demo (no SMTP) and production.
    # Only from this machine: a staging server without SMTP must not show everyone's mail.
    if not demo_inbox_enabled(get_settings()) or not _is_local(connection):
        raise NotFoundException()


def email_srcdoc(html: str) -> str:
    """The email's HTML for ``<iframe srcdoc>``: links open in a new tab (``<base target>``).

    The template escapes it into the attribute; the iframe's ``sandbox`` keeps
    scripts, forms and same-origin access out, and lets only those new tabs open.
    """
    base = '<base target="_blank">'
    match = _HEAD_TAG.search(html)
    if match:
        return html[: match.end()] + base + html[match.end() :]
    return base + html


def linkify(text: str) -> Markup:
    """Escape a plain-text part and make its http(s) links clickable."""
    out: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        if not url:
            continue
        out.append(escape(text[position : match.start()]))
        out.append(Markup('<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>').format(url))
        position = match.start() + len(url)
    out.append(escape(text[position:]))
    return Markup("").join(out)


class DemoInboxPages(Controller):
    path = INBOX_PATH
    include_in_schema = False
    guards = [demo_inbox_guard]
    cache_control = CacheControlHeader(no_store=True)
    response_headers = [
        ResponseHeader(name="X-Robots-Tag", value="noindex, nofollow"),
        ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    ]

    @get("/")
    async def inbox(self) -> Template:
        directory = capture_dir()
        mails = await asyncio.to_thread(list_captured, directory)
        waiting = await count_due()
        return page("demo/inbox.html", mails=mails, waiting=waiting, directory=str(directory))

    @get("/{message_id:uuid}")
    async def message(self, message_id: FromPath[uuid.UUID]) -> Template:
        mail = await asyncio.to_thread(read_captured, message_id, capture_dir())
        if mail is None:
            raise NotFoundException("Ce message n'est pas (ou plus) dans la boîte de démonstration.")
        return page("demo/message.html", mail=mail, srcdoc=email_srcdoc(mail.html), text_html=linkify(mail.text))
