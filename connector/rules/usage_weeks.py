"""Weekly usage figures (RULES.md "Usage"), shared by the usage rules, ``ivm_handoff`` and the
scorecard's adoption measure.

A usage row holds one account's figures for one ISO week, keyed by the week's Monday; a week
without a row has no data (not zero). A feature is green when its metric is at or above its
threshold in ``rules.features``; a blank metric is not green but counts among the N tracked
features; "k of 7 green" scales to N as ``green × 7 ≥ k × N``. Ratios from config are compared
as exact fractions, so 70 % of a mean of 10 is exactly 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, not_, null, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.selectable import NamedFromClause, Subquery

from connector.rules.bands import Colour, WholeBands
from connector.rules.model import RuleContext
from connector.rules.scope import customers, iso_week, week_monday

REFERENCE_FEATURES = 7  # "k of 7 green" in RULES.md is written for the default 7 features


def last_complete_week(ctx: RuleContext, weeks_back: int = 0) -> date:
    """The Monday of the last complete ISO week (``weeks_back`` weeks earlier still)."""
    return week_monday(ctx.today, 1 + weeks_back)


def week_label(monday: date) -> str:
    """``week of 2026-11-09 (2026-W46)``."""
    return f"week of {monday.isoformat()} ({iso_week(monday)})"


# -- weekly figures ---------------------------------------------------------------------------
def usage_by_week(
    ctx: RuleContext,
    mondays: Sequence[date],
    name: str = "usage_by_week",
    accounts: NamedFromClause | None = None,
) -> Subquery:
    """Per account and requested ISO week: ``account_id``, ``week_no`` (index into ``mondays``),
    ``active_users``, each tracked feature's metric, ``green`` and ``tracked`` (N).

    A row counts for the ISO week its ``week_start`` falls in; two rows for one account and week
    are merged by taking each figure's maximum. Only weeks with a row appear. With ``accounts``
    (the customers a rule reads) in an incremental evaluation (``ctx.scope``), only their rows,
    through the ``account_id`` index; over every customer a scan is cheaper.
    """
    if ctx.scope is None:
        accounts = None
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
            *([u.c.account_id.in_(select(accounts.c.account_id))] if accounts is not None else []),
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


def features_green(
    ctx: RuleContext, week_monday: date, name: str = "features_green"
) -> NamedFromClause:
    """One row per customer for the ISO week of ``week_monday``: ``account_id``, ``has_row``,
    ``green`` (0 without a row), ``tracked`` (N), ``active_users`` and each feature's metric.

    Shared per week (``features_green_key``): the scorecard, the usage rules and ``ivm_handoff``
    read the same two weeks."""
    table = ctx.shared.get(features_green_key(week_monday))
    if table is not None:  # materialised once for the run (``connector.rules.shared``)
        return table.alias(name)
    return features_green_query(ctx, week_monday, name)


def features_green_key(week_monday: date) -> str:
    """The name ``features_green`` of one week goes by in ``ctx.shared``."""
    return f"features_green_{week_monday.strftime('%Y%m%d')}"


def features_green_query(
    ctx: RuleContext, week_monday: date, name: str = "features_green"
) -> Subquery:
    """``features_green`` as an inline subquery."""
    c = customers(ctx)
    w = usage_by_week(ctx, [week_monday], f"{name}_week", accounts=c)
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


def green_at_least(green: Any, tracked: int, of_seven: float) -> Any:
    """``green × 7 ≥ k × N``: SQL when ``green`` is a column, a bool when it is an int."""
    return green * REFERENCE_FEATURES >= of_seven * tracked


def adoption_colour(
    green: int, tracked: int, bands: WholeBands, has_row: bool = True
) -> Colour | None:
    """The adoption colour: at least ``bands`` of 7 green, scaled to the N tracked (defaults
    ≥ 5 Green, 4 Yellow, 2–3 Orange, ≤ 1 Red); None without data."""
    if not has_row or not tracked:
        return None
    return next((c for k, c in bands.bounds() if green_at_least(green, tracked, k)), "Red")


def green_names(row: RowMapping, ctx: RuleContext, prefix: str = "") -> list[str]:
    """The tracked features green in a row carrying their metrics (``<prefix><column>``)."""
    return [
        col
        for col, threshold in ctx.params.features.items()
        if row[f"{prefix}{col}"] is not None and row[f"{prefix}{col}"] >= threshold
    ]
