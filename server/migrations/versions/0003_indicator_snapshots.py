"""Indicator snapshots: frozen figures and the submissions they came from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from server.db import AwareDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("periods", sa.JSON(), nullable=True),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("include_pending", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("data_hash", sa.String(64), nullable=False),
        sa.Column("n_inputs", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
    )
    op.create_index(
        "ix_indicator_snapshot_data_hash", "indicator_snapshot", ["data_hash"]
    )


def downgrade() -> None:
    op.drop_table("indicator_snapshot")
