"""The evaluate shell: build the rule context, run every enabled rule, store the desired outputs.

Rules are pure statements; this module executes them in one read transaction, turns rows into
outputs as it streams them to a staging table, and brings the desired-output set of the rules
it ran up to date in one short write transaction, writing only the outputs that changed.
Personas are computed first (Python over one fetch) because other rules read the effective
persona from ``persona_state``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any, overload
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    Text,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from connector import evaluation_scope
from connector.errors import ConfigError, ConfigErrors
from connector.evaluation_scope import Scope
from connector.heap import quiet_heap
from connector.mappings import MappingSet
from connector.model import StreamSpec
from connector.rules.model import DesiredOutput, Owners, Rule, RuleContext, Tables
from connector.rules.params import RuleParams
from connector.rules.shared import drop as drop_shared
from connector.rules.shared import materialize as materialize_shared
from connector.rules.sqlfn import is_true
from connector.rules.templates import Templates
from connector.store import mirror
from connector.store.engine import WRITE_OPTION
from connector.store.schema import desired_outputs, persona_state, text_c

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
    scope: str = ""  # which accounts were evaluated, and why (``evaluation_scope``)
    accounts: int | None = None  # accounts evaluated when not every customer

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
    engine: Engine,
    ctx: RuleContext,
    rules: Sequence[Rule],
    *,
    write: bool = True,
    incremental: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> tuple[EvaluationReport, Sequence[DesiredOutput]]:
    """Run the rules; with ``write``, bring their desired outputs in the store up to date.

    Without ``write`` the outputs come back as a list. With it the evaluation holds none of
    them: each rule's outputs go, a chunk at a time as it decides them, to a temporary staging
    table keyed like ``desired_outputs`` (two outputs with one key stop the run), and one short
    write transaction then changes ``desired_outputs`` where it differs from the staging table
    (``_replace``); the outputs returned are read back from the store when first used.

    With ``incremental`` (and ``write``) only the accounts whose inputs changed since the last
    evaluation are evaluated, when that is known to give what a full evaluation would
    (``connector.evaluation_scope``); the others' stored outputs stay. ``clock`` reads the
    machine's time, which ``pulled_at`` is stamped with (not ``ctx.now``, the ``--as-of``).
    """
    started = time.perf_counter()
    wall = (clock or _utc_now)()
    report = EvaluationReport(now=ctx.now)
    enabled, report.disabled = enabled_rules(rules, ctx)
    rule_ids = [r.id for r in enabled]
    produced: list[DesiredOutput] = []
    with engine.connect() as conn:
        try:
            scope, last, print_, since = Scope("not stored"), None, "", wall
            if write:
                since = evaluation_scope.pulled_since(conn, wall)
                last = evaluation_scope.previous(conn)
                print_ = evaluation_scope.fingerprint(ctx, enabled)
                scope = evaluation_scope.scope_for(
                    conn, ctx, enabled, last, print_, force_full=not incremental
                )
            report.scope, report.accounts = scope.reason, scope.accounts
            scoped = dataclasses.replace(ctx, scope=scope.table)
            if scope.accounts == 0:  # nothing changed: the stored outputs stand as they are
                conn.commit()
                with _writing(conn):
                    evaluation_scope.save(conn, ctx, print_, since, scope, last)
                    evaluation_scope.drop(conn, ctx, scope, enabled)
                report.outputs = _stored_counts(conn, rule_ids)
                report.seconds = round(time.perf_counter() - started, 3)
                return report, StoredOutputs(engine, rule_ids)
            run_ctx = _update_personas(conn, scoped) if write else scoped
            # The per-account subqueries several rules read, computed once for all of them as
            # temporary tables on this connection (see ``connector.rules.shared``).
            shared_started = time.perf_counter()
            run_ctx = materialize_shared(conn, run_ctx)
            report.shared_tables_seconds = round(time.perf_counter() - shared_started, 3)
            staging = _Staging(conn) if write else None
            for rule in enabled:
                count = 0
                for row in conn.execute(rule.select(run_ctx)).mappings():
                    for o in rule.decide(row, run_ctx):
                        count += 1
                        if staging is None:
                            produced.append(o)
                        else:
                            staging.add(o)
                if staging is not None:
                    staging.flush()
                report.outputs[rule.id] = count
            if staging is None:
                _check_unique(produced)
            else:
                conn.commit()  # the rules' read ends; the temporary tables stay on ``conn``
                with _writing(conn):
                    _replace(conn, staging.table, rule_ids, ctx.now, scope.table)
                    evaluation_scope.save(conn, ctx, print_, since, scope, last)
                    drop_shared(conn, run_ctx, ctx)  # the staged personas too
                    staging.table.drop(conn)
                    evaluation_scope.drop(conn, ctx, scope, enabled)
                if not scope.full:  # the outputs of every account, not only those evaluated
                    report.outputs = _stored_counts(conn, rule_ids)
        except BaseException:
            # Temporary tables committed with the personas or the read would outlive the run
            # on a pooled connection: close this one instead of handing it back.
            conn.invalidate()
            raise
    report.seconds = round(time.perf_counter() - started, 3)
    if write:
        return report, StoredOutputs(engine, rule_ids)
    return report, produced


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stored_counts(conn: Connection, rule_ids: Sequence[str]) -> dict[str, int]:
    """Stored desired outputs per rule (every rule in ``rule_ids``, 0 when it has none)."""
    d = desired_outputs
    counts: dict[str, int] = dict(
        conn.execute(
            select(d.c.rule, func.count()).where(d.c.rule.in_(rule_ids)).group_by(d.c.rule)
        ).all()
    )
    conn.commit()
    return {rule: int(counts.get(rule, 0)) for rule in rule_ids}


def _check_unique(outputs: Sequence[DesiredOutput]) -> None:
    """Without ``write``: the check the staging table's primary key makes with it."""
    seen: dict[str, str] = {}
    for o in outputs:
        if (
            o.key in seen
            and (seen[o.key], o.object) != ("cta", "zendesk_task")
            and (seen[o.key], o.object) != ("zendesk_task", "cta")
        ):
            raise RuntimeError(f"two outputs share the key {o.key!r} ({seen[o.key]}, {o.object})")
        seen[o.key] = o.object


