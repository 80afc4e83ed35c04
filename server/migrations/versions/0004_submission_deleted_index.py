"""An index for the submissions of a form that are deleted, so an incremental
pull finds them without reading every submission of the form.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:55:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submission_form_deleted",
            ["project_id", "xml_form_id", "deleted_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_form_deleted")
