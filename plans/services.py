"""Action plan rules: actions and indicators, reviews, reminders, the yearly cycle, the next cycle, the logo.

Keyword-only functions, no HTTP. Every function takes the organisation and only
touches rows of that organisation. Errors are `api.errors` with French messages;
field errors are keyed by the form field's name.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from api.db import transaction
from api.errors import Conflict, NotFound, ValidationFailed
from consultations.tables import Campaign, CampaignGroup
from organisations.tables import Contact, Membership, Organisation, StakeholderGroup, User
from plans.tables import Action, Cycle, Indicator, IndicatorValue, Logo, PlanSettings, Review, ReviewEntry
from surveys.referentiel import available_referentiels, get_referentiel
from surveys.tables import CustomPractice, Diagnosis

PARIS = ZoneInfo("Europe/Paris")

STATUSES: dict[str, str] = {"a_lancer": "À lancer", "en_cours": "En cours", "realisee": "Réalisée", "abandonnee": "Abandonnée"}
ACTIVE = ("a_lancer", "en_cours")
FINISHED = ("realisee", "abandonnee")
MAX_TEXT = 4000
MAX_LONG_TEXT = 8000
MAX_INDICATORS = 10
MAX_GROUPS = 30
DEFAULT_REVIEW_MONTHS = 12
REMINDER_INTERVAL = dt.timedelta(hours=24)

LOGO_MAX_BYTES = 5 * 1024 * 1024
LOGO_MAX_SIDE = 600
LOGO_MAX_PIXELS = 40_000_000


def today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- Parsing helpers (French input) -------------------------------------------------------


def parse_number(raw: str | float | int | None) -> float | None:
    """A number as a French person types it: "1 234,5", "12.5", "-3". Empty → None; bad → ValueError."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError("not a number")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = re.sub(r"[\s\u00a0\u202f']", "", str(raw))
        if text == "":
            return None
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            raise ValueError(f"not a number: {raw!r}")
        value = float(text)
    if math.isnan(value) or math.isinf(value) or abs(value) > 1e12:
        raise ValueError("out of range")
    return value


def parse_date(raw: str | dt.date | None) -> dt.date | None:
    """ISO (2026-06-30, as date inputs send it) or French (30/06/2026). Empty → None; bad → ValueError."""
    if raw is None or isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text)


def parse_uuid(raw: str | uuid.UUID | None) -> uuid.UUID | None:
    if raw is None or isinstance(raw, uuid.UUID):
        return raw
    text = str(raw).strip()
    return uuid.UUID(text) if text else None


