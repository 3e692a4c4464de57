"""Consultation campaigns: set-up, launch, links, drafts, anonymous submission, the ballot box, close.

How anonymity is kept (docs/architecture.md, "Anonymity"):
- a submission marks its invitation `used` (a boolean, no time), deletes the draft and drops a
  `Ballot` — answers, group, language and the day — into the box, in one transaction;
- ballots become `Response` rows only in shuffled batches of at least the campaign's threshold
  (and all remaining ones at close), each with a fresh random id: no column, no join, no
  transaction id and no physical order ties a response to an invitation;
- stakeholder figures stay hidden until the campaign closes (analytics), so comparing two
  views can never isolate one submission; the organisation sees counts per group only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from api.db import engine, is_unique_violation, transaction
from api.errors import Conflict, NotFound, ValidationFailed
from api.settings import get_settings
from consultations import links
from consultations.answer_codes import encode as answer_codes_encode
from consultations.tables import Ballot, Campaign, CampaignGroup, Draft, Invitation, Response, ResponseAnswer
from emails.outbox import enqueue
from organisations.services import utcnow
from organisations.stakeholders import group_weight
from organisations.tables import Contact, Membership, Organisation, StakeholderGroup
from surveys.referentiel import DONT_KNOW, NOT_CONCERNED, Practice, ReferentielNotFound, get_referentiel
from surveys.services import custom_as_practice
from surveys.tables import CustomPractice

logger = logging.getLogger("esspratiques.consultations")

PARIS = ZoneInfo("Europe/Paris")
MIN_THRESHOLD = 3
DEFAULT_THRESHOLD = 5
LANGUAGES = ("fr", "en")
MAX_COMMENT = 2000
STATUSES = {"draft": "Brouillon", "open": "Ouverte", "closed": "Clôturée", "archived": "Archivée"}


def today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def _nonce() -> str:
    return secrets.token_urlsafe(9)


# --- Set-up -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceInput:
    group_id: uuid.UUID
    all_contacts: bool = True
    contact_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class CampaignInput:
    title: str
    referentiel_key: str = "complet"
    opens_on: str | None = None
    closes_on: str | None = None
    languages: tuple[str, ...] = LANGUAGES
    message: str = ""
    threshold: str | int = DEFAULT_THRESHOLD
    shared_links: bool = False
    audience: tuple[AudienceInput, ...] = ()
    practice_keys: tuple[str, ...] = ()  # empty: the organisation's themes of the year


def _parse_date(raw: str | None, field_name: str, errors: dict) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[field_name] = "Indiquez une date valide (jour/mois/année)."
        return None


async def _validate_campaign(organisation_id: uuid.UUID, data: CampaignInput) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    title = (data.title or "").strip()
    if not title:
        errors["title"] = "Donnez un titre à la consultation."
    elif len(title) > 200:
        errors["title"] = "Le titre est trop long (200 caractères au plus)."
    try:
        referentiel = get_referentiel(data.referentiel_key)
    except ReferentielNotFound:
        errors["referentiel"] = "Choisissez un référentiel dans la liste."
        referentiel = None
    opens_on = _parse_date(data.opens_on, "opens_on", errors)
    closes_on = _parse_date(data.closes_on, "closes_on", errors)
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = "La date de clôture doit suivre la date d'ouverture."
    languages = tuple(lang for lang in LANGUAGES if lang in data.languages)
    if not languages or "fr" not in languages:
        errors["languages"] = "Le français est toujours proposé ; l'anglais est facultatif."
    try:
        threshold = int(str(data.threshold).strip())
    except ValueError:
        threshold = -1
    if threshold < MIN_THRESHOLD:
        errors["threshold"] = f"Le seuil d'anonymat est d'au moins {MIN_THRESHOLD} réponses (5 recommandé)."
    elif threshold > 100:
        errors["threshold"] = "Le seuil d'anonymat ne peut dépasser 100 réponses."
    message = (data.message or "").strip()
    if len(message) > 3000:
        errors["message"] = "Le message est trop long (3 000 caractères au plus)."
    if not data.audience:
        errors["audience"] = "Choisissez au moins un groupe de parties prenantes."
    group_ids = [a.group_id for a in data.audience]
    if group_ids:
        owned = await StakeholderGroup.select(StakeholderGroup.id).where(
            (StakeholderGroup.organisation == organisation_id) & StakeholderGroup.id.is_in(group_ids)
        )
        if len(owned) != len(set(group_ids)):
            errors["audience"] = "Un des groupes choisis n'existe pas."
    chosen_contacts = [c for a in data.audience for c in a.contact_ids]
    if chosen_contacts:
        found = await Contact.select(Contact.id, Contact.group).where(
            (Contact.organisation == organisation_id) & Contact.id.is_in(chosen_contacts)
        )
        group_of = {r["id"]: r["group"] for r in found}
        for a in data.audience:
            if any(group_of.get(c) != a.group_id for c in a.contact_ids):
                errors["audience"] = "Un des contacts choisis n'appartient pas à son groupe."
    practice_keys: list[str] = []
    customs: list[dict] = []
    if referentiel is not None:
        org = await Organisation.select(Organisation.chosen_themes).where(Organisation.id == organisation_id).output(load_json=True).first()
        themes = set(org["chosen_themes"] or [t.key for t in referentiel.themes])
        custom_rows = await CustomPractice.select().where(CustomPractice.organisation == organisation_id).output(load_json=True)
        all_customs = {c["key"]: {k: c[k] for k in ("key", "theme", "org_statement", "stakeholder_statement", "categories")} for c in custom_rows}
        if data.practice_keys:
            unknown = [k for k in data.practice_keys if k not in referentiel.practice_keys and k not in all_customs]
            if unknown:
                errors["practices"] = "Une des pratiques choisies n'existe pas dans ce référentiel."
            chosen = list(dict.fromkeys(data.practice_keys))  # each practice once, in the order given
            practice_keys = [k for k in chosen if k in referentiel.practice_keys]
            customs = [all_customs[k] for k in chosen if k in all_customs]
        else:
            practice_keys = [p.key for p in referentiel.practices if p.theme in themes]
            customs = [c for c in all_customs.values() if c["theme"] in themes]
        if not practice_keys and not customs:
            errors["practices"] = "Choisissez au moins une pratique."
    cleaned = {
        "title": title,
        "referentiel_key": referentiel.key if referentiel else "",
        "referentiel_version": referentiel.version if referentiel else "",
        "practice_keys": practice_keys + [c["key"] for c in customs],
        "custom_practices": customs,
        "languages": list(languages),
        "message": message,
        "threshold": threshold,
        "shared_links": bool(data.shared_links),
        "opens_on": opens_on,
        "closes_on": closes_on,
    }
    return errors, cleaned


async def campaign_create(*, organisation_id: uuid.UUID, user_id: uuid.UUID, data: CampaignInput) -> Campaign:
    errors, cleaned = await _validate_campaign(organisation_id, data)
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        campaign = Campaign(organisation=organisation_id, created_by=user_id, **cleaned)
        await campaign.save()
        await _save_audience(campaign.id, organisation_id, data.audience)
    return campaign


async def _save_audience(campaign_id: uuid.UUID, organisation_id: uuid.UUID, audience: tuple[AudienceInput, ...]) -> None:
    await CampaignGroup.delete().where(CampaignGroup.campaign == campaign_id)
    groups = {
        g["id"]: g
        for g in await StakeholderGroup.select().where(
            (StakeholderGroup.organisation == organisation_id) & StakeholderGroup.id.is_in([a.group_id for a in audience])
        )
    }
    for a in audience:
        g = groups[a.group_id]
        await CampaignGroup(
            campaign=campaign_id,
            group=g["id"],
            name=g["name"],
            category=g["category"],
            weight=group_weight(g),
            all_contacts=a.all_contacts,
            contact_ids=[str(c) for c in a.contact_ids],
        ).save()


async def _campaign_in(organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> dict:
    row = await Campaign.select().where((Campaign.id == campaign_id) & (Campaign.organisation == organisation_id)).output(load_json=True).first()
    if row is None:
        raise NotFound("Consultation introuvable.")
    return row


async def campaign_update(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID, data: CampaignInput) -> None:
    """Only a draft changes: once launched, the threshold and the shared-link choice are locked."""
    row = await _campaign_in(organisation_id, campaign_id)
    if row["status"] != "draft":
        raise Conflict("La consultation est lancée : ses réglages, dont le seuil d'anonymat, sont verrouillés.")
    errors, cleaned = await _validate_campaign(organisation_id, data)
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        changed = (
            await Campaign.update(cleaned)
            .where((Campaign.id == campaign_id) & (Campaign.status == "draft"))
            .returning(Campaign.id)
        )
        if not changed:
            raise Conflict("La consultation est lancée : ses réglages sont verrouillés.")
        await _save_audience(campaign_id, organisation_id, data.audience)


async def campaign_delete(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> None:
    row = await _campaign_in(organisation_id, campaign_id)
    if row["status"] != "draft":
        raise Conflict("Seul un brouillon peut être supprimé ; une consultation lancée peut être archivée.")
    await Campaign.delete().where(Campaign.id == campaign_id)


# --- Practices asked -----------------------------------------------------------------------


def campaign_practices(campaign: dict, category: str | None = None) -> list[Practice]:
    """The practices of a campaign, in référentiel order, for a stakeholder category (None: all).

    Custom groups ("autre") are asked every practice."""
    referentiel = get_referentiel(campaign["referentiel_key"], campaign["referentiel_version"])
    customs = {c["key"]: custom_as_practice(c) for c in campaign["custom_practices"] or []}
    practices = [customs[k] if k in customs else referentiel.practice(k) for k in campaign["practice_keys"] or []]
    if category and category != "autre":
        practices = [p for p in practices if not p.categories or category in p.categories]
    order = {t.key: t.number for t in referentiel.themes}
    return sorted(practices, key=lambda p: order.get(p.theme, 99))


def themes_of(campaign: dict, practices: list[Practice]) -> list:
    referentiel = get_referentiel(campaign["referentiel_key"], campaign["referentiel_version"])
    keys = []
    for p in practices:
        if p.theme not in keys:
            keys.append(p.theme)
    return [referentiel.theme(k) for k in keys]


# --- Launch --------------------------------------------------------------------------------


@dataclass
class LaunchCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    invited_per_group: dict[str, int] = field(default_factory=dict)

    @property
    def can_launch(self) -> bool:
        return not self.errors


async def _audience_contacts(campaign_id: uuid.UUID, organisation_id: uuid.UUID) -> list[tuple[dict, list[dict]]]:
    groups = await CampaignGroup.select().where(CampaignGroup.campaign == campaign_id).output(load_json=True).order_by(CampaignGroup.name)
    out = []
    for g in groups:
        query = Contact.select().where(
            (Contact.organisation == organisation_id) & (Contact.group == g["group"]) & (Contact.opted_out == False) & (Contact.email != "")  # noqa: E712
        )
        if not g["all_contacts"]:
            query = query.where(Contact.id.is_in([uuid.UUID(c) for c in g["contact_ids"]] or [uuid.uuid4()]))
        out.append((g, await query.order_by(Contact.email)))
    return out


async def launch_check(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> LaunchCheck:
    campaign = await _campaign_in(organisation_id, campaign_id)
    check = LaunchCheck()
    if campaign["status"] != "draft":
        check.errors.append("Cette consultation est déjà lancée.")
        return check
    audience = await _audience_contacts(campaign_id, organisation_id)
    total = 0
    for g, contacts in audience:
        n = len(contacts)
        total += n
        check.invited_per_group[g["name"]] = n
        if not campaign_practices(campaign, g["category"]):
            check.errors.append(f"Aucune pratique retenue ne concerne le groupe « {g['name']} ».")
        if n < campaign["threshold"]:
            check.warnings.append(
                f"Le groupe « {g['name']} » compte {n} contact{'s' if n > 1 else ''} : moins que le seuil d'anonymat "
                f"({campaign['threshold']}). Ses résultats resteront masqués, sauf lien ouvert."
            )
    if total == 0 and not campaign["shared_links"]:
        check.errors.append("Aucun contact à inviter : ajoutez des contacts à vos groupes, ou activez les liens ouverts.")
    if campaign["closes_on"] and campaign["closes_on"] < today():
        check.errors.append("La date de clôture est déjà passée.")
    return check


def _invitation_context(org_name: str, campaign: dict, url: str, unsubscribe: str) -> dict:
    closes = campaign["closes_on"]
    return {
        "org_name": org_name,
        "org_logo_url": None,
        "campaign_title": campaign["title"],
        "org_message": campaign["message"] or None,
        "survey_url": url,
        "closes_on": closes.strftime("%d/%m/%Y") if closes else "la clôture de la consultation",
        "unsubscribe_url": unsubscribe,
        "threshold": campaign["threshold"],
        "duration_minutes": max(5, round(len(campaign["practice_keys"] or []) * 0.4)),
    }


def _unsubscribe_headers(url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


async def campaign_launch(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID, accept_warnings: bool = False) -> LaunchCheck:
    """Create one invitation per contact and queue their emails, all in one transaction."""
    check = await launch_check(organisation_id=organisation_id, campaign_id=campaign_id)
    if not check.can_launch or (check.warnings and not accept_warnings):
        return check
    async with transaction():
        campaign = await _campaign_in(organisation_id, campaign_id)
        claimed = (
            await Campaign.update({Campaign.status: "open", Campaign.launched_at: utcnow(), Campaign.opens_on: campaign["opens_on"] or today()})
            .where((Campaign.id == campaign_id) & (Campaign.status == "draft"))
            .returning(Campaign.id)
        )
        if not claimed:
            raise Conflict("Cette consultation est déjà lancée.")
        org = await Organisation.select(Organisation.name).where(Organisation.id == organisation_id).first()
        for g, contacts in await _audience_contacts(campaign_id, organisation_id):
            if campaign["shared_links"]:
                await CampaignGroup.update({CampaignGroup.shared_link_nonce: _nonce()}).where(CampaignGroup.id == g["id"])
            for contact in contacts:
                invitation = Invitation(
                    campaign=campaign_id, campaign_group=g["id"], contact=contact["id"], nonce=_nonce(),
                    language=contact["language"] if contact["language"] in campaign["languages"] else "fr",
                )
                await invitation.save()
                await _queue_invitation_email("invitation", org["name"], campaign, invitation, contact)
    return check


async def _queue_invitation_email(kind: str, org_name: str, campaign: dict, invitation: Invitation | dict, contact: dict) -> None:
    inv_id = invitation["id"] if isinstance(invitation, dict) else invitation.id
    nonce = invitation["nonce"] if isinstance(invitation, dict) else invitation.nonce
    language = invitation["language"] if isinstance(invitation, dict) else invitation.language
    unsubscribe = links.unsubscribe_url(contact["id"])
    await enqueue(
        kind=kind,
        to=contact["email"],
        lang=language,
        organisation_id=campaign["organisation"],
        context=_invitation_context(org_name, campaign, links.invitation_url(inv_id, nonce), unsubscribe),
        headers=_unsubscribe_headers(unsubscribe),
    )


async def invitation_reissue(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
    """A fresh link for a contact: the old one stops working. Whether they had answered stays unknown:
    a used invitation stays used, so the new link only says the answer is recorded."""
    async with transaction():
        campaign = await _campaign_in(organisation_id, campaign_id)
        if campaign["status"] != "open":
            raise Conflict("La consultation n'est pas ouverte.")
        invitation = await Invitation.select().where((Invitation.id == invitation_id) & (Invitation.campaign == campaign_id)).first()
        if invitation is None or invitation["contact"] is None:
            raise NotFound("Invitation introuvable.")
        nonce = _nonce()
        await Invitation.update({Invitation.nonce: nonce, Invitation.revoked: False}).where(Invitation.id == invitation_id)
        contact = await Contact.select().where(Contact.id == invitation["contact"]).first()
        org = await Organisation.select(Organisation.name).where(Organisation.id == organisation_id).first()
        if contact and not contact["opted_out"]:
            await _queue_invitation_email("invitation", org["name"], campaign, {**invitation, "nonce": nonce}, contact)


async def invitation_revoke(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
    await _campaign_in(organisation_id, campaign_id)
    changed = await Invitation.update({Invitation.revoked: True}).where(
        (Invitation.id == invitation_id) & (Invitation.campaign == campaign_id)
    ).returning(Invitation.id)
    if not changed:
        raise NotFound("Invitation introuvable.")


# --- Respondent links ---------------------------------------------------------------------


class LinkProblem(Exception):
    """Why a link can't be used: invalid, revoked, used, closed, expired, not_open."""

    def __init__(self, kind: str, campaign: dict | None = None, language: str = "fr") -> None:
        super().__init__(kind)
        self.kind = kind
        self.campaign = campaign
        self.language = language


