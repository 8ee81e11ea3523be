"""``product_risk``: many product tickets (feature requests) in a recent window (RULES.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, false, func, select, true
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import account_tickets, customers, due, instant_before
from connector.rules.sqlfn import list_agg, split_list


class ProductRisk:
    """Fires on product tickets (any status or type) created in the last ``product.days``."""

    id = "product_risk"
    family = "product"
    requires = {
        "zendesk_ticket": ("status", "priority", "type", "tags", "created_at", "organization_id"),
        "zendesk_organization": ("account_id",),
    }

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
        if account_id is not None:
            return query.where(c.c.account_id == account_id)
        return query.having(fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['account_id']}"
        evidence = self.evidence(row, ctx)
        p = ctx.params.product
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="Product risk",
                type="Risk",
                reason="Product",
                priority="Medium",
                owner_id=ctx.owners["product_manager"],
                due_date=due(ctx, p.due_days),
                evidence=evidence,
            ),
            out.task(
                self.id,
                key,
                "stay-informed",
                row["account_id"],
                subject=f"Stay informed: product requests at {row['account_name']}",
                owner_id=row["csm_owner"],
                due_date=due(ctx, p.due_days),
                description=evidence,
            ),
        ]

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
