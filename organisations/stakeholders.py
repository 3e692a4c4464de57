"""The stakeholder map (cartographie des parties prenantes) and its contacts: the business rules.

Groups sit on Mendelow's grid (influence × importance, 1–5 each) with optional
salience flags (power, legitimacy, urgency: Mitchell, Agle & Wood) and the
engagement level aimed at. Each group's weight for the analytics is derived from
its position (see ``derived_weight``) unless the organisation overrides it.

Contacts are personal data: they can be erased at any time (``contact_delete``),
are erased automatically ``settings.contact_retention_months`` after the last
campaign closes (``contacts_erase_expired``), and everything held about one
address can be exported (``stakeholder_queries.person_data``).

Every function takes keyword-only arguments, knows nothing of HTTP, and raises
the errors of ``api.errors`` with French messages.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from api.db import transaction
from api.errors import Conflict, Gone, NotFound, ValidationFailed
from api.settings import get_settings
from emails.tables import OutboxMessage
from organisations.categories import LANGUAGES, STAKEHOLDER_CATEGORIES
from organisations.contact_io import MAX_TEXT_LENGTH, ContactRow, ImportPreview, parse_contacts
from organisations.contact_io import _group_key as group_name_key  # the import matches group names with this key
from organisations.tables import Contact, ContactImport, StakeholderGroup
from organisations.validation import normalise_email

__all__ = [
    "CUSTOM_CATEGORY",
    "ENGAGEMENT_LEVELS",
    "QUADRANTS",
    "UPLOAD_MAX_BYTES",
    "ContactInput",
    "GroupInput",
    "add_months",
    "category_choices",
    "contact_create",
    "contact_delete",
    "contact_import_cancel",
    "contact_import_confirm",
    "contact_import_preview",
    "contact_update",
    "contacts_erase_expired",
    "derived_weight",
    "erase_expired_contacts",
    "group_create",
    "group_delete",
    "group_set_position",
    "group_update",
    "group_weight",
    "quadrant",
    "retention_deadline",
]

CUSTOM_CATEGORY = "autre"
SCALE = (1, 2, 3, 4, 5)
ENGAGEMENT_LEVELS: dict[str, str] = {
    "informer": "Informer",
    "consulter": "Consulter",
    "impliquer": "Impliquer",
    "collaborer": "Collaborer",
    "codecider": "Co-décider",
}
SALIENCE_FLAGS: dict[str, str] = {"power": "Pouvoir", "legitimacy": "Légitimité", "urgency": "Urgence"}
# Mendelow's quadrants; 3 (the middle of the scale) counts as high, as in analytics.charts.
QUADRANTS: dict[str, str] = {
    "gerer": "Gérer de près",
    "satisfaire": "Satisfaire",
    "informer": "Informer",
    "surveiller": "Surveiller",
}
GROUP_NAME_MAX = 120
UPLOAD_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
IMPORT_LIFETIME = dt.timedelta(hours=2)
# Emails the organisation sends to a contact (survey invitations and reminders):
# they carry the person's address and personal link, so they go when the contact goes.
CONTACT_EMAIL_KINDS = ("invitation", "reminder")
_CHUNK = 400  # rows per INSERT / IN (...) list: far below SQLite's bound-parameter limit


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- Position, weight, quadrant ------------------------------------------------------


def derived_weight(influence: int, importance: int) -> float:
    """(influence + importance) / 10: from 0.2 (1, 1) to 1.0 (5, 5).

    Additive so that no group is silenced: the lowest-placed group still weighs a
    fifth of a key player (a product, influence × importance / 25, would give it
    1/25). Symmetric: a powerful but little-concerned group weighs as much as a
    concerned but powerless one. The analytics only use ratios of weights.
    """
    return round((int(influence) + int(importance)) / 10, 4)


def _field(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def group_weight(row: Mapping[str, Any] | Any) -> float:
    """The weight of a group (a row mapping or a StakeholderGroup): its override, else the derived weight."""
    override = _field(row, "weight_override")
    if override is not None:
        # Stored as REAL (float4 on PostgreSQL): round away the representation noise.
        return round(float(override), 4)
    return derived_weight(_field(row, "influence"), _field(row, "importance"))


def quadrant(influence: int | float, importance: int | float) -> str:
    """Mendelow's quadrant key (see QUADRANTS) of a position."""
    high_influence, high_importance = influence >= 3, importance >= 3
    if high_influence:
        return "gerer" if high_importance else "satisfaire"
    return "informer" if high_importance else "surveiller"


