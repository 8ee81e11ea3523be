"""The fixed tables of the pull: sync state, run history and per-record errors.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.schema import UtcDateTime, json_type, serial, text_c

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create sync_state, runs, run_streams and record_errors."""
    op.create_table(
        "sync_state",
        sa.Column("stream", text_c(), nullable=False),
        sa.Column("state", json_type(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("stream", name="pk_sync_state"),
    )
    op.create_table(
        "runs",
        sa.Column("id", serial(), autoincrement=True, nullable=False),
        sa.Column("job", text_c(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("status", text_c(), nullable=False),
        sa.Column("summary", json_type(), nullable=True),
        sa.Column("api_calls", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("api_usage", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'stopped', 'failed')", name="ck_runs_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_job_started_at", "runs", ["job", "started_at"])
    _create_run_streams()
    _create_record_errors()


def _create_run_streams() -> None:
    op.create_table(
        "run_streams",
        sa.Column("id", serial(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("stream", text_c(), nullable=False),
        sa.Column("records", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("issues", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("api_calls", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("seconds", sa.Double(), server_default="0", nullable=False),
        sa.Column("status", text_c(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_streams_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_run_streams"),
    )
    op.create_index("ix_run_streams_run_id", "run_streams", ["run_id"])


def _create_record_errors() -> None:
    op.create_table(
        "record_errors",
        sa.Column("id", serial(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("stream", text_c(), nullable=False),
        sa.Column("record_id", text_c(), nullable=False),
        sa.Column("code", text_c(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_record_errors_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_record_errors"),
    )
    op.create_index("ix_record_errors_stream_record_id", "record_errors", ["stream", "record_id"])
    op.create_index("ix_record_errors_run_id", "record_errors", ["run_id"])


def downgrade() -> None:
    """Drop the tables 0001 created."""
    for table in ("record_errors", "run_streams", "runs", "sync_state"):
        op.drop_table(table)
