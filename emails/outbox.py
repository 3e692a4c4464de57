"""Queue an email: render it and write it to the outbox (inside the caller's transaction)."""

from __future__ import annotations

import uuid

from emails.rendering import render_email
from emails.tables import OutboxMessage


async def enqueue(
    *,
    kind: str,
    to: str,
    lang: str,
    context: dict,
    organisation_id: uuid.UUID | None = None,
    headers: dict[str, str] | None = None,
) -> uuid.UUID:
    rendered = render_email(kind, lang=lang, context=context)
    message = OutboxMessage(
        organisation=organisation_id,
        kind=kind,
        to_address=to,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        headers=headers or {},
    )
    await message.save()
    return message.id
