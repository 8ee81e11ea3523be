"""The customers' NPS responses and the NPS arithmetic every NPS figure shares (RULES.md).

``nps_responses`` (a window of NPS responses), ``nps_value`` (% promoters - % detractors),
``account_nps`` (the scorecard's nps measure) and ``latest_per_contact`` (nps_persona_gap). NPS
is computed from counts with integer arithmetic, rounded half away from zero, so SQLite and
PostgreSQL agree to the point.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, and_, case, func, not_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause, Subquery

from connector.rules.model import RuleContext
from connector.rules.scope import column, customers, dated_within, shared
from connector.rules.sqlfn import byte_order
from connector.store.schema import persona_state

DETRACTOR_MAX = 6  # RULES.md: detractor 0-6, promoter 9-10
PROMOTER_MIN = 9


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


def account_nps(ctx: RuleContext, days: int | None = None) -> NamedFromClause:
    """Per customer: NPS over every NPS response dated in the last ``days`` days (default the
    scorecard's window, ``scorecard.nps_days``).

    Columns ``account_id, promoters, detractors, responses, nps``; every customer has a row,
    ``responses`` 0 and ``nps`` null when it has no response in the window (no data).
    """
    if days is None or days == ctx.params.scorecard.nps_days:
        return shared(ctx, "account_nps", lambda: account_nps_query(ctx))
    return account_nps_query(ctx, days)


def account_nps_query(ctx: RuleContext, days: int | None = None) -> Subquery:
    """``account_nps`` as an inline subquery."""
    c = customers(ctx)
    r = nps_responses(ctx, ctx.params.scorecard.nps_days if days is None else days)
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
            byte_order(r.c.answer_id).desc(),
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
