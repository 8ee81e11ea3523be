"""``product_risk``: many product tickets (feature requests) in a recent window (RULES.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, false, func, select, true
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import (
    TICKET_REQUIRES,
    account_tickets,
    customers,
    due,
    firing_rows,
    instant_before,
)
from connector.rules.sqlfn import list_agg, split_list


class ProductRisk:
    """Fires on product tickets (any status or type) created in the last ``product.days``."""

    id = "product_risk"
    family = "product"
    requires = TICKET_REQUIRES

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        p = ctx.params.product
        t = account_tickets(ctx)
        c = customers(ctx)
        since = instant_before(ctx, days=p.days)
        recent = t.c.is_product & (t.c.created_at >= since)  # "in the last": bound included
        count = func.coalesce(func.sum(case((recent, 1), else_=0)), 0)
        fires = count >= p.min_count
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                c.c.csm_owner,
                count.label("product_tickets"),
                list_agg(case((recent, t.c.ticket_id))).label("ticket_ids"),
                func.min(case((recent, t.c.created_at))).label("first_created"),
                func.max(case((recent, t.c.created_at))).label("last_created"),
                case((fires, true()), else_=false()).label("fires"),
            )
            .select_from(c.outerjoin(t, t.c.account_id == c.c.account_id))
            .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner)
        )
        return firing_rows(query, c.c.account_id, account_id, fires, grouped=True)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        evidence = self.evidence(row, ctx)
        return out.ticket_risk(
            self.id,
            row,
            name="Product risk",
            reason="Product",
            priority="Medium",
            owner_id=ctx.owners["product_manager"],
            due_date=due(ctx, ctx.params.product.due_days),
            evidence=evidence,
            watch="product requests",
            watch_description=evidence,
        )

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The count against the minimum, with ticket numbers and the span of creation dates."""
        p = ctx.params.product
        ids = split_list(row["ticket_ids"], numeric=True)
        text = (
            f"{row['product_tickets']} product tickets (tags {', '.join(p.tags)}) created in "
            f"the last {p.days} days; minimum {p.min_count}"
            + (": reached" if row["product_tickets"] >= p.min_count else ": not reached")
        )
        if ids:
            text += (
                f"\ntickets {out.tickets(ids)}, created {out.when(row['first_created'])}"
                f" to {out.when(row['last_created'])}"
            )
        return text


RULES = [ProductRisk()]
