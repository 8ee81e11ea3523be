"""``bug_risk``: too many open bug tickets, or an urgent bug left open too long (RULES.md).

``bug_figures`` is the one place the bug threshold and condition live; the scorecard's bug
measure reads the same subquery, so the rule and the measure can never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, Select, and_, case, cast, func, literal, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause, Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.params import exact
from connector.rules.scope import (
    TICKET_REQUIRES,
    account_tickets,
    customers,
    due,
    firing_rows,
    instant_before,
    shared,
)
from connector.rules.sqlfn import list_agg, split_list


def computed_threshold(ctx: RuleContext, purchased: ColumnElement[Any]) -> ColumnElement[Any]:
    """max(min_volume, ceil(purchased x per_license)) in exact integer SQL; blank: min_volume."""
    p = ctx.params.bug
    ratio = exact(p.per_license)  # 0.01 is exactly 1/100
    scaled = cast(purchased, BigInteger) * ratio.numerator
    # ceil(n / d) for n >= 0 as (n + d - 1) // d; negative n gives <= 0, below min_volume anyway.
    ceiling = (scaled + (ratio.denominator - 1)) // ratio.denominator
    return case(
        (purchased.is_(None), p.min_volume),
        (ceiling > p.min_volume, ceiling),
        else_=p.min_volume,
    )


def bug_figures(ctx: RuleContext) -> NamedFromClause:
    """Per customer: ``open_bugs``, ``threshold`` (override or computed) and ``condition``.

    Also ``account_name``, ``csm_owner``, ``licenses_purchased``, ``override``,
    ``computed_threshold``, ``open_ids``, ``old_high`` (open high/urgent bugs older than
    ``bug.max_age_days``), ``high_ids`` and ``high_first`` for evidence.
    """
    return shared(ctx, "bug_figures", lambda: bug_figures_query(ctx))


def bug_figures_query(ctx: RuleContext) -> Subquery:
    """``bug_figures`` as an inline subquery."""
    p = ctx.params.bug
    t = account_tickets(ctx)
    c = customers(ctx)
    a = ctx.tables.account
    old = instant_before(ctx, days=p.max_age_days)
    open_bug = and_(t.c.is_bug, t.c.is_open)
    old_high = and_(open_bug, t.c.is_high, t.c.created_at < old)
    computed = computed_threshold(ctx, a.c.licenses_purchased)
    threshold = func.coalesce(a.c.bug_volume_threshold, computed)
    n_open = func.coalesce(func.sum(case((open_bug, 1), else_=0)), 0)
    n_high = func.coalesce(func.sum(case((old_high, 1), else_=0)), 0)
    condition = (n_open >= threshold) | (n_high > 0)
    query = (
        select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            a.c.licenses_purchased,
            a.c.bug_volume_threshold.label("override"),
            cast(computed, Integer).label("computed_threshold"),
            cast(threshold, Integer).label("threshold"),
            n_open.label("open_bugs"),
            list_agg(case((open_bug, t.c.ticket_id))).label("open_ids"),
            n_high.label("old_high"),
            list_agg(case((old_high, t.c.ticket_id))).label("high_ids"),
            func.min(case((old_high, t.c.created_at))).label("high_first"),
            case((condition, literal(True)), else_=literal(False)).label("condition"),
        )
        .select_from(
            c.join(a, a.c.id == c.c.account_id).outerjoin(t, t.c.account_id == c.c.account_id)
        )
        .group_by(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            a.c.licenses_purchased,
            a.c.bug_volume_threshold,
        )
    )
    return query.subquery("bug_figures")


class BugRisk:
    """Fires on (a) open bug tickets at the threshold, (b) an old open high-priority bug."""

    id = "bug_risk"
    family = "bug"
    requires = {
        "account": ("licenses_purchased", "bug_volume_threshold"),
        **TICKET_REQUIRES,
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        f = bug_figures(ctx)
        query = select(*f.c, f.c.condition.label("fires"))
        return firing_rows(query, f.c.account_id, account_id, f.c.condition)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        evidence = self.evidence(row, ctx)
        return out.ticket_risk(
            self.id,
            row,
            name="Bug risk",
            reason="Bug",
            priority="High",
            owner_id=ctx.owners["support_manager"],
            due_date=due(ctx, ctx.params.bug.due_days),
            evidence=evidence,
            watch="bug risk",
            watch_description=evidence,
            zendesk_type="bug",
        )

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The open-bug count against the threshold (and how it was set), and the old bugs."""
        p = ctx.params.bug
        open_ids = split_list(row["open_ids"], numeric=True)
        reached = row["open_bugs"] >= row["threshold"]
        lines = [
            f"(a) {row['open_bugs']} open bug tickets"
            + (f" ({out.tickets(open_ids)})" if open_ids else "")
            + f"; threshold {row['threshold']} ({self._threshold_source(row, ctx)})"
            + (": reached" if reached else ": not reached"),
        ]
        high = split_list(row["high_ids"], numeric=True)
        lines.append(
            f"(b) open high/urgent bug tickets older than {p.max_age_days} days: "
            + (
                f"{out.tickets(high)} (oldest created {out.when(row['high_first'])})"
                if high
                else "none"
            )
        )
        return "\n".join(lines)

    @staticmethod
    def _threshold_source(row: RowMapping, ctx: RuleContext) -> str:
        p = ctx.params.bug
        if row["override"] is not None:
            return f"account override; computed would be {row['computed_threshold']}"
        if row["licenses_purchased"] is None:
            return f"bug.min_volume {p.min_volume}, licences purchased blank"
        return (
            f"max({p.min_volume}, ceil({row['licenses_purchased']} licences x {p.per_license:g}))"
        )


RULES = [BugRisk()]
