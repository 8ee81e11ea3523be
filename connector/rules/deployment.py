"""``deployment_risk`` and ``deployment_expansion``: the deployment colour of RULES.md.

Licences active / licences purchased at or above ``deployment.bands`` (defaults 0.80 Green, 0.60
Yellow, 0.40 Orange), else Red (above 1 is Green); no data when either is blank or nothing is
purchased. ``deployment_colour`` is the one place the colour is computed; the scorecard's
deployment measure reads the same expressions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, Select, and_, case, cast, false, or_, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Subquery

from connector.rules import outputs as out
from connector.rules.bands import Bands
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.params import exact
from connector.rules.scope import customers, due, firing_rows

AT_RISK = ("Orange", "Red")


def deployment_colour(
    ctx: RuleContext, account: FromClause | None = None
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """``(ratio, colour)`` over ``account`` (default the mirror table); both null without data."""
    a = account if account is not None else ctx.tables.account
    active, purchased = a.c.licenses_active, a.c.licenses_purchased
    no_data = or_(active.is_(None), purchased.is_(None), purchased == 0)
    ratio = case((no_data, None), else_=cast(active, Float) / cast(purchased, Float))
    colour = case(
        (no_data, None),
        *(
            (_at_least(active, purchased, bound), name)
            for bound, name in ctx.params.deployment.bands.bounds()
        ),
        else_="Red",
    )
    return ratio, colour


def _at_least(
    active: ColumnElement[Any], purchased: ColumnElement[Any], bound: float
) -> ColumnElement[bool]:
    """``active / purchased >= bound`` exactly, in integers (no float rounding at a band edge)."""
    ratio = exact(bound)
    lhs = cast(active, BigInteger) * ratio.denominator
    rhs = cast(purchased, BigInteger) * ratio.numerator
    return or_(and_(purchased > 0, lhs >= rhs), and_(purchased < 0, lhs <= rhs))


def deployment_figures(ctx: RuleContext) -> Subquery:
    """Per customer: licences, ``ratio``, ``colour`` and the owned products (for whitespace)."""
    c = customers(ctx)
    a = ctx.tables.account
    ratio, colour = deployment_colour(ctx)
    query = select(
        c.c.account_id,
        c.c.account_name,
        c.c.csm_owner,
        c.c.ae_owner,
        a.c.licenses_active,
        a.c.licenses_purchased,
        ratio.label("ratio"),
        colour.label("colour"),
        a.c.products_owned,
    ).select_from(c.join(a, a.c.id == c.c.account_id))
    return query.subquery("deployment_figures")


def _select(colours: tuple[str, ...], account_id: str | None, ctx: RuleContext) -> Select[Any]:
    f = deployment_figures(ctx)
    fires = case((f.c.colour.in_(colours), true()), else_=false())
    query = select(*f.c, fires.label("fires"))
    return firing_rows(query, f.c.account_id, account_id, f.c.colour.in_(colours))


def _two_decimals(bound: float) -> str:
    return f"{bound:.2f}"


def bands_text(bands: Bands) -> str:
    """``Green >= 0.80, Yellow >= 0.60, Orange >= 0.40, else Red``."""
    return out.bands_text(bands, _two_decimals)  # one function, so ``bands_text`` caches it


def evidence(row: RowMapping, ctx: RuleContext) -> str:
    """The licence figures, the ratio and the bands it was read against."""
    bands = bands_text(ctx.params.deployment.bands)
    if row["colour"] is None:
        return (
            f"licences active {row['licenses_active']} of purchased "
            f"{row['licenses_purchased']}: no deployment data"
        )
    return (
        f"{row['licenses_active']} of {row['licenses_purchased']} licences active: ratio "
        f"{row['ratio']:.4g}, deployment {row['colour']} ({bands})"
    )


def whitespace(products_owned: Any, catalog: tuple[str, ...]) -> list[str]:
    """The catalog products not owned, in catalog order (names compared trimmed, any case)."""
    owned = {str(p).strip().casefold() for p in (products_owned or [])}
    return [p for p in catalog if p.strip().casefold() not in owned]


class DeploymentRisk:
    """Fires when the deployment colour is Orange or Red."""

    id = "deployment_risk"
    family = "deployment"
    requires = {"account": ("licenses_active", "licenses_purchased")}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        return _select(AT_RISK, account_id, ctx)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['account_id']}"
        text = evidence(row, ctx)
        due_date = due(ctx, ctx.params.deployment.due_days)
        undeployed = row["licenses_purchased"] - row["licenses_active"]
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="Deploy undeployed licenses",
                type="Risk",
                reason="Adoption",
                priority="Medium",
                owner_id=row["csm_owner"],
                due_date=due_date,
                evidence=text,
            ),
            out.task(
                self.id,
                key,
                "deploy",
                row["account_id"],
                subject=f"Deploy undeployed licenses at {row['account_name']}",
                owner_id=row["csm_owner"],
                due_date=due_date,
                description=f"{text}\n{undeployed} licences purchased but not active.",
            ),
        ]


class DeploymentExpansion:
    """Fires when the deployment colour is Green; the AE's task lists the whitespace."""

    id = "deployment_expansion"
    family = "deployment"
    requires = {"account": ("licenses_active", "licenses_purchased", "products_owned")}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        return _select(("Green",), account_id, ctx)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key = f"{self.id}:{row['account_id']}"
        text = evidence(row, ctx)
        due_date = due(ctx, ctx.params.deployment.expansion_due_days)
        gaps = whitespace(row["products_owned"], ctx.params.expansion.catalog)
        owned = ", ".join(sorted(str(p) for p in row["products_owned"] or [])) or "none"
        listing = (
            f"Whitespace (catalog products not owned): {', '.join(gaps)}"
            if gaps
            else "No whitespace: the account owns every catalog product"
        )
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="High deployment: expansion opportunity",
                type="Expansion",
                reason="Adoption",
                priority="Medium",
                owner_id=row["csm_owner"],
                due_date=due_date,
                evidence=f"{text}\n{listing}",
            ),
            out.task(
                self.id,
                key,
                "whitespace",
                row["account_id"],
                subject=f"Expansion whitespace at {row['account_name']}: "
                + (", ".join(gaps) if gaps else "none"),
                owner_id=row["ae_owner"],
                due_date=due_date,
                description=f"{listing}.\nProducts owned: {owned}.\n{text}",
            ),
        ]


RULES = [DeploymentRisk(), DeploymentExpansion()]
