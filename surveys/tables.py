"""Self-diagnosis: an organisation's own view of its practices, answered as a team."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Integer, JSON, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from organisations.tables import Organisation, User


class CustomPractice(Table, tablename="custom_practice"):
    """A practice an organisation adds to the référentiel for itself."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    key = Varchar(length=60)
    theme = Varchar(length=40)
    org_statement = Text()
    stakeholder_statement = Text()
    categories = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow())


class Diagnosis(Table, tablename="diagnosis"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    title = Varchar(length=200)
    referentiel_key = Varchar(length=40)
    referentiel_version = Varchar(length=20)
    # Pinned at opening: the practices asked (référentiel keys and custom ones) and
    # a snapshot of the custom practices' wording, so results stay comparable.
    practice_keys = JSON(default=[])
    custom_practices = JSON(default=[])
    status = Varchar(length=20, default="open")  # open | closed
    opened_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    opened_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class DiagnosisAnswer(Table, tablename="diagnosis_answer"):
    """One member's answer to one practice (saved as it is given)."""

    id = UUID(primary_key=True)
    diagnosis = ForeignKey(references=Diagnosis, null=False, on_delete=OnDelete.cascade)
    member = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    practice_key = Varchar(length=60)
    answer = Varchar(length=20, null=True, default=None)  # level | dont_know | not_concerned
    level = Integer(null=True, default=None)
    importance = Integer(null=True, default=None)
    comment = Text(default="")
    existing = Text(default="")  # pratiques existantes
    evidence = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())
