"""``exec_checkin`` and ``ebr_due``: high-touch cadences kept by milestones (RULES.md, Lifecycle).

A cadence is due when the account has no milestone of its type dated in the last N days
(``today - date <= N`` and ``date <= today``); on a first run that is every high-touch customer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, not_, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.persona import EXECUTIVE
from connector.rules.scope import customers, days_before, due, firing_rows, renewal_field, user_name
from connector.rules.sqlfn import byte_order, is_true
from connector.store.schema import persona_state

NO_ADDRESSEE = "No active Executive Sponsor or Big Boss on the account"


# -- shared by the lifecycle rules (sales.py imports it) ----------------------------------------
def latest_milestone(
    ctx: RuleContext, milestone_type: str, *, until: date | None = None
) -> Subquery:
    """Per account, the latest date of a (not deleted) milestone of that type, up to ``until``."""
    m = ctx.tables.cs_milestone
    query = select(m.c.account_id, func.max(m.c.milestone_date).label("last_date")).where(
        not_(m.c.deleted), m.c.milestone_type == milestone_type, m.c.account_id.is_not(None)
    )
    if until is not None:
        query = query.where(m.c.milestone_date <= until)
    return query.group_by(m.c.account_id).subquery(f"latest_{milestone_type.replace(' ', '_')}")


def _cadence(
    ctx: RuleContext, milestone_type: str, every_days: int, *extra: ColumnElement[Any]
) -> Select[Any]:
    """Every customer with its latest milestone (<= today) and whether the cadence is due."""
    c = customers(ctx)
    a = ctx.tables.account
    last = latest_milestone(ctx, milestone_type, until=ctx.today)
    stale = or_(last.c.last_date.is_(None), last.c.last_date < days_before(ctx, every_days))
    fires = and_(is_true(c.c.high_touch), stale)
    return select(
        c.c.account_id,
        c.c.account_name,
        c.c.csm_owner,
        c.c.high_touch,
        last.c.last_date,
        user_name(ctx, c.c.csm_owner).label("csm_name"),
        renewal_field(ctx).label("renewal_date"),
        *extra,
        fires.label("fires"),
    ).select_from(
        c.join(a, a.c.id == c.c.account_id).outerjoin(last, last.c.account_id == c.c.account_id)
    )


def _filtered(query: Select[Any], account_id: str | None) -> Select[Any]:
    sub = query.subquery("cadence")
    return firing_rows(select(sub), sub.c.account_id, account_id, is_true(sub.c.fires))


def _cadence_evidence(row: RowMapping, milestone_type: str, every_days: int) -> str:
    latest = out.iso(row["last_date"]) or "none on record"
    return (
        f"No {milestone_type} milestone dated in the last {every_days} days "
        f"(cadence: every {every_days} days); latest {milestone_type} milestone: {latest}."
    )


def _cta_with_email(
    rule: str,
    row: RowMapping,
    *,
    name: str,
    owner_id: str,
    due_date: date,
    evidence: str,
    subject: str,
    draft: str,
    contact_id: str | None = None,
) -> list[DesiredOutput]:
    """A cadence's Lifecycle CTA keyed ``rule:<account>`` and its Email Assist task (same owner
    and due date, addressed to ``contact_id`` when there is one)."""
    key, account = f"{rule}:{row['account_id']}", row["account_id"]
    return [
        out.cta(
            rule,
            key,
            account,
            name=name,
            type="Lifecycle",
            reason="Relationship",
            priority="Medium",
            owner_id=owner_id,
            due_date=due_date,
            evidence=evidence,
            contact_id=contact_id,
        ),
        out.task(
            rule,
            key,
            "email",
            account,
            subject=subject,
            owner_id=owner_id,
            due_date=due_date,
            who_id=contact_id,
            description=draft,
        ),
    ]


def _lowest_contact(account_id: ColumnElement[Any], persona: str) -> ColumnElement[Any]:
    """The lowest id (byte order) of the account's active contacts with that effective persona."""
    ps = persona_state
    return (
        select(func.min(byte_order(ps.c.contact_id)))
        .where(ps.c.account_id == account_id, is_true(ps.c.active), ps.c.effective == persona)
        .scalar_subquery()
    )


