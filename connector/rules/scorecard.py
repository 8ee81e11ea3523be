"""``health_scorecard``: the six measures, the weighted overall, a weekly snapshot (RULES.md).

One set-based statement fetches every measure's figures per customer (the bug, deployment and
NPS figures from their own families' builders, so the rules and the measures never disagree);
``decide`` reads the colours (``measures``) and the exact weighted mean (``overall``) in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import Integer, Select, and_, case, false, func, literal, null, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.selectable import Subquery

from connector.rules.bug import bug_figures
from connector.rules.deployment import deployment_colour
from connector.rules.measures import POINTS, Colour, Measure, read_measures
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.nps import account_nps
from connector.rules.scope import (
    account_tickets,
    customers,
    instant_before,
    iso_week,
    last_activity,
    week_monday,
)
from connector.rules.sqlfn import list_agg
from connector.rules.usage import features_green

OVERALL_BANDS: tuple[tuple[int, Colour], ...] = ((75, "Green"), (50, "Yellow"), (25, "Orange"))


# -- the weighted mean (pure) -------------------------------------------------------------------
def overall(
    points_by_measure: Mapping[str, int | None], weights: Mapping[str, float]
) -> tuple[Fraction, Colour] | None:
    """The exact weighted mean of the measures with data, and its colour; None without any.

    A measure without data (points None) is left out and the other weights rescale; a measure
    missing from ``weights`` weighs 0. The mean is compared unrounded: >= 75 Green, >= 50
    Yellow, >= 25 Orange, else Red.
    """
    present = {m: p for m, p in points_by_measure.items() if p is not None}
    weight = {m: Fraction(str(weights.get(m, 0))) for m in present}
    total = sum(weight.values(), Fraction(0))
    if not present or total <= 0:
        return None
    score = sum((weight[m] * p for m, p in present.items()), Fraction(0)) / total
    for bound, colour in OVERALL_BANDS:
        if score >= bound:
            return score, colour
    return score, "Red"


def two_decimals(score: Fraction) -> float:
    """The score as stored (half up at the second decimal); never used to compare."""
    return float(Fraction(int(score * 100 + Fraction(1, 2)), 100))


@dataclass(frozen=True)
class Scorecard:
    """One account's measures and overall (``colour``/``score`` None: no measure with data)."""

    measures: list[Measure]
    colour: Colour | None
    score: Fraction | None

    @property
    def evidence(self) -> str:
        head = (
            f"overall {self.colour}: weighted mean {float(self.score):.6g} (Green >= 75, "
            f"Yellow >= 50, Orange >= 25, else Red)"
            if self.score is not None
            else "overall: no measure with data"
        )
        return "\n".join([head, *(m.evidence for m in self.measures)])


def scorecard_of(row: RowMapping, ctx: RuleContext) -> Scorecard:
    """The measures of one row and their weighted overall."""
    measures = read_measures(row, ctx)
    points = {m.name: None if m.colour is None else POINTS[m.colour] for m in measures}
    result = overall(points, ctx.params.scorecard.weights)
    if result is None:
        return Scorecard(measures, None, None)
    return Scorecard(measures, result[1], result[0])


# -- the statement ------------------------------------------------------------------------------
def support_figures(ctx: RuleContext) -> Subquery:
    """Per customer: support_risk's condition (as ``support.py`` reads it) and open tickets."""
    p = ctx.params.support
    t = account_tickets(ctx)
    c = customers(ctx)
    a = ctx.tables.account
    threshold = func.coalesce(a.c.support_volume_threshold, p.volume_threshold)
    s = t.c.is_support
    in_window = and_(s, t.c.created_at >= instant_before(ctx, days=p.volume_days))
    old_open = and_(s, t.c.is_open, t.c.created_at < instant_before(ctx, days=p.max_age_days))
    old_high = and_(
        s, t.c.is_open, t.c.is_high, t.c.created_at < instant_before(ctx, hours=p.priority_hours)
    )
    volume = func.coalesce(func.sum(case((in_window, 1), else_=0)), 0)
    condition = (
        (volume >= threshold)
        | (func.coalesce(func.sum(case((old_open, 1), else_=0)), 0) > 0)
        | (func.coalesce(func.sum(case((old_high, 1), else_=0)), 0) > 0)
    )
    query = (
        select(
            c.c.account_id,
            threshold.cast(Integer).label("threshold"),
            a.c.support_volume_threshold.label("override"),
            volume.label("volume"),
            func.coalesce(func.sum(case((and_(s, t.c.is_open), 1), else_=0)), 0).label("open"),
            list_agg(case((old_open, t.c.ticket_id))).label("old_ids"),
            list_agg(case((old_high, t.c.ticket_id))).label("high_ids"),
            case((condition, literal(True)), else_=literal(False)).label("condition"),
        )
        .select_from(
            c.join(a, a.c.id == c.c.account_id).outerjoin(t, t.c.account_id == c.c.account_id)
        )
        .group_by(c.c.account_id, a.c.support_volume_threshold)
    )
    return query.subquery("support_figures")


