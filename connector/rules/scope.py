"""Shared, set-based building blocks: customers with their owners, tickets with their account,
the last activity per account, and date boundaries computed once from the evaluation instant.

Every boundary is a bound parameter computed in Python from ``now``/``today``, so the SQL stays
portable and RULES.md's readings ("older than" strict, "in the last" inclusive) live here once.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import NamedFromClause, Subquery

from connector.rules.model import RuleContext
from connector.rules.sqlfn import is_true, json_has_any, local_date

OPEN_STATUSES = ("new", "open", "pending", "hold")
HIGH_PRIORITIES = ("high", "urgent")


# -- the rule's statement --------------------------------------------------------------------
def firing_rows(
    query: Select[Any],
    account: ColumnElement[Any],
    account_id: str | None,
    fires: ColumnElement[bool],
    *,
    grouped: bool = False,
) -> Select[Any]:
    """``Rule.select``'s two readings: every firing row (``grouped``: filtered after the
    aggregate), or one account's rows whatever they say, for ``explain``."""
    if account_id is not None:
        return query.where(account == account_id)
    return query.having(fires) if grouped else query.where(fires)


def shared(ctx: RuleContext, name: str, build: Callable[[], Subquery]) -> NamedFromClause:
    """The subquery ``name`` as this evaluation materialised it once (``ctx.shared``, see
    ``connector.rules.shared``), aliased to the same name; else ``build()``, the inline one.

    Several rules read the same per-account figures (customers, their tickets, the support and
    bug figures, the last activity...): inline, each statement recomputed them (the ticket join
    seven times per evaluation). Both readings hold the same rows, so a rule's result does not
    depend on which one it gets; ``explain`` and the unit tests get the inline one.
    """
    table = ctx.shared.get(name)
    return build() if table is None else table.alias(name)


# -- time -------------------------------------------------------------------------------------
def days_before(ctx: RuleContext, days: int) -> date:
    """``today - days``: "in the last N days" is ``date >= days_before(N)`` (and ``<= today``)."""
    return ctx.today - timedelta(days=days)


def dated_within(ctx: RuleContext, day: ColumnElement[Any], days: int) -> ColumnElement[bool]:
    """A date field "in the last ``days`` days": ``today - date <= days`` and ``date <= today``."""
    return and_(day >= days_before(ctx, days), day <= ctx.today)


def instant_before(ctx: RuleContext, **delta: float) -> datetime:
    """``now - delta``: "older than X" is ``timestamp < instant_before(X)`` (strict).

    For ticket ages only: ``evaluation_scope.clock_windows`` must list every age asked for
    here (a test records them through ``AGES_ASKED``), or an incremental evaluation would miss
    a ticket crossing it.
    """
    age = timedelta(**delta)
    asked = AGES_ASKED.get()
    if asked is not None:
        asked.add(age)
    return ctx.now - age


# Set by a test to collect the ages ``instant_before`` is asked for.
AGES_ASKED: ContextVar[set[timedelta] | None] = ContextVar("ages_asked", default=None)


def week_monday(day: date, weeks_back: int = 0) -> date:
    """The Monday of ``day``'s ISO week, ``weeks_back`` weeks earlier."""
    return day - timedelta(days=day.weekday(), weeks=weeks_back)


def iso_week(day: date) -> str:
    """``2026-W44``: the ISO year and week."""
    return day.strftime("%G-W%V")


def half_year(day: date) -> str:
    """``2026-H1`` / ``2026-H2``."""
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def due(ctx: RuleContext, days: int) -> date:
    """today + days; a due date in the past is today."""
    return max(ctx.today, ctx.today + timedelta(days=days))


def next_weekday(ctx: RuleContext, weekday_name: str) -> date:
    """The next such weekday, today if today is one."""
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    target = names.index(weekday_name.lower())
    return ctx.today + timedelta(days=(target - ctx.today.weekday()) % 7)


def offset_minutes(ctx: RuleContext) -> int:
    offset = ctx.now.astimezone(_zone(ctx)).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def to_local_date(ctx: RuleContext, column: ColumnElement[Any]) -> ColumnElement[Any]:
    return local_date(column, ctx.params.timezone, offset_minutes(ctx))


def _zone(ctx: RuleContext) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(ctx.params.timezone)


# -- customers and owners ---------------------------------------------------------------------
def customers(ctx: RuleContext) -> NamedFromClause:
    """Customer accounts (the mapped filter), with the owners rules assign.

    ``csm_owner``: the CSM when active, else the account owner (AE), else ``owners.fallback``;
    ``ae_owner``: the account owner when active, else the fallback; ``high_touch`` by segment.
    """
    return shared(ctx, "customers", lambda: customers_query(ctx))


