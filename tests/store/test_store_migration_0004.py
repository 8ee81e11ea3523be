"""Migration 0004: the reference indexes of the big mirror tables go, and come back on downgrade.

Mirror tables are made by ``mirror.ensure_tables`` (not by migrations), so the store is built as
a store made before 0004 was: migrated to 0003, then the tables as the mirror declared them then
(every ``*_id`` column indexed), with rows in them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, select

from connector.store import mirror, upgrade
from connector.store.engine import alembic_config, begin_write

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _indexes(engine, table):
    return sorted(tuple(ix["column_names"]) for ix in inspect(engine).get_indexes(table))


def _old_store(engine, make_spec, make_row):
    """At 0003, with the three big tables and a small one indexed as before 0004."""
    upgrade(engine, "0003")
    specs = [
        make_spec("zendesk_ticket", status="text", organization_id="text", external_id="text"),
        make_spec("task", what_id="text", who_id="text", subject="text"),
        make_spec("event", what_id="text"),
        make_spec("contact", account_id="text", name="text"),
    ]
    with engine.begin() as conn:
        for spec in specs:
            table = mirror.table(spec)
            table.create(conn)
            declared = {ix.name for ix in table.indexes}
            for column in table.columns:
                name = f"ix_{table.name}_{column.name}"
                if column.name.endswith("_id") and name not in declared:  # as before 0004
                    # DDL text: an ``Index`` on the cached Table would attach to it
                    conn.exec_driver_sql(f"CREATE INDEX {name} ON {table.name} ({column.name})")
            row = make_row("1", **{c.name: "x" for c in spec.columns})
            mirror.upsert(conn, spec, [row], pulled_at=T0)
    return specs


def _downgrade(engine, revision):
    from alembic import command

    with begin_write(engine) as conn:
        command.downgrade(alembic_config(conn), revision)


def test_0004_drops_the_reference_indexes_of_the_big_tables_only(engine, make_spec, make_row):
    specs = _old_store(engine, make_spec, make_row)
    assert _indexes(engine, "mirror_zendesk_ticket") == [
        ("external_id",),
        ("modstamp",),
        ("organization_id",),
    ]

    upgrade(engine, "0004")

    assert _indexes(engine, "mirror_zendesk_ticket") == [("modstamp",)]
    assert _indexes(engine, "mirror_task") == [("modstamp",)]
    assert _indexes(engine, "mirror_event") == [("modstamp",)]
    assert _indexes(engine, "mirror_contact") == [("account_id",), ("modstamp",)]
    with engine.connect() as conn:  # rows untouched
        for spec in specs:
            assert conn.execute(select(mirror.table(spec).c.id)).scalars().all() == ["1"]
    # and the mirror does not declare them again
    assert mirror.ensure_tables(engine, specs) == []
    assert _indexes(engine, "mirror_task") == [("modstamp",)]


def test_0004_downgrade_indexes_the_references_again(engine, make_spec, make_row):
    _old_store(engine, make_spec, make_row)
    upgrade(engine, "0004")

    _downgrade(engine, "0003")

    assert _indexes(engine, "mirror_zendesk_ticket") == [
        ("external_id",),
        ("modstamp",),
        ("organization_id",),
    ]
    assert _indexes(engine, "mirror_task") == [("modstamp",), ("what_id",), ("who_id",)]
    assert _indexes(engine, "mirror_event") == [("modstamp",), ("what_id",)]
    assert _indexes(engine, "mirror_contact") == [("account_id",), ("modstamp",)]
    upgrade(engine, "0004")  # and up again
    assert _indexes(engine, "mirror_task") == [("modstamp",)]


def test_0004_on_a_store_without_mirror_tables(engine):
    upgrade(engine, "0004")
    _downgrade(engine, "0003")
    upgrade(engine)


def test_new_big_tables_index_no_references(store, make_spec):
    ticket = make_spec("zendesk_ticket", organization_id="text", status="text")
    contact = make_spec("contact", account_id="text")

    mirror.ensure_tables(store, [ticket, contact])

    assert _indexes(store, "mirror_zendesk_ticket") == [("modstamp",)]
    assert _indexes(store, "mirror_contact") == [("account_id",), ("modstamp",)]
