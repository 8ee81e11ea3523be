"""The evaluation's own bookmark: what the last evaluation covered, for incremental ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.schema import UtcDateTime, text_c

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create evaluation_state (empty: the first evaluation after it is a full one)."""
    op.create_table(
        "evaluation_state",
        sa.Column("name", text_c(), nullable=False),
        sa.Column("now", UtcDateTime(), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("fingerprint", text_c(), nullable=False),
        sa.Column("pulled_since", UtcDateTime(), nullable=False),
        sa.Column("full_at", UtcDateTime(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_evaluation_state"),
    )


def downgrade() -> None:
    """Drop evaluation_state: the next evaluation is a full one."""
    op.drop_table("evaluation_state")
