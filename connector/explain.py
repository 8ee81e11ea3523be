"""``explain``: for one account, every rule — fired or silent, its figures, what it would produce.

It runs each rule's own statement restricted to the account, without the firing filter, so the
figures shown are exactly the ones that decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, or_, select

from connector.errors import ConfigError
from connector.evaluate import enabled_rules
from connector.rules.model import Rule, RuleContext
from connector.rules.scope import customers
from connector.transforms import salesforce_id18 as to18


@dataclass
class RuleExplanation:
    """One rule's verdict on the account."""

    rule: str
    fires: bool
    figures: list[dict[str, Any]] = field(default_factory=list)
    evidence: str = ""
    outputs: list[str] = field(default_factory=list)
    disabled: str = ""


@dataclass
class Explanation:
    account_id: str
    account_name: str
    rules: list[RuleExplanation] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)


def find_account(engine: Engine, ctx: RuleContext, account: str) -> tuple[str, str]:
    """A customer by id (15 or 18 characters) or by exact name, any case."""
    c = customers(ctx)
    by_id = c.c.account_id == (to18(account) if len(account) == 15 else account)
    query = select(c.c.account_id, c.c.account_name).where(
        or_(by_id, c.c.account_name.ilike(account.replace("%", r"\%"), escape="\\"))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        raise ConfigError("explain", "ACCOUNT", f"no customer account with id or name {account!r}")
    if len(rows) > 1:
        names = ", ".join(f"{r.account_name} ({r.account_id})" for r in rows)
        raise ConfigError("explain", "ACCOUNT", f"{account!r} matches several accounts: {names}")
    return rows[0].account_id, rows[0].account_name


def explain(engine: Engine, ctx: RuleContext, rules: Sequence[Rule], account: str) -> Explanation:
    account_id, name = find_account(engine, ctx, account)
    result = Explanation(account_id, name, overrides=_overrides(engine, ctx, account_id))
    enabled, disabled = enabled_rules(rules, ctx)
    with engine.connect() as conn:
        for rule in enabled:
            rows = list(conn.execute(rule.select(ctx, account_id)).mappings())
            verdict = RuleExplanation(rule.id, fires=any(r["fires"] for r in rows))
            for row in rows:
                verdict.figures.append({k: _plain(v) for k, v in row.items()})
                outputs = rule.decide(row, ctx)
                verdict.outputs.extend(f"{o.object}: {o.key}" for o in outputs)
                evidence = getattr(rule, "evidence", None)
                if callable(evidence):
                    verdict.evidence = "\n".join(
                        filter(None, [verdict.evidence, evidence(row, ctx)])
                    )
                elif outputs and not verdict.evidence:
                    verdict.evidence = outputs[0].evidence
            result.rules.append(verdict)
    for rule_id, missing in disabled.items():
        result.rules.append(RuleExplanation(rule_id, False, disabled=", ".join(missing)))
    return result


def _overrides(engine: Engine, ctx: RuleContext, account_id: str) -> dict[str, Any]:
    """Per-account thresholds that replace the defaults (RULES.md "Overrides")."""
    a = ctx.tables.account
    columns = [a.c[n] for n in ("support_volume_threshold", "bug_volume_threshold") if n in a.c]
    if not columns:
        return {}
    with engine.connect() as conn:
        row = conn.execute(select(*columns).where(a.c.id == account_id)).mappings().first()
    return {k: v for k, v in (row or {}).items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
