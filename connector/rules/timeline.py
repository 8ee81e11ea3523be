"""``timeline_hygiene``: a high-touch account with no activity for more than N days (RULES.md).

Days since the last activity (``scope.last_activity``: the connector's own records never count)
``> N``; an account with no activity at all is infinitely long ago. The CTA auto-closes once an
activity is logged after it opened: reconcile does that, told by ``auto_close`` in its fields.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import (
    ACTIVITY_REQUIRES,
    customers,
    days_before,
    due,
    firing_rows,
    last_activity,
)
from connector.rules.sqlfn import is_true


class TimelineHygiene:
    """An Activity CTA for the CSM when the timeline has gone quiet."""

    id = "timeline_hygiene"
    family = "lifecycle"
    requires = {
        "account": ("segment",),
        **ACTIVITY_REQUIRES,
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        c = customers(ctx)
        la = last_activity(ctx)
        quiet = or_(
            la.c.last_day.is_(None),
            la.c.last_day < days_before(ctx, ctx.params.timeline_hygiene.days),
        )
        fires = and_(is_true(c.c.high_touch), quiet)
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            c.c.high_touch,
            la.c.last_day,
            fires.label("fires"),
        ).select_from(c.join(la, la.c.account_id == c.c.account_id))
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        p = ctx.params.timeline_hygiene
        key = f"{self.id}:{row['account_id']}"
        cta = out.cta(
            self.id,
            key,
            row["account_id"],
            name=f"No timeline update in {p.days} days",
            type="Activity",
            reason="Relationship",
            priority="Medium",
            owner_id=row["csm_owner"],
            due_date=due(ctx, p.due_days),
            evidence=self.evidence(row, ctx),
        )
        return [replace(cta, fields={**cta.fields, "auto_close": True})]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The last activity's date against the limit."""
        p = ctx.params.timeline_hygiene
        last = row["last_day"]
        seen = (
            f"last activity dated {last.isoformat()}"
            if last is not None
            else "no activity on record (completed tasks, meetings, timeline entries)"
        )
        return (
            f"Timeline quiet: {seen}; the limit is {p.days} days without activity. "
            "Closes by itself once an activity is logged."
        )


RULES = [TimelineHygiene()]
