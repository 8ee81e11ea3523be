"""Usage rules (RULES.md): ``usage_drop`` and ``healthy_usage_expansion``.

The weekly figures they read (a week without a row is no data; features green scaled from 7 to
the tracked N) are built in ``usage_weeks``, which ``ivm_handoff`` and the scorecard share.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import Select, and_, case, func, not_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.params import exact
from connector.rules.scope import customers, due, firing_rows, renewal_field, user_name
from connector.rules.usage_weeks import (
    REFERENCE_FEATURES,
    features_green,
    green_at_least,
    green_names,
    last_complete_week,
    usage_by_week,
    week_label,
)


def _mean(row: RowMapping) -> Fraction:
    """The mean of the weeks before (PostgreSQL sums integers as numeric: a Decimal)."""
    return Fraction(row["total_before"]) / int(row["n_before"])


def _figure(value: Any) -> str:
    return "no data" if value is None else str(value)


# -- usage_drop -------------------------------------------------------------------------------
def _drop_figures(ctx: RuleContext, w: Subquery) -> tuple[list[Any], ColumnElement[bool]]:
    """Per account (aggregated over ``usage_by_week``): last week's figure, the rows before,
    their sum, each week's figure for evidence, and the condition compared in integers."""
    p = ctx.params.usage
    active, week_no = w.c.active_users, w.c.week_no
    last = func.max(case((week_no == 0, active)))
    n_last = func.count(case((and_(week_no == 0, active.is_not(None)), 1)))
    n_before = func.count(case((and_(week_no > 0, active.is_not(None)), 1)))
    total = func.coalesce(func.sum(case((week_no > 0, active))), 0)
    ratio, floor = exact(p.drop_ratio), exact(p.min_mean)
    fires = and_(
        n_last > 0,
        n_before > 0,
        total * floor.denominator >= floor.numerator * n_before,
        last * n_before * ratio.denominator <= ratio.numerator * total,
    )
    figures = [
        last.label("last_active"),
        n_last.label("n_last"),
        n_before.label("n_before"),
        total.label("total_before"),
        *(
            func.max(case((week_no == i, active))).label(f"active_before_{i}")
            for i in range(1, p.weeks_before + 1)
        ),
    ]
    return figures, fires


class UsageDrop:
    """Active users last week at most 70 % of the mean of the 4 weeks before (mean ≥ 5)."""

    id = "usage_drop"
    family = "usage"
    requires = {"usage_week": ("account_id", "week_start", "active_users")}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        mondays = [last_complete_week(ctx, i) for i in range(ctx.params.usage.weeks_before + 1)]
        c, a = customers(ctx), ctx.tables.account
        w = usage_by_week(ctx, mondays, accounts=c)
        figures, fires = _drop_figures(ctx, w)
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                c.c.csm_owner,
                user_name(ctx, c.c.csm_owner).label("csm_name"),
                func.max(renewal_field(ctx)).label("renewal_date"),
                *figures,
                func.coalesce(fires, False).label("fires"),
            )
            .select_from(
                c.join(a, a.c.id == c.c.account_id).outerjoin(w, w.c.account_id == c.c.account_id)
            )
            .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner)
        )
        return firing_rows(query, c.c.account_id, account_id, fires, grouped=True)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key, account = f"{self.id}:{row['account_id']}", row["account_id"]
        owned: dict[str, Any] = {
            "owner_id": row["csm_owner"],
            "due_date": due(ctx, ctx.params.usage.due_days),
        }
        renewal = row["renewal_date"]
        email = ctx.templates.render(
            "usage_drop",
            account={"name": row["account_name"], "renewal_date": renewal or ""},
            csm={"name": row["csm_name"] or ""},
            usage={
                "last_week": f"the week of {last_complete_week(ctx).isoformat()}",
                "active_users": row["last_active"],
                "mean_before": out.number(_mean(row)),
            },
        )
        cta = out.cta(
            self.id,
            key,
            account,
            name="Usage drop",
            type="Risk",
            reason="Usage",
            priority="High",
            evidence=self.evidence(row, ctx),
            **owned,
        )
        subject = f"Usage dropped at {row['account_name']}: reach out"
        return [
            cta,
            out.task(self.id, key, "email", account, subject=subject, description=email, **owned),
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """Last week's active users against the mean of the weeks before, week by week."""
        p = ctx.params.usage
        before = "; ".join(
            f"{last_complete_week(ctx, i).isoformat()}: {_figure(row[f'active_before_{i}'])}"
            for i in range(p.weeks_before, 0, -1)
        )
        lines = [
            f"Active users in the last complete week, the {week_label(last_complete_week(ctx))}: "
            f"{_figure(row['last_active'])}",
            f"The {p.weeks_before} weeks before: {before}",
        ]
        if row["n_before"]:
            mean, ratio = _mean(row), exact(p.drop_ratio)
            lines.append(
                f"Mean {out.number(mean)} over the {row['n_before']} weeks with data "
                f"(sum {row['total_before']}); minimum mean {out.number(p.min_mean)}; "
                f"threshold {out.number(ratio * 100)} % of the mean = {out.number(ratio * mean)}"
            )
        return "\n".join(lines)


# -- healthy_usage_expansion ------------------------------------------------------------------
class HealthyUsageExpansion:
    """The account moves into healthy usage: ≥ 5 of 7 green last week, fewer the week before."""

    id = "healthy_usage_expansion"
    family = "usage"
    requires = {"usage_week": ("account_id", "week_start")}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        k, n = ctx.params.expansion.healthy_features, len(ctx.params.features)
        c = customers(ctx)
        last = features_green(ctx, last_complete_week(ctx), "usage_last")
        prev = features_green(ctx, last_complete_week(ctx, 1), "usage_prev")
        healthy = green_at_least(last.c.green, n, k)
        fires = and_(
            last.c.has_row, prev.c.has_row, healthy, not_(green_at_least(prev.c.green, n, k))
        )
        columns = ("has_row", "green", *ctx.params.features)
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            last.c.tracked,
            *(w.c[col].label(f"{w.name}_{col}") for w in (last, prev) for col in columns),
            func.coalesce(fires, False).label("fires"),
        ).select_from(
            c.join(last, last.c.account_id == c.c.account_id).join(
                prev, prev.c.account_id == c.c.account_id
            )
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['account_id']}"
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="Healthy usage: discuss expansion",
                type="Expansion",
                reason="Usage",
                priority="Medium",
                owner_id=row["csm_owner"],
                due_date=due(ctx, ctx.params.expansion.healthy_due_days),
                evidence=self.evidence(row, ctx),
            )
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """Green features in both weeks, named, against the scaled threshold."""
        k, n = ctx.params.expansion.healthy_features, row["tracked"]
        lines = []
        for name, weeks_back in (("usage_last", 0), ("usage_prev", 1)):
            label = week_label(last_complete_week(ctx, weeks_back))
            names = ", ".join(green_names(row, ctx, f"{name}_"))
            lines.append(
                f"{label}: {row[f'{name}_green']} of {n} tracked features green"
                + (f" ({names})" if names else "")
                if row[f"{name}_has_row"]
                else f"{label}: no usage row"
            )
        lines.append(
            f"Healthy usage: at least {k} of {REFERENCE_FEATURES} green, scaled to {n} tracked "
            f"(green × {REFERENCE_FEATURES} ≥ {k} × {n})"
        )
        return "\n".join(lines)


RULES = [UsageDrop(), HealthyUsageExpansion()]
