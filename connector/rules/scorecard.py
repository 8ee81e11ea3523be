"""``health_scorecard``: the six measures, the weighted overall, a weekly snapshot (RULES.md).

One set-based statement fetches every measure's figures per customer (the support, bug,
deployment, adoption and NPS figures from their own families' builders, so the rules and the
measures never disagree); ``decide`` reads the colours (``measures``) and the exact weighted
mean (``overall``) in Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import Select, false, literal, null, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.selectable import NamedFromClause

from connector.rules import outputs as out
from connector.rules.bands import Colour, WholeBands
from connector.rules.bug import bug_figures
from connector.rules.deployment import deployment_colour
from connector.rules.measures import (
    Measure,
    colour_at_least,
    exact_bound,
    read_colours,
    read_measures,
)
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.nps_data import account_nps
from connector.rules.scope import (
    ACTIVITY_REQUIRES,
    TICKET_REQUIRES,
    customers,
    iso_week,
    last_activity,
    week_monday,
)
from connector.rules.support import support_figures
from connector.rules.usage_weeks import features_green


# -- the weighted mean (pure) -------------------------------------------------------------------
def overall(
    points_by_measure: Mapping[str, int | None], weights: Mapping[str, float], bands: WholeBands
) -> tuple[Fraction, Colour] | None:
    """The exact weighted mean of the measures with data, and its colour; None without any.

    A measure without data (points None) is left out and the other weights rescale; a measure
    missing from ``weights`` weighs 0. The mean is compared unrounded with ``bands`` (defaults
    >= 75 Green, >= 50 Yellow, >= 25 Orange, else Red).
    """
    present = {m: p for m, p in points_by_measure.items() if p is not None}
    weight = {m: exact_bound(weights.get(m, 0)) for m in present}
    # The same exact mean in integers (one Fraction, not two per measure): each weight scaled
    # to the common denominator of all of them, sum(w * p) / sum(w) unchanged.
    common = math.lcm(*(w.denominator for w in weight.values())) if weight else 1
    scaled = {m: w.numerator * (common // w.denominator) for m, w in weight.items()}
    total = sum(scaled.values())
    if not present or total <= 0:
        return None
    score = Fraction(sum(scaled[m] * p for m, p in present.items()), total)
    return score, colour_at_least(score, bands)


def two_decimals(score: Fraction) -> float:
    """The score as stored (half up at the second decimal); never used to compare."""
    return float(Fraction(int(score * 100 + Fraction(1, 2)), 100))


@dataclass(frozen=True)
class Scorecard:
    """One account's measures and overall (``colour``/``score`` None: no measure with data)."""

    measures: list[Measure]
    colour: Colour | None
    score: Fraction | None
    bands: WholeBands

    @property
    def evidence(self) -> str:
        head = (
            f"overall {self.colour}: weighted mean {float(self.score):.6g} "
            f"({out.bands_text(self.bands)})"
            if self.score is not None
            else "overall: no measure with data"
        )
        return "\n".join([head, *(m.evidence for m in self.measures)])


def _overall_of(
    colours: Mapping[str, Colour | None], ctx: RuleContext
) -> tuple[Fraction, Colour] | None:
    p = ctx.params.scorecard
    points = {m: None if c is None else p.points.of(c) for m, c in colours.items()}
    return overall(points, p.weights, p.overall_bands)


def overall_colour(row: RowMapping, ctx: RuleContext) -> Colour | None:
    """``scorecard_of(row, ctx).colour``, without writing any measure's evidence."""
    result = _overall_of(read_colours(row, ctx), ctx)
    return None if result is None else result[1]


def scorecard_of(row: RowMapping, ctx: RuleContext) -> Scorecard:
    """The measures of one row and their weighted overall."""
    p = ctx.params.scorecard
    measures = read_measures(row, ctx)
    result = _overall_of({m.name: m.colour for m in measures}, ctx)
    if result is None:
        return Scorecard(measures, None, None, p.overall_bands)
    return Scorecard(measures, result[1], result[0], p.overall_bands)


# -- the statement ------------------------------------------------------------------------------
def scorecard_statement(ctx: RuleContext) -> tuple[Select[Any], NamedFromClause]:
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


def _adoption(ctx: RuleContext) -> tuple[NamedFromClause | None, list[Any]]:
    """Features green in the last complete week (``usage.py``); unmapped usage: no data."""
    monday = week_monday(ctx.today, 1)
    week = literal(monday).label("usage_week")
    if not ctx.tables.has("usage_week", ("account_id", "week_start", "active_users")):
        return None, [week, false().label("usage_has_row"), null().label("features_green")]
    f = features_green(ctx, monday, "adoption")
    return f, [week, f.c.has_row.label("usage_has_row"), f.c.green.label("features_green")]


def _nps(ctx: RuleContext) -> tuple[NamedFromClause | None, list[Any]]:
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
    **TICKET_REQUIRES,
    **ACTIVITY_REQUIRES,
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
        # Written once: ``Scorecard.evidence`` builds the text on each read, and the three
        # places below would hold three copies of it (about 1.5 kB an account) until stored.
        evidence = card.evidence
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
            "evidence": evidence,
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
                evidence=evidence,
            ),
            DesiredOutput(
                f"{self.id}:{account}",
                self.id,
                "account_health",
                account,
                fields=health,
                evidence=evidence,
            ),
        ]


RULES = [HealthScorecard()]
