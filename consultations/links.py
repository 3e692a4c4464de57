"""Signed links: survey invitations, shared (open) group links, unsubscribe links.

itsdangerous signs a payload that carries only random ids and a nonce (never personal
data), with one salt per purpose so a token made for one use is refused for another,
and with the list of SECRET_KEY values so keys can rotate (the newest signs, all verify).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from api.settings import get_settings

PURPOSE_INVITATION = "esspratiques.invitation"
PURPOSE_OPEN_LINK = "esspratiques.open-link"
PURPOSE_UNSUBSCRIBE = "esspratiques.unsubscribe"


def _serializer(purpose: str) -> URLSafeSerializer:
    # SHA-256 HMAC; itsdangerous tries every key, oldest to newest, and signs with the last.
    return URLSafeSerializer(
        list(get_settings().secret_keys), salt=purpose, signer_kwargs={"digest_method": hashlib.sha256}
    )


def _b64(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


def _unb64(value: str) -> uuid.UUID:
    return uuid.UUID(bytes=base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


@dataclass(frozen=True)
class LinkPayload:
    id: uuid.UUID
    nonce: str


def make_token(purpose: str, id_: uuid.UUID, nonce: str) -> str:
    return _serializer(purpose).dumps(f"{_b64(id_)}.{nonce}")


def read_token(purpose: str, token: str) -> LinkPayload | None:
    """The payload, or None when the token is tampered, truncated or made for another purpose."""
    if not token or len(token) > 300:
        return None
    try:
        raw = _serializer(purpose).loads(token)
        id_part, _, nonce = str(raw).partition(".")
        return LinkPayload(id=_unb64(id_part), nonce=nonce)
    except (BadSignature, ValueError, TypeError):
        return None


def invitation_url(invitation_id: uuid.UUID, nonce: str) -> str:
    return f"{get_settings().base_url}/r/{make_token(PURPOSE_INVITATION, invitation_id, nonce)}"


def open_link_url(campaign_group_id: uuid.UUID, nonce: str) -> str:
    return f"{get_settings().base_url}/q/{make_token(PURPOSE_OPEN_LINK, campaign_group_id, nonce)}"


def unsubscribe_url(contact_id: uuid.UUID) -> str:
    return f"{get_settings().base_url}/desinscription/{make_token(PURPOSE_UNSUBSCRIBE, contact_id, 'u')}"