def category_choices() -> list[tuple[str, str]]:
    """(key, label) of the standard categories, then the custom one."""
    return [(c.key, c.label_fr) for c in STAKEHOLDER_CATEGORIES.values()] + [
        (CUSTOM_CATEGORY, "Autre (groupe personnalisé)")
    ]


def category_display(key: str) -> str:
    category = STAKEHOLDER_CATEGORIES.get(key)
    return category.label_fr if category else "Autre"


# --- Groups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupInput:
    """A group as typed in a form (strings) or sent to the API (typed values)."""

    category: str
    name: str = ""
    influence: int | str | None = 3
    importance: int | str | None = 3
    power: bool = False
    legitimacy: bool = False
    urgency: bool = False
    engagement: str = "consulter"
    weight_override: float | str | None = None


def _scale(value: int | str | None) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number in SCALE else None


def _weight_override(value: float | str | None) -> tuple[float | None, bool]:
    """(value, ok). Accepts 0.5, "0,5", "0.5"; blank means no override."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, bool):
        return None, False
    try:
        number = float(value.strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except ValueError:
        return None, False
    if number != number or not 0 <= number <= 1:  # NaN or out of range
        return None, False
    return round(number, 2), True


async def _validate_group(
    data: GroupInput, *, organisation_id: uuid.UUID, group_id: uuid.UUID | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    errors: dict[str, str] = {}
    category = (data.category or "").strip()
    if category != CUSTOM_CATEGORY and category not in STAKEHOLDER_CATEGORIES:
        errors["category"] = "Choisissez une catégorie dans la liste, ou « Autre » pour un groupe personnalisé."
    name = " ".join((data.name or "").split())
    if not name and category in STAKEHOLDER_CATEGORIES:
        name = STAKEHOLDER_CATEGORIES[category].label_fr
    if not name:
        errors["name"] = "Indiquez le nom du groupe."
    elif len(name) > GROUP_NAME_MAX:
        errors["name"] = f"Le nom du groupe est trop long ({GROUP_NAME_MAX} caractères au plus)."
    influence = _scale(data.influence)
    if influence is None:
        errors["influence"] = "L'influence doit être un nombre entier de 1 (faible) à 5 (forte)."
    importance = _scale(data.importance)
    if importance is None:
        errors["importance"] = "L'importance doit être un nombre entier de 1 (faible) à 5 (forte)."
    engagement = (data.engagement or "").strip()
    if engagement not in ENGAGEMENT_LEVELS:
        errors["engagement"] = "Choisissez un niveau d'engagement : informer, consulter, impliquer, collaborer ou co-décider."
    weight_override, weight_ok = _weight_override(data.weight_override)
    if not weight_ok:
        errors["weight_override"] = "Le poids doit être un nombre de 0 à 1 (par exemple 0,5), ou rester vide pour le poids calculé."
    if name and "name" not in errors:
        others = StakeholderGroup.select(StakeholderGroup.id, StakeholderGroup.name).where(
            StakeholderGroup.organisation == organisation_id
        )
        key = group_name_key(name)
        for other in await others:
            if other["id"] != group_id and group_name_key(other["name"]) == key:
                errors["name"] = f"Un groupe s'appelle déjà « {other['name']} » : choisissez un autre nom."
                break
    cleaned = {
        "name": name,
        "category": category,
        "influence": influence,
        "importance": importance,
        "power": bool(data.power),
        "legitimacy": bool(data.legitimacy),
        "urgency": bool(data.urgency),
        "engagement": engagement,
        "weight_override": weight_override,
    }
    return errors, cleaned


async def group_create(*, organisation_id: uuid.UUID, data: GroupInput) -> uuid.UUID:
    async with transaction():
        errors, cleaned = await _validate_group(data, organisation_id=organisation_id)
        if errors:
            raise ValidationFailed(errors)
        group = StakeholderGroup(organisation=organisation_id, **cleaned)
        await group.save()
    return group.id


async def _group_in(organisation_id: uuid.UUID, group_id: uuid.UUID) -> StakeholderGroup:
    group = (
        await StakeholderGroup.objects()
        .where((StakeholderGroup.id == group_id) & (StakeholderGroup.organisation == organisation_id))
        .first()
    )
    if group is None:
        raise NotFound("Groupe de parties prenantes introuvable.")
    return group


async def group_update(*, organisation_id: uuid.UUID, group_id: uuid.UUID, data: GroupInput) -> None:
    async with transaction():
        group = await _group_in(organisation_id, group_id)
        errors, cleaned = await _validate_group(data, organisation_id=organisation_id, group_id=group_id)
        if errors:
            raise ValidationFailed(errors)
        for key, value in cleaned.items():
            setattr(group, key, value)
        await group.save()


async def group_set_position(
    *, organisation_id: uuid.UUID, group_id: uuid.UUID, influence: int | str | None, importance: int | str | None
) -> None:
    """Move a group on the map (the per-group form of the map page)."""
    errors: dict[str, str] = {}
    new_influence, new_importance = _scale(influence), _scale(importance)
    if new_influence is None:
        errors["influence"] = "L'influence doit être un nombre entier de 1 (faible) à 5 (forte)."
    if new_importance is None:
        errors["importance"] = "L'importance doit être un nombre entier de 1 (faible) à 5 (forte)."
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        await _group_in(organisation_id, group_id)
        await StakeholderGroup.update(
            {StakeholderGroup.influence: new_influence, StakeholderGroup.importance: new_importance}
        ).where((StakeholderGroup.id == group_id) & (StakeholderGroup.organisation == organisation_id))


async def group_delete(*, organisation_id: uuid.UUID, group_id: uuid.UUID, delete_contacts: bool = False) -> int:
    """Delete a group. A group with contacts is refused unless ``delete_contacts``:
    then its contacts are erased with it, in one transaction. Returns the number of contacts erased."""
    async with transaction():
        group = await _group_in(organisation_id, group_id)
        contacts = await Contact.select(Contact.id, Contact.email).where(
            (Contact.group == group_id) & (Contact.organisation == organisation_id)
        )
        if contacts and not delete_contacts:
            count = len(contacts)
            plural = "s" if count > 1 else ""
            raise Conflict(
                f"Le groupe « {group.name} » contient encore {count} contact{plural} : déplacez-les dans "
                "un autre groupe, ou cochez « Supprimer aussi ses contacts » pour les effacer avec le groupe.",
                errors={"delete_contacts": f"Le groupe contient {count} contact{plural}."},
            )
        await _erase_contacts(organisation_id, contacts)
        await StakeholderGroup.delete().where(
            (StakeholderGroup.id == group_id) & (StakeholderGroup.organisation == organisation_id)
        )
    return len(contacts)


# --- Contacts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactInput:
    email: str
    group_id: uuid.UUID | str | None
    name: str = ""
    organisation_name: str = ""
    language: str = "fr"


async def _validate_contact(
    data: ContactInput, *, organisation_id: uuid.UUID, contact_id: uuid.UUID | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    errors: dict[str, str] = {}
    email = normalise_email(data.email or "")
    if not (data.email or "").strip():
        errors["email"] = "Indiquez l'adresse e-mail du contact."
    elif email is None or len(email) > 254:
        errors["email"] = "Cette adresse e-mail n'est pas valide (exemple : prenom.nom@exemple.fr)."
    name = " ".join((data.name or "").split())
    if len(name) > MAX_TEXT_LENGTH:
        errors["name"] = f"Le nom est trop long ({MAX_TEXT_LENGTH} caractères au plus)."
    organisation_name = " ".join((data.organisation_name or "").split())
    if len(organisation_name) > MAX_TEXT_LENGTH:
        errors["organisation_name"] = f"Le nom de l'organisation est trop long ({MAX_TEXT_LENGTH} caractères au plus)."
    language = (data.language or "").strip().lower()
    if language not in LANGUAGES:
        errors["language"] = "Choisissez la langue du contact : français ou anglais."
    group_id: uuid.UUID | None = None
    try:
        group_id = data.group_id if isinstance(data.group_id, uuid.UUID) else uuid.UUID(str(data.group_id or "").strip())
    except ValueError:
        group_id = None
    if group_id is None or not await StakeholderGroup.exists().where(
        (StakeholderGroup.id == group_id) & (StakeholderGroup.organisation == organisation_id)
    ):
        errors["group_id"] = "Choisissez le groupe de parties prenantes du contact."
    if email and "email" not in errors:
        duplicate = Contact.exists().where((Contact.organisation == organisation_id) & (Contact.email == email))
        if contact_id is not None:
            duplicate = duplicate.where(Contact.id != contact_id)
        if await duplicate:
            errors["email"] = f"« {email} » fait déjà partie des contacts de l'organisation."
    cleaned = {
        "email": email,
        "name": name,
        "organisation_name": organisation_name,
        "language": language,
        "group": group_id,
    }
    return errors, cleaned


async def contact_create(*, organisation_id: uuid.UUID, data: ContactInput) -> uuid.UUID:
    async with transaction():
        errors, cleaned = await _validate_contact(data, organisation_id=organisation_id)
        if errors:
            raise ValidationFailed(errors)
        contact = Contact(organisation=organisation_id, **cleaned)
        await contact.save()
    return contact.id


async def _contact_in(organisation_id: uuid.UUID, contact_id: uuid.UUID) -> Contact:
    contact = (
        await Contact.objects().where((Contact.id == contact_id) & (Contact.organisation == organisation_id)).first()
    )
    if contact is None:
        raise NotFound("Contact introuvable.")
    return contact


async def contact_update(*, organisation_id: uuid.UUID, contact_id: uuid.UUID, data: ContactInput) -> None:
    async with transaction():
        contact = await _contact_in(organisation_id, contact_id)
        errors, cleaned = await _validate_contact(data, organisation_id=organisation_id, contact_id=contact_id)
        if errors:
            raise ValidationFailed(errors)
        for key, value in cleaned.items():
            setattr(contact, key, value)
        await contact.save()


async def contact_delete(*, organisation_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    """Erase a contact (RGPD, at any time): the row, and the survey emails addressed to it.

    Invitations keep no trace of the person: their ``contact`` becomes NULL (ON DELETE SET NULL).
    """
    async with transaction():
        contact = await _contact_in(organisation_id, contact_id)
        await _erase_contacts(organisation_id, [{"id": contact.id, "email": contact.email}])


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _erase_contacts(organisation_id: uuid.UUID, contacts: list[dict]) -> None:
    """Delete contacts (rows with ``id`` and ``email``) and the survey emails sent to them. Call inside a transaction."""
    for chunk in _chunks(contacts):
        await Contact.delete().where(
            (Contact.organisation == organisation_id) & Contact.id.is_in([c["id"] for c in chunk])
        )
        await OutboxMessage.delete().where(
            (OutboxMessage.organisation == organisation_id)
            & OutboxMessage.kind.is_in(list(CONTACT_EMAIL_KINDS))
            & OutboxMessage.to_address.is_in([c["email"] for c in chunk])
        )


# --- Import: preview, then confirm ------------------------------------------------------


async def contact_import_preview(
    *, organisation_id: uuid.UUID, user_id: uuid.UUID | None, data: bytes, filename: str
) -> tuple[uuid.UUID, ImportPreview]:
    """Parse an uploaded file and keep the result server-side. Writes no contact.

    Returns the preview's id (a random UUID, the key of the confirm step) and the preview.
    """
    if not data:
        raise ValidationFailed({"file": "Choisissez un fichier CSV ou XLSX à importer."})
    if len(data) > UPLOAD_MAX_BYTES:
        raise ValidationFailed(
            {"file": f"Le fichier dépasse {UPLOAD_MAX_BYTES // (1024 * 1024)} Mo. Découpez-le en plusieurs fichiers."}
        )
    groups = await StakeholderGroup.select(StakeholderGroup.id, StakeholderGroup.name).where(
        StakeholderGroup.organisation == organisation_id
    )
    existing = await Contact.select(Contact.email).where(Contact.organisation == organisation_id)
    preview = await asyncio.to_thread(  # CPU-bound (up to 5 000 rows): keep the event loop free
        parse_contacts,
        data,
        filename=filename or "",
        groups={g["name"]: str(g["id"]) for g in groups},
        existing_emails=frozenset(r["email"] for r in existing),
        max_rows=IMPORT_MAX_ROWS,
    )
    now = utcnow()
    async with transaction():
        await ContactImport.delete().where(ContactImport.expires_at < now)
        stored = ContactImport(
            organisation=organisation_id,
            created_by=user_id,
            filename=(filename or "")[-255:],
            preview=msgspec.json.encode(preview).decode(),
            expires_at=now + IMPORT_LIFETIME,
        )
        await stored.save()
    return stored.id, preview


def decode_preview(text: str) -> ImportPreview:
    return msgspec.json.decode(text, type=ImportPreview)


async def contact_import_confirm(*, organisation_id: uuid.UUID, import_id: uuid.UUID) -> int:
    """Write every row of a clean preview, in one transaction, after checking them again.

    Refused (nothing written) when the preview had errors, has expired, or when the
    organisation changed since (a group deleted, an address added meanwhile).
    Returns the number of contacts created.
    """
    async with transaction():
        stored = (
            await ContactImport.select(ContactImport.id, ContactImport.preview, ContactImport.expires_at)
            .where((ContactImport.id == import_id) & (ContactImport.organisation == organisation_id))
            .first()
        )
        if stored is None or stored["expires_at"] <= utcnow():
            raise Gone("Cet aperçu d'import n'existe plus (déjà importé, annulé ou expiré). Déposez le fichier de nouveau.")
        preview = decode_preview(stored["preview"])
        if not preview.ok:
            raise ValidationFailed(
                {"file": "Le fichier contient des erreurs : corrigez-les puis déposez-le de nouveau."},
                message="Import refusé : le fichier contient des erreurs. Aucun contact n'a été importé.",
            )
        rows = preview.rows_to_import()
        problems = await _recheck_rows(organisation_id, rows)
        if problems:
            raise ValidationFailed(
                {f"ligne-{i}": p for i, p in enumerate(problems[:20], start=1)},
                message="Les contacts ou les groupes ont changé depuis l'aperçu : aucun contact n'a été importé. "
                "Déposez le fichier de nouveau.",
            )
        claimed = (
            await ContactImport.delete()
            .where((ContactImport.id == import_id) & (ContactImport.organisation == organisation_id))
            .returning(ContactImport.id)
        )
        if not claimed:
            raise Gone("Cet aperçu d'import a déjà été importé.")
        await _insert_contacts(organisation_id, rows)
    return len(rows)


async def _recheck_rows(organisation_id: uuid.UUID, rows: list[ContactRow]) -> list[str]:
    """The stored rows, validated again against the organisation as it is now."""
    group_ids = {
        str(r["id"])
        for r in await StakeholderGroup.select(StakeholderGroup.id).where(StakeholderGroup.organisation == organisation_id)
    }
    existing = {r["email"] for r in await Contact.select(Contact.email).where(Contact.organisation == organisation_id)}
    problems: list[str] = []
    seen: set[str] = set()
    for row in rows:
        if normalise_email(row.email) != row.email:
            problems.append(f"Ligne {row.line} : l'adresse e-mail « {row.email} » n'est pas valide.")
        elif row.email in existing:
            problems.append(f"Ligne {row.line} : « {row.email} » a été ajouté aux contacts depuis l'aperçu.")
        elif row.email in seen:
            problems.append(f"Ligne {row.line} : l'adresse « {row.email} » apparaît deux fois.")
        seen.add(row.email)
        if row.group_id not in group_ids:
            problems.append(f"Ligne {row.line} : le groupe « {row.group_name} » n'existe plus.")
        if row.language not in LANGUAGES or len(row.name) > MAX_TEXT_LENGTH or len(row.organisation) > MAX_TEXT_LENGTH:
            problems.append(f"Ligne {row.line} : la ligne n'est plus valide.")
    return problems


async def _insert_contacts(organisation_id: uuid.UUID, rows: Iterable[ContactRow]) -> None:
    contacts = [
        Contact(
            organisation=organisation_id,
            group=uuid.UUID(row.group_id),
            email=row.email,
            name=row.name,
            organisation_name=row.organisation,
            language=row.language,
        )
        for row in rows
    ]
    for chunk in _chunks(contacts, 100):
        await Contact.insert(*chunk)


async def contact_import_cancel(*, organisation_id: uuid.UUID, import_id: uuid.UUID) -> None:
    await ContactImport.delete().where(
        (ContactImport.id == import_id) & (ContactImport.organisation == organisation_id)
    )


# --- Retention: contacts' emails are erased a while after the last campaign closes -----------


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (the last day of the month when it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def retention_deadline(last_campaign_closed_at: dt.datetime, months: int | None = None) -> dt.datetime:
    """When the contacts of a campaign closed at ``last_campaign_closed_at`` must be gone."""
    if last_campaign_closed_at.tzinfo is None:
        raise ValueError("last_campaign_closed_at must be timezone-aware")
    return add_months(last_campaign_closed_at, get_settings().contact_retention_months if months is None else months)


async def contacts_erase_expired(
    *,
    organisation_id: uuid.UUID,
    last_campaign_closed_at: dt.datetime | None,
    now: dt.datetime | None = None,
    retention_months: int | None = None,
) -> int:
    """Erase the organisation's contacts once the retention period after its last campaign is over.

    ``last_campaign_closed_at`` is when the organisation's most recent campaign closed;
    pass None while a campaign is open or when there has never been one (nothing is erased).
    Contacts added after that close are kept: they are waiting for the next campaign.
    Returns the number of contacts erased.
    """
    if last_campaign_closed_at is None:
        return 0
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if now < retention_deadline(last_campaign_closed_at, retention_months):
        return 0
    async with transaction():
        expired = await Contact.select(Contact.id, Contact.email).where(
            (Contact.organisation == organisation_id) & (Contact.created_at < last_campaign_closed_at)
        )
        await _erase_contacts(organisation_id, expired)
    return len(expired)


LastClosed = Mapping[uuid.UUID, dt.datetime | None]


async def erase_expired_contacts(
    *,
    last_closed_at_by_org: LastClosed | Callable[[], Awaitable[LastClosed]] | None = None,
    now: dt.datetime | None = None,
) -> dict[uuid.UUID, int]:
    """Apply the retention rule to every organisation (for a daily CLI / scheduled job).

    ``last_closed_at_by_org`` maps organisation ids to the close date of their last
    campaign (None: a campaign is open, or none ever ran). By default it is read from the
    campaigns (``stakeholder_queries.last_campaign_closed_at_by_org``). Returns the
    number of contacts erased per organisation (only organisations where some were).
    """
    if last_closed_at_by_org is None:
        from organisations.stakeholder_queries import last_campaign_closed_at_by_org

        last_closed_at_by_org = last_campaign_closed_at_by_org
    closes = await last_closed_at_by_org() if callable(last_closed_at_by_org) else last_closed_at_by_org
    erased: dict[uuid.UUID, int] = {}
    for organisation_id, closed_at in closes.items():
        count = await contacts_erase_expired(organisation_id=organisation_id, last_campaign_closed_at=closed_at, now=now)
        if count:
            erased[organisation_id] = count
    return erased
