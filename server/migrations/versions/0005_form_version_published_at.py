"""When Central published each form version, so that the merged schema folds
versions in publication order whatever order they were registered in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import server.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("form_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "published_at", server.db.AwareDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("form_version", schema=None) as batch_op:
        batch_op.drop_column("published_at")