@dataclass
class Respondent:
    kind: str  # "invitation" | "open"
    campaign: dict
    group: dict
    organisation_name: str
    practices: list[Practice]
    language: str
    invitation: dict | None = None
    browser_key: str | None = None

    @property
    def themes(self) -> list:
        return themes_of(self.campaign, self.practices)


def _campaign_state(campaign: dict, language: str) -> None:
    if campaign["status"] in ("closed", "archived"):
        raise LinkProblem("closed", campaign, language)
    if campaign["status"] != "open":
        raise LinkProblem("invalid", campaign, language)
    if campaign["opens_on"] and campaign["opens_on"] > today():
        raise LinkProblem("not_open", campaign, language)
    if campaign["closes_on"] and campaign["closes_on"] < today():
        raise LinkProblem("expired", campaign, language)


async def respondent_for_invitation(token: str) -> Respondent:
    payload = links.read_token(links.PURPOSE_INVITATION, token)
    if payload is None:
        raise LinkProblem("invalid")
    invitation = await Invitation.select().where(Invitation.id == payload.id).first()
    if invitation is None:
        raise LinkProblem("invalid")
    campaign = await Campaign.select().where(Campaign.id == invitation["campaign"]).output(load_json=True).first()
    language = invitation["language"]
    if not secrets.compare_digest(invitation["nonce"], payload.nonce):
        # An older link of a re-issued invitation.
        raise LinkProblem("revoked", campaign, language)
    if invitation["revoked"]:
        raise LinkProblem("revoked", campaign, language)
    if invitation["used"]:
        raise LinkProblem("used", campaign, language)
    _campaign_state(campaign, language)
    return await _respondent("invitation", campaign, invitation["campaign_group"], language, invitation=invitation)


