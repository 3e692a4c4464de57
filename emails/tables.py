"""The outbox: every email is written here, in the same transaction as its cause."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Integer, JSON, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from organisations.tables import Organisation


class OutboxMessage(Table, tablename="outbox_message"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=40)
    to_address = Varchar(length=254)
    subject = Varchar(length=300)
    html = Text()
    text = Text()
    headers = JSON(default={})
    # pending → sending (leased) → sent | bounced | failed ; temporary failures go back to
    # pending with a backoff (see emails/delivery.py). "failed": retries exhausted or the
    # message itself is unsendable; "bounced": the recipient's server refused it (5xx).
    status = Varchar(length=20, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    lease_until = Timestamptz(null=True, default=None)
    # The claim token of the worker batch holding the lease: only that batch may confirm.
    claimed_by = Varchar(length=120, default="")
    last_error = Text(default="")
    sent_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
