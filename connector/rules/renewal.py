"""``renewal_upcoming``: the renewal is within N days (RULES.md, Lifecycle).

The renewal date is the account's mapped renewal date when it is today or later, else the
earliest close date (today or later) of an open opportunity of a Renewal type. The key carries
the date, so a new renewal is a new CTA.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Date, Select, and_, case, func, not_, select, type_coerce
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.selectable import Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import customers, due, firing_rows, renewal_field, user_name
from connector.rules.sqlfn import byte_order, is_true


def _open_renewals(ctx: RuleContext) -> Subquery:
    """Per account, the earliest close date (today or later) of its open Renewal opportunities,
    and the lowest id (byte order) among the opportunities closing that day."""
    o = ctx.tables.opportunity
    first = ctx.tables.opportunity.alias("first_renewal")

    def open_renewal(t: Any) -> Any:
        return and_(
            not_(t.c.deleted),
            not_(is_true(t.c.is_closed)),
            t.c.type.in_(ctx.params.renewal.renewal_types),
            t.c.close_date >= ctx.today,
        )

    earliest = (
        select(o.c.account_id, func.min(o.c.close_date).label("close_date"))
        .where(open_renewal(o))
        .group_by(o.c.account_id)
        .subquery("earliest_renewal")
    )
    return (
        select(
            earliest.c.account_id,
            earliest.c.close_date,
            func.min(byte_order(first.c.id)).label("opportunity_id"),
        )
        .select_from(
            earliest.join(
                first,
                and_(
                    first.c.account_id == earliest.c.account_id,
                    first.c.close_date == earliest.c.close_date,
                ),
            )
        )
        .where(open_renewal(first))
        .group_by(earliest.c.account_id, earliest.c.close_date)
        .subquery("open_renewal")
    )


class RenewalUpcoming:
    """A Renewal CTA with a health review and a renewal email drafted ahead of the date."""

    id = "renewal_upcoming"
    family = "lifecycle"
    requires = {  # the account's renewal date is optional: without it, opportunities decide
        "opportunity": ("account_id", "type", "is_closed", "close_date"),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        p = ctx.params.renewal
        c = customers(ctx)
        a = ctx.tables.account
        opp = _open_renewals(ctx)
        field = renewal_field(ctx)
        from_field = field >= ctx.today
        renewal = type_coerce(case((from_field, field), else_=opp.c.close_date), Date)
        fires = and_(renewal >= ctx.today, renewal <= ctx.today + timedelta(days=p.within_days))
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            user_name(ctx, c.c.csm_owner).label("csm_name"),
            field.label("account_renewal_date"),
            opp.c.close_date.label("opportunity_date"),
            opp.c.opportunity_id,
            renewal.label("renewal_date"),
            case((from_field, "account"), (opp.c.close_date.is_not(None), "opportunity")).label(
                "source"
            ),
            fires.label("fires"),
        ).select_from(
            c.join(a, a.c.id == c.c.account_id).outerjoin(opp, opp.c.account_id == c.c.account_id)
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        p = ctx.params.renewal
        key = f"{self.id}:{row['account_id']}:{row['renewal_date'].isoformat()}"
        by_opportunity = row["source"] == "opportunity"
        cta = out.cta(
            self.id,
            key,
            row["account_id"],
            name=f"Renewal in {p.within_days} days",
            type="Renewal",
            reason="Other",
            priority="Medium",
            owner_id=row["csm_owner"],
            due_date=due(ctx, p.due_days),
            evidence=self.evidence(row, ctx),
            opportunity_id=row["opportunity_id"] if by_opportunity else None,
        )
        return [cta, *self.tasks(row, ctx, key)]

    def tasks(self, row: RowMapping, ctx: RuleContext, key: str) -> list[DesiredOutput]:
        """A health review within days, and the renewal email drafted ahead of the date."""
        p = ctx.params.renewal
        renewal, account, owner = row["renewal_date"], row["account_id"], row["csm_owner"]
        draft = ctx.templates.render(
            "renewal_upcoming",
            account={"name": row["account_name"], "renewal_date": renewal.isoformat()},
            csm={"name": row["csm_name"] or ""},
        )
        review = (
            f"Renewal on {renewal.isoformat()}: review the health scorecard and open risks "
            "before the renewal conversation."
        )
        email_due = max(ctx.today, renewal - timedelta(days=p.email_before_days))
        return [
            out.task(
                self.id,
                key,
                "review-health",
                account,
                subject="Review health before renewal",
                owner_id=owner,
                due_date=due(ctx, p.review_due_days),
                description=review,
            ),
            out.task(
                self.id,
                key,
                "renewal-email",
                account,
                subject="Send renewal email",
                owner_id=owner,
                due_date=email_due,
                description=draft,
            ),
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The renewal date, where it comes from, and the window."""
        p = ctx.params.renewal
        field = out.iso(row["account_renewal_date"]) or "blank"
        if row["source"] == "account":
            source = f"the account's renewal date field ({field})"
        elif row["source"] is None:
            return (
                f"No renewal date: the account's renewal date field is {field} and no open "
                f"{'/'.join(p.renewal_types)} opportunity closes today or later."
            )
        else:
            source = (
                f"the earliest close date of an open {'/'.join(p.renewal_types)} "
                f"opportunity ({row['opportunity_id']}); the account's renewal date "
                f"field is {field}" + (" (passed)" if row["account_renewal_date"] else "")
            )
        renewal = out.iso(row["renewal_date"]) or "none"
        return f"Renewal date {renewal}: {source}. Window: within {p.within_days} days."


RULES = [RenewalUpcoming()]