def customers_query(ctx: RuleContext) -> Subquery:
    """``customers`` as an inline subquery."""
    t = ctx.tables
    a = t.account
    csm = t.user.alias("csm_user")
    ae = t.user.alias("ae_user")
    fallback = literal(ctx.owners["fallback"], String)
    csm_ok = and_(is_true(csm.c.active), not_(csm.c.deleted))
    ae_ok = and_(is_true(ae.c.active), not_(ae.c.deleted))
    segment = a.c.segment if "segment" in a.c else literal(None, String)
    high_touch = (
        segment.in_(ctx.params.high_touch_segments) if ctx.params.high_touch_segments else false()
    )
    filter_column, values = ctx.customer_filter
    query = (
        select(
            a.c.id.label("account_id"),
            a.c.name.label("account_name"),
            a.c.owner_id.label("ae_id"),
            case((csm_ok, a.c.csm_id), (ae_ok, a.c.owner_id), else_=fallback).label("csm_owner"),
            case((ae_ok, a.c.owner_id), else_=fallback).label("ae_owner"),
            high_touch.label("high_touch"),
        )
        .select_from(
            a.outerjoin(csm, csm.c.id == a.c.csm_id).outerjoin(ae, ae.c.id == a.c.owner_id)
        )
        .where(not_(a.c.deleted), a.c[filter_column].in_(values))
    )
    if ctx.scope is not None:  # an incremental evaluation: only the accounts it covers
        query = query.where(a.c.id.in_(select(ctx.scope.c.account_id)))
    return query.subquery("customers")


