"""``sales_handoff``: a New Business deal just won and not yet handed to CS (RULES.md, Lifecycle).

One CTA per opportunity: won, of a New Business type, closed in the last N days (``today - close
<= N``, close ``<= today``), with no "Sales Handoff" milestone of its account dated on or after
its close date.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.cadence import latest_milestone
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import customers, dated_within, due, firing_rows
from connector.rules.sqlfn import is_true

MILESTONE = "Sales Handoff"


class SalesHandoff:
    """Kickoff for the CSM and handoff notes for the AE on each new deal."""

    id = "sales_handoff"
    family = "lifecycle"
    requires = {
        "opportunity": ("account_id", "name", "type", "is_won", "close_date"),
        "cs_milestone": ("account_id", "milestone_type", "milestone_date"),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        p = ctx.params.sales_handoff
        c = customers(ctx)
        o = ctx.tables.opportunity
        handoff = latest_milestone(ctx, MILESTONE)
        new_business = o.c.type.in_(p.new_business_types)  # empty list: never
        recent = dated_within(ctx, o.c.close_date, p.days)
        handed_off = handoff.c.last_date >= o.c.close_date
        fires = and_(
            o.c.id.is_not(None),
            is_true(o.c.is_won),
            recent,
            new_business,
            or_(handoff.c.last_date.is_(None), not_(handed_off)),
        )
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            c.c.ae_owner,
            o.c.id.label("opportunity_id"),
            o.c.name.label("opportunity_name"),
            o.c.type.label("opportunity_type"),
            o.c.is_won,
            o.c.close_date,
            handoff.c.last_date.label("handoff_date"),
            fires.label("fires"),
        ).select_from(
            c.outerjoin(o, and_(o.c.account_id == c.c.account_id, not_(o.c.deleted))).outerjoin(
                handoff, handoff.c.account_id == c.c.account_id
            )
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['opportunity_id']}"
        due_date = due(ctx, ctx.params.sales_handoff.due_days)
        account, name = row["account_id"], row["account_name"]
        return [
            out.cta(
                self.id,
                key,
                account,
                name="Sales handoff",
                type="Lifecycle",
                reason="Onboarding",
                priority="Medium",
                owner_id=row["csm_owner"],
                due_date=due_date,
                evidence=self.evidence(row, ctx),
                opportunity_id=row["opportunity_id"],
            ),
            out.task(
                self.id,
                key,
                "kickoff",
                account,
                subject=f"Hold the kickoff with {name}",
                owner_id=row["csm_owner"],
                due_date=due_date,
                description=f"New deal {row['opportunity_name']} won on "
                f"{out.iso(row['close_date'])}: plan the customer kickoff.",
            ),
            out.task(
                self.id,
                key,
                "handoff-notes",
                account,
                subject=f"Write the handoff notes: {row['opportunity_name']}",
                owner_id=row["ae_owner"],
                due_date=due_date,
                description="For the CSM: what was sold and why, the stakeholders, the "
                "customer's goals, promises made and known risks.",
            ),
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The opportunity, its close date, and the latest handoff milestone."""
        p = ctx.params.sales_handoff
        latest = out.iso(row["handoff_date"]) or "none on record"
        return (
            f"Opportunity {row['opportunity_name']} ({row['opportunity_id']}), type "
            f"{row['opportunity_type']}, won, closed {out.iso(row['close_date'])} (window: close "
            f"date in the last {p.days} days).\n"
            f"No {MILESTONE} milestone dated on or after {out.iso(row['close_date'])}; latest "
            f"{MILESTONE} milestone: {latest}."
        )


RULES = [SalesHandoff()]
