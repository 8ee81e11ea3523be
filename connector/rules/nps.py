"""NPS rules (RULES.md, Risk): detractors, the executive sentiment gap, relationship surveys due.

Also the shared NPS pieces: ``nps_responses`` (the customers' NPS responses in a window) and
``account_nps`` (the scorecard's nps measure). NPS is computed from counts with integer
arithmetic, rounded half away from zero, so SQLite and PostgreSQL agree to the point.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Integer, Select, String, and_, case, cast, func, literal, not_, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.persona import END_USER, EXECUTIVE, column, contact_active
from connector.rules.scope import customers, days_before, due, half_year
from connector.rules.sqlfn import list_agg, split_list
from connector.store.schema import persona_state

DETRACTOR_MAX = 6  # RULES.md: detractor 0-6, promoter 9-10
PROMOTER_MIN = 9


# -- shared pieces ----------------------------------------------------------------------------
def is_nps_response(ctx: RuleContext, answer: Any) -> ColumnElement[bool]:
    """A survey answer with a score 0-10, of a kind in ``nps.kinds`` (empty: every kind)."""
    kinds = ctx.params.nps.kinds
    conditions = [
        not_(answer.c.deleted),
        answer.c.score.is_not(None),
        answer.c.score >= 0,
        answer.c.score <= 10,
    ]
    if kinds:
        conditions.append(answer.c.kind.in_(kinds))
    return and_(*conditions)


def dated_within(ctx: RuleContext, day: Any, days: int) -> ColumnElement[bool]:
    """A date field "in the last ``days`` days": ``today - date <= days`` and ``date <= today``."""
    return and_(day >= days_before(ctx, days), day <= ctx.today)


def nps_responses(ctx: RuleContext, days: int) -> Subquery:
    """Customers' NPS responses dated in the last ``days`` days (anonymous ones included)."""
    sa = ctx.tables.survey_answer
    c = customers(ctx)
    query = (
        select(
            sa.c.id.label("answer_id"),
            c.c.account_id,
            sa.c.contact_id,
            sa.c.score,
            sa.c.answer_date,
            sa.c.kind,
            column(sa, "comment").label("comment"),
            column(sa, "created_at").label("created_at"),
        )
        .select_from(sa.join(c, c.c.account_id == sa.c.account_id))
        .where(is_nps_response(ctx, sa), dated_within(ctx, sa.c.answer_date, days))
    )
    return query.subquery("nps_responses")