STORE_CHUNK = 5000  # outputs staged per insert; only one chunk's rows are held at a time
STAGED = "cs_eval_staged"
STAGED_PERSONAS = "cs_eval_personas"
# What an output is: the columns compared to decide whether a stored row changed.
OUTPUT_COLUMNS = (
    "key",
    "rule",
    "object",
    "account_id",
    "owner_id",
    "due_date",
    "parent_key",
    "fields",
    "evidence",
)


class _Staging:
    """A temporary table of ``desired_outputs``' output columns, filled a chunk at a time.

    Its primary key is the stored key (a Zendesk task's carries ``#zendesk``, so it may share
    its CTA's key), so an output whose key another output already took fails the insert.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.table = Table(
            STAGED,
            MetaData(),
            *(
                Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                for c in desired_outputs.c
                if c.name in OUTPUT_COLUMNS
            ),
            prefixes=["TEMPORARY"],
        )
        self.table.create(conn)
        self.rows: list[dict[str, Any]] = []

    def add(self, output: DesiredOutput) -> None:
        self.rows.append(_row(output))
        if len(self.rows) >= STORE_CHUNK:
            self.flush()

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        if not rows:
            return
        try:
            _insert_rows(self.conn, self.table, rows)
        except IntegrityError as exc:
            raise RuntimeError(
                f"two outputs share a key (rule {rows[-1]['rule']}, chunk of "
                f"{rows[0]['key']!r}..{rows[-1]['key']!r}): {exc.orig}"
            ) from exc


def _replace(
    conn: Connection,
    staged: Table,
    rule_ids: Sequence[str],
    now: datetime,
    scope: Table | None = None,
) -> None:
    """``desired_outputs`` of ``rule_ids`` made equal to ``staged``, writing only what differs:
    rows whose key is no longer produced are deleted, rows whose output changed are updated,
    new keys inserted. An unchanged row is not written: it keeps its ``evaluated_at``, the
    evaluation that produced it as it is (the first one, when it never changed). With a
    ``scope`` (the accounts evaluated), only those accounts' rows can be no longer produced."""
    d, s = desired_outputs, staged
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {STAGED}")  # no autovacuum statistics on temporary tables
    gone = [d.c.rule.in_(rule_ids), ~exists().where(s.c.key == d.c.key)]
    if scope is not None:
        # Keys found through the account index: written as ``account_id IN (scope)`` SQLite
        # walks the rule index over every row instead (0.2 s at L for a few hundred accounts).
        covered = desired_outputs.alias("covered")
        in_scope = select(covered.c.key).where(covered.c.account_id.in_(select(scope.c.account_id)))
        gone.insert(0, d.c.key.in_(in_scope))
    conn.execute(delete(d).where(*gone))
    changed = or_(*(d.c[n].is_distinct_from(s.c[n]) for n in OUTPUT_COLUMNS if n != "key"))
    conn.execute(
        update(d)
        .values({**{n: s.c[n] for n in OUTPUT_COLUMNS if n != "key"}, "evaluated_at": now})
        .where(d.c.key == s.c.key, changed)
    )
    stamp = literal(now, d.c.evaluated_at.type).label("evaluated_at")
    conn.execute(
        insert(d).from_select(
            [*OUTPUT_COLUMNS, "evaluated_at"],
            select(*(s.c[n] for n in OUTPUT_COLUMNS), stamp).where(
                ~exists().where(d.c.key == s.c.key)
            ),
        )
    )


