"""Organisations, accounts, memberships and sessions."""

from __future__ import annotations

from piccolo.columns import (
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
