"""Tables of the plans domain: actions and their indicators, reviews, the yearly cycle, the logo.

An action belongs to one organisation; everything else hangs off an action or the
organisation, and every read filters on the organisation (tenant isolation).
"""

from __future__ import annotations

from piccolo.columns import UUID, Bytea, Date, DoublePrecision, ForeignKey, Integer, JSON, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from consultations.tables import Campaign
from organisations.tables import Organisation, User
from surveys.tables import Diagnosis


class Action(Table, tablename="plan_action"):
    """One action of the plan: what, why (the finding), objectives at 1 and 3 years, who, when."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    title = Varchar(length=200)
    description = Text(default="")
    practice_keys = JSON(default=[])
    theme_key = Varchar(length=40, default="")
    finding = Text(default="")  # the constat: a priority's reason when created from one
    objective_1y = Text(default="")
    objective_3y = Text(default="")
    owner = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    due_on = Date(null=True, default=None)
    status = Varchar(length=20, default="a_lancer")  # a_lancer | en_cours | realisee | abandonnee
    abandon_reason = Text(default="")
    done_on = Date(null=True, default=None)  # when it became réalisée (or abandonnée)
    groups = JSON(default=[])  # names of the stakeholder groups involved
    source_campaign = ForeignKey(references=Campaign, null=True, on_delete=OnDelete.set_null)
    source_diagnosis = ForeignKey(references=Diagnosis, null=True, on_delete=OnDelete.set_null)
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    reminded_at = Timestamptz(null=True, default=None)


class Indicator(Table, tablename="plan_indicator"):
    id = UUID(primary_key=True)
    action = ForeignKey(references=Action, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=200)
    unit = Varchar(length=40, default="")
    baseline = DoublePrecision(null=True, default=None)
    target = DoublePrecision(null=True, default=None)
    current_value = DoublePrecision(null=True, default=None)
    current_on = Date(null=True, default=None)
    position = Integer(default=0)


class Review(Table, tablename="plan_review"):
    """A periodic review of the plan (yearly by default)."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    held_on = Date()
    notes = Text(default="")
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class ReviewEntry(Table, tablename="plan_review_entry"):
    """What a review recorded about one action: its status then, a note."""

    id = UUID(primary_key=True)
    review = ForeignKey(references=Review, null=False, on_delete=OnDelete.cascade)
    action = ForeignKey(references=Action, null=False, on_delete=OnDelete.cascade)
    status_before = Varchar(length=20)
    status_after = Varchar(length=20)
    reason = Text(default="")
    note = Text(default="")


class IndicatorValue(Table, tablename="plan_indicator_value"):
    """One measured value of an indicator (history); the latest is copied onto the indicator."""

    id = UUID(primary_key=True)
    indicator = ForeignKey(references=Indicator, null=False, on_delete=OnDelete.cascade)
    review = ForeignKey(references=Review, null=True, on_delete=OnDelete.cascade)
    value = DoublePrecision()
    measured_on = Date()
    created_at = Timestamptz(default=TimestamptzNow())


class PlanSettings(Table, tablename="plan_settings"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade, unique=True)
    review_months = Integer(default=12)


class Cycle(Table, tablename="plan_cycle"):
    """One year of the guide's method, up to the general assembly (unique per organisation and year).

    Holds what the data can't tell: the pilot, the presentations, and the AG's debate.
    """

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade)
    year = Integer()
    started_at = Timestamptz()  # data-derived steps count what happened from then on
    pilot = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    employees_informed_on = Date(null=True, default=None)
    ag_date = Date(null=True, default=None)
    ag_attendance = Integer(null=True, default=None)  # members present or represented
    ag_members = Integer(null=True, default=None)  # members called to the AG
    ag_debate = Text(default="")
    ag_decisions = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class Logo(Table, tablename="plan_logo"):
    """The organisation's logo for reports: a checked, re-encoded PNG or JPEG, at most 600 px."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, null=False, on_delete=OnDelete.cascade, unique=True)
    media_type = Varchar(length=20)
    content = Bytea()
    width = Integer()
    height = Integer()
    updated_at = Timestamptz(default=TimestamptzNow())