async def respondent_for_open_link(token: str, browser_key: str | None) -> Respondent:
    payload = links.read_token(links.PURPOSE_OPEN_LINK, token)
    if payload is None:
        raise LinkProblem("invalid")
    group = await CampaignGroup.select().where(CampaignGroup.id == payload.id).first()
    if group is None:
        raise LinkProblem("invalid")
    campaign = await Campaign.select().where(Campaign.id == group["campaign"]).output(load_json=True).first()
    if not campaign["shared_links"] or not group["shared_link_nonce"] or not secrets.compare_digest(group["shared_link_nonce"], payload.nonce):
        raise LinkProblem("revoked", campaign)
    _campaign_state(campaign, "fr")
    return await _respondent("open", campaign, group["id"], "fr", browser_key=browser_key)


async def _respondent(kind: str, campaign: dict, group_id: uuid.UUID, language: str, **extra) -> Respondent:
    group = await CampaignGroup.select().where(CampaignGroup.id == group_id).first()
    org = await Organisation.select(Organisation.name).where(Organisation.id == campaign["organisation"]).first()
    return Respondent(
        kind=kind, campaign=campaign, group=group, organisation_name=org["name"],
        practices=campaign_practices(campaign, group["category"]), language=language, **extra,
    )


def _draft_where(respondent: Respondent):
    if respondent.kind == "invitation":
        return Draft.invitation == respondent.invitation["id"]
    return Draft.browser_key == respondent.browser_key


