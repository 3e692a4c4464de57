"""Self-diagnosis rules: themes of the year, custom practices, team diagnoses, answers."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from api.db import is_unique_violation, transaction
from api.errors import Conflict, NotFound, ValidationFailed
from organisations.categories import STAKEHOLDER_CATEGORIES
from organisations.tables import Organisation
from surveys.referentiel import DONT_KNOW, NOT_CONCERNED, Practice, Referentiel, ReferentielNotFound, Text, get_referentiel
from surveys.tables import CustomPractice, Diagnosis, DiagnosisAnswer

ANSWER_LEVEL = "level"
ANSWERS = (ANSWER_LEVEL, DONT_KNOW, NOT_CONCERNED)
MAX_TEXT = 4000


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- Themes and custom practices ----------------------------------------------------


async def themes_choose(*, organisation_id: uuid.UUID, theme_keys: list[str], referentiel_key: str = "complet") -> list[str]:
    """The themes the organisation works on this year (the guide lets it pick). Empty = all."""
    referentiel = get_referentiel(referentiel_key)
    known = [t.key for t in referentiel.themes]
    unknown = [k for k in theme_keys if k not in known]
    if unknown:
        raise ValidationFailed({"themes": f"Thème inconnu : {', '.join(unknown)}."})
    if not theme_keys:
        raise ValidationFailed({"themes": "Choisissez au moins un thème."})
    ordered = [k for k in known if k in theme_keys]
    await Organisation.update({Organisation.chosen_themes: ordered}).where(Organisation.id == organisation_id)
    return ordered


async def custom_practice_add(
    *, organisation_id: uuid.UUID, theme: str, org_statement: str, stakeholder_statement: str, categories: list[str]
) -> CustomPractice:
    errors = {}
    theme_keys = [t.key for t in get_referentiel("complet").themes]
    if theme not in theme_keys:
        errors["theme"] = "Choisissez un thème dans la liste."
    org_statement = (org_statement or "").strip()
    stakeholder_statement = (stakeholder_statement or "").strip()
    if not org_statement:
        errors["org_statement"] = "Écrivez la pratique telle que votre équipe la décrirait (« Nous… »)."
    elif len(org_statement) > 500:
        errors["org_statement"] = "La pratique est trop longue (500 caractères au plus)."
    if len(stakeholder_statement) > 500:
        errors["stakeholder_statement"] = "La formulation est trop longue (500 caractères au plus)."
    unknown = [c for c in categories if c not in STAKEHOLDER_CATEGORIES]
    if unknown:
        errors["categories"] = "Catégorie de parties prenantes inconnue."
    if errors:
        raise ValidationFailed(errors)
    practice = CustomPractice(
        organisation=organisation_id,
        key=f"org.{secrets.token_hex(4)}",
        theme=theme,
        org_statement=org_statement,
        stakeholder_statement=stakeholder_statement or org_statement,
        categories=categories,
    )
    await practice.save()
    return practice


async def custom_practice_remove(*, organisation_id: uuid.UUID, practice_id: uuid.UUID) -> None:
    deleted = (
        await CustomPractice.delete()
        .where((CustomPractice.id == practice_id) & (CustomPractice.organisation == organisation_id))
        .returning(CustomPractice.id)
    )
    if not deleted:
        raise NotFound("Pratique introuvable.")


def custom_as_practice(row: dict) -> Practice:
    """A custom practice in the référentiel's shape (same text in both languages)."""
    return Practice(
        key=row["key"],
        theme=row["theme"],
        org_statement=Text(fr=row["org_statement"], en=row["org_statement"]),
        stakeholder_statement=Text(fr=row["stakeholder_statement"], en=row["stakeholder_statement"]),
        categories=tuple(row.get("categories") or ()),
        iso26000=(),
        help=Text(fr="Pratique ajoutée par votre organisation.", en="Practice added by the organisation."),
    )


