"""Which accounts an evaluation must cover: every customer, or only those whose inputs changed.

A rule's outputs for an account depend on that account's rows, the parameters, the templates
and the clock. Within one day (``today`` in ``rules.timezone``) the clock matters only where
RULES.md compares a timestamp in exact time: ticket ages (``created_at`` against the support,
bug and product windows) and events that have started (``start_at <= now``); everything else
counts calendar days, ISO weeks or half-years of ``today``. So an evaluation on the same day as
the last one, with the same rules, parameters, templates and mappings, needs to cover only:

- accounts with a row pulled since the last evaluation, found through the row's references
  (``account_id``, ``what_id``, ``who_id``, ``contact_id``, ``opportunity_id``, ``cta_id``,
  ``organization_id``...; ``LINKS``);
- accounts with a ticket whose age crossed a window, or an event that started, between the
  last evaluation's instant and this one (``clock_windows``);
- accounts whose contacts' personas changed at the last evaluation (``sponsor_turnover`` reads
  "at the previous cycle": the next evaluation settles them, as a full one would).

Every other account's stored outputs are what a full evaluation would produce again, because
the last evaluation (or the one before it, by the same argument) produced them from the same
rows at a clock that crossed no boundary since. Anything this cannot vouch for makes the
evaluation a full one, with the reason in the report: no earlier evaluation, a new day, an
instant earlier than the last, other rules, parameters, templates or mappings, a changed
stream with no path to an account (owners named in the config, say), or so many accounts that
a full run is as cheap.

One limit, stated where it applies: a row moved to another account (a contact whose account
changed, an organization given another Account Id) is seen under its new account at once; the
old account's figures drop it at the next full evaluation, at the latest the first one of the
next day.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    Select,
    Table,
    func,
    insert,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.sql.elements import ColumnElement

import connector
from connector.rules.model import Rule, RuleContext
from connector.rules.scope import customers_query, offset_minutes
from connector.store.schema import evaluation_state, persona_state, runs, text_c

STATE_NAME = "rules"
SCOPE_TABLE = "cs_eval_scope"
# A pull stamps a page's ``pulled_at`` with the clock inside the transaction that commits it.
# While a pull runs, a page stamped before this evaluation began may commit after it read: the
# next evaluation looks back this far for them. With no pull running, only clock skew between
# hosts sharing the store matters (the job locks assume NTP keeps it far below this).
PULL_MARGIN = timedelta(seconds=30)
CLOCK_SKEW = timedelta(seconds=1)
# Above this share of the customers an incremental run costs about what a full one does.
FULL_SHARE = 0.5

# A reference column of a mirror table -> the tables it may point at ("" : an account itself).
# Each target is read as ``target.id = column`` giving ``target.account_id``.
LINKS: dict[str, tuple[str, ...]] = {
    "account_id": ("",),
    "what_id": ("", "opportunity", "cs_cta", "cs_success_plan"),
    "who_id": ("contact",),
    "contact_id": ("contact",),
    "opportunity_id": ("opportunity",),
    "cta_id": ("cs_cta",),
    "success_plan_id": ("cs_success_plan",),
    "organization_id": ("zendesk_organization",),
}
# Streams every evaluation reads besides the rules' own ``requires``: customers and owners
# (``user``), the persona roles.
ALWAYS_READ = ("account", "user", "contact", "account_contact_role", "opportunity_contact_role")


@dataclass(frozen=True)
class PreviousEvaluation:
    """The ``evaluation_state`` row the last evaluation left."""

    now: datetime
    today: date
    fingerprint: str
    pulled_since: datetime
    full_at: datetime


@dataclass(frozen=True)
class Scope:
    """What this evaluation covers: ``table`` (account ids, on the evaluation's connection) or,
    when it is None, every customer (``reason`` says why)."""

    reason: str
    table: Table | None = None
    accounts: int | None = None  # rows in ``table``

    @property
    def full(self) -> bool:
        return self.table is None


# -- what must match for an incremental evaluation ------------------------------------------
def fingerprint(ctx: RuleContext, rules: Sequence[Rule]) -> str:
    """A digest of everything besides rows and clock that outputs depend on: the connector's
    version, the rules run, their parameters, owners, customer filter, the UTC offset of
    ``rules.timezone`` now (a DST change moves every local date), the mirror columns (the
    mappings), the templates and the persona mapping's text."""
    files = sorted(ctx.templates.folder.glob("*")) if ctx.templates.folder.is_dir() else []
    personas = ctx.mappings_dir / "personas.toml"
    parts: dict[str, Any] = {
        "version": connector.__version__,
        "rules": sorted(r.id for r in rules),
        "params": ctx.params.model_dump(mode="json"),
        "owners": dict(sorted(ctx.owners.by_role.items())),
        "customers": [ctx.customer_filter[0], sorted(ctx.customer_filter[1])],
        "offset": offset_minutes(ctx),
        "columns": {name: sorted(t.c.keys()) for name, t in sorted(ctx.tables.items())},
        "files": {p.name: _digest(p) for p in [*files, personas] if p.is_file()},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def previous(conn: Connection) -> PreviousEvaluation | None:
    """The last evaluation's bookmark, if any."""
    s = evaluation_state
    row = conn.execute(select(s).where(s.c.name == STATE_NAME)).first()
    if row is None:
        return None
    return PreviousEvaluation(row.now, row.today, row.fingerprint, row.pulled_since, row.full_at)


def pulled_since(conn: Connection, wall: datetime) -> datetime:
    """The ``pulled_at`` after which a row may be one this evaluation did not see, given the
    clock ``wall`` read before its first read: ``wall`` less the skew, or less the margin while
    a pull is running (a crashed pull's run stays ``running``: only a wider look back)."""
    r = runs
    pulling = conn.execute(
        select(literal(1))
        .where(r.c.status == "running", or_(r.c.job == "pull", r.c.job.like("%:pull")))
        .limit(1)
    ).first()
    return wall - (PULL_MARGIN if pulling is not None else CLOCK_SKEW)


def save(
    conn: Connection,
    ctx: RuleContext,
    print_: str,
    since: datetime,
    scope: Scope,
    last: PreviousEvaluation | None,
) -> None:
    """Record this evaluation, inside the write transaction that stores its outputs."""
    s = evaluation_state
    values = {
        "now": ctx.now,
        "today": ctx.today,
        "fingerprint": print_,
        "pulled_since": since,
        "full_at": ctx.now if scope.full or last is None else last.full_at,
        "accounts": scope.accounts,
    }
    if last is None:
        conn.execute(insert(s).values(name=STATE_NAME, **values))
    else:
        conn.execute(s.update().where(s.c.name == STATE_NAME).values(**values))


# -- the decision -----------------------------------------------------------------------------
def full_reason(
    ctx: RuleContext, print_: str, last: PreviousEvaluation | None, force: bool
) -> str | None:
    """Why this evaluation must cover every customer, or None when it need not."""
    if force:
        return "asked for (--full)"
    if last is None:
        return "no earlier evaluation"
    if last.fingerprint != print_:
        return "rules, parameters, templates or mappings changed"
    if ctx.today != last.today:
        return f"a new day ({ctx.today.isoformat()})"
    if ctx.now < last.now:
        return "an instant before the last evaluation's"
    return None


def read_streams(ctx: RuleContext, rules: Sequence[Rule]) -> list[str]:
    """The mapped streams the rules read: theirs, plus customers, owners and persona roles."""
    wanted = set(ALWAYS_READ)
    for rule in rules:
        wanted.update(rule.requires)
    return sorted(name for name in wanted if ctx.tables.has(name))


def scope_for(
    conn: Connection,
    ctx: RuleContext,
    rules: Sequence[Rule],
    last: PreviousEvaluation | None,
    print_: str,
    force_full: bool = False,
) -> Scope:
    """The accounts to evaluate, as a temporary table on ``conn``, or a full scope with its
    reason. Reads in the caller's transaction; the table lives as long as ``conn``'s."""
    reason = full_reason(ctx, print_, last, force_full)
    if reason is not None or last is None:
        return Scope(reason or "no earlier evaluation")
    streams = read_streams(ctx, rules)
    owners = set(ctx.owners.by_role.values())
    pieces: list[Select[Any]] = []
    for name in streams:
        table = ctx.tables[name]
        since = table.c.pulled_at > last.pulled_since
        if name == "user":
            changed = conn.execute(select(table.c.id).where(since)).scalars().all()
            if owners.intersection(changed):
                return Scope("a user named in owners.* changed")
            pieces.extend(_user_accounts(ctx, changed))
            continue
        when = or_(since, *_clock_conditions(ctx, name, last.now))
        links = _links(ctx, name)
        if not links:
            if conn.execute(select(literal(1)).where(when).limit(1)).first() is not None:
                return Scope(f"{name} changed and has no reference to an account")
            continue
        pieces.extend(_linked_accounts(conn, ctx, name, when, links))
    pieces.append(_unsettled_personas())
    made = _scope_table(conn, union(*pieces))
    accounts = int(conn.execute(select(func.count()).select_from(made)).scalar_one())
    customers = _customer_count(conn, ctx)
    if customers and accounts > FULL_SHARE * customers:
        made.drop(conn)
        return Scope(f"{accounts} accounts changed, of {customers} customers")
    return Scope(f"{accounts} accounts changed since {last.now.isoformat()}", made, accounts)


def clock_windows(ctx: RuleContext) -> dict[tuple[str, str], tuple[timedelta, ...]]:
    """Every exact-time comparison the rules make, as (stream, column) -> the ages compared:
    a row's result can change with the clock alone only when ``column + age`` is passed.

    ``scope.instant_before`` is the one way rules compare ticket ages; a test checks that every
    age it is asked for is listed here.
    """
    p = ctx.params
    ages = (
        timedelta(days=p.support.volume_days),
        timedelta(days=p.support.max_age_days),
        timedelta(hours=p.support.priority_hours),
        timedelta(days=p.bug.max_age_days),
        timedelta(days=p.product.days),
    )
    return {
        ("zendesk_ticket", "created_at"): tuple(sorted(set(ages))),
        ("event", "start_at"): (timedelta(0),),  # an event counts once it has started
    }


def _clock_conditions(ctx: RuleContext, name: str, last_now: datetime) -> list[Any]:
    """Rows of ``name`` whose comparison with the clock may differ between ``last_now`` and
    ``ctx.now``: ``column + age`` in [last_now, now] (both ends, to be safe; none at all when
    the clock has not moved)."""
    table = ctx.tables[name]
    conditions: list[Any] = []
    if ctx.now == last_now:
        return conditions
    for (stream, column), ages in clock_windows(ctx).items():
        if stream != name or column not in table.c:
            continue
        for age in ages:
            conditions.append(table.c[column].between(last_now - age, ctx.now - age))
    return conditions


def _links(ctx: RuleContext, name: str) -> list[tuple[str, str]]:
    """(column, target) pairs by which a row of ``name`` reaches an account."""
    table = ctx.tables[name]
    if name == "account":
        return [("id", "")]
    pairs = []
    for column, targets in LINKS.items():
        if column not in table.c:
            continue
        for target in targets:
            if target == "" or (ctx.tables.has(target) and "account_id" in ctx.tables[target].c):
                pairs.append((column, target))
    return pairs


def _linked_accounts(
    conn: Connection,
    ctx: RuleContext,
    name: str,
    when: ColumnElement[bool],
    links: list[tuple[str, str]],
) -> list[Select[Any]]:
    """The accounts the rows of ``name`` matching ``when`` reach: one scan of ``name`` into a
    temporary table of their reference columns, then one lookup per link."""
    table = ctx.tables[name]
    columns = sorted({column for column, _ in links})
    changed = Table(
        f"{SCOPE_TABLE}_{name}",
        MetaData(),
        *(Column(c, text_c()) for c in columns),
        prefixes=["TEMPORARY"],
    )
    changed.create(conn)
    conn.execute(
        insert(changed).from_select(columns, select(*(table.c[c] for c in columns)).where(when))
    )
    pieces: list[Select[Any]] = []
    for column, target in links:
        ref = changed.c[column]
        if target == "":
            pieces.append(select(ref.label("account_id")).where(ref.is_not(None)))
        else:
            to = ctx.tables[target]
            pieces.append(
                select(to.c.account_id.label("account_id")).select_from(
                    changed.join(to, to.c.id == ref)
                )
            )
    return pieces


def _user_accounts(ctx: RuleContext, changed: Iterable[str]) -> list[Select[Any]]:
    """Accounts a changed user owns (AE or CSM) or whose CTAs they own."""
    ids = list(changed)
    if not ids:
        return []
    a = ctx.tables.account
    pieces: list[Select[Any]] = []
    for column in ("owner_id", "csm_id"):
        if column in a.c:
            pieces.append(select(a.c.id.label("account_id")).where(a.c[column].in_(ids)))
    if ctx.tables.has("cs_cta") and "owner_id" in ctx.tables.cs_cta.c:
        cta = ctx.tables.cs_cta
        pieces.append(select(cta.c.account_id.label("account_id")).where(cta.c.owner_id.in_(ids)))
    return pieces


def _unsettled_personas() -> Select[Any]:
    """Accounts with a known contact whose persona or activity changed at the last evaluation:
    a full evaluation would now make ``previous_*`` equal the current values (and
    ``sponsor_turnover`` stop firing), so these are evaluated again. A contact seen for the
    first time (``previous_*`` null) changes no output when that happens, so it is left be: its
    ``previous_*`` are filled the next time its account is evaluated."""
    ps = persona_state
    known = or_(ps.c.previous_effective.is_not(None), ps.c.previous_active.is_not(None))
    moved = or_(
        ps.c.previous_effective.is_distinct_from(ps.c.effective),
        ps.c.previous_active.is_distinct_from(ps.c.active),
    )
    return select(ps.c.account_id.label("account_id")).where(
        known, moved, ps.c.account_id.is_not(None)
    )


def _scope_table(conn: Connection, accounts: Any) -> Table:
    """A temporary table of the distinct account ids ``accounts`` selects."""
    table = Table(
        SCOPE_TABLE,
        MetaData(),
        Column("account_id", text_c(), primary_key=True),
        prefixes=["TEMPORARY"],
    )
    table.create(conn)
    found = accounts.subquery("changed_accounts")
    conn.execute(
        insert(table).from_select(
            ["account_id"],
            select(found.c.account_id).where(found.c.account_id.is_not(None)),
        )
    )
    return table


def _customer_count(conn: Connection, ctx: RuleContext) -> int:
    """How many customers the mapped filter selects (``scope.customers_query``, unscoped)."""
    every = customers_query(dataclasses.replace(ctx, scope=None, shared={}))
    return int(conn.execute(select(func.count()).select_from(every)).scalar_one())


def drop(conn: Connection, ctx: RuleContext, scope: Scope, rules: Sequence[Rule]) -> None:
    """Drop the temporary tables ``scope_for`` made on ``conn``."""
    if scope.table is not None:
        scope.table.drop(conn)
    for name in read_streams(ctx, rules):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SCOPE_TABLE}_{name}")
