"""The pipeline run cache.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_cache",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(250), nullable=False),
        sa.Column("outs", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_stage_cache"),
    )


def downgrade() -> None:
    op.drop_table("stage_cache")
