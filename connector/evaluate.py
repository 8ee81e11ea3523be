"""The evaluate shell: build the rule context, run every enabled rule, store the desired outputs.

Rules are pure statements; this module executes them in one read transaction, turns rows into
outputs, and replaces the desired-output set of the rules it ran in one write transaction.
Personas are computed first (Python over one fetch) because other rules read the effective
persona from ``persona_state``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, delete, insert, not_, select

from connector.errors import ConfigError, ConfigErrors
from connector.heap import quiet_heap
from connector.mappings import MappingSet
from connector.model import StreamSpec
from connector.rules.model import DesiredOutput, Owners, Rule, RuleContext, Tables
from connector.rules.params import RuleParams
from connector.rules.shared import materialize as materialize_shared
from connector.rules.templates import Templates
from connector.store import mirror
from connector.store.schema import desired_outputs, persona_state
from connector.store.uow import UnitOfWork

log = logging.getLogger(__name__)
OWNER_ROLES = ("support_manager", "cco", "vp_cs", "product_manager", "fallback")


@dataclass
class EvaluationReport:
    """What one evaluation produced, per rule, and which rules were disabled and why."""

    now: datetime
    outputs: dict[str, int] = field(default_factory=dict)  # rule id -> outputs
    disabled: dict[str, list[str]] = field(default_factory=dict)  # rule id -> missing inputs
    seconds: float = 0.0
    shared_tables_seconds: float = 0.0  # of ``seconds``: the shared tables (rules.shared)

    @property
    def total(self) -> int:
        return sum(self.outputs.values())


def parse_as_of(value: str | None, timezone: str) -> datetime:
    """``--as-of``: an ISO 8601 instant, or a bare date meaning 00:00 in ``rules.timezone``."""
    zone = ZoneInfo(timezone)
    if value is None:
        return datetime.now(zone)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), dtime(0, 0), zone)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError("--as-of", "", f"not an ISO 8601 date or instant: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def resolve_owners(
    conn: Connection,
    tables: Tables,
    emails: Mapping[str, str],
    where: Callable[[str], tuple[str, str]] | None = None,
) -> Owners:
    """Each ``owners.<role>`` email to an active CRM user id; every problem named by its key
    where the admin set it (``where(role)``: the config file or the environment variable)."""
    user = tables.user
    problems: list[ConfigError] = []
    found: dict[str, str] = {}
    for role in OWNER_ROLES:
        origin, key = where(role) if where else ("config.toml", f"owners.{role}")
        email = emails.get(role)
        if not email:
            problems.append(
                ConfigError(origin, key, "missing: an email of an active Salesforce user")
            )
            continue
        row = conn.execute(
            select(user.c.id, user.c.active).where(
                user.c.email == email.lower(), not_(user.c.deleted)
            )
        ).first()
        if row is None:
            problems.append(ConfigError(origin, key, f"no Salesforce user with email {email}"))
        elif not row.active:
            problems.append(ConfigError(origin, key, f"the Salesforce user {email} is inactive"))
        else:
            found[role] = row.id
    if problems:
        raise ConfigErrors(problems)
    return Owners(found)


def build_context(
    engine: Engine,
    specs: Sequence[StreamSpec],
    mappings: MappingSet,
    params: RuleParams,
    owners: Mapping[str, str],
    now: datetime,
    templates_dir: Path,
    mappings_dir: Path | None = None,
    owner_origin: Callable[[str], tuple[str, str]] | None = None,
) -> RuleContext:
    """Tables from the specs, owners resolved, today in ``rules.timezone``; ``mappings_dir``
    (personas.toml) defaults to the templates' parent, ``mappings/``."""
    tables = Tables({s.name: mirror.table(s) for s in specs})
    customer = mappings.customer_filter
    if customer is None:
        raise ConfigError(
            "mappings/salesforce/account.toml",
            "customer_filter",
            "the account mapping needs a customer filter",
        )
    with engine.connect() as conn:
        owner_ids = resolve_owners(conn, tables, owners, owner_origin)
    local_now = now.astimezone(ZoneInfo(params.timezone))
    return RuleContext(
        now=now,
        today=local_now.date(),
        params=params,
        tables=tables,
        owners=owner_ids,
        customer_filter=(customer.column, customer.values),
        templates=Templates(templates_dir),
        mappings_dir=mappings_dir if mappings_dir is not None else templates_dir.parent,
    )


def enabled_rules(
    rules: Sequence[Rule], ctx: RuleContext
) -> tuple[list[Rule], dict[str, list[str]]]:
    """Rules whose inputs are mapped and that the admin did not switch off."""
    enabled: list[Rule] = []
    disabled: dict[str, list[str]] = {}
    for rule in rules:
        missing = ctx.tables.missing(rule.requires)
        if rule.id in ctx.params.disabled:
            disabled[rule.id] = ["switched off in rules.toml"]
        elif missing:
            disabled[rule.id] = missing
            log.warning("rule %s disabled: unmapped %s", rule.id, ", ".join(missing))
        else:
            enabled.append(rule)
    return enabled, disabled


