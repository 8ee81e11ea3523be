"""``get_well_plan``: a "Get Well" success plan while overall health is Red (RULES.md).

Reads the scorecard's statement and colours. Red: the plan and at most
``scorecard.max_objectives`` (4) objectives, the Red measures then the Orange ones, each group
by weight (ties in the table's order). Yellow or better with a plan in the CRM: the plan is
marked "health recovered"; its status stays the user's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, literal, not_, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause

from connector.rules.measures import MEASURES, Measure
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scorecard import (
    REQUIRES,
    Scorecard,
    overall_colour,
    scorecard_of,
    scorecard_statement,
)
from connector.rules.sqlfn import byte_order, is_true

RECOVERED: tuple[str, ...] = ("Green", "Yellow")


def objectives(card: Scorecard, weights: Mapping[str, float], limit: int) -> list[Measure]:
    """Red measures, then Orange ones, each by weight descending (ties: table order); at most
    ``limit`` (``scorecard.max_objectives``, default 4)."""

    def rank(m: Measure) -> tuple[int, float, int]:
        return (0 if m.colour == "Red" else 1, -weights.get(m.name, 0), MEASURES.index(m.name))

    chosen = [m for m in card.measures if m.colour in ("Red", "Orange")]
    return sorted(chosen, key=rank)[:limit]


def _plan_key(account: ColumnElement[Any]) -> ColumnElement[Any]:
    return literal(f"{GetWellPlan.id}:") + account


def _latest_plan(ctx: RuleContext, c: NamedFromClause, column: ColumnElement[Any]) -> Any:
    """``column`` of the account's latest Get Well plan in the CRM (its key, or ``key#n``)."""
    sp = ctx.tables.cs_success_plan
    key = _plan_key(c.c.account_id)
    mine = and_(
        not_(sp.c.deleted),
        or_(sp.c.sync_key == key, func.substr(sp.c.sync_key, 1, func.length(key) + 1) == key + "#"),
    )
    return (
        select(column)
        .where(mine)
        .order_by(sp.c.created_at.desc().nulls_last(), byte_order(sp.c.id).desc())
        .limit(1)
        .scalar_subquery()
    )


class GetWellPlan:
    """Red overall: the plan and its objectives; back to Yellow or better: health recovered."""

    id = "get_well_plan"
    family = "get_well"
    requires = {
        **REQUIRES,
        "cs_success_plan": ("sync_key", "health_recovered", "health_recovered_date", "created_at"),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        query, c = scorecard_statement(ctx)
        sp = ctx.tables.cs_success_plan
        query = query.add_columns(
            _latest_plan(ctx, c, sp.c.id).label("plan_id"),
            _latest_plan(ctx, c, is_true(sp.c.health_recovered)).label("plan_recovered"),
            _latest_plan(ctx, c, sp.c.health_recovered_date).label("plan_recovered_date"),
        )
        return query if account_id is None else query.where(c.c.account_id == account_id)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        # The colour alone first: most customers are neither Red nor recovering a plan, and
        # the full scorecard (every measure's evidence) is only needed for those that are.
        colour = overall_colour(row, ctx)
        if colour == "Red":
            return self._plan(row, ctx, scorecard_of(row, ctx))
        if colour in RECOVERED and row["plan_id"] is not None:
            since = row["plan_recovered_date"] if row["plan_recovered"] else None
            return self._plan(row, ctx, scorecard_of(row, ctx), recovered_on=since or ctx.today)
        return []

    def _plan(
        self, row: RowMapping, ctx: RuleContext, card: Scorecard, recovered_on: date | None = None
    ) -> list[DesiredOutput]:
        account, p = row["account_id"], ctx.params.scorecard
        key = f"{self.id}:{account}"
        head = f"Health recovered on {recovered_on}; " if recovered_on else "Get Well: "
        evidence = head + card.evidence
        fields = {
            "name": "Get Well plan",
            "plan_type": "Get Well",
            "account_id": account,
            "health_recovered": recovered_on is not None,
            "health_recovered_date": recovered_on,
            "evidence": evidence,
        }
        plan = DesiredOutput(
            key,
            self.id,
            "success_plan",
            account,
            row["csm_owner"],
            fields=fields,
            evidence=evidence,
        )
        if recovered_on is not None:
            return [plan]
        return [
            plan,
            *(
                DesiredOutput(
                    f"{key}/{m.name}",
                    self.id,
                    "objective",
                    account,
                    fields={
                        "name": f"Get Well: {m.name}",
                        "measure": m.name,
                        "target": m.target,
                        "current_figure": m.current,
                    },
                    parent_key=key,
                    evidence=m.evidence,
                )
                for m in objectives(card, p.weights, p.max_objectives)
            ),
        ]


RULES = [GetWellPlan()]
