"""Generated, realistic data for one stakeholder consultation (benchmark a).

One campaign of ``n_responses`` responses × 40 practices of the "complet"
référentiel, spread over 7 stakeholder groups of very different sizes and
weights. Levels are drawn around a group-dependent mean, shifted per practice
and per group × practice, so the groups really disagree on some practices;
about 8 % of answers are "je ne sais pas" (more for outsiders such as
usagers and financeurs), ~2 % "non concerné·e", importance is given on ~90 %
of answers, and ~1.5 % of answers carry a comment. The financeurs group has
only a handful of respondents, so anonymity suppression (primary and
complementary) is exercised on every run.

Everything is deterministic for a given seed (``random.Random``; no numpy).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

import polars as pl

from analytics.frames import GROUPS_SCHEMA, PRACTICES_SCHEMA, SELF_ANSWERS_SCHEMA
from consultations.answer_codes import encode as encode_answers

N_PRACTICES = 40
REFERENTIEL_KEY = "complet"


@dataclass(frozen=True)
class GroupSpec:
    key: str
    name: str
    category: str
    weight: float
    share: float  # share of the respondents
    level_mean: float
    dont_know: float  # probability of "je ne sais pas"
    open_link: bool


GROUP_SPECS: tuple[GroupSpec, ...] = (
    GroupSpec("salaries", "Salariés", "salaries", 3.0, 0.300, 3.4, 0.05, False),
    GroupSpec("adherents", "Adhérents", "adherents", 2.0, 0.240, 3.1, 0.09, False),
    GroupSpec("benevoles", "Bénévoles", "benevoles", 2.0, 0.200, 3.8, 0.07, False),
    GroupSpec("usagers", "Usagers", "usagers", 3.0, 0.170, 2.8, 0.12, True),
    GroupSpec("partenaires", "Partenaires et réseaux", "partenaires", 1.0, 0.060, 3.0, 0.10, False),
    GroupSpec("administrateurs", "Conseil d'administration", "administrateurs", 4.0, 0.0296, 4.1, 0.02, False),
    GroupSpec("financeurs", "Financeurs", "financeurs", 5.0, 0.0004, 2.6, 0.15, False),
)

NOT_CONCERNED = 0.02
IMPORTANCE_GIVEN = 0.90
COMMENT_RATE = 0.015
COMMENTS = (
    "Je ne connais pas bien ce point.",
    "Des progrès depuis l'an dernier, à poursuivre.",
    "C'est affiché mais peu appliqué au quotidien.",
    "Très bien fait, merci à l'équipe.",
    "On en parle en réunion, sans suite concrète.",
    "À mieux expliquer aux nouveaux arrivants.",
)


def practices_frame() -> pl.DataFrame:
    """The first 40 practices of the "complet" référentiel (8 themes), as PRACTICES_SCHEMA."""
    from surveys.referentiel import get_referentiel

    ref = get_referentiel(REFERENTIEL_KEY)
    numbers = {t.key: t.number for t in ref.themes}
    practices = ref.practices[:N_PRACTICES]
    return pl.DataFrame(
        {
            "practice_key": [p.key for p in practices],
            "theme_key": [p.theme for p in practices],
            "theme_number": [numbers[p.theme] for p in practices],
            "label": [p.org_statement.fr for p in practices],
        },
        schema=PRACTICES_SCHEMA,
    )


def group_sizes(n_responses: int) -> list[int]:
    """Respondents per group (largest-remainder rounding of the shares)."""
    raw = [g.share * n_responses for g in GROUP_SPECS]
    sizes = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - sizes[i], reverse=True)
    for i in order[: n_responses - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _clamp_level(x: float) -> int:
    return max(1, min(5, int(round(x))))


@dataclass
class Campaign:
    """One generated campaign, ready to be inserted."""

    organisation_id: uuid.UUID
    campaign_id: uuid.UUID
    title: str
    practice_keys: list[str]
    groups: list[dict]  # campaign_group rows
    responses: list[tuple]  # (id, campaign, campaign_group, language, via_open_link, submitted_on, answer_codes, importance_codes)
    answers: list[tuple]  # (id, response, campaign, campaign_group, practice_key, answer, level, importance, comment)

    def groups_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "group_id": [str(g["id"]) for g in self.groups],
                "group_name": [g["name"] for g in self.groups],
                "category": [g["category"] for g in self.groups],
                "weight": [g["weight"] for g in self.groups],
                "open_link": [g["shared_link_nonce"] is not None for g in self.groups],
            },
            schema=GROUPS_SCHEMA,
        )

    def expected_responses_frame(self) -> pl.DataFrame:
        """What a correct reader must return (RESPONSES_SCHEMA), for checks."""
        cols = list(zip(*self.answers, strict=True)) if self.answers else [[]] * 9
        return pl.DataFrame(
            {
                "response_id": [str(x) for x in cols[1]],
                "group_id": [str(x) for x in cols[3]],
                "practice_key": list(cols[4]),
                "answer": list(cols[5]),
                "level": list(cols[6]),
                "importance": list(cols[7]),
            },
            schema={
                "response_id": pl.String,
                "group_id": pl.String,
                "practice_key": pl.String,
                "answer": pl.String,
                "level": pl.Int8,
                "importance": pl.Int8,
            },
        )


def generate_campaign(
    n_responses: int,
    *,
    organisation_id: uuid.UUID,
    practice_keys: list[str],
    seed: int = 7,
    title: str = "Consultation des parties prenantes 2026",
) -> Campaign:
    rng = random.Random(seed)
    campaign_id = _uuid(rng)
    # Practice effects: some practices are well established, others lag behind.
    practice_shift = {p: rng.uniform(-0.7, 0.7) for p in practice_keys}
    practice_importance = {p: rng.uniform(2.6, 4.4) for p in practice_keys}
    groups: list[dict] = []
    responses: list[tuple] = []
    answers: list[tuple] = []
    day0 = dt.date(2026, 9, 1)
    for spec, size in zip(GROUP_SPECS, group_sizes(n_responses), strict=True):
        gid = _uuid(rng)
        groups.append(
            {
                "id": gid,
                "name": spec.name,
                "category": spec.category,
                "weight": spec.weight,
                "shared_link_nonce": f"{rng.getrandbits(64):016x}" if spec.open_link else None,
            }
        )
        # Group × practice interaction: each group sees a few practices quite differently.
        interaction = {p: rng.gauss(0.0, 0.35) for p in practice_keys}
        imp_shift = rng.uniform(-0.5, 0.5)
        for _ in range(size):
            rid = _uuid(rng)
            response = (rid, campaign_id, gid, "fr" if rng.random() < 0.93 else "en", spec.open_link,
                        day0 + dt.timedelta(days=rng.randrange(42)))
            packed: dict[str, dict] = {}
            leniency = rng.gauss(0.0, 0.45)  # some people rate everything higher
            for p in practice_keys:
                u = rng.random()
                if u < spec.dont_know:
                    answer, level = "dont_know", None
                elif u < spec.dont_know + NOT_CONCERNED:
                    answer, level = "not_concerned", None
                else:
                    answer = "level"
                    level = _clamp_level(
                        rng.gauss(spec.level_mean + practice_shift[p] + interaction[p] + leniency, 0.85)
                    )
                importance = (
                    _clamp_level(rng.gauss(practice_importance[p] + imp_shift, 0.9))
                    if rng.random() < IMPORTANCE_GIVEN
                    else None
                )
                comment = rng.choice(COMMENTS) if rng.random() < COMMENT_RATE else ""
                answers.append((_uuid(rng), rid, campaign_id, gid, p, answer, level, importance, comment))
                packed[p] = {"answer": str(level) if level else answer, "importance": str(importance or "")}
            # The packed copy the app writes beside the answer rows (consultations/answer_codes.py).
            responses.append((*response, *encode_answers(packed, practice_keys)))
    return Campaign(organisation_id, campaign_id, title, list(practice_keys), groups, responses, answers)


def generate_self_answers(practice_keys: list[str], *, members: int = 5, seed: int = 11) -> pl.DataFrame:
    """The organisation's own self-diagnosis: ``members`` members × practices (SELF_ANSWERS_SCHEMA).

    Members rate themselves about 0.4 above the stakeholders' overall mean, with
    some internal disagreement on a few practices.
    """
    rng = random.Random(seed)
    shift = {p: rng.uniform(-0.6, 0.9) for p in practice_keys}
    rows = []
    for m in range(members):
        for p in practice_keys:
            if rng.random() < 0.05:
                rows.append((f"membre-{m + 1}", p, "dont_know", None, _clamp_level(rng.gauss(3.8, 0.8))))
            else:
                rows.append(
                    (f"membre-{m + 1}", p, "level", _clamp_level(rng.gauss(3.7 + shift[p], 0.7)),
                     _clamp_level(rng.gauss(3.8, 0.8)))
                )
    return pl.DataFrame(rows, schema=SELF_ANSWERS_SCHEMA, orient="row")