def user_name(ctx: RuleContext, user_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The name of a user (a correlated lookup) for templates; null when names are unmapped."""
    u = ctx.tables.user
    if "name" not in u.c:
        return literal(None)
    return select(u.c.name).where(u.c.id == user_id).limit(1).scalar_subquery()


def column(table: Any, name: str) -> ColumnElement[Any]:
    """A mapped column, or null when the admin left it unmapped."""
    return table.c[name] if name in table.c else literal(None, String)


def renewal_field(ctx: RuleContext) -> ColumnElement[Any]:
    """The account's mapped renewal date, or null when the mapping leaves it out."""
    a = ctx.tables.account
    return a.c.renewal_date if "renewal_date" in a.c else literal(None)


def active_user(ctx: RuleContext, user_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """``user_id`` when that user is active, else ``owners.fallback`` (a correlated lookup)."""
    u = ctx.tables.user
    active = select(u.c.id).where(u.c.id == user_id, is_true(u.c.active), not_(u.c.deleted))
    return func.coalesce(active.scalar_subquery(), literal(ctx.owners["fallback"], String))


# -- tickets ----------------------------------------------------------------------------------
# The mirror columns ``account_tickets`` reads: a rule built on it requires them.
TICKET_REQUIRES: dict[str, tuple[str, ...]] = {
    "zendesk_ticket": ("status", "priority", "type", "tags", "created_at", "organization_id"),
    "zendesk_organization": ("account_id",),
}


def account_tickets(ctx: RuleContext) -> NamedFromClause:
    """Customers' Zendesk tickets (not deleted) with the classifications RULES.md uses."""
    return shared(ctx, "account_tickets", lambda: account_tickets_query(ctx))


def customer_organizations(ctx: RuleContext) -> NamedFromClause:
    """Zendesk organizations of customers: ``organization_id`` and its ``account_id``.

    The narrow map the ticket join goes through: a million tickets looked up one by one in
    ``mirror_zendesk_organization`` (text key, wide rows) took 6.0 s at scale L, through this
    map (materialised, indexed on ``organization_id``) 1.4 s.
    """
    return shared(ctx, "customer_organizations", lambda: customer_organizations_query(ctx))


def customer_organizations_query(ctx: RuleContext) -> Subquery:
    """``customer_organizations`` as an inline subquery."""
    org = ctx.tables.zendesk_organization
    c = customers(ctx)
    return (
        select(org.c.id.label("organization_id"), c.c.account_id)
        .select_from(org.join(c, c.c.account_id == org.c.account_id))
        .subquery("customer_organizations")
    )


def account_tickets_query(ctx: RuleContext) -> Subquery:
    """``account_tickets`` as an inline subquery."""
    tk = ctx.tables.zendesk_ticket
    c = customer_organizations(ctx)
    is_bug = json_has_any(tk.c.tags, ctx.params.bug.tags)
    is_product = json_has_any(tk.c.tags, ctx.params.product.tags)
    not_task = or_(tk.c.type.is_(None), tk.c.type != "task")
    query = (
        select(
            tk.c.id.label("ticket_id"),
            c.c.account_id,
            tk.c.status,
            tk.c.priority,
            tk.c.type,
            tk.c.created_at,
            is_bug.label("is_bug"),
            is_product.label("is_product"),
            and_(not_(is_bug), not_(is_product), not_task).label("is_support"),
            tk.c.status.in_(OPEN_STATUSES).label("is_open"),
            tk.c.priority.in_(HIGH_PRIORITIES).label("is_high"),
        )
        .select_from(tk.join(c, c.c.organization_id == tk.c.organization_id))
        .where(not_(tk.c.deleted), tk.c.status != "deleted")
    )
    return query.subquery("account_tickets")


# -- activity ---------------------------------------------------------------------------------
# The mirror columns ``last_activity`` reads: a rule built on it requires them.
ACTIVITY_REQUIRES: dict[str, tuple[str, ...]] = {
    "task": ("what_id", "who_id", "activity_date", "is_closed", "created_at", "sync_key"),
    "event": ("what_id", "who_id", "start_at", "sync_key"),
    "cs_timeline_entry": ("account_id", "entry_date", "sync_key"),
    "opportunity": ("account_id",),
    "contact": ("account_id",),
}


def last_activity(ctx: RuleContext) -> NamedFromClause:
    """Per customer account, the date of its latest activity (RULES.md "Activity").

    Completed tasks dated on or before today, events that have started, and timeline entries,
    related to the account directly, through its opportunities or through its contacts — never
    the connector's own records (they carry a sync key).
    """
    return shared(ctx, "last_activity", lambda: last_activity_query(ctx))


def last_activity_query(ctx: RuleContext) -> Subquery:
    """``last_activity`` as an inline subquery."""
    t = ctx.tables
    c = customers(ctx)
    task_date = func.coalesce(t.task.c.activity_date, to_local_date(ctx, t.task.c.created_at))
    event_date = to_local_date(ctx, t.event.c.start_at)
    tasks = _related(
        ctx, c, t.task, task_date, and_(is_true(t.task.c.is_closed), task_date <= ctx.today)
    )
    events = _related(ctx, c, t.event, event_date, t.event.c.start_at <= ctx.now)
    te = t.cs_timeline_entry
    entries = select(te.c.account_id.label("account_id"), te.c.entry_date.label("day")).where(
        not_(te.c.deleted), te.c.sync_key.is_(None), te.c.entry_date <= ctx.today
    )
    everything = union_all(*tasks, *events, entries).subquery("activity")
    return (
        select(c.c.account_id, func.max(everything.c.day).label("last_day"))
        .select_from(c.outerjoin(everything, everything.c.account_id == c.c.account_id))
        .group_by(c.c.account_id)
        .subquery("last_activity")
    )


def _related(
    ctx: RuleContext,
    c: NamedFromClause,
    table: Any,
    day: ColumnElement[Any],
    condition: ColumnElement[bool],
) -> list[Select[Any]]:
    """The activity rows of ``table`` linked to a customer ``c`` directly, by opportunity, by
    contact.

    In an incremental evaluation (``ctx.scope``: a few accounts) each branch first keeps the
    rows whose reference is one of theirs (an ``IN`` over their ids, opportunities, contacts),
    then joins only those: joining every task of the org to its opportunity and contact was
    most of the cost of a few accounts. Over every customer the plain joins are cheaper (the
    ``IN`` sets are then most of the org: +23 % on a full evaluation at L).
    """
    t = ctx.tables
    own = and_(not_(table.c.deleted), table.c.sync_key.is_(None), condition)
    accounts = select(c.c.account_id)
    scoped = ctx.scope is not None

    def first(membership: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        # The membership test first: SQLite checks the terms in order.
        return [membership, own] if scoped else [own]

    direct = select(table.c.what_id.label("account_id"), day.label("day")).where(
        *first(table.c.what_id.in_(accounts))
    )
    opp, theirs = t.opportunity, t.opportunity.alias("customer_opportunity")
    via_opp = (
        select(opp.c.account_id.label("account_id"), day.label("day"))
        .select_from(table.join(opp, opp.c.id == table.c.what_id))
        .where(
            *first(
                table.c.what_id.in_(select(theirs.c.id).where(theirs.c.account_id.in_(accounts)))
            )
        )
    )
    con, people = t.contact, t.contact.alias("customer_contact")
    via_contact = (
        select(con.c.account_id.label("account_id"), day.label("day"))
        .select_from(table.join(con, con.c.id == table.c.who_id))
        .where(
            *first(table.c.who_id.in_(select(people.c.id).where(people.c.account_id.in_(accounts))))
        )
    )
    return [direct, via_opp, via_contact]
