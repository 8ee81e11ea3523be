"""``lifecycle_milestones``: a person closed a connector Lifecycle CTA as successful (RULES.md).

The matching milestone is dated at the close: the CTA's closed date (set by the connector when it
first sees the closed status), else today, the day the row is seen closed. A timeline note goes
with it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, not_, select
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import customers, firing_rows

SUCCESS = "Closed - Success"
MILESTONE_OF = {  # the rule that created the CTA -> the milestone its success records
    "exec_checkin": "Exec Check-in",
    "ebr_due": "EBR",
    "sales_handoff": "Sales Handoff",
    "ivm_handoff": "CS Handoff",
}


class LifecycleMilestones:
    """Record the milestone a closed-successful lifecycle CTA stands for."""

    id = "lifecycle_milestones"
    family = "lifecycle"
    requires = {
        "cs_cta": (
            "name",
            "account_id",
            "opportunity_id",
            "type",
            "status",
            "closed_date",
            "rule_id",
            "sync_key",
        ),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        c = customers(ctx)
        x = ctx.tables.cs_cta
        fires = and_(
            x.c.sync_key.is_not(None),
            x.c.type == "Lifecycle",
            x.c.rule_id.in_(tuple(MILESTONE_OF)),
            x.c.status == SUCCESS,
        )
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                x.c.id.label("cta_id"),
                x.c.name.label("cta_name"),
                x.c.rule_id,
                x.c.type,
                x.c.status,
                x.c.closed_date,
                x.c.opportunity_id,
                x.c.sync_key,
                fires.label("fires"),
            )
            .select_from(c.join(x, x.c.account_id == c.c.account_id))
            .where(not_(x.c.deleted))
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        kind = MILESTONE_OF[row["rule_id"]]
        day: date = row["closed_date"] or ctx.today
        key = f"{self.id}:{row['cta_id']}"
        evidence = self.evidence(row, ctx)
        note = out.timeline_note(
            self.id,
            f"{key}/note",
            row["account_id"],
            name=f"{kind} done",
            body=f"{kind} recorded: {evidence}",
            entry_date=day,
            entry_type="Milestone",
            cta_id=row["cta_id"],
        )
        return [
            out.milestone(
                self.id,
                key,
                row["account_id"],
                milestone_type=kind,
                milestone_date=day,
                opportunity_id=row["opportunity_id"],
                cta_id=row["cta_id"],
                notes=evidence,
            ),
            replace(note, parent_key=key),
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The CTA, its status and the date of the close."""
        closed = row["closed_date"]
        when = (
            f"closed {closed.isoformat()}"
            if closed is not None
            else "closed date blank: dated the day it was seen closed"
        )
        return (
            f"CTA {row['cta_name']} ({row['cta_id']}, rule {row['rule_id']}): status "
            f"{row['status'] or 'blank'}, {when}."
        )


RULES = [LifecycleMilestones()]
