"""The risk process (RULES.md): a weekly update on every open Risk CTA, and CCO escalation.

Both read the ``cs_cta`` mirror, so they see CTAs people created as well as the connector's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, not_, or_, select, union_all
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.selectable import NamedFromClause, Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import (
    active_user,
    customers,
    days_before,
    firing_rows,
    iso_week,
    next_weekday,
    to_local_date,
)
from connector.rules.sqlfn import is_true

OPEN_CTA = ("New", "In Progress")
ESCALATED = "Escalated to CCO"


def last_update(ctx: RuleContext, c: NamedFromClause) -> Subquery:
    """Per CTA of a customer ``c``, the latest date of a person's timeline entry or activity
    linked to it.

    Activity as RULES.md defines it (completed tasks dated on or before today, meetings that have
    started), never the connector's own records (they carry a sync key). In an incremental
    evaluation (``ctx.scope``) only the rows linked to its accounts' CTAs are grouped (an
    ``IN`` over them, checked first), not every task of the org.
    """
    t = ctx.tables
    te, tk, ev = t.cs_timeline_entry, t.task, t.event
    theirs = t.cs_cta.alias("customer_cta")
    ctas = select(theirs.c.id).where(theirs.c.account_id.in_(select(c.c.account_id)))

    def to_ctas(column: Any) -> list[Any]:
        return [column.in_(ctas)] if ctx.scope is not None else [column.is_not(None)]

    task_day = func.coalesce(tk.c.activity_date, to_local_date(ctx, tk.c.created_at))
    entries = select(te.c.cta_id.label("cta_id"), te.c.entry_date.label("day")).where(
        *to_ctas(te.c.cta_id),
        not_(te.c.deleted),
        te.c.sync_key.is_(None),
        te.c.entry_date <= ctx.today,
    )
    tasks = select(tk.c.what_id.label("cta_id"), task_day.label("day")).where(
        *to_ctas(tk.c.what_id),
        not_(tk.c.deleted),
        tk.c.sync_key.is_(None),
        is_true(tk.c.is_closed),
        task_day <= ctx.today,
    )
    events = select(
        ev.c.what_id.label("cta_id"), to_local_date(ctx, ev.c.start_at).label("day")
    ).where(
        *to_ctas(ev.c.what_id),
        not_(ev.c.deleted),
        ev.c.sync_key.is_(None),
        ev.c.start_at <= ctx.now,
    )
    linked = union_all(entries, tasks, events).subquery("cta_updates")
    return (
        select(linked.c.cta_id, func.max(linked.c.day).label("last_day"))
        .group_by(linked.c.cta_id)
        .subquery("last_update")
    )


class RiskWeeklyUpdate:
    """A weekly "log an update" task for the owner of every open Risk CTA gone quiet."""

    id = "risk_weekly_update"
    family = "risk_process"
    requires = {
        "cs_cta": ("name", "owner_id", "account_id", "type", "status", "snooze_until"),
        "cs_timeline_entry": ("cta_id", "entry_date", "sync_key"),
        "task": ("what_id", "activity_date", "is_closed", "created_at", "sync_key"),
        "event": ("what_id", "start_at", "sync_key"),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        c = customers(ctx)
        x = ctx.tables.cs_cta
        last = last_update(ctx, c)
        snoozed = and_(x.c.snooze_until.is_not(None), x.c.snooze_until > ctx.today)
        quiet = or_(
            last.c.last_day.is_(None),
            last.c.last_day < days_before(ctx, ctx.params.risk.update_days),
        )
        fires = and_(x.c.type == "Risk", x.c.status.in_(OPEN_CTA), not_(snoozed), quiet)
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                x.c.id.label("cta_id"),
                x.c.name.label("cta_name"),
                x.c.type,
                x.c.status,
                x.c.snooze_until,
                active_user(ctx, x.c.owner_id).label("owner"),
                last.c.last_day,
                fires.label("fires"),
            )
            .select_from(
                c.join(x, x.c.account_id == c.c.account_id).outerjoin(last, last.c.cta_id == x.c.id)
            )
            .where(not_(x.c.deleted))
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['cta_id']}:{iso_week(ctx.today)}"
        return [
            out.standalone_task(
                self.id,
                key,
                row["account_id"],
                subject=f"Log weekly update: {row['cta_name']}",
                owner_id=row["owner"],
                due_date=next_weekday(ctx, ctx.params.risk.update_weekday),
                what_id=row["cta_id"],
                description=(
                    "Log this week's update on the risk: cover temperature, what is being "
                    f"done, help needed.\n{self.evidence(row, ctx)}"
                ),
            )
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The latest update linked to the CTA against the weekly cadence."""
        last = row["last_day"]
        seen = f"latest update dated {last.isoformat()}" if last is not None else "no update yet"
        return (
            f"Open Risk CTA {row['cta_name']} ({row['cta_id']}, {row['status']}): {seen}; "
            f"an update is due every {ctx.params.risk.update_days} days."
        )


class RiskEscalation:
    """A timeline note when a CTA is escalated to the CCO, and a weekly review task meanwhile."""

    id = "risk_escalation"
    family = "risk_process"
    requires = {"cs_cta": ("name", "account_id", "status", "escalation")}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        c = customers(ctx)
        x = ctx.tables.cs_cta
        fires = x.c.escalation == ESCALATED
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                x.c.id.label("cta_id"),
                x.c.name.label("cta_name"),
                x.c.status,
                x.c.escalation,
                fires.label("fires"),
            )
            .select_from(c.join(x, x.c.account_id == c.c.account_id))
            .where(not_(x.c.deleted))
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        cta, account = row["cta_id"], row["account_id"]
        evidence = self.evidence(row, ctx)
        return [
            out.timeline_note(
                self.id,
                f"{self.id}:{cta}",
                account,
                name=ESCALATED,
                body=f"{ESCALATED}: {evidence}",
                entry_date=ctx.today,
                entry_type="Escalation",
                cta_id=cta,
            ),
            out.standalone_task(
                self.id,
                f"risk_escalation_review:{cta}:{iso_week(ctx.today)}",
                account,
                subject=f"Review escalated risk: {row['cta_name']}",
                owner_id=ctx.owners["cco"],
                due_date=next_weekday(ctx, ctx.params.risk.review_weekday),
                what_id=cta,
                description=evidence,
            ),
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The CTA and its escalation field."""
        return (
            f"CTA {row['cta_name']} ({row['cta_id']}, status {row['status']}) at "
            f"{row['account_name']}: escalation field is {row['escalation'] or 'blank'}."
        )


RULES = [RiskWeeklyUpdate(), RiskEscalation()]
