"""Drop the reference indexes of the three largest mirror tables: nothing reads through them.

The mirror indexed every ``*_id`` column of every stream for the rules' joins. On
``zendesk_ticket`` (seven: ``organization_id``, ``requester_id``, ``assignee_id``, ``group_id``,
``external_id``, ``cs_account_id``, ``cs_cta_id``), ``task`` and ``event`` (``who_id``,
``what_id``, ``account_id``, ``owner_id``) evaluate's plans use none of them (they aggregate
over whole tables) and reconcile reads ``zendesk_ticket`` whole, yet a first load wrote each
of them per row: most of the store's insert work. Mirror tables are created by
``connector.store.mirror`` from the mappings, not by a migration, so this one works on
whichever of them exists and leaves the others alone; ``mirror.UNINDEXED_REFERENCES`` stops
them being declared again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported): what this revision changed must not move with later code.
TABLES = ("mirror_zendesk_ticket", "mirror_task", "mirror_event")


def _reference_indexes(inspector: sa.Inspector, table: str) -> list[str]:
    """Names of ``table``'s single-column indexes on a ``*_id`` column, as the mirror made them."""
    return [
        str(index["name"])
        for index in inspector.get_indexes(table)
        if index["name"] is not None
        and not index.get("unique")
        and len(index["column_names"]) == 1
        and str(index["column_names"][0]).endswith("_id")
        and index["name"] == f"ix_{table}_{index['column_names'][0]}"
    ]


def upgrade() -> None:
    """Drop ``ix_mirror_<stream>_<column>`` for every ``*_id`` column of the three tables."""
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        if not inspector.has_table(table):
            continue
        for name in _reference_indexes(inspector, table):
            op.drop_index(name, table_name=table)


def downgrade() -> None:
    """Index every ``*_id`` column of the three tables again, as the mirror did before 0004."""
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        if not inspector.has_table(table):
            continue
        present = {index["name"] for index in inspector.get_indexes(table)}
        for column in inspector.get_columns(table):
            name = str(column["name"])
            if name.endswith("_id") and f"ix_{table}_{name}" not in present:
                op.create_index(f"ix_{table}_{name}", table, [name])
