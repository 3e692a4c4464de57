"""Accounts, organisations, memberships and sessions: the business rules.

Every function takes keyword-only arguments and knows nothing of HTTP.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass

from api.db import transaction
from api.errors import Conflict, Forbidden, Gone, NotFound, ValidationFailed
from api.security import hash_password, new_token, token_hash, verify_password
from api.settings import get_settings
from emails.outbox import enqueue
from organisations.tables import (
    AccountToken,
    AuthSession,
    MemberInvitation,
    Membership,
    Organisation,
    User,
)
from organisations.validation import (
    COOP_KINDS,
    HEADCOUNT_BANDS,
    LEGAL_FORMS,
    REGIONS,
    normalise_email,
    normalise_siret,
    password_problem,
    region_for_postcode,
    siret_is_valid,
)

ROLES: dict[str, str] = {"admin": "Administrateur", "contributor": "Contributeur", "reader": "Lecteur"}
ROLE_RANK = {"reader": 0, "contributor": 1, "admin": 2}

VERIFY_EMAIL_HOURS = 48
PASSWORD_RESET_MINUTES = 60
MEMBER_INVITATION_DAYS = 14


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[minimum]


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    legal_form: str
    coop_kind: str | None
    siret: str | None
    postcode: str
    region: str | None
    headcount_band: str


def validate_organisation(data: OrganisationInput) -> tuple[dict[str, str], dict]:
    """French error messages per field, and the cleaned values."""
    errors: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        errors["org_name"] = "Indiquez le nom de votre organisation."
    elif len(name) > 200:
        errors["org_name"] = "Le nom est trop long (200 caractères au plus)."
    if data.legal_form not in LEGAL_FORMS:
        errors["legal_form"] = "Choisissez une forme juridique dans la liste."
    coop_kind = (data.coop_kind or None) if data.legal_form == "cooperative" else None
    if data.legal_form == "cooperative" and coop_kind not in COOP_KINDS:
        errors["coop_kind"] = "Précisez le type de coopérative (SCOP, SCIC ou autre)."
    siret = normalise_siret(data.siret or "") or None
    if siret and not siret_is_valid(siret):
        errors["siret"] = "Ce numéro SIRET n'est pas valide : il doit compter 14 chiffres et sa clé de contrôle doit être juste."
    postcode = (data.postcode or "").strip()
    region = (data.region or "").strip() or None
    if not re.fullmatch(r"\d{5}", postcode):
        errors["postcode"] = "Le code postal doit compter 5 chiffres."
    else:
        guessed = region_for_postcode(postcode)
        if region is None:
            region = guessed
        if region is None:
            errors["region"] = "Choisissez votre région."
    if region is not None and region not in REGIONS:
        errors["region"] = "Choisissez une région dans la liste."
    if data.headcount_band not in HEADCOUNT_BANDS:
        errors["headcount_band"] = "Choisissez une tranche d'effectif."
    cleaned = {
        "name": name,
        "legal_form": data.legal_form,
        "coop_kind": coop_kind,
        "siret": siret,
        "postcode": postcode,
        "region": region,
        "headcount_band": data.headcount_band,
    }
    return errors, cleaned


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return (slug or "organisation")[:60]


async def _unique_slug(name: str) -> str:
    base = slugify(name)
    slug = base
    while await Organisation.exists().where(Organisation.slug == slug):
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


async def signup(
    *, email: str, password: str, name: str, organisation: OrganisationInput
) -> tuple[User, Organisation]:
    """Create a user, their organisation and their admin membership, and queue the verification email."""
    errors, cleaned = validate_organisation(organisation)
    normalised = normalise_email(email)
    if normalised is None:
        errors["email"] = "Cette adresse e-mail n'est pas valide."
    if problem := password_problem(password):
        errors["password"] = problem
    display_name = (name or "").strip()
    if not display_name:
        errors["name"] = "Indiquez votre nom."
    elif len(display_name) > 200:
        errors["name"] = "Le nom est trop long (200 caractères au plus)."
    if normalised and await User.exists().where(User.email == normalised):
        errors["email"] = "Un compte existe déjà avec cette adresse. Connectez-vous ou réinitialisez votre mot de passe."
    if errors:
        raise ValidationFailed(errors)
    password_hash = await hash_password(password)
    async with transaction():
        if await User.exists().where(User.email == normalised):
            raise ValidationFailed({"email": "Un compte existe déjà avec cette adresse."})
        user = User(email=normalised, name=display_name, password_hash=password_hash)
        await user.save()
        org = Organisation(slug=await _unique_slug(cleaned["name"]), **cleaned)
        await org.save()
        await Membership(user=user.id, organisation=org.id, role="admin").save()
        await _queue_verification(user)
    return user, org


async def organisation_update(*, organisation_id: uuid.UUID, data: OrganisationInput) -> Organisation:
    errors, cleaned = validate_organisation(data)
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        org = await Organisation.objects().where(Organisation.id == organisation_id).first()
        if org is None:
            raise NotFound("Organisation introuvable.")
        for key, value in cleaned.items():
            setattr(org, key, value)
        await org.save()
    return org


async def organisation_create(*, user_id: uuid.UUID, data: OrganisationInput) -> Organisation:
    """An existing user creates another organisation (and becomes its admin)."""
    errors, cleaned = validate_organisation(data)
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        org = Organisation(slug=await _unique_slug(cleaned["name"]), **cleaned)
        await org.save()
        await Membership(user=user_id, organisation=org.id, role="admin").save()
    return org


# --- Sessions -----------------------------------------------------------------


async def authenticate(*, email: str, password: str) -> User | None:
    normalised = normalise_email(email) or (email or "").strip().lower()
    user = await User.objects().where(User.email == normalised).first()
    ok = await verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        return None
    return user


async def session_open(*, user_id: uuid.UUID) -> str:
    """Issue a brand-new session token (never reuse one sent by the client)."""
    token = new_token()
    first = (
        await Membership.select(Membership.organisation)
        .where(Membership.user == user_id)
        .order_by(Membership.created_at)
        .first()
    )
    await AuthSession(
        token_hash=token_hash(token),
        user=user_id,
        active_organisation=first["organisation"] if first else None,
        expires_at=utcnow() + dt.timedelta(days=get_settings().session_days),
    ).save()
    return token


@dataclass(frozen=True)
class CurrentUser:
    id: uuid.UUID
    email: str
    name: str
    email_verified: bool
    session_id: uuid.UUID
    active_organisation_id: uuid.UUID | None


async def session_user(*, token: str) -> CurrentUser | None:
    row = (
        await AuthSession.select(
            AuthSession.id,
            AuthSession.active_organisation,
            AuthSession.expires_at,
            AuthSession.user.id,
            AuthSession.user.email,
            AuthSession.user.name,
            AuthSession.user.email_verified,
            AuthSession.user.is_active,
        )
        .where(AuthSession.token_hash == token_hash(token))
        .first()
    )
    if row is None or row["expires_at"] <= utcnow() or not row["user.is_active"]:
        return None
    return CurrentUser(
        id=row["user.id"],
        email=row["user.email"],
        name=row["user.name"],
        email_verified=row["user.email_verified"],
        session_id=row["id"],
        active_organisation_id=row["active_organisation"],
    )


async def session_close(*, token: str) -> None:
    await AuthSession.delete().where(AuthSession.token_hash == token_hash(token))


async def session_switch_organisation(*, session_id: uuid.UUID, user_id: uuid.UUID, organisation_id: uuid.UUID) -> None:
    if not await Membership.exists().where(
        (Membership.user == user_id) & (Membership.organisation == organisation_id)
    ):
        raise NotFound("Organisation introuvable.")
    await AuthSession.update({AuthSession.active_organisation: organisation_id}).where(AuthSession.id == session_id)


# --- One-time account links ------------------------------------------------------


async def _issue_account_token(*, user_id: uuid.UUID, purpose: str, lifetime: dt.timedelta) -> str:
    token = new_token()
    await AccountToken(
        purpose=purpose, token_hash=token_hash(token), user=user_id, expires_at=utcnow() + lifetime
    ).save()
    return token


async def _consume_account_token(*, token: str, purpose: str) -> uuid.UUID:
    """Mark the token used, atomically: a link works once. Returns the user id."""
    row = (
        await AccountToken.select(AccountToken.id, AccountToken.user, AccountToken.expires_at, AccountToken.used)
        .where((AccountToken.token_hash == token_hash(token or "")) & (AccountToken.purpose == purpose))
        .first()
    )
    if row is None:
        raise Gone("Ce lien n'est pas valide. Vérifiez que vous l'avez copié en entier.")
    if row["used"]:
        raise Gone("Ce lien a déjà été utilisé.")
    if row["expires_at"] <= utcnow():
        raise Gone("Ce lien a expiré. Demandez-en un nouveau.")
    changed = (
        await AccountToken.update({AccountToken.used: True})
        .where((AccountToken.id == row["id"]) & (AccountToken.used == False))  # noqa: E712
        .returning(AccountToken.id)
    )
    if not changed:
        raise Gone("Ce lien a déjà été utilisé.")
    return row["user"]


async def _queue_verification(user: User) -> None:
    token = await _issue_account_token(
        user_id=user.id, purpose="verify_email", lifetime=dt.timedelta(hours=VERIFY_EMAIL_HOURS)
    )
    await enqueue(
        kind="verify_email",
        to=user.email,
        lang="fr",
        context={
            "user_name": user.name,
            "verify_url": f"{get_settings().base_url}/compte/verifier/{token}",
            "expires_hours": VERIFY_EMAIL_HOURS,
        },
    )


async def email_verification_resend(*, user_id: uuid.UUID) -> None:
    async with transaction():
        user = await User.objects().where(User.id == user_id).first()
        if user is None:
            raise NotFound("Compte introuvable.")
        if not user.email_verified:
            await _queue_verification(user)


async def email_verify(*, token: str) -> uuid.UUID:
    async with transaction():
        user_id = await _consume_account_token(token=token, purpose="verify_email")
        await User.update({User.email_verified: True}).where(User.id == user_id)
    return user_id


async def password_reset_request(*, email: str) -> None:
    """Queue a reset link if the account exists. Says nothing either way (no account enumeration)."""
    normalised = normalise_email(email)
    if normalised is None:
        return
    async with transaction():
        user = await User.objects().where((User.email == normalised) & (User.is_active == True)).first()  # noqa: E712
        if user is None:
            return
        token = await _issue_account_token(
            user_id=user.id, purpose="password_reset", lifetime=dt.timedelta(minutes=PASSWORD_RESET_MINUTES)
        )
        await enqueue(
            kind="password_reset",
            to=user.email,
            lang="fr",
            context={
                "reset_url": f"{get_settings().base_url}/compte/reinitialiser/{token}",
                "expires_minutes": PASSWORD_RESET_MINUTES,
            },
        )


async def password_reset(*, token: str, password: str) -> uuid.UUID:
    if problem := password_problem(password):
        raise ValidationFailed({"password": problem})
    password_hash = await hash_password(password)
    async with transaction():
        user_id = await _consume_account_token(token=token, purpose="password_reset")
        await User.update({User.password_hash: password_hash, User.email_verified: True}).where(User.id == user_id)
        # Whoever held a session with the old password loses it.
        await AuthSession.delete().where(AuthSession.user == user_id)
    return user_id


# --- Members -----------------------------------------------------------------------


async def member_invite(
    *, organisation_id: uuid.UUID, inviter_id: uuid.UUID, email: str, role: str
) -> uuid.UUID:
    normalised = normalise_email(email)
    errors = {}
    if normalised is None:
        errors["email"] = "Cette adresse e-mail n'est pas valide."
    if role not in ROLES:
        errors["role"] = "Choisissez un rôle dans la liste."
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        org = await Organisation.objects().where(Organisation.id == organisation_id).first()
        inviter = await User.objects().where(User.id == inviter_id).first()
        if org is None or inviter is None:
            raise NotFound("Organisation introuvable.")
        already = await Membership.exists().where(
            (Membership.organisation == organisation_id) & (Membership.user.email == normalised)
        )
        if already:
            raise ValidationFailed({"email": "Cette personne fait déjà partie de l'équipe."})
        token = new_token()
        invitation = MemberInvitation(
            organisation=organisation_id,
            email=normalised,
            role=role,
            invited_by=inviter_id,
            token_hash=token_hash(token),
            expires_at=utcnow() + dt.timedelta(days=MEMBER_INVITATION_DAYS),
        )
        await invitation.save()
        await enqueue(
            kind="member_invitation",
            to=normalised,
            lang="fr",
            organisation_id=organisation_id,
            context={
                "org_name": org.name,
                "inviter_name": inviter.name or inviter.email,
                "role_label": ROLES[role],
                "accept_url": f"{get_settings().base_url}/invitation/{token}",
                "expires_days": MEMBER_INVITATION_DAYS,
            },
        )
    return invitation.id


@dataclass(frozen=True)
class PendingInvitation:
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    email: str
    role: str
    has_account: bool


async def member_invitation_lookup(*, token: str) -> PendingInvitation:
    row = (
        await MemberInvitation.select(
            MemberInvitation.id,
            MemberInvitation.organisation,
            MemberInvitation.organisation.name,
            MemberInvitation.email,
            MemberInvitation.role,
            MemberInvitation.expires_at,
            MemberInvitation.accepted,
        )
        .where(MemberInvitation.token_hash == token_hash(token or ""))
        .first()
    )
    if row is None:
        raise Gone("Cette invitation n'est pas valide.")
    if row["accepted"]:
        raise Gone("Cette invitation a déjà été acceptée.")
    if row["expires_at"] <= utcnow():
        raise Gone("Cette invitation a expiré. Demandez à votre collègue de vous inviter de nouveau.")
    return PendingInvitation(
        id=row["id"],
        organisation_id=row["organisation"],
        organisation_name=row["organisation.name"],
        email=row["email"],
        role=row["role"],
        has_account=await User.exists().where(User.email == row["email"]),
    )


async def member_invitation_accept(
    *, token: str, user_id: uuid.UUID | None = None, name: str = "", password: str = ""
) -> uuid.UUID:
    """Accept as the logged-in user (same email), or create the account. Returns the user id."""
    invitation = await member_invitation_lookup(token=token)
    password_hash = None
    if user_id is None:
        errors = {}
        if not (name or "").strip():
            errors["name"] = "Indiquez votre nom."
        if problem := password_problem(password):
            errors["password"] = problem
        if invitation.has_account:
            errors["email"] = "Un compte existe déjà pour cette adresse : connectez-vous pour accepter l'invitation."
        if errors:
            raise ValidationFailed(errors)
        password_hash = await hash_password(password)
    async with transaction():
        claimed = (
            await MemberInvitation.update({MemberInvitation.accepted: True})
            .where((MemberInvitation.id == invitation.id) & (MemberInvitation.accepted == False))  # noqa: E712
            .returning(MemberInvitation.id)
        )
        if not claimed:
            raise Gone("Cette invitation a déjà été acceptée.")
        if user_id is None:
            # The invitation was sent to this address, so following its link verifies it.
            user = User(email=invitation.email, name=name.strip(), password_hash=password_hash, email_verified=True)
            await user.save()
            user_id = user.id
        else:
            email = await User.select(User.email).where(User.id == user_id).first()
            if email is None or email["email"] != invitation.email:
                raise Forbidden(
                    f"Cette invitation a été envoyée à {invitation.email}. Connectez-vous avec cette adresse pour l'accepter."
                )
        if not await Membership.exists().where(
            (Membership.user == user_id) & (Membership.organisation == invitation.organisation_id)
        ):
            await Membership(user=user_id, organisation=invitation.organisation_id, role=invitation.role).save()
    return user_id


async def member_set_role(*, organisation_id: uuid.UUID, membership_id: uuid.UUID, role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed({"role": "Choisissez un rôle dans la liste."})
    async with transaction():
        member = await Membership.objects().where(
            (Membership.id == membership_id) & (Membership.organisation == organisation_id)
        ).first()
        if member is None:
            raise NotFound("Membre introuvable.")
        if member.role == "admin" and role != "admin":
            await _ensure_another_admin(organisation_id, membership_id)
        member.role = role
        await member.save()


async def member_remove(*, organisation_id: uuid.UUID, membership_id: uuid.UUID) -> None:
    async with transaction():
        member = await Membership.objects().where(
            (Membership.id == membership_id) & (Membership.organisation == organisation_id)
        ).first()
        if member is None:
            raise NotFound("Membre introuvable.")
        if member.role == "admin":
            await _ensure_another_admin(organisation_id, membership_id)
        await member.remove()


async def _ensure_another_admin(organisation_id: uuid.UUID, membership_id: uuid.UUID) -> None:
    others = await Membership.count().where(
        (Membership.organisation == organisation_id)
        & (Membership.role == "admin")
        & (Membership.id != membership_id)
    )
    if others == 0:
        raise Conflict("L'organisation doit garder au moins un administrateur.")


async def create_admin(*, email: str, password: str, name: str, organisation: OrganisationInput) -> User:
    """CLI helper: create a verified admin account and its organisation."""
    user, _org = await signup(email=email, password=password, name=name, organisation=organisation)
    await User.update({User.email_verified: True}).where(User.id == user.id)
    return user