def nps_value(promoters: Any, detractors: Any, responses: Any) -> ColumnElement[Any]:
    """% promoters - % detractors, rounded half away from zero; null without responses.

    ``round(100 (P - D) / N)`` in integers: ``(2 |x| + N) // 2N`` with the sign of ``x``; both
    operands are non-negative, so SQL's integer division (truncation) is the floor.
    """
    diff = 100 * (promoters - detractors)
    den = func.nullif(responses, 0)
    up = (2 * diff + responses) // (2 * den)
    down = -((-2 * diff + responses) // (2 * den))
    return case((responses == 0, None), (diff >= 0, up), else_=down).cast(Integer)


SCORECARD_NPS_DAYS = 180  # RULES.md, Scorecards: the nps measure's window


def account_nps(ctx: RuleContext, days: int = SCORECARD_NPS_DAYS) -> Subquery:
    """Per customer: NPS over every NPS response dated in the last ``days`` days (scorecard).

    Columns ``account_id, promoters, detractors, responses, nps``; every customer has a row,
    ``responses`` 0 and ``nps`` null when it has no response in the window (no data).
    """
    c = customers(ctx)
    r = nps_responses(ctx, days)
    promoters = func.coalesce(func.sum(case((r.c.score >= PROMOTER_MIN, 1), else_=0)), 0)
    detractors = func.coalesce(func.sum(case((r.c.score <= DETRACTOR_MAX, 1), else_=0)), 0)
    responses = func.count(r.c.answer_id)
    query = (
        select(
            c.c.account_id,
            promoters.label("promoters"),
            detractors.label("detractors"),
            responses.label("responses"),
            nps_value(promoters, detractors, responses).label("nps"),
        )
        .select_from(c.outerjoin(r, r.c.account_id == c.c.account_id))
        .group_by(c.c.account_id)
    )
    return query.subquery("account_nps")


# -- nps_detractor ----------------------------------------------------------------------------


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


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
        con, csm = t.contact, t.user.alias("csm_user")
        fires = and_(r.c.answer_id.is_not(None), r.c.score <= DETRACTOR_MAX)
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            csm.c.name.label("csm_name"),
            column(t.account, "renewal_date").label("renewal_date"),
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
            .outerjoin(csm, csm.c.id == c.c.csm_owner)
            .outerjoin(r, r.c.account_id == c.c.account_id)
            .outerjoin(con, con.c.id == r.c.contact_id)
        )
        if account_id is not None:
            return query.where(c.c.account_id == account_id)
        return query.where(fires)

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
            account={"name": row["account_name"], "renewal_date": _iso(row["renewal_date"])},
            contact={
                "first_name": row["contact_first_name"] or "",
                "name": row["contact_name"] or "",
            },
            csm={"name": row["csm_name"] or ""},
            answer={
                "score": row["score"],
                "date": _iso(row["answer_date"]),
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
            f"dated {_iso(row['answer_date'])}: score {row['score']}, {verdict} "
            f"(0-{DETRACTOR_MAX}); window: answers dated {days_before(ctx, days)} to "
            f"{ctx.today} (last {days} days)."
        )


# -- nps_persona_gap --------------------------------------------------------------------------
class _bytewise(FunctionElement[Any]):  # noqa: N801 - reads as a SQL function
    """A text column compared in byte order (RULES.md: ids compare in byte order)."""

    type = String()
    inherit_cache = True


@compiles(_bytewise)
def _bytewise_default(element: _bytewise, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(list(element.clauses)[0], **kw))  # SQLite BINARY: bytes


@compiles(_bytewise, "postgresql")
def _bytewise_pg(element: _bytewise, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(list(element.clauses)[0], **kw)}) COLLATE "C"'


def latest_per_contact(ctx: RuleContext, days: int) -> Subquery:
    """Each contact's latest NPS response per account in the window, with the contact's
    effective persona; ties: the later created (blank: earliest), then the higher id."""
    r = nps_responses(ctx, days)
    rank = func.row_number().over(
        partition_by=(r.c.account_id, r.c.contact_id),
        order_by=(
            r.c.answer_date.desc(),
            case((r.c.created_at.is_(None), 1), else_=0),
            r.c.created_at.desc(),
            _bytewise(r.c.answer_id).desc(),
        ),
    )
    ranked = select(r, rank.label("rank")).where(r.c.contact_id.is_not(None)).subquery("ranked")
    ps = persona_state
    return (
        select(
            ranked.c.account_id,
            ranked.c.contact_id,
            ranked.c.answer_id,
            ranked.c.score,
            ranked.c.answer_date,
            ps.c.effective,
        )
        .select_from(ranked.join(ps, ps.c.contact_id == ranked.c.contact_id))
        .where(ranked.c.rank == 1)
        .subquery("latest_per_contact")
    )


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
        if account_id is not None:
            return query.where(c.c.account_id == account_id)
        return query.having(fires)

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


# -- nps_survey_due ---------------------------------------------------------------------------
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
        last = (
            select(sa.c.contact_id, func.max(sa.c.answer_date).label("last_answer"))
            .where(
                not_(sa.c.deleted),
                sa.c.contact_id.is_not(None),
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
        if account_id is not None:
            return query.where(c.c.account_id == account_id)
        return query.having(n_lapsed >= 1)

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


RULES = [NpsDetractor(), NpsPersonaGap(), NpsSurveyDue()]
