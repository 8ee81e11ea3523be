"""``exec_checkin`` and ``ebr_due``: high-touch cadences kept by milestones (RULES.md, Lifecycle).

A cadence is due when the account has no milestone of its type dated in the last N days
(``today - date <= N`` and ``date <= today``); on a first run that is every high-touch customer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, literal, not_, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.scope import customers, days_before, due
from connector.rules.sqlfn import is_true
from connector.store.schema import persona_state

EXEC_PERSONAS = ("Executive Sponsor", "Big Boss")  # in order of preference
NO_ADDRESSEE = "No active Executive Sponsor or Big Boss on the account"


# -- shared by the lifecycle rules (sales.py and renewal.py import these) ---------------------
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


def user_name(ctx: RuleContext, user_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The name of a user (a correlated lookup), for templates."""
    u = ctx.tables.user
    return select(u.c.name).where(u.c.id == user_id).scalar_subquery()


def renewal_field(ctx: RuleContext) -> ColumnElement[Any]:
    """The account's mapped renewal date, or null when the mapping leaves it out."""
    a = ctx.tables.account
    return a.c.renewal_date if "renewal_date" in a.c else literal(None)


def iso(day: date | None) -> str:
    return day.isoformat() if day is not None else ""


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
    if account_id is not None:
        return select(sub).where(sub.c.account_id == account_id)
    return select(sub).where(is_true(sub.c.fires))


def _cadence_evidence(row: RowMapping, milestone_type: str, every_days: int) -> str:
    latest = iso(row["last_date"]) or "none on record"
    return (
        f"No {milestone_type} milestone dated in the last {every_days} days "
        f"(cadence: every {every_days} days); latest {milestone_type} milestone: {latest}."
    )


def _lowest_contact(account_id: ColumnElement[Any], persona: str) -> ColumnElement[Any]:
    """The lowest id (byte order) of the account's active contacts with that effective persona."""
    ps = persona_state
    return (
        select(func.min(ps.c.contact_id))
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
        addressee = func.coalesce(*(_lowest_contact(account, p) for p in EXEC_PERSONAS))
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
        p = ctx.params.exec_checkin
        key = f"{self.id}:{row['account_id']}"
        evidence = self.evidence(row, ctx)
        owner, due_date = ctx.owners["vp_cs"], due(ctx, p.due_days)
        contact = row["addressee_id"]
        draft = self.draft(row, ctx)
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="Exec Check-in",
                type="Lifecycle",
                reason="Relationship",
                priority="Medium",
                owner_id=owner,
                due_date=due_date,
                evidence=evidence,
                contact_id=contact,
            ),
            out.task(
                self.id,
                key,
                "email",
                row["account_id"],
                subject=f"Exec check-in email: {row['account_name']}",
                owner_id=owner,
                due_date=due_date,
                who_id=contact,
                description=draft,
            ),
        ]

    def draft(self, row: RowMapping, ctx: RuleContext) -> str:
        """The Email Assist draft to the addressee (a note to pick one when there is none)."""
        draft = ctx.templates.render(
            "exec_checkin",
            account={"name": row["account_name"], "renewal_date": iso(row["renewal_date"])},
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
        key = f"{self.id}:{row['account_id']}"
        evidence = self.evidence(row, ctx)
        owner, due_date = row["csm_owner"], due(ctx, ctx.params.ebr.due_days)
        draft = ctx.templates.render(
            "ebr_schedule",
            account={"name": row["account_name"], "renewal_date": iso(row["renewal_date"])},
            csm={"name": row["csm_name"] or ""},
        )
        return [
            out.cta(
                self.id,
                key,
                row["account_id"],
                name="Schedule EBR",
                type="Lifecycle",
                reason="Relationship",
                priority="Medium",
                owner_id=owner,
                due_date=due_date,
                evidence=evidence,
            ),
            out.task(
                self.id,
                key,
                "email",
                row["account_id"],
                subject=f"Schedule the EBR with {row['account_name']}",
                owner_id=owner,
                due_date=due_date,
                description=draft,
            ),
        ]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """The latest EBR against the cadence."""
        return _cadence_evidence(row, self.milestone_type, ctx.params.ebr.every_days)


RULES = [ExecCheckin(), EbrDue()]
