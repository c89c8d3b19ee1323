"""Monitoring: cached reference profiles, and the decisions of monitor rules.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("dataset_oid", sa.String(64), nullable=False),
        sa.Column("settings", sa.String(64), nullable=False),
        sa.Column("object_oid", sa.String(64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("dataset_oid", "settings", name="pk_profiles"),
    )
    op.create_table(
        "monitor_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(250), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("fired", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_events"),
    )
    op.create_index("ix_monitor_events_monitor_at", "monitor_events", ["monitor", "at"])


def downgrade() -> None:
    op.drop_index("ix_monitor_events_monitor_at", table_name="monitor_events")
    op.drop_table("monitor_events")
    op.drop_table("profiles")