async def draft_get(respondent: Respondent) -> dict:
    if respondent.kind == "open" and not respondent.browser_key:
        return {"answers": {}, "language": respondent.language}
    row = await Draft.select(Draft.answers, Draft.language).where(_draft_where(respondent)).output(load_json=True).first()
    return row or {"answers": {}, "language": respondent.language}


def clean_answers(respondent: Respondent, raw: dict[str, dict]) -> tuple[dict[str, dict], dict[str, str]]:
    """Validate answers given as {practice_key: {"answer": "1".."5"|dont_know|not_concerned|"", "importance": …, "comment": …}}."""
    allowed = {p.key for p in respondent.practices}
    cleaned: dict[str, dict] = {}
    errors: dict[str, str] = {}
    for key, values in raw.items():
        if key not in allowed:
            errors[key] = "Cette question ne fait pas partie du questionnaire."
            continue
        entry: dict = {}
        if "answer" in values:
            a = str(values.get("answer") or "").strip()
            if a in {"1", "2", "3", "4", "5", DONT_KNOW, NOT_CONCERNED, ""}:
                entry["answer"] = a
            else:
                errors[key] = "Réponse invalide."
        if "importance" in values:
            i = str(values.get("importance") or "").strip()
            if i in {"1", "2", "3", "4", "5", ""}:
                entry["importance"] = i
            else:
                errors[key] = "Importance invalide."
        if "comment" in values:
            c = str(values.get("comment") or "").strip()
            if len(c) > MAX_COMMENT:
                errors[key] = f"Le commentaire est trop long ({MAX_COMMENT} caractères au plus)."
            entry["comment"] = c
        cleaned[key] = entry
    return cleaned, errors