def _text(value: str | None, name: str, errors: dict, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        errors[name] = f"Ce texte est trop long ({limit:,} caractères au plus).".replace(",", "\u202f")
    return text


# --- Practices and themes -------------------------------------------------------------------


def theme_keys() -> list[str]:
    return [t.key for t in get_referentiel("complet").themes]


def theme_title(key: str) -> str:
    try:
        return get_referentiel("complet").theme(key).title.fr
    except KeyError:
        return key


def referentiel_practice(key: str):
    """The practice with this key in any shipped référentiel (the most complete first), or None."""
    for ref in sorted(available_referentiels(), key=lambda r: (r.key != "complet", r.key)):
        try:
            return ref.practice(key)
        except KeyError:
            continue
    return None


async def practice_labels(*, organisation_id: uuid.UUID, keys: list[str]) -> dict[str, str]:
    """Labels (the organisation's wording) of référentiel and custom practices."""
    labels: dict[str, str] = {}
    customs = [k for k in keys if k.startswith("org.")]
    if customs:
        rows = await CustomPractice.select(CustomPractice.key, CustomPractice.org_statement).where(
            (CustomPractice.organisation == organisation_id) & CustomPractice.key.is_in(customs)
        )
        labels.update({r["key"]: r["org_statement"] for r in rows})
    for key in keys:
        if key not in labels:
            practice = referentiel_practice(key)
            labels[key] = practice.org_statement.fr if practice else key
    return labels


# --- Actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorInput:
    name: str = ""
    unit: str = ""
    baseline: str | float | None = None
    target: str | float | None = None
    current_value: str | float | None = None
    current_on: str | dt.date | None = None
    id: str | uuid.UUID | None = None
    delete: bool = False

    def is_blank(self) -> bool:
        return not any(
            str(v).strip() for v in (self.name, self.unit, self.baseline, self.target, self.current_value, self.current_on) if v is not None
        )


@dataclass(frozen=True)
class ActionInput:
    title: str
    description: str = ""
    practice_keys: tuple[str, ...] = ()
    theme_key: str = ""
    finding: str = ""
    objective_1y: str = ""
    objective_3y: str = ""
    owner_id: str | uuid.UUID | None = None
    due_on: str | dt.date | None = None
    status: str = "a_lancer"
    abandon_reason: str = ""
    groups: tuple[str, ...] = ()
    source_campaign_id: str | uuid.UUID | None = None
    source_diagnosis_id: str | uuid.UUID | None = None
    indicators: tuple[IndicatorInput, ...] = ()


async def is_member(*, organisation_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return await Membership.exists().where((Membership.organisation == organisation_id) & (Membership.user == user_id))


def _clean_indicators(indicators: tuple[IndicatorInput, ...], errors: dict) -> list[dict]:
    cleaned = []
    for index, ind in enumerate(indicators):
        if ind.delete:
            if ind.id:
                cleaned.append({"id": parse_uuid(ind.id), "delete": True})
            continue
        if ind.is_blank() and not ind.id:
            continue
        row: dict = {"position": index}
        try:
            row["id"] = parse_uuid(ind.id)
        except ValueError:
            errors[f"ind_name__{index}"] = "Indicateur inconnu."
            continue
        name = (ind.name or "").strip()
        if not name:
            errors[f"ind_name__{index}"] = "Donnez un nom à l'indicateur (par exemple « Taux de participation à l'AG »)."
        elif len(name) > 200:
            errors[f"ind_name__{index}"] = "Le nom de l'indicateur est trop long (200 caractères au plus)."
        unit = (ind.unit or "").strip()
        if len(unit) > 40:
            errors[f"ind_unit__{index}"] = "L'unité est trop longue (40 caractères au plus)."
        row.update(name=name, unit=unit)
        for field_name in ("baseline", "target", "current_value"):
            try:
                row[field_name] = parse_number(getattr(ind, field_name))
            except ValueError:
                errors[f"ind_{field_name}__{index}"] = "Indiquez un nombre (par exemple 12 ou 12,5)."
        try:
            row["current_on"] = parse_date(ind.current_on)
        except ValueError:
            errors[f"ind_current_on__{index}"] = "Indiquez une date valide (jour/mois/année)."
        else:
            if row["current_on"] and row["current_on"] > today():
                errors[f"ind_current_on__{index}"] = "La date de la valeur actuelle ne peut pas être dans le futur."
        if row.get("current_value") is not None and row.get("current_on") is None:
            row["current_on"] = today()
        cleaned.append(row)
    if len([c for c in cleaned if not c.get("delete")]) > MAX_INDICATORS:
        errors["indicators"] = f"{MAX_INDICATORS} indicateurs au plus par action."
    return cleaned


async def _validate_action(organisation_id: uuid.UUID, data: ActionInput, existing: dict | None = None) -> tuple[dict, list[dict]]:
    errors: dict[str, str] = {}
    title = (data.title or "").strip()
    if not title:
        errors["title"] = "Donnez un titre à l'action."
    elif len(title) > 200:
        errors["title"] = "Le titre est trop long (200 caractères au plus)."
    values: dict = {"title": title}
    for name in ("description", "finding", "objective_1y", "objective_3y"):
        values[name] = _text(getattr(data, name), name, errors)

    keys = [k.strip() for k in data.practice_keys if k and k.strip()]
    keys = list(dict.fromkeys(keys))
    customs = {
        r["key"]: r["theme"]
        for r in await CustomPractice.select(CustomPractice.key, CustomPractice.theme).where(CustomPractice.organisation == organisation_id)
    }
    practice_themes: list[str] = []
    for key in keys:
        if key in customs:
            practice_themes.append(customs[key])
            continue
        practice = referentiel_practice(key)
        if practice is None and key not in ((existing or {}).get("practice_keys") or []):
            errors["practice_keys"] = "Une des pratiques choisies n'existe pas dans le référentiel."
        elif practice is not None:
            practice_themes.append(practice.theme)
    values["practice_keys"] = keys
    theme = (data.theme_key or "").strip()
    if theme and theme not in theme_keys():
        errors["theme_key"] = "Choisissez un thème dans la liste."
    if not theme and practice_themes:
        theme = practice_themes[0]
    values["theme_key"] = theme

    try:
        owner_id = parse_uuid(data.owner_id)
    except ValueError:
        owner_id = None
        errors["owner_id"] = "Le responsable doit être un membre de l'équipe."
    if owner_id and not await is_member(organisation_id=organisation_id, user_id=owner_id):
        errors["owner_id"] = "Le responsable doit être un membre de l'équipe."
    values["owner"] = owner_id

    try:
        values["due_on"] = parse_date(data.due_on)
    except ValueError:
        errors["due_on"] = "Indiquez une date valide (jour/mois/année)."

    status = (data.status or "a_lancer").strip()
    if status not in STATUSES:
        errors["status"] = "Choisissez un statut : à lancer, en cours, réalisée ou abandonnée."
    values["status"] = status
    reason = _text(data.abandon_reason, "abandon_reason", errors)
    if status == "abandonnee" and not reason:
        errors["abandon_reason"] = "Indiquez pourquoi l'action est abandonnée."
    values["abandon_reason"] = reason if status == "abandonnee" else ""

    names = list(dict.fromkeys(n.strip() for n in data.groups if n and n.strip()))
    if names:
        known = {g["name"] for g in await StakeholderGroup.select(StakeholderGroup.name).where(StakeholderGroup.organisation == organisation_id)}
        known |= set((existing or {}).get("groups") or [])
        unknown = [n for n in names if n not in known]
        if unknown:
            errors["groups"] = f"Groupe de parties prenantes inconnu : {', '.join(unknown)}."
        if len(names) > MAX_GROUPS:
            errors["groups"] = f"{MAX_GROUPS} groupes au plus."
    values["groups"] = names

    try:
        campaign_id = parse_uuid(data.source_campaign_id)
    except ValueError:
        campaign_id = None
        errors["source_campaign_id"] = "Consultation introuvable."
    if campaign_id and not await Campaign.exists().where((Campaign.id == campaign_id) & (Campaign.organisation == organisation_id)):
        errors["source_campaign_id"] = "Consultation introuvable."
    values["source_campaign"] = campaign_id
    try:
        diagnosis_id = parse_uuid(data.source_diagnosis_id)
    except ValueError:
        diagnosis_id = None
        errors["source_diagnosis_id"] = "Diagnostic introuvable."
    if diagnosis_id and not await Diagnosis.exists().where((Diagnosis.id == diagnosis_id) & (Diagnosis.organisation == organisation_id)):
        errors["source_diagnosis_id"] = "Diagnostic introuvable."
    values["source_diagnosis"] = diagnosis_id

    indicators = _clean_indicators(tuple(data.indicators), errors)
    if errors:
        raise ValidationFailed(errors)
    return values, indicators


def _status_dates(values: dict, previous_status: str | None, previous_done_on: dt.date | None) -> None:
    if values["status"] in FINISHED:
        values["done_on"] = previous_done_on if previous_status == values["status"] and previous_done_on else today()
    else:
        values["done_on"] = None


async def _save_indicators(action_id: uuid.UUID, indicators: list[dict]) -> None:
    existing = {
        r["id"]: r for r in await Indicator.select().where(Indicator.action == action_id)
    }
    for row in indicators:
        ind_id = row.get("id")
        if ind_id and ind_id not in existing:
            raise ValidationFailed({"indicators": "Un des indicateurs n'appartient pas à cette action."})
        if row.get("delete"):
            await Indicator.delete().where((Indicator.id == ind_id) & (Indicator.action == action_id))
            continue
        fields_ = {k: row[k] for k in ("name", "unit", "baseline", "target", "current_value", "current_on", "position")}
        if ind_id:
            before = existing[ind_id]
            await Indicator.update(fields_).where((Indicator.id == ind_id) & (Indicator.action == action_id))
        else:
            indicator = Indicator(action=action_id, **fields_)
            await indicator.save()
            ind_id, before = indicator.id, {"current_value": None, "current_on": None}
        changed = row["current_value"] is not None and (
            row["current_value"] != before["current_value"] or row["current_on"] != before["current_on"]
        )
        if changed:
            # A value typed on the action's form enters the history too (timeline).
            await IndicatorValue(indicator=ind_id, review=None, value=row["current_value"], measured_on=row["current_on"]).save()


async def action_create(*, organisation_id: uuid.UUID, user_id: uuid.UUID | None, data: ActionInput) -> uuid.UUID:
    values, indicators = await _validate_action(organisation_id, data)
    _status_dates(values, None, None)
    async with transaction():
        action = Action(organisation=organisation_id, created_by=user_id, **values)
        await action.save()
        await _save_indicators(action.id, indicators)
    return action.id


async def _action_row(organisation_id: uuid.UUID, action_id: uuid.UUID) -> dict:
    row = await Action.select().where((Action.id == action_id) & (Action.organisation == organisation_id)).output(load_json=True).first()
    if row is None:
        raise NotFound("Action introuvable.")
    return row


async def action_update(*, organisation_id: uuid.UUID, action_id: uuid.UUID, data: ActionInput) -> None:
    existing = await _action_row(organisation_id, action_id)
    values, indicators = await _validate_action(organisation_id, data, existing)
    _status_dates(values, existing["status"], existing["done_on"])
    values["updated_at"] = utcnow()
    async with transaction():
        await Action.update(values).where((Action.id == action_id) & (Action.organisation == organisation_id))
        await _save_indicators(action_id, indicators)


async def action_delete(*, organisation_id: uuid.UUID, action_id: uuid.UUID) -> None:
    deleted = await Action.delete().where((Action.id == action_id) & (Action.organisation == organisation_id)).returning(Action.id)
    if not deleted:
        raise NotFound("Action introuvable.")


async def action_remind(*, organisation_id: uuid.UUID, action_id: uuid.UUID, action_url: str, now: dt.datetime | None = None) -> str:
    """Queue an `action_reminder` email to the action's owner (at most one a day). Returns the address."""
    from babel.dates import format_date

    from emails.outbox import enqueue

    now = now or utcnow()
    async with transaction():
        action = await _action_row(organisation_id, action_id)
        if action["status"] in FINISHED:
            raise Conflict("Cette action est terminée : pas de rappel à envoyer.")
        if action["owner"] is None:
            raise Conflict("Cette action n'a pas de responsable : choisissez-en un avant d'envoyer un rappel.")
        owner = await User.select(User.email, User.is_active).where(User.id == action["owner"]).first()
        if owner is None or not owner["is_active"] or not await is_member(organisation_id=organisation_id, user_id=action["owner"]):
            raise Conflict("Le responsable de cette action ne fait plus partie de l'équipe.")
        if action["reminded_at"] is not None and now - action["reminded_at"] < REMINDER_INTERVAL:
            raise Conflict("Un rappel a déjà été envoyé à ce responsable il y a moins de 24 heures.")
        org = await Organisation.select(Organisation.name).where(Organisation.id == organisation_id).first()
        due = format_date(action["due_on"], format="long", locale="fr_FR") if action["due_on"] else "date non fixée"
        await enqueue(
            kind="action_reminder",
            to=owner["email"],
            lang="fr",
            context={"org_name": org["name"], "action_title": action["title"], "due_on": due, "action_url": action_url},
            organisation_id=organisation_id,
        )
        await Action.update({Action.reminded_at: now}).where(Action.id == action_id)
    return owner["email"]


# --- Reviews -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewItemInput:
    action_id: str | uuid.UUID
    status: str | None = None  # None or "": unchanged
    reason: str = ""
    note: str = ""
    values: dict = field(default_factory=dict)  # indicator id → value (str or number; empty: not measured)


@dataclass(frozen=True)
class ReviewInput:
    held_on: str | dt.date | None = None
    notes: str = ""
    items: tuple[ReviewItemInput, ...] = ()


async def review_record(*, organisation_id: uuid.UUID, user_id: uuid.UUID | None, data: ReviewInput) -> uuid.UUID:
    """Record a review: indicator values, status changes and notes, all in one transaction."""
    errors: dict[str, str] = {}
    try:
        held_on = parse_date(data.held_on) or today()
    except ValueError:
        held_on = today()
        errors["held_on"] = "Indiquez une date valide (jour/mois/année)."
    if held_on > today():
        errors["held_on"] = "La date de la revue ne peut pas être dans le futur."
    notes = _text(data.notes, "notes", errors, MAX_LONG_TEXT)

    async with transaction():
        actions = {
            r["id"]: r
            for r in await Action.select(Action.id, Action.status, Action.abandon_reason, Action.done_on).where(Action.organisation == organisation_id)
        }
        indicators = {}
        if actions:
            indicators = {
                r["id"]: r for r in await Indicator.select().where(Indicator.action.is_in(list(actions)))
            }
        planned = []
        for item in data.items:
            try:
                action_id = parse_uuid(item.action_id)
            except ValueError:
                action_id = None
            if action_id not in actions:
                errors["items"] = "Une des actions de la revue n'existe pas."
                continue
            action = actions[action_id]
            status = (item.status or "").strip() or action["status"]
            if status not in STATUSES:
                errors[f"status__{action_id}"] = "Choisissez un statut : à lancer, en cours, réalisée ou abandonnée."
                continue
            reason = _text(item.reason, f"reason__{action_id}", errors)
            if status == "abandonnee" and status != action["status"] and not reason:
                errors[f"reason__{action_id}"] = "Indiquez pourquoi l'action est abandonnée."
            note = _text(item.note, f"note__{action_id}", errors)
            measured = []
            for raw_id, raw_value in (item.values or {}).items():
                try:
                    ind_id = parse_uuid(raw_id)
                except ValueError:
                    ind_id = None
                if ind_id not in indicators or indicators[ind_id]["action"] != action_id:
                    errors["items"] = "Un des indicateurs n'appartient pas à son action."
                    continue
                try:
                    value = parse_number(raw_value)
                except ValueError:
                    errors[f"value__{ind_id}"] = "Indiquez un nombre (par exemple 12 ou 12,5)."
                    continue
                if value is not None:
                    measured.append((ind_id, value))
            if status == action["status"] and not note and not measured and not reason:
                continue  # nothing said about this action
            planned.append((action, status, reason, note, measured))
        if not planned and not notes and not errors:
            errors["notes"] = "La revue est vide : notez au moins une évolution, une valeur d'indicateur ou une remarque."
        if errors:
            raise ValidationFailed(errors)

        review = Review(organisation=organisation_id, held_on=held_on, notes=notes, created_by=user_id)
        await review.save()
        now = utcnow()
        for action, status, reason, note, measured in planned:
            await ReviewEntry(
                review=review.id, action=action["id"], status_before=action["status"], status_after=status, reason=reason, note=note
            ).save()
            if status != action["status"]:
                changes = {
                    Action.status: status,
                    Action.updated_at: now,
                    Action.done_on: held_on if status in FINISHED else None,
                    Action.abandon_reason: reason if status == "abandonnee" else "",
                }
                await Action.update(changes).where((Action.id == action["id"]) & (Action.organisation == organisation_id))
            for ind_id, value in measured:
                await IndicatorValue(indicator=ind_id, review=review.id, value=value, measured_on=held_on).save()
                current_on = indicators[ind_id]["current_on"]
                if current_on is None or held_on >= current_on:
                    await Indicator.update({Indicator.current_value: value, Indicator.current_on: held_on}).where(Indicator.id == ind_id)
    return review.id


async def review_delete(*, organisation_id: uuid.UUID, review_id: uuid.UUID) -> None:
    """Delete a review record (its values go too; statuses already changed stay as they are)."""
    deleted = await Review.delete().where((Review.id == review_id) & (Review.organisation == organisation_id)).returning(Review.id)
    if not deleted:
        raise NotFound("Revue introuvable.")


# --- Settings and the yearly cycle -----------------------------------------------------------------


async def review_months(*, organisation_id: uuid.UUID) -> int:
    row = await PlanSettings.select(PlanSettings.review_months).where(PlanSettings.organisation == organisation_id).first()
    return row["review_months"] if row else DEFAULT_REVIEW_MONTHS


async def review_months_set(*, organisation_id: uuid.UUID, months: str | int) -> int:
    try:
        value = int(str(months).strip())
    except ValueError:
        value = 0
    if not 1 <= value <= 36:
        raise ValidationFailed({"review_months": "La fréquence des revues va de 1 à 36 mois (12 : une revue par an)."})
    async with transaction():
        updated = await PlanSettings.update({PlanSettings.review_months: value}).where(PlanSettings.organisation == organisation_id).returning(PlanSettings.id)
        if not updated:
            await PlanSettings(organisation=organisation_id, review_months=value).save()
    return value


async def _organisation_start(organisation_id: uuid.UUID) -> dt.datetime:
    org = await Organisation.select(Organisation.created_at).where(Organisation.id == organisation_id).first()
    if org is None:
        raise NotFound("Organisation introuvable.")
    return org["created_at"]


async def cycle_get(*, organisation_id: uuid.UUID, year: int | None = None) -> dict:
    """The cycle of that year (default: the latest), stored or not yet: a default one is returned unsaved."""
    query = Cycle.select().where(Cycle.organisation == organisation_id)
    if year is not None:
        query = query.where(Cycle.year == year)
    row = await query.order_by(Cycle.year, ascending=False).first()
    if row is not None:
        return row
    latest = await Cycle.select(Cycle.year).where(Cycle.organisation == organisation_id).order_by(Cycle.year, ascending=False).first()
    if year is None:
        year = today().year
    started = await _organisation_start(organisation_id)
    if latest is not None:
        started = dt.datetime(year, 1, 1, tzinfo=PARIS)
    return {
        "id": None, "organisation": organisation_id, "year": year, "started_at": started, "pilot": None,
        "employees_informed_on": None, "ag_date": None, "ag_attendance": None, "ag_members": None,
        "ag_debate": "", "ag_decisions": "", "updated_at": None,
    }


async def cycles_list(*, organisation_id: uuid.UUID) -> list[dict]:
    rows = await Cycle.select().where(Cycle.organisation == organisation_id).order_by(Cycle.year, ascending=False)
    if not rows:
        rows = [await cycle_get(organisation_id=organisation_id)]
    return rows


def check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise NotFound("Cycle introuvable.")


async def _cycle_upsert(organisation_id: uuid.UUID, year: int, values: dict) -> None:
    check_year(year)
    async with transaction():
        current = await cycle_get(organisation_id=organisation_id, year=year)
        if current["id"] is None:
            base = {k: current[k] for k in ("year", "started_at")}
            await Cycle(organisation=organisation_id, **base, **values).save()
        else:
            values = {**values, "updated_at": utcnow()}
            await Cycle.update(values).where((Cycle.id == current["id"]) & (Cycle.organisation == organisation_id))


KEEP = "__keep__"  # a DemarcheInput field left as it is


@dataclass(frozen=True)
class DemarcheInput:
    """Fields left at KEEP don't change; None (or "") clears them."""

    year: int | None = None
    pilot_id: str | uuid.UUID | None = KEEP
    employees_informed_on: str | dt.date | None = KEEP
    ag_date: str | dt.date | None = KEEP
    review_months: str | int | None = KEEP


async def demarche_update(*, organisation_id: uuid.UUID, data: DemarcheInput) -> int:
    """What an admin ticks on the dashboard: the pilot, the presentations (dates), the review frequency."""
    errors: dict[str, str] = {}
    year = data.year or (await cycle_get(organisation_id=organisation_id))["year"]
    values: dict = {}
    if data.pilot_id != KEEP:
        try:
            pilot = parse_uuid(data.pilot_id)
        except ValueError:
            pilot = None
            errors["pilot_id"] = "Le pilote doit être un membre de l'équipe."
        if pilot and not await is_member(organisation_id=organisation_id, user_id=pilot):
            errors["pilot_id"] = "Le pilote doit être un membre de l'équipe."
        values["pilot"] = pilot
    for name in ("employees_informed_on", "ag_date"):
        raw = getattr(data, name)
        if raw == KEEP:
            continue
        try:
            values[name] = parse_date(raw)
        except ValueError:
            errors[name] = "Indiquez une date valide (jour/mois/année)."
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        if data.review_months not in (KEEP, None, ""):
            await review_months_set(organisation_id=organisation_id, months=data.review_months)
        if values:
            await _cycle_upsert(organisation_id, year, values)
    return year


@dataclass(frozen=True)
class DebateInput:
    ag_date: str | dt.date | None = None
    ag_attendance: str | int | None = None
    ag_members: str | int | None = None
    ag_debate: str = ""
    ag_decisions: str = ""


def _count(raw: str | int | None, name: str, errors: dict) -> int | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = int(re.sub(r"[\s\u00a0\u202f]", "", str(raw)))
    except ValueError:
        errors[name] = "Indiquez un nombre entier de personnes."
        return None
    if not 0 <= value <= 10_000_000:
        errors[name] = "Indiquez un nombre entier de personnes."
        return None
    return value


async def debate_save(*, organisation_id: uuid.UUID, year: int, data: DebateInput) -> None:
    """The general assembly's debate on the report: date, attendance, what was said and decided."""
    errors: dict[str, str] = {}
    try:
        ag_date = parse_date(data.ag_date)
    except ValueError:
        ag_date = None
        errors["ag_date"] = "Indiquez une date valide (jour/mois/année)."
    attendance = _count(data.ag_attendance, "ag_attendance", errors)
    members = _count(data.ag_members, "ag_members", errors)
    if attendance is not None and members is not None and attendance > members:
        errors["ag_attendance"] = "Il ne peut y avoir plus de présents ou représentés que de membres convoqués."
    debate = _text(data.ag_debate, "ag_debate", errors, MAX_LONG_TEXT)
    decisions = _text(data.ag_decisions, "ag_decisions", errors, MAX_LONG_TEXT)
    if errors:
        raise ValidationFailed(errors)
    await _cycle_upsert(
        organisation_id, year,
        {"ag_date": ag_date, "ag_attendance": attendance, "ag_members": members, "ag_debate": debate, "ag_decisions": decisions},
    )


# --- The next cycle ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextCycle:
    year: int
    diagnosis_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    notes: tuple[str, ...] = ()


def _retitle(title: str, year: int) -> str:
    if re.search(r"\b(19|20)\d{2}\b", title):
        return re.sub(r"\b(19|20)\d{2}\b", str(year), title)[:200]
    return f"{title} ({year})"[:200]


async def next_cycle_prepare(*, organisation_id: uuid.UUID, user_id: uuid.UUID) -> NextCycle:
    """Start next year's cycle from this one, in one transaction.

    A new diagnosis on the same référentiel version and the same practices as the last closed
    one (`surveys.services.diagnosis_open`), and a draft campaign with the last closed
    campaign's settings and audience (`consultations.services.campaign_create`), so the
    results are comparable practice by practice.
    """
    from consultations import services as consultations
    from surveys import services as surveys

    previous_diagnosis = await Diagnosis.select().where(
        (Diagnosis.organisation == organisation_id) & (Diagnosis.status == "closed")
    ).order_by(Diagnosis.opened_at, ascending=False).output(load_json=True).first()
    previous_campaign = await Campaign.select().where(
        (Campaign.organisation == organisation_id) & Campaign.status.is_in(["closed", "archived"])
    ).order_by(Campaign.created_at, ascending=False).output(load_json=True).first()
    if previous_diagnosis is None and previous_campaign is None:
        raise Conflict("Il faut au moins un auto-diagnostic ou une consultation clôturés pour préparer le cycle suivant.")

    current = await cycle_get(organisation_id=organisation_id)
    if current["year"] > today().year:
        raise Conflict(f"Le cycle {current['year']} est déjà préparé.")
    year = max(current["year"] + 1, today().year)
    notes: list[str] = []
    async with transaction():
        if await Cycle.exists().where((Cycle.organisation == organisation_id) & (Cycle.year == year)):
            raise Conflict(f"Le cycle {year} est déjà préparé.")
        if current["id"] is None:
            await Cycle(organisation=organisation_id, year=current["year"], started_at=current["started_at"]).save()
        await Cycle(organisation=organisation_id, year=year, started_at=utcnow(), pilot=current["pilot"]).save()

        diagnosis_id = None
        if previous_diagnosis is not None:
            diagnosis = await surveys.diagnosis_open(
                organisation_id=organisation_id, user_id=user_id,
                referentiel_key=previous_diagnosis["referentiel_key"], referentiel_version=previous_diagnosis["referentiel_version"],
                title=_retitle(previous_diagnosis["title"], year),
            )
            # Same practices as last time (and the same wording of the organisation's own ones).
            await Diagnosis.update(
                {Diagnosis.practice_keys: previous_diagnosis["practice_keys"], Diagnosis.custom_practices: previous_diagnosis["custom_practices"]}
            ).where(Diagnosis.id == diagnosis.id)
            diagnosis_id = diagnosis.id
        else:
            notes.append("Aucun auto-diagnostic clôturé : ouvrez-en un depuis la page Diagnostic.")

        campaign_id = None
        if previous_campaign is not None:
            audience = await _previous_audience(organisation_id, previous_campaign["id"])
            if audience:
                referentiel = get_referentiel(previous_campaign["referentiel_key"])
                customs = {
                    r["key"] for r in await CustomPractice.select(CustomPractice.key).where(CustomPractice.organisation == organisation_id)
                }
                keys = tuple(k for k in previous_campaign["practice_keys"] if k in referentiel.practice_keys or k in customs)
                campaign = await consultations.campaign_create(
                    organisation_id=organisation_id, user_id=user_id,
                    data=consultations.CampaignInput(
                        title=_retitle(previous_campaign["title"], year),
                        referentiel_key=previous_campaign["referentiel_key"],
                        languages=tuple(previous_campaign["languages"] or ("fr",)),
                        message=previous_campaign["message"],
                        threshold=previous_campaign["threshold"],
                        shared_links=previous_campaign["shared_links"],
                        audience=audience,
                        practice_keys=keys,
                    ),
                )
                campaign_id = campaign.id
            else:
                notes.append("Les groupes de la dernière consultation n'existent plus : créez la consultation à la main.")
        else:
            notes.append("Aucune consultation clôturée : créez-en une depuis la page Consultations.")
    return NextCycle(year=year, diagnosis_id=diagnosis_id, campaign_id=campaign_id, notes=tuple(notes))


async def _previous_audience(organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> tuple:
    from consultations.services import AudienceInput

    groups = await CampaignGroup.select(CampaignGroup.group, CampaignGroup.all_contacts, CampaignGroup.contact_ids).where(
        CampaignGroup.campaign == campaign_id
    ).output(load_json=True)
    existing = {
        g["id"] for g in await StakeholderGroup.select(StakeholderGroup.id).where(StakeholderGroup.organisation == organisation_id)
    }
    audience = []
    for g in groups:
        if g["group"] not in existing:
            continue  # the group was deleted since
        contact_ids: tuple = ()
        if not g["all_contacts"]:
            wanted = [uuid.UUID(str(c)) for c in g["contact_ids"] or []]
            still = await Contact.select(Contact.id).where(
                (Contact.organisation == organisation_id) & (Contact.group == g["group"]) & Contact.id.is_in(wanted or [uuid.uuid4()])
            )
            contact_ids = tuple(c["id"] for c in still)
            if not contact_ids:
                continue
        audience.append(AudienceInput(group_id=g["group"], all_contacts=g["all_contacts"], contact_ids=contact_ids))
    return tuple(audience)


# --- The logo -------------------------------------------------------------------------------------------


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    return None


def logo_prepare(data: bytes) -> tuple[bytes, str, int, int]:
    """Check an upload is really a PNG or a JPEG (by its content, never its name), and re-encode it
    at most 600 px wide and high, without its metadata. Returns (bytes, media type, width, height)."""
    from PIL import Image, UnidentifiedImageError

    message = "Le logo doit être une image PNG ou JPEG."
    if not data:
        raise ValidationFailed({"logo": "Choisissez un fichier image (PNG ou JPEG)."})
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationFailed({"logo": "Le logo est trop lourd (5 Mo au plus)."})
    sniffed = _sniff_image(data)
    if sniffed is None:
        raise ValidationFailed({"logo": message})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != sniffed:
                raise ValidationFailed({"logo": message})
            width, height = probe.size
            if width * height > LOGO_MAX_PIXELS or width < 1 or height < 1:
                raise ValidationFailed({"logo": "L'image est trop grande (40 millions de pixels au plus)."})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            out = io.BytesIO()
            if sniffed == "PNG":
                if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                    image = image.convert("RGBA")
                image.save(out, format="PNG", optimize=True)
                media_type = "image/png"
            else:
                if image.mode != "RGB":
                    image = image.convert("RGB")
                image.save(out, format="JPEG", quality=88, optimize=True)
                media_type = "image/jpeg"
            return out.getvalue(), media_type, image.width, image.height
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed({"logo": "Cette image est illisible ou abîmée. " + message}) from None


async def logo_save(*, organisation_id: uuid.UUID, data: bytes) -> None:
    content, media_type, width, height = logo_prepare(data)
    async with transaction():
        await Logo.delete().where(Logo.organisation == organisation_id)
        await Logo(organisation=organisation_id, media_type=media_type, content=content, width=width, height=height).save()


async def logo_delete(*, organisation_id: uuid.UUID) -> None:
    await Logo.delete().where(Logo.organisation == organisation_id)
