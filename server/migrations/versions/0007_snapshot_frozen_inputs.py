"""Indicator snapshots keep their frozen inputs, not only a list of ids.

A list of the submissions counted could say that the data changed, not give
the figures again; the frozen inputs (analysis.frozen) can. Snapshots taken
before keep their figures and their list, renamed ``counted_submissions``;
they have no frozen inputs, so they cannot be computed again.

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
    # Two steps: SQLite's batch mode cannot rename a column and add another
    # of the old name in one table copy.
    with op.batch_alter_table("indicator_snapshot") as table:
        table.alter_column("inputs", new_column_name="counted_submissions")
    with op.batch_alter_table("indicator_snapshot") as table:
        table.add_column(sa.Column("inputs", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Snapshots taken since have no list of ids: the older form cannot hold
    # them, and they are dropped.
    op.execute("DELETE FROM indicator_snapshot WHERE counted_submissions IS NULL")
    with op.batch_alter_table("indicator_snapshot") as table:
        table.drop_column("inputs")
    with op.batch_alter_table("indicator_snapshot") as table:
        table.alter_column("counted_submissions", new_column_name="inputs")
