"""Relationship risks (RULES.md, Risk): no executive sponsor, and a sponsor who left.

Both read the effective persona from ``persona_state``, which the evaluate shell writes before
any rule runs (this cycle's persona and active flag, and the previous cycle's).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, func, not_, or_, select
from sqlalchemy.engine import RowMapping

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.persona import EXECUTIVE, contact_active
from connector.rules.scope import column, customers, due, firing_rows
from connector.rules.sqlfn import is_true, list_agg, split_list
from connector.store.schema import persona_state

_EXEC_TEXT = " or ".join(EXECUTIVE)


class ExecSponsorMissing:
    """A high-touch customer without an active Executive Sponsor or Big Boss."""

    id = "exec_sponsor_missing"
    family = "relationship"
    requires = {"account": ("segment",), "contact": ("account_id",)}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        con, ps = ctx.tables.contact, persona_state
        c = customers(ctx)
        active = contact_active(con)
        executive = ps.c.effective.in_(EXECUTIVE)
        n_exec = func.coalesce(func.sum(case((and_(active, executive), 1), else_=0)), 0)
        fires = and_(is_true(c.c.high_touch), n_exec == 0)
        query = (
            select(
                c.c.account_id,
                c.c.account_name,
                c.c.csm_owner,
                c.c.high_touch,
                func.coalesce(func.sum(case((active, 1), else_=0)), 0).label("active"),
                n_exec.label("executives"),
                list_agg(case((and_(not_(active), executive), con.c.id))).label("former"),
                fires.label("fires"),
            )
            .select_from(
                c.outerjoin(con, con.c.account_id == c.c.account_id).outerjoin(
                    ps, ps.c.contact_id == con.c.id
                )
            )
            .group_by(c.c.account_id, c.c.account_name, c.c.csm_owner, c.c.high_touch)
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
                name="No executive sponsor",
                type="Risk",
                reason="Relationship",
                priority="Medium",
                owner_id=row["csm_owner"],
                due_date=due(ctx, ctx.params.relationship.sponsor_missing_due_days),
                evidence=self.evidence(row, ctx),
            )
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """Active executives (needs at least 1) among the active contacts."""
        former = split_list(row["former"])
        return (
            f"{row['executives']} active contacts whose effective persona is {_EXEC_TEXT} "
            f"(needs at least 1), among {row['active']} active contacts"
            + (" (high-touch)." if row["high_touch"] else " (not high-touch: rule not run).")
            + (f" Former executives (inactive or deleted): {', '.join(former)}." if former else "")
        )


class SponsorTurnover:
    """An executive at the previous cycle who is now inactive or deleted: one CTA each."""

    id = "sponsor_turnover"
    family = "relationship"
    requires = {"contact": ("account_id",)}

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        con, ps = ctx.tables.contact, persona_state
        c = customers(ctx)
        left = is_true(column(con, "inactive")) if "inactive" in con.c else None
        gone = or_(
            not_(is_true(ps.c.active)),
            con.c.id.is_(None),
            is_true(con.c.deleted),
            *([left] if left is not None else []),
        )
        was_exec = and_(ps.c.previous_effective.in_(EXECUTIVE), is_true(ps.c.previous_active))
        fires = and_(ps.c.contact_id.is_not(None), was_exec, gone)
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            ps.c.contact_id,
            ps.c.previous_effective,
            con.c.id.is_(None).label("missing"),
            is_true(con.c.deleted).label("deleted"),
            column(con, "name").label("contact_name"),
            column(con, "title").label("title"),
            fires.label("fires"),
        ).select_from(
            c.outerjoin(ps, ps.c.account_id == c.c.account_id).outerjoin(
                con, con.c.id == ps.c.contact_id
            )
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        contact = row["contact_id"]
        key = f"{self.id}:{contact}"
        who = row["contact_name"] or contact
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name=f"Sponsor left: {who}",
                type="Risk",
                reason="Relationship",
                priority="High",
                owner_id=row["csm_owner"],
                due_date=due(ctx, ctx.params.relationship.turnover_due_days),
                evidence=self.evidence(row, ctx),
                contact_id=None if row["missing"] or row["deleted"] else contact,
            )
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """Who the sponsor was at the previous cycle, and what changed."""
        if row["contact_id"] is None:
            return "No contact with a persona state on this account."
        if row["missing"] or row["deleted"]:
            now = "was deleted"
        else:
            now = "is no longer active (inactive condition)"
        title = f", {row['title']}" if row["title"] else ""
        return (
            f"{row['contact_name'] or 'Contact'} ({row['contact_id']}{title}) was an active "
            f"{row['previous_effective']} at the previous evaluation and {now}."
        )


RULES = [ExecSponsorMissing(), SponsorTurnover()]
