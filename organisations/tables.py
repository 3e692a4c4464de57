"""Organisations, accounts, memberships and sessions."""

from __future__ import annotations

from piccolo.columns import (
    Integer,
    Real,
    UUID,
    Boolean,
    ForeignKey,
    JSON,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    id = UUID(primary_key=True)
    slug = Varchar(length=80, unique=True, index=True)
    name = Varchar(length=200)
    legal_form = Varchar(length=40)
    coop_kind = Varchar(length=20, null=True, default=None)
    siret = Varchar(length=14, null=True, default=None)
    postcode = Varchar(length=5)
    region = Varchar(length=80)
    headcount_band = Varchar(length=20)
    # Themes of the guide the organisation works on this year (theme keys); empty = all.
    chosen_themes = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="app_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True, index=True)
    name = Varchar(length=200, default="")
    password_hash = Text()
    email_verified = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="membership"):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    role = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())



class AuthSession(Table, tablename="auth_session"):
    """A login session. Only a hash of the cookie token is stored."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    active_organisation = ForeignKey(
        references=Organisation, null=True, on_delete=OnDelete.set_null
    )
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


class AccountToken(Table, tablename="account_token"):
    """A one-time link for email verification or password reset (hash only)."""

    id = UUID(primary_key=True)
    purpose = Varchar(length=30)
    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    expires_at = Timestamptz()
    used = Boolean(default=False)


class MemberInvitation(Table, tablename="member_invitation"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    email = Varchar(length=254)
    role = Varchar(length=20)
    invited_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    token_hash = Varchar(length=64, unique=True, index=True)
    expires_at = Timestamptz()
    accepted = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class StakeholderGroup(Table, tablename="stakeholder_group"):
    """A group of stakeholders on the organisation's map (influence × importance)."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=120)
    category = Varchar(length=40)  # a key of organisations.categories, or "autre"
    influence = Integer(default=3)  # 1..5
    importance = Integer(default=3)  # 1..5 (importance / interest)
    power = Boolean(default=False)  # salience flags (Mitchell, Agle & Wood)
    legitimacy = Boolean(default=False)
    urgency = Boolean(default=False)
    engagement = Varchar(length=20, default="consulter")  # informer | consulter | impliquer | collaborer | codecider
    weight_override = Real(null=True, default=None)  # None: derived from the position
    created_at = Timestamptz(default=TimestamptzNow())


class Contact(Table, tablename="contact"):
    """A person the organisation may invite. Personal data: erasable at any time."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    group = ForeignKey(references=StakeholderGroup, null=False, on_delete=OnDelete.restrict)
    email = Varchar(length=254)
    name = Varchar(length=200, default="")
    organisation_name = Varchar(length=200, default="")
    language = Varchar(length=2, default="fr")
    opted_out = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class ContactImport(Table, tablename="contact_import"):
    """A parsed contact file awaiting confirmation (the import preview).

    Kept server-side so the confirm step writes exactly what was previewed, never
    what a form sends back. Deleted when confirmed, cancelled or expired.
    """

    id = UUID(primary_key=True)  # random (uuid4): the preview's key in its URL
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    filename = Varchar(length=255, default="")
    preview = Text(default="")  # msgspec JSON of organisations.contact_io.ImportPreview
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