# --- Diagnoses ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagnosisScope:
    """What a diagnosis asks: its pinned référentiel, themes and practices."""

    diagnosis_id: uuid.UUID
    referentiel: Referentiel
    practices: list[Practice]

    @property
    def theme_keys(self) -> list[str]:
        seen: list[str] = []
        for p in self.practices:
            if p.theme not in seen:
                seen.append(p.theme)
        order = [t.key for t in self.referentiel.themes]
        return sorted(seen, key=order.index)

    def practices_of(self, theme_key: str) -> list[Practice]:
        return [p for p in self.practices if p.theme == theme_key]

    def practice(self, key: str) -> Practice | None:
        return next((p for p in self.practices if p.key == key), None)


async def diagnosis_open(
    *, organisation_id: uuid.UUID, user_id: uuid.UUID, referentiel_key: str, referentiel_version: str | None = None, title: str = ""
) -> Diagnosis:
    try:
        referentiel = get_referentiel(referentiel_key, referentiel_version)
    except ReferentielNotFound:
        raise ValidationFailed({"referentiel": "Choisissez un référentiel dans la liste."}) from None
    async with transaction():
        if await Diagnosis.exists().where((Diagnosis.organisation == organisation_id) & (Diagnosis.status == "open")):
            raise Conflict("Un diagnostic est déjà en cours : clôturez-le avant d'en ouvrir un autre.")
        org = await Organisation.select(Organisation.chosen_themes).where(Organisation.id == organisation_id).output(load_json=True).first()
        chosen = org["chosen_themes"] if org else []
        themes = set(chosen or [t.key for t in referentiel.themes])
        keys = [p.key for p in referentiel.practices if p.theme in themes]
        customs = await CustomPractice.select().where(
            (CustomPractice.organisation == organisation_id) & (CustomPractice.theme.is_in(list(themes)))
        ).order_by(CustomPractice.created_at).output(load_json=True)
        custom_snapshot = [
            {k: c[k] for k in ("key", "theme", "org_statement", "stakeholder_statement", "categories")} for c in customs
        ]
        diagnosis = Diagnosis(
            organisation=organisation_id,
            title=(title or "").strip()[:200] or f"Auto-diagnostic {utcnow().year}",
            referentiel_key=referentiel.key,
            referentiel_version=referentiel.version,
            practice_keys=keys + [c["key"] for c in custom_snapshot],
            custom_practices=custom_snapshot,
            opened_by=user_id,
        )
        await diagnosis.save()
    return diagnosis


async def diagnosis_scope(*, organisation_id: uuid.UUID, diagnosis_id: uuid.UUID) -> tuple[dict, DiagnosisScope]:
    row = await Diagnosis.select().where((Diagnosis.id == diagnosis_id) & (Diagnosis.organisation == organisation_id)).output(load_json=True).first()
    if row is None:
        raise NotFound("Diagnostic introuvable.")
    referentiel = get_referentiel(row["referentiel_key"], row["referentiel_version"])
    customs = {c["key"]: custom_as_practice(c) for c in row["custom_practices"] or []}
    practices = []
    for key in row["practice_keys"] or []:
        if key in customs:
            practices.append(customs[key])
        else:
            practices.append(referentiel.practice(key))
    return row, DiagnosisScope(diagnosis_id=row["id"], referentiel=referentiel, practices=practices)


@dataclass(frozen=True)
class AnswerInput:
    practice_key: str
    answer: str | None = None  # "1".."5", dont_know, not_concerned, or empty
    importance: str | None = None
    comment: str | None = None
    existing: str | None = None
    evidence: str | None = None


