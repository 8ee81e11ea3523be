"""Reconcile and push: the ledger of what was written, the outbox, job locks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.schema import (
    LEDGER_CLOSED_BY,
    OUTBOX_STATUSES,
    UtcDateTime,
    json_type,
    serial,
    text_c,
)

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ledger, outbox and job_locks."""
    op.create_table(
        "ledger",
        sa.Column("target", text_c(), nullable=False),
        sa.Column("external_id", text_c(), nullable=False),
        sa.Column("key", text_c(), nullable=False),
        sa.Column("identity", text_c(), nullable=False),
        sa.Column("rule", text_c(), nullable=False),
        sa.Column("account_id", text_c(), nullable=True),
        sa.Column("crm_id", text_c(), nullable=True),
        sa.Column("hash", text_c(), nullable=True),
        sa.Column("written", json_type(), nullable=True),
        sa.Column("status_set", text_c(), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("closed_by", text_c(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("error_code", text_c(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_hash", text_c(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            f"closed_by IS NULL OR closed_by IN {LEDGER_CLOSED_BY!r}", name="ck_ledger_closed_by"
        ),
        sa.PrimaryKeyConstraint("target", "external_id", name="pk_ledger"),
    )
    op.create_index("ix_ledger_target_identity", "ledger", ["target", "identity"])
    op.create_index("ix_ledger_key", "ledger", ["key"])
    op.create_table(
        "outbox",
        sa.Column("id", serial(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("target", text_c(), nullable=False),
        sa.Column("external_id", text_c(), nullable=False),
        sa.Column("op", text_c(), nullable=False),
        sa.Column("write", json_type(), nullable=False),
        sa.Column("status", text_c(), nullable=False),
        sa.Column("job_id", text_c(), nullable=True),
        sa.Column("code", text_c(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(f"status IN {OUTBOX_STATUSES!r}", name="ck_outbox_status"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_index("ix_outbox_job_id", "outbox", ["job_id"])
    op.create_table(
        "job_locks",
        sa.Column("job", text_c(), nullable=False),
        sa.Column("holder", text_c(), nullable=False),
        sa.Column("acquired_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job", name="pk_job_locks"),
    )


def downgrade() -> None:
    """Drop the tables 0003 created."""
    op.drop_table("job_locks")
    op.drop_table("outbox")
    op.drop_table("ledger")
