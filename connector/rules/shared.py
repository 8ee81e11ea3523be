"""The per-account subqueries several rules share, materialised once per evaluation.

Inline, every rule statement recomputed what it reads: the customers, their tickets with the
ticket classes (seven times: ``support_risk``, ``bug_risk``, ``product_risk`` and twice each
in ``health_scorecard`` and ``get_well_plan`` through the support and bug figures), the last
activity (three times), the account NPS and the adoption week (twice). ``materialize`` runs each
of them once as a ``TEMPORARY`` table on the evaluation's connection (private to it: no write
lock on the store, gone when the connection's transaction is rolled back, on SQLite and
PostgreSQL alike; ``evaluate`` commits it before its write and then ``drop``s them)
with an index on ``account_id``, and returns a context whose ``shared`` names them; the scope
builders then read the table instead of recomputing the subquery (``scope.shared``).

The tables hold exactly the rows of the inline subqueries (filled by the same statement), so
every rule still reads store tables and params only; ``explain`` and the unit tests keep the
inline subqueries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, cast

from sqlalchemy import Column, Connection, Index, MetaData, Select, Table
from sqlalchemy.sql.selectable import Subquery
from sqlalchemy.sql.sqltypes import NullType

from connector.rules.model import RuleContext

PREFIX = "cs_eval_"


# name, inline builder, the mirror columns it reads, the column its index is on
Spec = tuple[str, Callable[[RuleContext], Subquery], Mapping[str, Sequence[str]], str]


def _specs(ctx: RuleContext) -> list[Spec]:
    """The shared tables in dependency order: a later builder reads the earlier tables (the
    ticket figures read ``customers`` and ``account_tickets``)."""
    from connector.rules.bug import bug_figures_query
    from connector.rules.nps_data import account_nps_query
    from connector.rules.scope import (
        ACTIVITY_REQUIRES,
        TICKET_REQUIRES,
        account_tickets_query,
        customer_organizations_query,
        customers_query,
        last_activity_query,
    )
    from connector.rules.support import support_figures_query
    from connector.rules.usage_weeks import (
        features_green_key,
        features_green_query,
        last_complete_week,
    )

    usage = {"usage_week": ("account_id", "week_start", "active_users")}
    # The last complete week and the one before: the scorecard, the usage rules, ivm_handoff.
    weeks: list[Spec] = [
        (
            features_green_key(monday),
            partial(features_green_query, week_monday=monday),
            usage,
            "account_id",
        )
        for monday in (last_complete_week(ctx), last_complete_week(ctx, 1))
    ]
    return [
        ("customers", customers_query, {"account": ("id",), "user": ("id",)}, "account_id"),
        (
            "customer_organizations",
            customer_organizations_query,
            {"zendesk_organization": ("account_id",)},
            "organization_id",
        ),
        ("account_tickets", account_tickets_query, TICKET_REQUIRES, "account_id"),
        (
            "support_figures",
            support_figures_query,
            {"account": ("support_volume_threshold",), **TICKET_REQUIRES},
            "account_id",
        ),
        (
            "bug_figures",
            bug_figures_query,
            {"account": ("licenses_purchased", "bug_volume_threshold"), **TICKET_REQUIRES},
            "account_id",
        ),
        ("last_activity", last_activity_query, ACTIVITY_REQUIRES, "account_id"),
        (
            "account_nps",
            account_nps_query,
            {"survey_answer": ("account_id", "kind", "score", "answer_date")},
            "account_id",
        ),
        *weeks,
    ]


def materialize(conn: Connection, ctx: RuleContext) -> RuleContext:
    """Create the shared tables whose inputs are mapped; ``ctx`` with ``shared`` naming them.

    Call inside the connection's transaction that runs the rules: the tables live as long as it
    does (a rollback or the connection's return to the pool drops them).
    """
    for name, build, requires, index_on in _specs(ctx):
        if ctx.tables.missing(requires) or name in ctx.shared:
            continue
        try:
            query = build(ctx)
        except (AttributeError, KeyError):  # an unmapped input: the rules reading it are off
            continue
        table = _create(conn, f"{PREFIX}{name}", query, index_on)
        if table is not None:
            ctx = dataclasses.replace(ctx, shared={**ctx.shared, name: table})
    return ctx


def _create(conn: Connection, name: str, query: Subquery, index_on: str) -> Table | None:
    """A temporary table of ``query``'s columns and types, filled by ``INSERT ... SELECT``
    (bound parameters processed as the inline statement's, which ``CREATE TABLE ... AS`` cannot
    take on PostgreSQL), indexed on ``index_on``; None when a column has no SQL type.

    Rows go in in ``account_id`` order, so a rule's join on the index reads each account's rows
    together (SQLite stores them in insertion order): grouping the 200k tickets of scale M per
    account took 1.0 s in scan order, 0.35 s so. Row order is not part of any result: the
    list aggregates are sorted where they are read (``split_list``).
    """
    columns = [Column(c.name, c.type) for c in query.c]
    if any(isinstance(c.type, NullType) for c in columns):
        return None
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
    table.create(conn)
    select = cast(Select[Any], query.element)
    ordered = select.order_by(select.selected_columns.account_id)
    conn.execute(table.insert().from_select([c.name for c in columns], ordered))
    Index(f"{name}_{index_on}", table.c[index_on]).create(conn)
    return table


def drop(conn: Connection, made: RuleContext, given: RuleContext) -> None:
    """Drop the shared tables ``materialize`` made: in ``made`` (what it returned), not in
    ``given`` (what it was given).

    Needed once the transaction that made them has been committed: they would otherwise live
    as long as the connection, in the pool, and the next evaluation could not create them.
    """
    for name, table in made.shared.items():
        if name not in given.shared:
            table.drop(conn)
