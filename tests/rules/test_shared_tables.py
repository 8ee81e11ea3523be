"""Evaluate's shortcuts change nothing it produces, on the demo org.

- The shared per-account tables (``connector.rules.shared``): every rule decides the same
  outputs from them as from its inline subqueries (``explain`` and the other tests read those).
- The SQLite insert of ``desired_outputs`` and ``persona_state`` (``evaluate._insert_rows``)
  stores the very values SQLAlchemy's insert stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from connector.bootstrap import Deps, bootstrap
from connector.demo import sandbox_settings
from connector.evaluate import build_context, enabled_rules, evaluate
from connector.pull import pull
from connector.rules import all_rules
from connector.rules.model import RuleContext
from connector.rules.params import load_params
from connector.rules.shared import materialize
from connector.store.schema import desired_outputs, persona_state


@pytest.fixture
def demo(sandbox, store_url) -> Iterator[tuple[Deps, RuleContext]]:
    deps = bootstrap(sandbox_settings(sandbox, store_url))
    assert pull(deps.engine, deps.sources, deps.specs, clock=deps.clock).status == "completed"
    ctx = build_context(
        deps.engine,
        deps.specs,
        deps.mappings,
        load_params(deps.settings.mappings_dir / "rules.toml"),
        deps.settings.owners,
        sandbox.state.demo.anchor,
        deps.settings.mappings_dir / "templates",
    )
    yield deps, ctx
    deps.engine.dispose()


def test_every_rule_decides_the_same_outputs_from_the_shared_tables(demo) -> None:
    deps, ctx = demo
    evaluate(deps.engine, ctx, all_rules(), write=True)  # persona_state, as rules read it
    rules, _ = enabled_rules(all_rules(), ctx)
    with deps.engine.connect() as conn:
        shared = materialize(conn, ctx)
        assert {"customers", "customer_organizations", "account_tickets", "last_activity"} <= set(
            shared.shared
        )
        for rule in rules:
            inline = conn.execute(rule.select(ctx)).mappings().all()
            read = conn.execute(rule.select(shared)).mappings().all()
            assert len(read) == len(inline), rule.id
            assert _decided(rule, read, shared) == _decided(rule, inline, ctx), rule.id


def _decided(rule: Any, rows: Any, ctx: RuleContext) -> list[Any]:
    return sorted((o for row in rows for o in rule.decide(row, ctx)), key=lambda o: o.key)


def test_the_sqlite_insert_stores_what_sqlalchemys_insert_stores(demo) -> None:
    deps, ctx = demo
    if deps.engine.dialect.name != "sqlite":
        pytest.skip("the driver-level insert is SQLite's; other backends use SQLAlchemy's")
    evaluate(deps.engine, ctx, all_rules(), write=True)
    for table, key in ((desired_outputs, "key"), (persona_state, "contact_id")):
        fast = _raw(deps, table.name, key)
        with deps.engine.begin() as conn:
            rows = [dict(r) for r in conn.execute(select(table)).mappings()]
            conn.execute(delete(table))
            conn.execute(insert(table), rows)
        assert fast and _raw(deps, table.name, key) == fast, table.name


def _raw(deps: Deps, table: str, key: str) -> list[tuple[Any, ...]]:
    """The stored values as SQLite holds them (text as written, no type processing)."""
    with deps.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {key}")]


def test_persona_assignment_decides_the_same_from_the_staged_personas(demo) -> None:
    from connector.evaluate import _update_personas
    from connector.rules.persona import PersonaAssignment

    deps, ctx = demo
    rule = PersonaAssignment()
    with deps.engine.connect() as conn:
        staged = _update_personas(conn, ctx)
        assert "personas" in staged.shared
        inline = conn.execute(rule.select(ctx)).mappings().all()
        read = conn.execute(rule.select(staged)).mappings().all()
        assert inline and len(read) == len(inline)
        assert _decided(rule, read, staged) == _decided(rule, inline, ctx)
        conn.invalidate()  # the staged table is committed on this connection
