"""Indicator snapshots keep their frozen inputs, not a list of ids.

A list of the submissions counted could say that the data changed, not give
the figures again; the frozen inputs (analysis.frozen) can. Snapshots taken
before cannot be turned into the new form and are removed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM indicator_snapshot")
    with op.batch_alter_table("indicator_snapshot") as table:
        table.drop_column("inputs")
        table.add_column(sa.Column("inputs", sa.LargeBinary(), nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM indicator_snapshot")
    with op.batch_alter_table("indicator_snapshot") as table:
        table.drop_column("inputs")
        table.add_column(sa.Column("inputs", sa.JSON(), nullable=True))
