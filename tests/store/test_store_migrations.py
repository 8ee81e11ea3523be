"""Migrations: they build the fixed tables, re-running them changes nothing, schema.py agrees."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from connector.store import current_revision, head_revision, upgrade
from connector.store.schema import metadata

FIXED_TABLES = {
    "evaluation_state",
    "sync_state",
    "runs",
    "run_streams",
    "record_errors",
    "ledger",
    "outbox",
    "job_locks",
}


def test_an_empty_database_has_no_revision(engine):
    assert current_revision(engine) is None


def test_migrations_apply_and_are_idempotent(engine):
    upgrade(engine)
    upgrade(engine)

    assert current_revision(engine) == head_revision()
    assert head_revision() >= "0005"
    assert set(inspect(engine).get_table_names()) >= FIXED_TABLES


def test_the_migrated_schema_matches_the_schema_module(store):
    with store.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": lambda name, type_, parents: name != "alembic_version",
            },
        )
        assert compare_metadata(context, metadata) == []
