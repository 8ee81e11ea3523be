"""NPS rules (RULES.md, Risk): detractors and the executive sentiment gap.

The NPS responses and arithmetic they share with the scorecard are in ``nps_data``; the
relationship survey cadence (``nps_survey_due``) is in ``nps_survey``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, and_, case, cast, func, literal, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.nps_data import (
    DETRACTOR_MAX,
    PROMOTER_MIN,
    latest_per_contact,
    nps_responses,
    nps_value,
)
from connector.rules.persona import END_USER, EXECUTIVE
from connector.rules.scope import customers, days_before, due, firing_rows, renewal_field, user_name
from connector.rules.sqlfn import list_agg, split_list

# -- nps_detractor ----------------------------------------------------------------------------


class NpsDetractor:
    """One Risk CTA per NPS response scoring 0-6 in the last 30 days, with a follow-up email."""

    id = "nps_detractor"
    family = "nps"
    requires = {
        "survey_answer": ("account_id", "contact_id", "kind", "score", "answer_date"),
        "contact": ("first_name", "name"),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        t = ctx.tables
        c = customers(ctx)
        r = nps_responses(ctx, ctx.params.nps.detractor_days)
        con = t.contact
        fires = and_(r.c.answer_id.is_not(None), r.c.score <= DETRACTOR_MAX)
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            user_name(ctx, c.c.csm_owner).label("csm_name"),
            renewal_field(ctx).label("renewal_date"),
            r.c.answer_id,
            r.c.contact_id,
            r.c.score,
            r.c.answer_date,
            r.c.kind,
            r.c.comment,
            con.c.first_name.label("contact_first_name"),
            con.c.name.label("contact_name"),
            fires.label("fires"),
        ).select_from(
            c.join(t.account, t.account.c.id == c.c.account_id)
            .outerjoin(r, r.c.account_id == c.c.account_id)
            .outerjoin(con, con.c.id == r.c.contact_id)
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['answer_id']}"
        owner, due_date = row["csm_owner"], due(ctx, ctx.params.nps.detractor_due_days)
        who = row["contact_name"] or row["contact_id"] or "an anonymous respondent"
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name=f"NPS detractor: {who}",
                type="Risk",
                reason="NPS",
                priority="High",
                owner_id=owner,
                due_date=due_date,
                evidence=self.evidence(row, ctx),
                contact_id=row["contact_id"],
            ),
            out.task(
                self.id,
                key,
                "email",
                row["account_id"],
                subject=f"Follow up on NPS score {row['score']} from {who}",
                owner_id=owner,
                due_date=due_date,
                who_id=row["contact_id"],
                description=self.draft(row, ctx),
            ),
        ]

    def draft(self, row: RowMapping, ctx: RuleContext) -> str:
        """The follow-up email (anonymous answers: blank contact tokens)."""
        return ctx.templates.render(
            "nps_detractor",
            account={"name": row["account_name"], "renewal_date": out.iso(row["renewal_date"])},
            contact={
                "first_name": row["contact_first_name"] or "",
                "name": row["contact_name"] or "",
            },
            csm={"name": row["csm_name"] or ""},
            answer={
                "score": row["score"],
                "date": out.iso(row["answer_date"]),
                "comment": row["comment"] or "",
            },
        )

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The answer, its score and date, against the detractor bound and the window."""
        days = ctx.params.nps.detractor_days
        if row["answer_id"] is None:
            return f"No NPS response dated {days_before(ctx, days)} or later (last {days} days)."
        contact = (
            f"{row['contact_name'] or ''} ({row['contact_id']})".strip()
            if row["contact_id"]
            else "anonymous (no contact)"
        )
        verdict = "a detractor" if row["score"] <= DETRACTOR_MAX else "not a detractor"
        return (
            f"NPS answer {row['answer_id']} ({row['kind'] or 'no kind'}) from {contact}, "
            f"dated {out.iso(row['answer_date'])}: score {row['score']}, {verdict} "
            f"(0-{DETRACTOR_MAX}); window: answers dated {days_before(ctx, days)} to "
            f"{ctx.today} (last {days} days)."
        )


# -- nps_persona_gap ------------------------------------------------------------------------------
def _group(people: Subquery, name: str, member: ColumnElement[bool]) -> list[Any]:
    """Responses, promoters, detractors, NPS and the answers (``id score`` list) of a group."""

    def count(extra: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
        cond = member if extra is None else and_(member, extra)
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    n, prom = count(), count(people.c.score >= PROMOTER_MIN)
    det = count(people.c.score <= DETRACTOR_MAX)
    item = people.c.answer_id + literal(" ") + cast(people.c.score, String)
    return [
        n.label(f"{name}_n"),
        prom.label(f"{name}_promoters"),
        det.label(f"{name}_detractors"),
        nps_value(prom, det, n).label(f"{name}_nps"),
        list_agg(case((member, item))).label(f"{name}_answers"),
    ]


class NpsPersonaGap:
    """End users happy (NPS >= +30) while executives are not (NPS <= 0): a sentiment gap."""

    id = "nps_persona_gap"
    family = "nps"
    requires = {
        "survey_answer": ("account_id", "contact_id", "kind", "score", "answer_date"),
        "contact": ("account_id",),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        p = ctx.params.nps
        c = customers(ctx)
        people = latest_per_contact(ctx, p.gap_days)
        users = _group(people, "eu", people.c.effective == END_USER)
        execs = _group(people, "ex", people.c.effective.in_(EXECUTIVE))
        fires = and_(
            users[0] >= 1, execs[0] >= 1, users[3] >= p.gap_end_user_min, execs[3] <= p.gap_exec_max
        )
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                c.c.csm_owner,
                *users,
                *execs,
                fires.label("fires"),
            )
            .select_from(c.outerjoin(people, people.c.account_id == c.c.account_id))
            .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner)
        )
        return firing_rows(query, c.c.account_id, account_id, fires, grouped=True)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['account_id']}"
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="Executive sentiment gap",
                type="Risk",
                reason="NPS",
                priority="Medium",
                owner_id=row["csm_owner"],
                due_date=due(ctx, ctx.params.nps.gap_due_days),
                evidence=self.evidence(row, ctx),
            )
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """Both groups' NPS from each contact's latest answer, against the two bounds."""
        p = ctx.params.nps
        lines = [
            f"Each contact's latest NPS answer dated {days_before(ctx, p.gap_days)} to "
            f"{ctx.today} (last {p.gap_days} days):"
        ]
        for name, label, bound in (
            ("eu", "End User", f">= {p.gap_end_user_min:+d}"),
            ("ex", "Executive Sponsor / Big Boss", f"<= {p.gap_exec_max:+d}"),
        ):
            n = row[f"{name}_n"]
            figure = f"NPS {row[f'{name}_nps']:+d}" if n else "no response"
            answers = ", ".join(split_list(row[f"{name}_answers"]))
            lines.append(
                f"{label}: {figure} ({row[f'{name}_promoters']} promoters, "
                f"{row[f'{name}_detractors']} detractors of {n}); needs {bound} and "
                f"at least 1 response; answers (id score): {answers or 'none'}"
            )
        return "\n".join(lines)


RULES = [NpsDetractor(), NpsPersonaGap()]
