"""``ivm_handoff``: an onboarding customer reaches the Initial Value Moment (RULES.md, Lifecycle).

pilot = ceil(pilot_share × licenses purchased); each of the last 2 complete weeks has active
users ≥ users_share × pilot and ≥ ``ivm.features_green`` features green (an absolute count, not
scaled); and every checkbox of ``ivm.tactical_fields`` is true (blank = false). Shares are exact
fractions, so ceil(10 % × 160) is 16 and 80 % × 20 is exactly 16.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Boolean, Select, and_, exists, false, literal, not_, select, true
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause

from connector.rules import outputs as out
from connector.rules.model import DesiredOutput, RuleContext
from connector.rules.params import exact
from connector.rules.scope import customers, due, firing_rows
from connector.rules.sqlfn import is_true
from connector.rules.usage_weeks import features_green, last_complete_week, week_label

IVM_REACHED = "IVM Reached"
CHECKLIST = (
    ("implementation-status", "Review implementation status"),
    ("adoption-readiness", "Confirm adoption readiness"),
    ("next-steps", "Agree next steps with the customer"),
)


class IvmHandoff:
    """Onboarding → CS handoff once the pilot's users and features hold for two weeks."""

    id = "ivm_handoff"
    family = "ivm"
    requires = {
        "account": (
            "lifecycle_stage",
            "licenses_purchased",
            "ivm_kickoff_done",
            "ivm_integration_live",
            "ivm_training_done",
        ),
        "usage_week": ("account_id", "week_start", "active_users"),
        "cs_milestone": ("account_id", "milestone_type"),
    }

    def select(self, ctx: RuleContext, account_id: str | None = None) -> Select[Any]:
        p = ctx.params.ivm
        c, a = customers(ctx), ctx.tables.account
        last = features_green(ctx, last_complete_week(ctx), "ivm_last")
        prev = features_green(ctx, last_complete_week(ctx, 1), "ivm_prev")
        pilot = _pilot(ctx, a.c.licenses_purchased)
        conditions = {
            "in_onboarding": a.c.lifecycle_stage.in_(p.onboarding_stages),
            "no_milestone": not_(_has_ivm_milestone(ctx, c.c.account_id)),
            "users_ok": and_(_users_ok(ctx, last, pilot), _users_ok(ctx, prev, pilot)),
            "features_ok": and_(last.c.green >= p.features_green, prev.c.green >= p.features_green),
            "boxes_ok": and_(true(), *(_box_column(a, f) for f in p.tactical_fields)),
        }
        fires = and_(*(is_true(cond) for cond in conditions.values()))
        query = select(
            c.c.account_id,
            c.c.account_name,
            c.c.csm_owner,
            a.c.lifecycle_stage,
            a.c.licenses_purchased,
            pilot.label("pilot"),
            *(w.c[col].label(f"{w.name}_{col}") for w in (last, prev) for col in _WEEK),
            *(
                (a.c[f] if f in a.c else literal(None, Boolean)).label(f"box_{i}")
                for i, f in enumerate(p.tactical_fields)
            ),
            *(is_true(cond).label(name) for name, cond in conditions.items()),
            fires.label("fires"),
        ).select_from(
            c.join(a, a.c.id == c.c.account_id)
            .join(last, last.c.account_id == c.c.account_id)
            .join(prev, prev.c.account_id == c.c.account_id)
        )
        return firing_rows(query, c.c.account_id, account_id, fires)

    def decide(self, row: RowMapping, ctx: RuleContext) -> list[DesiredOutput]:
        if not row["fires"]:
            return []
        key, account = f"{self.id}:{row['account_id']}", row["account_id"]
        evidence = self.evidence(row, ctx)
        owned: dict[str, Any] = {
            "owner_id": row["csm_owner"],
            "due_date": due(ctx, ctx.params.ivm.due_days),
        }
        reached = out.milestone(
            self.id,
            f"{key}/milestone",
            account,
            milestone_type=IVM_REACHED,
            milestone_date=ctx.today,
            notes=evidence,
        )
        cta = out.cta(
            self.id,
            key,
            account,
            name="Onboarding → CS handoff",
            type="Lifecycle",
            reason="Onboarding",
            priority="Medium",
            evidence=evidence,
            **owned,
        )
        tasks = [
            out.task(
                self.id,
                key,
                step,
                account,
                subject=f"{subject}: {row['account_name']}",
                description=evidence,
                **owned,
            )
            for step, subject in CHECKLIST
        ]
        return [cta, dataclasses.replace(reached, parent_key=key), *tasks]

    def evidence(self, row: RowMapping, ctx: RuleContext) -> str:
        """Each condition with its figures and thresholds."""
        p = ctx.params.ivm
        pilot, users = row["pilot"], exact(p.users_share)
        lines = [
            f"Lifecycle stage {row['lifecycle_stage']} (onboarding stages: "
            f"{', '.join(p.onboarding_stages)}); "
            + (
                f"no {IVM_REACHED} milestone"
                if row["no_milestone"]
                else f"an {IVM_REACHED} milestone exists"
            ),
            f"Pilot = ceil({out.number(exact(p.pilot_share) * 100)} % × "
            f"{row['licenses_purchased']} licenses purchased) = {pilot}",
        ]
        need = out.number(users * pilot) if pilot is not None else "n/a"
        for name, weeks_back in (("ivm_last", 0), ("ivm_prev", 1)):
            label = week_label(last_complete_week(ctx, weeks_back))
            if not row[f"{name}_has_row"]:
                lines.append(f"{label}: no usage row")
                continue
            lines.append(
                f"{label}: {row[f'{name}_active_users']} active users (need ≥ "
                f"{out.number(users * 100)} % × {pilot} = {need}); {row[f'{name}_green']} of "
                f"{row[f'{name}_tracked']} features green (need ≥ {p.features_green})"
            )
        boxes = [f"{f} = {_box(row[f'box_{i}'])}" for i, f in enumerate(p.tactical_fields)]
        lines.append("Checkboxes: " + (", ".join(boxes) if boxes else "none configured"))
        return "\n".join(lines)


_WEEK = ("has_row", "active_users", "green", "tracked")


def _pilot(ctx: RuleContext, licenses: ColumnElement[Any]) -> ColumnElement[Any]:
    """ceil(pilot_share × licenses) in integers: (n × licenses + d − 1) // d for share n/d."""
    share = exact(ctx.params.ivm.pilot_share)
    return (share.numerator * licenses + (share.denominator - 1)) // share.denominator


def _box_column(account: Any, field: str) -> ColumnElement[bool]:
    """A tactical checkbox: blank (or unmapped) is false."""
    return is_true(account.c[field]) if field in account.c else false()


def _users_ok(
    ctx: RuleContext, week: NamedFromClause, pilot: ColumnElement[Any]
) -> ColumnElement[Any]:
    """The week has a row and active users ≥ users_share × pilot (compared as integers)."""
    share = exact(ctx.params.ivm.users_share)
    active = week.c.active_users
    return and_(
        week.c.has_row, active.is_not(None), active * share.denominator >= share.numerator * pilot
    )


def _has_ivm_milestone(ctx: RuleContext, account_id: Any) -> ColumnElement[bool]:
    m = ctx.tables.cs_milestone
    return exists().where(
        m.c.account_id == account_id, m.c.milestone_type == IVM_REACHED, not_(m.c.deleted)
    )


def _box(value: Any) -> str:
    return "blank" if value is None else ("true" if value else "false")


RULES = [IvmHandoff()]
