"""Alembic environment: runs on the connection ``connector.store.engine.upgrade`` passes in.

There is no ini file and no URL here: the caller owns the connection and its transaction.
"""

from __future__ import annotations

from alembic import context

from connector.store.schema import metadata


def run_migrations() -> None:
    """Run the pending revisions inside the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through connector.store.upgrade(engine)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=_fixed_tables_only,
    )
    with context.begin_transaction():
        context.run_migrations()


def _fixed_tables_only(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate compares the fixed tables; mirror tables follow the mappings instead."""
    return not (type_ == "table" and name is not None and name.startswith("mirror_"))


run_migrations()
