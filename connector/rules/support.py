"""``support_risk``: too many support tickets, or support tickets left open too long (RULES.md).

``support_figures`` is the one place the volume threshold and the condition live; the
scorecard's support measure reads the same subquery, so the rule and the measure never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, and_, case, func, literal, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause, Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
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


def support_figures(ctx: RuleContext) -> NamedFromClause:
    """Per customer: ``volume`` against ``threshold`` (override or default), ``old_open``,
    ``old_high`` and their ``condition``; ``open`` support tickets (the scorecard's ratio).

    Also ``account_name``, ``csm_owner``, ``override``, and the ticket ids and first creation
    instants (``*_ids``, ``*_first``) for evidence.
    """
    return shared(ctx, "support_figures", lambda: support_figures_query(ctx))


def support_figures_query(ctx: RuleContext) -> Subquery:
    """``support_figures`` as an inline subquery."""
    p = ctx.params.support
    t = account_tickets(ctx)
    c = customers(ctx)
    a = ctx.tables.account
    support = t.c.is_support
    in_window = and_(support, t.c.created_at >= instant_before(ctx, days=p.volume_days))
    old_open = and_(support, t.c.is_open, t.c.created_at < instant_before(ctx, days=p.max_age_days))
    old_high = and_(
        support,
        t.c.is_open,
        t.c.is_high,
        t.c.created_at < instant_before(ctx, hours=p.priority_hours),
    )
    threshold = func.coalesce(a.c.support_volume_threshold, p.volume_threshold)
    volume, n_old, n_high = (_count(x) for x in (in_window, old_open, old_high))
    condition = (volume >= threshold) | (n_old > 0) | (n_high > 0)
    query = (
        select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            threshold.cast(Integer).label("threshold"),
            a.c.support_volume_threshold.label("override"),
            volume.label("volume"),
            func.min(case((in_window, t.c.created_at))).label("volume_first"),
            n_old.label("old_open"),
            list_agg(case((old_open, t.c.ticket_id))).label("old_ids"),
            func.min(case((old_open, t.c.created_at))).label("old_first"),
            n_high.label("old_high"),
            list_agg(case((old_high, t.c.ticket_id))).label("high_ids"),
            func.min(case((old_high, t.c.created_at))).label("high_first"),
            _count(and_(support, t.c.is_open)).label("open"),
            case((condition, literal(True)), else_=literal(False)).label("condition"),
        )
        .select_from(
            c.join(a, a.c.id == c.c.account_id).outerjoin(t, t.c.account_id == c.c.account_id)
        )
        .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner, a.c.support_volume_threshold)
    )
    return query.subquery("support_figures")


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """How many tickets of the group meet ``condition`` (0 without tickets)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SupportRisk:
    """Fires on (a) volume in the window, (b) an old open ticket, (c) an old open urgent one."""

    id = "support_risk"
    family = "support"
    requires = {
        "account": ("support_volume_threshold",),
        **TICKET_REQUIRES,
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        f = support_figures(ctx)
        query = select(*f.c, f.c.condition.label("fires"))
        return firing_rows(query, f.c.account_id, account_id, f.c.condition)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        return out.ticket_risk(
            self.id,
            row,
            name="Support risk",
            reason="Support",
            priority="High",
            owner_id=ctx.owners["support_manager"],
            due_date=due(ctx, ctx.params.support.due_days),
            evidence=self.evidence(row, ctx),
            watch="support risk",
            watch_description=None,
            zendesk_type="support",
        )

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The figures against the thresholds, with ticket numbers and dates."""
        p = ctx.params.support
        source = "account override" if row["override"] is not None else "default"
        lines = [
            # The window start moves with the clock; not cited, so evidence moves with data only.
            f"(a) {row['volume']} support tickets created in the last {p.volume_days} days; "
            f"threshold {row['threshold']} ({source})"
            + (": reached" if row["volume"] >= row["threshold"] else ": not reached"),
        ]
        old = split_list(row["old_ids"], numeric=True)
        lines.append(
            f"(b) open support tickets older than {p.max_age_days} days: "
            + (
                f"{out.tickets(old)} (oldest created {out.when(row['old_first'])})"
                if old
                else "none"
            )
        )
        high = split_list(row["high_ids"], numeric=True)
        lines.append(
            f"(c) open high/urgent support tickets older than {p.priority_hours} hours: "
            + (
                f"{out.tickets(high)} (oldest created {out.when(row['high_first'])})"
                if high
                else "none"
            )
        )
        return "\n".join(lines)


RULES = [SupportRisk()]