@quiet_heap()  # everything alive before the run stays out of the collections its outputs set off
def evaluate(
    engine: Engine, ctx: RuleContext, rules: Sequence[Rule], *, write: bool = True
) -> tuple[EvaluationReport, list[DesiredOutput]]:
    """Run the rules; with ``write``, replace their desired outputs in the store."""
    started = time.perf_counter()
    report = EvaluationReport(now=ctx.now)
    enabled, report.disabled = enabled_rules(rules, ctx)
    if write:
        _update_personas(engine, ctx)
    produced: list[DesiredOutput] = []
    with engine.connect() as conn:
        # The per-account subqueries several rules read, computed once for all of them as
        # temporary tables on this connection (dropped with its transaction when it closes).
        shared_started = time.perf_counter()
        run_ctx = materialize_shared(conn, ctx)
        report.shared_tables_seconds = round(time.perf_counter() - shared_started, 3)
        for rule in enabled:
            outputs = [
                o
                for row in conn.execute(rule.select(run_ctx)).mappings()
                for o in rule.decide(row, run_ctx)
            ]
            report.outputs[rule.id] = len(outputs)
            produced.extend(outputs)
    _check_unique(produced)
    if write:
        _store(engine, ctx, [r.id for r in enabled], produced)
    report.seconds = round(time.perf_counter() - started, 3)
    return report, produced


def _check_unique(outputs: Sequence[DesiredOutput]) -> None:
    seen: dict[str, str] = {}
    for o in outputs:
        if (
            o.key in seen
            and (seen[o.key], o.object) != ("cta", "zendesk_task")
            and (seen[o.key], o.object) != ("zendesk_task", "cta")
        ):
            raise RuntimeError(f"two outputs share the key {o.key!r} ({seen[o.key]}, {o.object})")
        seen[o.key] = o.object


STORE_CHUNK = 5000  # rows per insert; only one chunk's row dicts are held at a time


def _store(
    engine: Engine, ctx: RuleContext, rule_ids: list[str], outputs: Sequence[DesiredOutput]
) -> None:
    with UnitOfWork(engine) as uow:
        uow.conn.execute(delete(desired_outputs).where(desired_outputs.c.rule.in_(rule_ids)))
        for start in range(0, len(outputs), STORE_CHUNK):
            chunk = [_row(o, ctx.now) for o in outputs[start : start + STORE_CHUNK]]
            _insert_rows(uow.conn, desired_outputs, chunk)
        uow.commit()


def _insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` the rows (each with the same keys); on SQLite straight to the driver's
    ``executemany``.

    SQLAlchemy's per-row parameter handling was most of the store's time (85k outputs at
    scale M). On SQLite each value goes through its column type's own bind processor (JSON
    encoding, dates), so the stored bytes are the same as SQLAlchemy's insert writes; a column
    holding one object in every row (``evaluated_at``) is processed once. Other backends keep
    SQLAlchemy's insert (PostgreSQL renders casts for JSONB).
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), list(rows))
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(rows[0]))
    columns: list[list[Any]] = []
    for bind in compiled.positiontup or ():
        name = compiled.binds[bind].key
        values = [row[name] for row in rows]
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is not None:
            first = values[0]
            if all(v is first for v in values):
                values = [process(first)] * len(values)
            else:
                values = [process(v) for v in values]
        columns.append(values)
    conn.exec_driver_sql(str(compiled), list(zip(*columns, strict=True)))


def _row(o: DesiredOutput, now: datetime) -> dict[str, Any]:
    # Zendesk tasks share their CTA's key; stored under a suffixed key so both rows fit.
    key = f"{o.key}#zendesk" if o.object == "zendesk_task" else o.key
    return {
        "key": key,
        "rule": o.rule,
        "object": o.object,
        "account_id": o.account_id,
        "owner_id": o.owner_id,
        "due_date": o.due_date,
        "parent_key": o.parent_key,
        "fields": _jsonable(o.fields),
        "evidence": o.evidence,
        "evaluated_at": now,
    }


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in fields.items()}


def _update_personas(engine: Engine, ctx: RuleContext) -> None:
    """Compute every customer contact's persona; keep last cycle's for ``sponsor_turnover``."""
    from connector.rules.persona import compute_personas, effective_persona

    if not ctx.tables.has("contact"):
        return
    with UnitOfWork(engine) as uow:
        computed = compute_personas(uow.conn, ctx)
        previous = {r.contact_id: r for r in uow.conn.execute(select(persona_state))}
        rows = []
        for p in computed:
            before = previous.get(p.contact_id)
            last_written = before.computed if before is not None else None
            rows.append(
                {
                    "contact_id": p.contact_id,
                    "account_id": p.account_id,
                    "computed": p.computed,
                    "effective": effective_persona(p.crm_value, last_written, p.computed),
                    "active": p.active,
                    "previous_effective": before.effective if before is not None else None,
                    "previous_active": before.active if before is not None else None,
                    "evaluated_at": ctx.now,
                }
            )
        seen = {r["contact_id"] for r in rows}
        gone = [
            {
                "contact_id": cid,
                "account_id": b.account_id,
                "computed": b.computed,
                "effective": b.effective,
                "active": False,
                "previous_effective": b.effective,
                "previous_active": b.active,
                "evaluated_at": ctx.now,
            }
            for cid, b in previous.items()
            if cid not in seen and (b.active or b.evaluated_at)
        ]
        uow.conn.execute(delete(persona_state))
        if rows or gone:
            _insert_rows(uow.conn, persona_state, rows + gone)
        uow.commit()
