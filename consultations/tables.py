"""Campaigns, invitations, drafts, the ballot box and anonymous responses.

Anonymity is a property of this schema (docs/architecture.md, "Anonymity"):
- `Invitation` knows its contact and records only *that* it was used (a boolean).
- `Draft` may be tied to an invitation so a person can resume; it is deleted at submission.
- `Ballot` is the sealed box: what was submitted, with no invitation, contact, token or time.
  Ballots are moved to `Response` rows in shuffled batches of at least the campaign's
  threshold (or all at once at close), so not even the database's own bookkeeping
  (transaction ids, physical order) ties a response to the submission that made it.
- `Response` / `ResponseAnswer` hold random ids, the group, and the day only.
  On SQLite they are WITHOUT ROWID tables: no hidden insertion order.
"""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, JSON, Real, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from organisations.tables import Contact, Organisation, StakeholderGroup, User


class Campaign(Table, tablename="campaign"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    title = Varchar(length=200)
    referentiel_key = Varchar(length=40)
    referentiel_version = Varchar(length=20)
    practice_keys = JSON(default=[])  # pinned at creation
    custom_practices = JSON(default=[])  # snapshot of the organisation's own practices
    languages = JSON(default=["fr", "en"])
    message = Text(default="")
    threshold = Integer(default=5)  # never below 3; locked at launch
    shared_links = Boolean(default=False)  # locked at launch
    opens_on = Date(null=True, default=None)
    closes_on = Date(null=True, default=None)
    status = Varchar(length=20, default="draft")  # draft | open | closed | archived
    reminder_days = JSON(default=[7, 14])
    reminder_max = Integer(default=2)
    # Reminders are counted per campaign, never per invitation: nothing records who was reminded.
    reminders_sent = Integer(default=0)
    last_reminder_on = Date(null=True, default=None)
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    launched_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)


class CampaignGroup(Table, tablename="campaign_group"):
    """A stakeholder group in a campaign's audience, with its name and weight frozen at launch."""

    id = UUID(primary_key=True)
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    group = ForeignKey(references=StakeholderGroup, null=True, on_delete=OnDelete.set_null)
    name = Varchar(length=120)
    category = Varchar(length=40)
    weight = Real(default=1.0)
    all_contacts = Boolean(default=True)
    contact_ids = JSON(default=[])  # when not all_contacts: the chosen contacts (draft only)
    shared_link_nonce = Varchar(length=32, null=True, default=None)  # set when its open link is on


class Invitation(Table, tablename="invitation"):
    """One contact's personal link. Records only *that* it was used, never when."""

    id = UUID(primary_key=True)
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    campaign_group = ForeignKey(references=CampaignGroup, null=False, on_delete=OnDelete.cascade)
    contact = ForeignKey(references=Contact, null=True, on_delete=OnDelete.set_null)
    nonce = Varchar(length=32)  # rotated when the link is re-issued
    language = Varchar(length=2, default="fr")
    used = Boolean(default=False)
    revoked = Boolean(default=False)


class Draft(Table, tablename="response_draft"):
    """Answers in progress, so a person can leave and come back. Deleted at submission."""

    id = UUID(primary_key=True)
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    campaign_group = ForeignKey(references=CampaignGroup, null=False, on_delete=OnDelete.cascade)
    invitation = ForeignKey(references=Invitation, null=True, on_delete=OnDelete.cascade, unique=True)
    browser_key = Varchar(length=64, null=True, default=None, unique=True)  # hash of an open-link cookie
    answers = JSON(default={})
    language = Varchar(length=2, default="fr")
    updated_on = Date()


class Ballot(Table, tablename="response_ballot"):
    """A sealed submission waiting to be mixed into responses. No link to anyone."""

    id = UUID(primary_key=True)
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    campaign_group = ForeignKey(references=CampaignGroup, null=False, on_delete=OnDelete.cascade)
    answers = JSON(default={})
    language = Varchar(length=2, default="fr")
    via_open_link = Boolean(default=False)
    submitted_on = Date()


class Response(Table, tablename="response"):
    id = UUID(primary_key=True)
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    campaign_group = ForeignKey(references=CampaignGroup, null=False, on_delete=OnDelete.cascade)
    language = Varchar(length=2, default="fr")
    via_open_link = Boolean(default=False)
    submitted_on = Date()
    # The answers again, packed one character per campaign practice (consultations/answer_codes.py):
    # the analytics read 1 row per response instead of 1 per answer.
    answer_codes = Text(default="")
    importance_codes = Text(default="")


class ResponseAnswer(Table, tablename="response_answer"):
    id = UUID(primary_key=True)
    response = ForeignKey(references=Response, null=False, on_delete=OnDelete.cascade)
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    campaign_group = ForeignKey(references=CampaignGroup, null=False, on_delete=OnDelete.cascade)
    practice_key = Varchar(length=60)
    answer = Varchar(length=20)  # level | dont_know | not_concerned
    level = Integer(null=True, default=None)
    importance = Integer(null=True, default=None)
    comment = Text(default="")


class PriorityMark(Table, tablename="priority_mark"):
    """The organisation pins or dismisses a practice in a campaign's priorities."""

    id = UUID(primary_key=True)
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    practice_key = Varchar(length=60)
    state = Varchar(length=20)  # pinned | dismissed
