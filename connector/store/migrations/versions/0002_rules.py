"""The rules' tables: desired outputs of the last evaluation, and each contact's persona state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.schema import UtcDateTime, json_type, text_c

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create desired_outputs and persona_state."""
    op.create_table(
        "desired_outputs",
        sa.Column("key", text_c(), nullable=False),
        sa.Column("rule", text_c(), nullable=False),
        sa.Column("object", text_c(), nullable=False),
        sa.Column("account_id", text_c(), nullable=True),
        sa.Column("owner_id", text_c(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("parent_key", text_c(), nullable=True),
        sa.Column("fields", json_type(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("evaluated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_desired_outputs"),
    )
    op.create_index("ix_desired_outputs_rule", "desired_outputs", ["rule"])
    op.create_index("ix_desired_outputs_account_id", "desired_outputs", ["account_id"])
    op.create_table(
        "persona_state",
        sa.Column("contact_id", text_c(), nullable=False),
        sa.Column("account_id", text_c(), nullable=True),
        sa.Column("computed", text_c(), nullable=True),
        sa.Column("effective", text_c(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("previous_effective", text_c(), nullable=True),
        sa.Column("previous_active", sa.Boolean(), nullable=True),
        sa.Column("evaluated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_persona_state"),
    )
    op.create_index("ix_persona_state_account_id", "persona_state", ["account_id"])


def downgrade() -> None:
    """Drop the tables 0002 created."""
    op.drop_table("persona_state")
    op.drop_table("desired_outputs")