async def draft_save(respondent: Respondent, raw: dict[str, dict], language: str | None = None) -> dict:
    """Merge answers into the draft, so closing the tab loses nothing."""
    cleaned, errors = clean_answers(respondent, raw)
    if errors:
        raise ValidationFailed(errors)
    language = language if language in respondent.campaign["languages"] else None
    try:
        return await _draft_merge(respondent, cleaned, language)
    except Exception as exc:
        # Two autosaves creating the same draft at once: the loser merges into the winner's row.
        if not is_unique_violation(exc):
            raise
        return await _draft_merge(respondent, cleaned, language)


async def _draft_merge(respondent: Respondent, cleaned: dict[str, dict], language: str | None) -> dict:
    async with transaction():
        if engine().engine_type == "postgres":
            # Read-modify-write of the JSON answers: make sure the row exists (a concurrent creator
            # makes this wait, then do nothing), then lock it, so concurrent saves never lose one.
            column, key = (
                ("invitation", respondent.invitation["id"]) if respondent.kind == "invitation" else ("browser_key", respondent.browser_key)
            )
            await Draft.raw(
                f"INSERT INTO response_draft (id, campaign, campaign_group, {column}, answers, language, updated_on) "
                "VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
                uuid.uuid4(), respondent.campaign["id"], respondent.group["id"], key, "{}", language or respondent.language, today(),
            )
            await Draft.raw(f"SELECT id FROM response_draft WHERE {column} = {{}} FOR UPDATE", key)
        row = await Draft.objects().where(_draft_where(respondent)).output(load_json=True).first()
        if row is None:
            row = Draft(
                campaign=respondent.campaign["id"],
                campaign_group=respondent.group["id"],
                invitation=respondent.invitation["id"] if respondent.invitation else None,
                browser_key=respondent.browser_key if respondent.kind == "open" else None,
                answers={},
                language=language or respondent.language,
                updated_on=today(),
            )
        answers = dict(row.answers or {})
        for key, entry in cleaned.items():
            answers[key] = {**answers.get(key, {}), **entry}
        row.answers = answers
        row.updated_on = today()
        if language:
            row.language = language
        await row.save()
    return answers