def scorecard_statement(ctx: RuleContext) -> tuple[Select[Any], Subquery]:
    """Every customer's measure figures in one statement, and its customers subquery."""
    c = customers(ctx)
    a = ctx.tables.account
    sf, bf, la = support_figures(ctx), bug_figures(ctx), last_activity(ctx)
    _, dep_colour = deployment_colour(ctx, a)
    columns: list[Any] = [
        c.c.account_id,
        c.c.account_name,
        c.c.csm_owner,
        *(
            sf.c[n].label(f"support_{n}")
            for n in ("threshold", "override", "volume", "open", "old_ids", "high_ids", "condition")
        ),
        bf.c.open_bugs.label("bug_open"),
        *(bf.c[n].label(f"bug_{n}") for n in ("threshold", "override", "high_ids", "condition")),
        a.c.licenses_active,
        a.c.licenses_purchased,
        dep_colour.label("dep_colour"),
        la.c.last_day.label("last_activity"),
        true().label("fires"),
    ]
    joined = (
        c.join(a, a.c.id == c.c.account_id)
        .join(sf, sf.c.account_id == c.c.account_id)
        .join(bf, bf.c.account_id == c.c.account_id)
        .join(la, la.c.account_id == c.c.account_id)
    )
    for optional in (_adoption, _nps):
        figures, more = optional(ctx)
        if figures is not None:
            joined = joined.join(figures, figures.c.account_id == c.c.account_id)
        columns += more
    return select(*columns).select_from(joined), c


def _adoption(ctx: RuleContext) -> tuple[Subquery | None, list[Any]]:
    """Features green in the last complete week (``usage.py``); unmapped usage: no data."""
    monday = week_monday(ctx.today, 1)
    week = literal(monday).label("usage_week")
    if not ctx.tables.has("usage_week", ("account_id", "week_start", "active_users")):
        return None, [week, false().label("usage_has_row"), null().label("features_green")]
    f = features_green(ctx, monday, "adoption")
    return f, [week, f.c.has_row.label("usage_has_row"), f.c.green.label("features_green")]


def _nps(ctx: RuleContext) -> tuple[Subquery | None, list[Any]]:
    """The account NPS over 180 days (``nps.py``); unmapped survey answers: no data."""
    names = ("promoters", "detractors", "responses")
    if not ctx.tables.has("survey_answer", ("account_id", "kind", "score", "answer_date")):
        return None, [null().label(n) for n in ("nps", *(f"nps_{n}" for n in names))]
    f = account_nps(ctx)
    return f, [f.c.nps, *(f.c[n].label(f"nps_{n}") for n in names)]


REQUIRES: dict[str, tuple[str, ...]] = {
    "account": (
        "licenses_purchased",
        "licenses_active",
        "support_volume_threshold",
        "bug_volume_threshold",
    ),
    "zendesk_ticket": ("status", "priority", "type", "tags", "created_at", "organization_id"),
    "zendesk_organization": ("account_id",),
    "task": ("what_id", "who_id", "activity_date", "is_closed", "created_at", "sync_key"),
    "event": ("what_id", "who_id", "start_at", "sync_key"),
    "cs_timeline_entry": ("account_id", "entry_date", "sync_key"),
    "opportunity": ("account_id",),
    "contact": ("account_id",),
}


# -- the rule -----------------------------------------------------------------------------------
class HealthScorecard:
    """Every customer, every cycle: this ISO week's snapshot and the account's current health."""

    id = "health_scorecard"
    family = "scorecard"
    requires = REQUIRES

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        query, c = scorecard_statement(ctx)
        return query if account_id is None else query.where(c.c.account_id == account_id)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        card = scorecard_of(row, ctx)
        account = row["account_id"]
        week = iso_week(ctx.today)
        score = None if card.score is None else two_decimals(card.score)
        fields: dict[str, Any] = {
            "name": f"Health {week}",
            "account_id": account,
            "week": week,
            "week_start": week_monday(ctx.today),
            "overall_color": card.colour,
            "overall_score": score,
            "evidence": card.evidence,
        }
        for m in card.measures:
            fields[f"{m.name}_color"] = m.colour
            fields[f"{m.name}_figure"] = m.figure
        health = {"health_score": score, "health_color": card.colour, "health_updated": ctx.today}
        return [
            DesiredOutput(
                f"{self.id}:{account}:{week}",
                self.id,
                "health_snapshot",
                account,
                fields=fields,
                evidence=card.evidence,
            ),
            DesiredOutput(
                f"{self.id}:{account}",
                self.id,
                "account_health",
                account,
                fields=health,
                evidence=card.evidence,
            ),
        ]


RULES = [HealthScorecard()]
