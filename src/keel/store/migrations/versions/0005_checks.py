"""Check results, and forced alias moves.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_results",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("spec", sa.String(500), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("warned", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_check_results"),
    )
    op.create_index("ix_check_results_subject_spec", "check_results", ["subject", "spec", "created_at"])
    with op.batch_alter_table("alias_events") as batch:
        batch.add_column(sa.Column("forced", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("alias_events") as batch:
        batch.drop_column("forced")
    op.drop_index("ix_check_results_subject_spec", table_name="check_results")
    op.drop_table("check_results")