def _ballot_answers(respondent: Respondent, answers: dict[str, dict]) -> dict[str, dict]:
    """Only meaningful answers go into the ballot: a level, "je ne sais pas" or "non concerné"."""
    out = {}
    allowed = {p.key for p in respondent.practices}
    for key, entry in answers.items():
        a = entry.get("answer") or ""
        if key in allowed and a:
            out[key] = {"answer": a, "importance": entry.get("importance") or "", "comment": (entry.get("comment") or "").strip()}
    return out


class AlreadySubmitted(Exception):
    pass


async def submit(respondent: Respondent, raw: dict[str, dict] | None = None) -> None:
    """Seal the answers: invitation marked used, draft deleted, ballot dropped — one transaction.

    The same link submitted twice at the same moment records one response: the second
    transaction finds the invitation already used and raises AlreadySubmitted."""
    cleaned, errors = clean_answers(respondent, raw or {})
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        if respondent.kind == "invitation":
            claimed = (
                await Invitation.update({Invitation.used: True})
                .where((Invitation.id == respondent.invitation["id"]) & (Invitation.used == False) & (Invitation.revoked == False))  # noqa: E712
                .returning(Invitation.id)
            )
            if not claimed:
                raise AlreadySubmitted()
        if engine().engine_type == "postgres":
            # FOR SHARE waits for a closing transaction (and holds a close back until this ballot is in),
            # so a ballot never lands in the box after the close has mixed the last ones.
            [campaign] = await Campaign.raw("SELECT status FROM campaign WHERE id = {} FOR SHARE", respondent.campaign["id"])
        else:
            campaign = await Campaign.select(Campaign.status).where(Campaign.id == respondent.campaign["id"]).first()
        if campaign["status"] != "open":
            raise LinkProblem("closed", respondent.campaign, respondent.language)
        draft = await Draft.select(Draft.id, Draft.answers, Draft.language).where(_draft_where(respondent)).output(load_json=True).first() if (
            respondent.kind == "invitation" or respondent.browser_key
        ) else None
        answers = dict(draft["answers"]) if draft else {}
        for key, entry in cleaned.items():
            answers[key] = {**answers.get(key, {}), **entry}
        if draft:
            await Draft.delete().where(Draft.id == draft["id"])
        await Ballot(
            campaign=respondent.campaign["id"],
            campaign_group=respondent.group["id"],
            answers=_ballot_answers(respondent, answers),
            language=(draft or {}).get("language") or respondent.language,
            via_open_link=respondent.kind == "open",
            submitted_on=today(),
        ).save()
    await ballots_mix(campaign_id=respondent.campaign["id"])