def _clean_answer(data: AnswerInput) -> tuple[dict[str, str], dict]:
    errors: dict[str, str] = {}
    values: dict = {}
    if data.answer is not None:
        raw = data.answer.strip()
        if raw == "":
            values.update(answer=None, level=None)
        elif raw in (DONT_KNOW, NOT_CONCERNED):
            values.update(answer=raw, level=None)
        elif raw in {"1", "2", "3", "4", "5"}:
            values.update(answer=ANSWER_LEVEL, level=int(raw))
        else:
            errors["answer"] = "Choisissez un niveau de 1 à 5, « Je ne sais pas » ou « Non concerné »."
    if data.importance is not None:
        raw = data.importance.strip()
        if raw == "":
            values["importance"] = None
        elif raw in {"1", "2", "3", "4", "5"}:
            values["importance"] = int(raw)
        else:
            errors["importance"] = "L'importance va de 1 à 5."
    for field in ("comment", "existing", "evidence"):
        value = getattr(data, field)
        if value is not None:
            if len(value) > MAX_TEXT:
                errors[field] = f"Ce texte est trop long ({MAX_TEXT} caractères au plus)."
            values[field] = value.strip()
    return errors, values


async def answer_save(*, organisation_id: uuid.UUID, diagnosis_id: uuid.UUID, user_id: uuid.UUID, data: AnswerInput) -> dict:
    """Save one member's answer to one practice; only the fields given change. Idempotent."""
    row, scope = await diagnosis_scope(organisation_id=organisation_id, diagnosis_id=diagnosis_id)
    if row["status"] != "open":
        raise Conflict("Ce diagnostic est clôturé : les réponses ne peuvent plus changer.")
    if scope.practice(data.practice_key) is None:
        raise ValidationFailed({"practice_key": "Cette pratique ne fait pas partie du diagnostic."})
    errors, values = _clean_answer(data)
    if errors:
        raise ValidationFailed(errors)
    values["updated_at"] = utcnow()
    where = (
        (DiagnosisAnswer.diagnosis == diagnosis_id)
        & (DiagnosisAnswer.member == user_id)
        & (DiagnosisAnswer.practice_key == data.practice_key)
    )
    for attempt in (1, 2):
        try:
            async with transaction():
                existing = await DiagnosisAnswer.objects().where(where).first()
                if existing is None:
                    existing = DiagnosisAnswer(diagnosis=diagnosis_id, member=user_id, practice_key=data.practice_key)
                for key, value in values.items():
                    setattr(existing, key, value)
                await existing.save()
            return existing.to_dict()
        except Exception as exc:
            # Two saves of the same answer at once (autosave and a submit): the second
            # insert hits the unique index; it then updates the row the first created.
            if attempt == 2 or not is_unique_violation(exc):
                raise
    raise AssertionError("unreachable")


async def diagnosis_close(*, organisation_id: uuid.UUID, diagnosis_id: uuid.UUID) -> None:
    async with transaction():
        changed = (
            await Diagnosis.update({Diagnosis.status: "closed", Diagnosis.closed_at: utcnow()})
            .where((Diagnosis.id == diagnosis_id) & (Diagnosis.organisation == organisation_id) & (Diagnosis.status == "open"))
            .returning(Diagnosis.id)
        )
        if not changed:
            if await Diagnosis.exists().where((Diagnosis.id == diagnosis_id) & (Diagnosis.organisation == organisation_id)):
                raise Conflict("Ce diagnostic est déjà clôturé.")
            raise NotFound("Diagnostic introuvable.")


async def diagnosis_reopen(*, organisation_id: uuid.UUID, diagnosis_id: uuid.UUID) -> None:
    async with transaction():
        if await Diagnosis.exists().where(
            (Diagnosis.organisation == organisation_id) & (Diagnosis.status == "open") & (Diagnosis.id != diagnosis_id)
        ):
            raise Conflict("Un autre diagnostic est en cours.")
        changed = (
            await Diagnosis.update({Diagnosis.status: "open", Diagnosis.closed_at: None})
            .where((Diagnosis.id == diagnosis_id) & (Diagnosis.organisation == organisation_id))
            .returning(Diagnosis.id)
        )
        if not changed:
            raise NotFound("Diagnostic introuvable.")