class ExecCheckin:
    """Exec check-in due: a CTA for the VP CS and a drafted email to the executive sponsor."""

    id = "exec_checkin"
    family = "lifecycle"
    requires = {
        "account": ("segment",),
        "cs_milestone": ("account_id", "milestone_type", "milestone_date"),
        "contact": ("first_name", "name"),
    }
    milestone_type = "Exec Check-in"

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        query = _cadence(ctx, self.milestone_type, ctx.params.exec_checkin.every_days)
        account = query.selected_columns.account_id
        addressee = func.coalesce(*(_lowest_contact(account, p) for p in EXECUTIVE))  # in order
        sub = _filtered(query.add_columns(addressee.label("addressee_id")), account_id).subquery()
        con, ps = ctx.tables.contact, persona_state
        return select(
            sub,
            con.c.first_name.label("contact_first_name"),
            con.c.name.label("contact_name"),
            ps.c.effective.label("contact_persona"),
        ).select_from(
            sub.outerjoin(con, con.c.id == sub.c.addressee_id).outerjoin(
                ps, ps.c.contact_id == sub.c.addressee_id
            )
        )

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        return _cta_with_email(
            self.id,
            row,
            name="Exec Check-in",
            owner_id=ctx.owners["vp_cs"],
            due_date=due(ctx, ctx.params.exec_checkin.due_days),
            evidence=self.evidence(row, ctx),
            subject=f"Exec check-in email: {row['account_name']}",
            draft=self.draft(row, ctx),
            contact_id=row["addressee_id"],
        )

    def draft(self, row: RowMapping, ctx: RuleContext) -> str:
        """The Email Assist draft to the addressee (a note to pick one when there is none)."""
        draft = ctx.templates.render(
            "exec_checkin",
            account={"name": row["account_name"], "renewal_date": out.iso(row["renewal_date"])},
            contact={
                "first_name": row["contact_first_name"] or "",
                "name": row["contact_name"] or "",
            },
            csm={"name": row["csm_name"] or ""},
        )
        if row["addressee_id"] is None:
            return f"{NO_ADDRESSEE}: choose the addressee.\n\n{draft}"
        return draft

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The latest check-in against the cadence, and who the email goes to."""
        lines = [_cadence_evidence(row, self.milestone_type, ctx.params.exec_checkin.every_days)]
        if row["addressee_id"] is None:
            lines.append("Addressee: none (no active Executive Sponsor or Big Boss).")
        else:
            lines.append(
                f"Addressee: {row['contact_name']} ({row['addressee_id']}, "
                f"{row['contact_persona']}, the lowest contact id)."
            )
        return "\n".join(lines)


class EbrDue:
    """Executive Business Review due: a CTA for the CSM with a scheduling email draft."""

    id = "ebr_due"
    family = "lifecycle"
    requires = {
        "account": ("segment",),
        "cs_milestone": ("account_id", "milestone_type", "milestone_date"),
    }
    milestone_type = "EBR"

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        return _filtered(_cadence(ctx, self.milestone_type, ctx.params.ebr.every_days), account_id)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        draft = ctx.templates.render(
            "ebr_schedule",
            account={"name": row["account_name"], "renewal_date": out.iso(row["renewal_date"])},
            csm={"name": row["csm_name"] or ""},
        )
        return _cta_with_email(
            self.id,
            row,
            name="Schedule EBR",
            owner_id=row["csm_owner"],
            due_date=due(ctx, ctx.params.ebr.due_days),
            evidence=self.evidence(row, ctx),
            subject=f"Schedule the EBR with {row['account_name']}",
            draft=draft,
        )

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The latest EBR against the cadence."""
        return _cadence_evidence(row, self.milestone_type, ctx.params.ebr.every_days)


RULES = [ExecCheckin(), EbrDue()]
