"""Usage rules (``usage_drop``, ``healthy_usage_expansion``) and the adoption measure's builders.

RULES.md "Usage": a row holds one account's figures for one ISO week, keyed by the week's
Monday; a week without a row has no data (not zero). A feature is green when its metric is at or
above its threshold in ``rules.features``; a blank metric is not green but counts among the N
tracked features; "k of 7 green" scales to N as ``green × 7 ≥ k × N``. Ratios from config are
compared as exact fractions, so 70 % of a mean of 10 is exactly 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Float, Integer, Select, and_, case, cast, func, literal, not_, null, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import customers, due, iso_week, week_monday

REFERENCE_FEATURES = 7  # "k of 7 green" in RULES.md is written for the default 7 features
ADOPTION_BANDS = ((5, "Green"), (4, "Yellow"), (2, "Orange"))  # of 7, scaled; else Red


# -- numbers ----------------------------------------------------------------------------------
def exact(value: float) -> Fraction:
    """A config number as the decimal an admin wrote: ``0.7`` is exactly 7/10."""
    return Fraction(str(value))


def number(value: Fraction | int | float) -> str:
    """A figure for evidence: ``10``, ``10.5``, ``10.33`` (at most two decimals)."""
    value = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def last_complete_week(ctx: RuleContext, weeks_back: int = 0) -> date:
    """The Monday of the last complete ISO week (``weeks_back`` weeks earlier still)."""
    return week_monday(ctx.today, 1 + weeks_back)


def week_label(monday: date) -> str:
    """``week of 2026-11-09 (2026-W46)``."""
    return f"week of {monday.isoformat()} ({iso_week(monday)})"


# -- weekly figures ---------------------------------------------------------------------------
def usage_by_week(
    ctx: RuleContext, mondays: Sequence[date], name: str = "usage_by_week"
) -> Subquery:
    """Per account and requested ISO week: ``account_id``, ``week_no`` (index into ``mondays``),
    ``active_users``, each tracked feature's metric, ``green`` and ``tracked`` (N).

    A row counts for the ISO week its ``week_start`` falls in; two rows for one account and week
    are merged by taking each figure's maximum. Only weeks with a row appear.
    """
    u = ctx.tables.usage_week
    features = ctx.params.features
    bucket = case(
        *(
            (and_(u.c.week_start >= m, u.c.week_start < m + timedelta(days=7)), i)
            for i, m in enumerate(mondays)
        ),
        else_=None,
    )
    metrics = [(u.c[col] if col in u.c else cast(null(), Float)).label(col) for col in features]
    rows = (
        select(u.c.account_id, bucket.label("week_no"), u.c.active_users, *metrics)
        .where(
            not_(u.c.deleted),
            u.c.week_start >= min(mondays),
            u.c.week_start < max(mondays) + timedelta(days=7),
        )
        .subquery(f"{name}_rows")
    )
    merged = (
        select(
            rows.c.account_id,
            rows.c.week_no,
            func.max(rows.c.active_users).label("active_users"),
            *(func.max(rows.c[col]).label(col) for col in features),
        )
        .group_by(rows.c.account_id, rows.c.week_no)
        .subquery(f"{name}_merged")
    )
    greens = [case((merged.c[col] >= threshold, 1), else_=0) for col, threshold in features.items()]
    green = sum(greens[1:], greens[0]) if greens else literal(0, Integer)
    return select(
        merged.c.account_id,
        merged.c.week_no,
        merged.c.active_users,
        *(merged.c[col] for col in features),
        green.label("green"),
        literal(len(features), Integer).label("tracked"),
    ).subquery(name)


def features_green(ctx: RuleContext, week_monday: date, name: str = "features_green") -> Subquery:
    """One row per customer for the ISO week of ``week_monday``: ``account_id``, ``has_row``,
    ``green`` (0 without a row), ``tracked`` (N), ``active_users`` and each feature's metric."""
    c = customers(ctx)
    w = usage_by_week(ctx, [week_monday], f"{name}_week")
    return (
        select(
            c.c.account_id,
            w.c.account_id.is_not(None).label("has_row"),
            func.coalesce(w.c.green, 0).label("green"),
            literal(len(ctx.params.features), Integer).label("tracked"),
            w.c.active_users,
            *(w.c[col] for col in ctx.params.features),
        )
        .select_from(c.outerjoin(w, w.c.account_id == c.c.account_id))
        .subquery(name)
    )


def green_at_least(green: Any, tracked: int, of_seven: int) -> Any:
    """``green × 7 ≥ k × N``: SQL when ``green`` is a column, a bool when it is an int."""
    return green * REFERENCE_FEATURES >= of_seven * tracked


def adoption_colour(green: int, tracked: int, has_row: bool = True) -> str | None:
    """The adoption colour: ≥ 5 of 7 Green, 4 Yellow, 2–3 Orange, ≤ 1 Red; None without data."""
    if not has_row or not tracked:
        return None
    return next((c for k, c in ADOPTION_BANDS if green_at_least(green, tracked, k)), "Red")


def green_names(row: RowMapping, ctx: RuleContext, prefix: str = "") -> list[str]:
    """The tracked features green in a row carrying their metrics (``<prefix><column>``)."""
    return [
        col
        for col, threshold in ctx.params.features.items()
        if row[f"{prefix}{col}"] is not None and row[f"{prefix}{col}"] >= threshold
    ]


def _mean(row: RowMapping) -> Fraction:
    """The mean of the weeks before (PostgreSQL sums integers as numeric: a Decimal)."""
    return Fraction(row["total_before"]) / int(row["n_before"])


def _figure(value: Any) -> str:
    return "no data" if value is None else str(value)


def _user_name(ctx: RuleContext, csm_owner: Any) -> ColumnElement[Any]:
    u = ctx.tables.user
    if "name" not in u.c:
        return literal(None)
    return select(u.c.name).where(u.c.id == csm_owner).limit(1).scalar_subquery()


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
        w = usage_by_week(ctx, mondays)
        c, a = customers(ctx), ctx.tables.account
        figures, fires = _drop_figures(ctx, w)
        renewal = a.c.renewal_date if "renewal_date" in a.c else literal(None)
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                c.c.csm_owner,
                _user_name(ctx, c.c.csm_owner).label("csm_name"),
                func.max(renewal).label("renewal_date"),
                *figures,
                func.coalesce(fires, False).label("fires"),
            )
            .select_from(
                c.join(a, a.c.id == c.c.account_id).outerjoin(w, w.c.account_id == c.c.account_id)
            )
            .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner)
        )
        if account_id is not None:
            return query.where(c.c.account_id == account_id)
        return query.having(fires)

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
                "mean_before": number(_mean(row)),
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
                f"Mean {number(mean)} over the {row['n_before']} weeks with data "
                f"(sum {row['total_before']}); minimum mean {number(p.min_mean)}; "
                f"threshold {number(ratio * 100)} % of the mean = {number(ratio * mean)}"
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
        if account_id is not None:
            return query.where(c.c.account_id == account_id)
        return query.where(fires)

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
