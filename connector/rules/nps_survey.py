"""``nps_survey_due`` (RULES.md, Lifecycle): active contacts due a relationship survey.

A relationship-survey answer is one of ``nps.relationship_kinds``, with or without a score, on
any account; a contact is due when it has none dated in the last ``nps.survey_days`` days. One
task per account and half-year lists them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Select, and_, case, func, not_, or_, select
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.persona import contact_active
from connector.rules.scope import customers, days_before, due, firing_rows, half_year
from connector.rules.sqlfn import list_agg, split_list


class NpsSurveyDue:
    """Active contacts without a relationship-survey answer in 180 days: one task per half-year."""

    id = "nps_survey_due"
    family = "nps"
    requires = {
        "survey_answer": ("contact_id", "kind", "answer_date"),
        "contact": ("account_id", "name"),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        p = ctx.params.nps
        t = ctx.tables
        sa, con = t.survey_answer, t.contact
        c = customers(ctx)
        # In an incremental evaluation, the answers of its accounts' contacts only (on any
        # account), through the contact_id index; over every customer a scan is cheaper.
        theirs = con.alias("customer_contact")
        contacts = select(theirs.c.id).where(theirs.c.account_id.in_(select(c.c.account_id)))
        mine = [sa.c.contact_id.in_(contacts)] if ctx.scope is not None else []
        last = (
            select(sa.c.contact_id, func.max(sa.c.answer_date).label("last_answer"))
            .where(
                *mine,
                not_(sa.c.deleted),
                sa.c.kind.in_(p.relationship_kinds),
                sa.c.answer_date <= ctx.today,
            )
            .group_by(sa.c.contact_id)
            .subquery("last_relationship")
        )
        active = contact_active(con)
        lapsed = and_(
            active,
            or_(last.c.last_answer.is_(None), last.c.last_answer < days_before(ctx, p.survey_days)),
        )
        label = func.replace(func.coalesce(con.c.name, ""), ",", "") + " (" + con.c.id + ")"
        n_lapsed = func.coalesce(func.sum(case((lapsed, 1), else_=0)), 0)
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                c.c.csm_owner,
                func.coalesce(func.sum(case((active, 1), else_=0)), 0).label("active"),
                n_lapsed.label("lapsed"),
                list_agg(case((lapsed, label))).label("lapsed_contacts"),
                (n_lapsed >= 1).label("fires"),
            )
            .select_from(
                c.outerjoin(con, con.c.account_id == c.c.account_id).outerjoin(
                    last, last.c.contact_id == con.c.id
                )
            )
            .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner)
        )
        return firing_rows(query, c.c.account_id, account_id, n_lapsed >= 1, grouped=True)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['account_id']}:{half_year(ctx.today)}"
        evidence = self.evidence(row, ctx)
        people = "\n".join(f"- {c}" for c in split_list(row["lapsed_contacts"]))
        task = out.standalone_task(
            self.id,
            key,
            row["account_id"],
            subject=f"Send the relationship survey to {row['lapsed']} contact(s) at "
            f"{row['account_name']}",
            owner_id=row["csm_owner"],
            due_date=due(ctx, ctx.params.nps.survey_due_days),
            description=f"{evidence}\n{people}",
        )
        return [replace(task, evidence=evidence)]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """How many active contacts lack a relationship answer dated in the window."""
        p = ctx.params.nps
        return (
            f"{row['lapsed']} of {row['active']} active contacts have no relationship-survey "
            f"answer ({', '.join(p.relationship_kinds) or 'no kind configured'}) dated "
            f"{days_before(ctx, p.survey_days)} to {ctx.today} (last {p.survey_days} days):"
        )


RULES = [NpsSurveyDue()]