async def ballots_mix(*, campaign_id: uuid.UUID, force: bool = False) -> int:
    """Move sealed ballots to responses in one shuffled batch, once there are at least
    `threshold` of them (or all of them when `force`, at close). Returns the number moved."""
    async with transaction():
        moved = await _mix(campaign_id=campaign_id, force=force)
    if moved:
        await _scrub_deleted_rows()
    return moved


async def _mix(*, campaign_id: uuid.UUID, force: bool) -> int:
    """ballots_mix's work, inside the caller's transaction."""
    if engine().engine_type == "postgres":
        # Serialise mixers of one campaign (SQLite's IMMEDIATE transaction already does):
        # two concurrent mixes must never both move the same ballots.
        await Campaign.raw("SELECT id FROM campaign WHERE id = {} FOR UPDATE", campaign_id)
    campaign = await Campaign.select(Campaign.threshold, Campaign.practice_keys).where(Campaign.id == campaign_id).output(load_json=True).first()
    ballots = await Ballot.select().where(Ballot.campaign == campaign_id).output(load_json=True)
    if not ballots or (len(ballots) < campaign["threshold"] and not force):
        return 0
    secrets.SystemRandom().shuffle(ballots)
    responses, answers = [], []
    for ballot in ballots:
        response_id = uuid.uuid4()
        answer_codes, importance_codes = answer_codes_encode(ballot["answers"], campaign["practice_keys"] or [])
        responses.append(
            Response(
                id=response_id, campaign=campaign_id, campaign_group=ballot["campaign_group"],
                language=ballot["language"], via_open_link=ballot["via_open_link"], submitted_on=ballot["submitted_on"],
                answer_codes=answer_codes, importance_codes=importance_codes,
            )
        )
        for key, entry in sorted(ballot["answers"].items()):
            a = entry["answer"]
            answers.append(
                ResponseAnswer(
                    response=response_id, campaign=campaign_id, campaign_group=ballot["campaign_group"], practice_key=key,
                    answer="level" if a in {"1", "2", "3", "4", "5"} else a,
                    level=int(a) if a in {"1", "2", "3", "4", "5"} else None,
                    importance=int(entry["importance"]) if entry.get("importance") else None,
                    comment=entry.get("comment") or "",
                )
            )
    await Response.insert(*responses)
    for start in range(0, len(answers), 500):
        await ResponseAnswer.insert(*answers[start : start + 500])
    await Ballot.delete().where(Ballot.id.is_in([b["id"] for b in ballots]))
    return len(ballots)


async def _scrub_deleted_rows() -> None:
    """Reclaim deleted ballot and draft rows so their bytes don't linger (PostgreSQL: VACUUM)."""
    db = engine()
    if db.engine_type == "postgres":
        try:
            await db._run_in_new_connection("VACUUM response_ballot")
            await db._run_in_new_connection("VACUUM response_draft")
        except Exception:  # noqa: BLE001 - best effort; autovacuum does it later anyway
            logger.warning("VACUUM of the ballot box failed; autovacuum will reclaim the rows later")


