"""``support_risk``: too many support tickets, or support tickets left open too long (RULES.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, and_, case, func, select
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import account_tickets, customers, due, instant_before
from connector.rules.sqlfn import list_agg, split_list


class SupportRisk:
    """Fires on (a) volume in the window, (b) an old open ticket, (c) an old open urgent one."""

    id = "support_risk"
    family = "support"
    requires = {
        "account": ("support_volume_threshold",),
        "zendesk_ticket": ("status", "priority", "type", "tags", "created_at", "organization_id"),
        "zendesk_organization": ("account_id",),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        p = ctx.params.support
        t = account_tickets(ctx)
        c = customers(ctx)
        a = ctx.tables.account
        since = instant_before(ctx, days=p.volume_days)
        old = instant_before(ctx, days=p.max_age_days)
        urgent_old = instant_before(ctx, hours=p.priority_hours)
        support = t.c.is_support
        in_window = and_(support, t.c.created_at >= since)
        old_open = and_(support, t.c.is_open, t.c.created_at < old)
        old_high = and_(support, t.c.is_open, t.c.is_high, t.c.created_at < urgent_old)
        threshold = func.coalesce(a.c.support_volume_threshold, p.volume_threshold)
        volume = func.coalesce(func.sum(case((in_window, 1), else_=0)), 0)
        n_old = func.coalesce(func.sum(case((old_open, 1), else_=0)), 0)
        n_high = func.coalesce(func.sum(case((old_high, 1), else_=0)), 0)
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                c.c.csm_owner,
                threshold.cast(Integer).label("threshold"),
                a.c.support_volume_threshold.label("override"),
                volume.label("volume"),
                n_old.label("old_open"),
                n_high.label("old_high"),
                func.min(case((in_window, t.c.created_at))).label("volume_first"),
                list_agg(case((old_open, t.c.ticket_id))).label("old_ids"),
                func.min(case((old_open, t.c.created_at))).label("old_first"),
                list_agg(case((old_high, t.c.ticket_id))).label("high_ids"),
                func.min(case((old_high, t.c.created_at))).label("high_first"),
                ((volume >= threshold) | (n_old > 0) | (n_high > 0)).label("fires"),
            )
            .select_from(
                c.join(a, a.c.id == c.c.account_id).outerjoin(t, t.c.account_id == c.c.account_id)
            )
            .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner, a.c.support_volume_threshold)
        )
        if account_id is not None:
            return query.where(c.c.account_id == account_id)
        return query.having((volume >= threshold) | (n_old > 0) | (n_high > 0))

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['account_id']}"
        evidence = self.evidence(row, ctx)
        owner = ctx.owners["support_manager"]
        due_date = due(ctx, ctx.params.support.due_days)
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="Support risk",
                type="Risk",
                reason="Support",
                priority="High",
                owner_id=owner,
                due_date=due_date,
                evidence=evidence,
            ),
            out.task(
                self.id,
                key,
                "stay-informed",
                row["account_id"],
                subject=f"Stay informed: support risk at {row['account_name']}",
                owner_id=row["csm_owner"],
                due_date=due_date,
            ),
            out.zendesk_task(
                self.id,
                key,
                row["account_id"],
                subject=f"Support risk: {row['account_name']}",
                description=evidence,
                risk_type="support",
            ),
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The figures against the thresholds, with ticket numbers and dates."""
        p = ctx.params.support
        source = "account override" if row["override"] is not None else "default"
        lines = [
            f"(a) {row['volume']} support tickets created since "
            f"{out.when(instant_before(ctx, days=p.volume_days))} "
            f"(last {p.volume_days} days); threshold {row['threshold']} ({source})"
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