class StoredOutputs(Sequence[DesiredOutput]):
    """The desired outputs of ``rule_ids`` as stored, in key order, read when first used.

    What ``evaluate(write=True)`` returns: the callers of a real cycle do not look at them, so
    they are never loaded there. Zendesk tasks get back the key they share with their CTA, and
    dates in ``fields`` read back as the ISO text they are stored as.
    """

    def __init__(self, engine: Engine, rule_ids: Sequence[str]) -> None:
        self._engine, self._rule_ids = engine, list(rule_ids)
        self._loaded: list[DesiredOutput] | None = None

    def _outputs(self) -> list[DesiredOutput]:
        if self._loaded is None:
            from connector.reconcile.state import load_desired  # the store's one reader of them

            with self._engine.connect() as conn:
                self._loaded = load_desired(conn, rules=self._rule_ids)
        return self._loaded

    @overload
    def __getitem__(self, index: int) -> DesiredOutput: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DesiredOutput]: ...
    def __getitem__(self, index: int | slice) -> DesiredOutput | Sequence[DesiredOutput]:
        return self._outputs()[index]

    def __len__(self) -> int:
        return len(self._outputs())


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


def _row(o: DesiredOutput) -> dict[str, Any]:
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
    }


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in fields.items()}


def _update_personas(conn: Connection, ctx: RuleContext) -> RuleContext:
    """Compute every customer contact's persona; keep last cycle's for ``sponsor_turnover``.

    Classified on ``conn`` in a read transaction and staged as a temporary table, which
    ``persona_assignment`` reads (``ctx.shared["personas"]``, in the context returned); then,
    in a write transaction of its own, the new ``persona_state`` rows are computed from it and
    last cycle's rows a chunk at a time into a second temporary table, which replaces
    ``persona_state``. Both transactions end committed (the staged table stays on ``conn``).
    """
    from connector.rules.persona import classified_contacts, effective_persona

    if not ctx.tables.has("contact"):
        return ctx
    staged = Table(
        STAGED_PERSONAS,
        MetaData(),
        Column("contact_id", text_c(), primary_key=True),
        Column("account_id", text_c()),
        Column("contact_name", text_c()),
        Column("persona", text_c()),
        Column("why", Text),
        Column("crm_value", text_c()),
        Column("active", Boolean, nullable=False),
        prefixes=["TEMPORARY"],
    )
    staged.create(conn)
    chunk: list[dict[str, Any]] = []
    for row in classified_contacts(conn, ctx):
        chunk.append(row)
        if len(chunk) >= STORE_CHUNK:
            _insert_rows(conn, staged, chunk)
            chunk = []
    _insert_rows(conn, staged, chunk)
    conn.commit()
    state = persona_state
    fresh = Table(
        f"{STAGED_PERSONAS}_state",
        MetaData(),
        *(Column(c.name, c.type, primary_key=c.primary_key) for c in state.c),
        prefixes=["TEMPORARY"],
    )
    with _writing(conn):
        fresh.create(conn)
        before = state.alias("before")
        this_cycle = select(
            staged.c.contact_id,
            staged.c.account_id,
            staged.c.persona,
            staged.c.crm_value,
            staged.c.active,
            before.c.computed,
            before.c.effective,
            before.c.active.label("was_active"),
            before.c.contact_id.label("known"),
        ).select_from(staged.outerjoin(before, before.c.contact_id == staged.c.contact_id))
        rows: list[dict[str, Any]] = []
        for r in conn.execute(this_cycle):
            known = r.known is not None
            rows.append(
                {
                    "contact_id": r.contact_id,
                    "account_id": r.account_id,
                    "computed": r.persona,
                    "effective": effective_persona(
                        r.crm_value, r.computed if known else None, r.persona
                    ),
                    "active": r.active,
                    "previous_effective": r.effective if known else None,
                    "previous_active": r.was_active if known else None,
                    "evaluated_at": ctx.now,
                }
            )
            if len(rows) >= STORE_CHUNK:
                _insert_rows(conn, fresh, rows)
                rows = []
        _insert_rows(conn, fresh, rows)
        # Contacts gone since last cycle (deleted, or no longer a customer's) stay, inactive;
        # in an incremental evaluation, the rows of the accounts it covers are all it replaces.
        covered = (
            [state.c.account_id.in_(select(ctx.scope.c.account_id))]
            if ctx.scope is not None
            else []
        )
        gone = select(
            state.c.contact_id,
            state.c.account_id,
            state.c.computed,
            state.c.effective,
            false(),
            state.c.effective,
            state.c.active,
            literal(ctx.now, state.c.evaluated_at.type),
        ).where(
            ~exists().where(staged.c.contact_id == state.c.contact_id),
            or_(is_true(state.c.active), state.c.evaluated_at.is_not(None)),
            *covered,
        )
        conn.execute(fresh.insert().from_select([c.name for c in state.c], gone))
        if ctx.scope is None:
            conn.execute(delete(state))
        else:
            conn.execute(delete(state).where(state.c.contact_id.in_(select(fresh.c.contact_id))))
        conn.execute(state.insert().from_select([c.name for c in state.c], select(fresh)))
        fresh.drop(conn)
    return dataclasses.replace(ctx, shared={**ctx.shared, "personas": staged})


@contextmanager
def _writing(conn: Connection) -> Iterator[None]:
    """One committed write transaction on ``conn`` (SQLite: ``BEGIN IMMEDIATE``, the write lock
    taken up front), then back to read transactions."""
    conn.execution_options(**{WRITE_OPTION: True})
    try:
        with conn.begin():
            yield
    finally:
        conn.execution_options(**{WRITE_OPTION: False})