# --- Close ---------------------------------------------------------------------------------------


async def campaign_close(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> None:
    async with transaction():
        changed = (
            await Campaign.update({Campaign.status: "closed", Campaign.closed_at: utcnow()})
            .where((Campaign.id == campaign_id) & (Campaign.organisation == organisation_id) & (Campaign.status == "open"))
            .returning(Campaign.id)
        )
        if not changed:
            await _campaign_in(organisation_id, campaign_id)
            raise Conflict("Seule une consultation ouverte peut être clôturée.")
        # Drafts never submitted are discarded: they hold answers tied to an invitation.
        await Draft.delete().where(Draft.campaign == campaign_id)
        campaign = await _campaign_in(organisation_id, campaign_id)
        org = await Organisation.select(Organisation.name, Organisation.slug).where(Organisation.id == organisation_id).first()
        counts = await participation(campaign_id=campaign_id)
        admins = await Membership.select(Membership.user.email.as_alias("email")).where(
            (Membership.organisation == organisation_id) & (Membership.role == "admin")
        )
        for admin in admins:
            await enqueue(
                kind="campaign_closed", to=admin["email"], lang="fr", organisation_id=organisation_id,
                context={
                    "org_name": org["name"], "campaign_title": campaign["title"], "invited": counts.invited,
                    "answered": counts.answered, "rate_percent": f"{round(100 * counts.rate)} %",
                    "results_url": f"{get_settings().base_url}/o/{org['slug']}/resultats/{campaign_id}",
                },
            )
        # The last ballots become responses in the same transaction: a closed campaign's answers are
        # complete the moment it is seen closed, and a crash here can't leave ballots behind.
        await _mix(campaign_id=campaign_id, force=True)
    await _scrub_deleted_rows()


async def campaign_archive(*, organisation_id: uuid.UUID, campaign_id: uuid.UUID) -> None:
    changed = await Campaign.update({Campaign.status: "archived"}).where(
        (Campaign.id == campaign_id) & (Campaign.organisation == organisation_id) & (Campaign.status == "closed")
    ).returning(Campaign.id)
    if not changed:
        await _campaign_in(organisation_id, campaign_id)
        raise Conflict("Seule une consultation clôturée peut être archivée.")


# --- Participation (counts only) ------------------------------------------------------------------


@dataclass(frozen=True)
class GroupParticipation:
    campaign_group_id: uuid.UUID
    name: str
    invited: int
    answered: int
    open_link_answers: int

    @property
    def rate(self) -> float:
        return self.answered / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class Participation:
    groups: list[GroupParticipation]

    @property
    def invited(self) -> int:
        return sum(g.invited for g in self.groups)

    @property
    def answered(self) -> int:
        return sum(g.answered for g in self.groups)

    @property
    def rate(self) -> float:
        return self.answered / self.invited if self.invited else 0.0


async def participation(*, campaign_id: uuid.UUID) -> Participation:
    groups = await CampaignGroup.select(CampaignGroup.id, CampaignGroup.name).where(CampaignGroup.campaign == campaign_id).order_by(CampaignGroup.name)
    invitations = await Invitation.select(Invitation.campaign_group, Invitation.used).where(Invitation.campaign == campaign_id)
    open_ballots = await Ballot.select(Ballot.campaign_group).where((Ballot.campaign == campaign_id) & (Ballot.via_open_link == True))  # noqa: E712
    open_responses = await Response.select(Response.campaign_group).where((Response.campaign == campaign_id) & (Response.via_open_link == True))  # noqa: E712
    out = []
    for g in groups:
        invited = sum(1 for i in invitations if i["campaign_group"] == g["id"])
        used = sum(1 for i in invitations if i["campaign_group"] == g["id"] and i["used"])
        open_n = sum(1 for b in open_ballots if b["campaign_group"] == g["id"]) + sum(1 for r in open_responses if r["campaign_group"] == g["id"])
        out.append(GroupParticipation(g["id"], g["name"], invited, used + open_n, open_n))
    return Participation(out)


def browser_key_hash(cookie_value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_\-]{20,100}", cookie_value or ""):
        return ""
    return hashlib.sha256(cookie_value.encode()).hexdigest()
