"""The ledger: forms, form versions, raw submission versions, current state,
quarantine, pull runs, attachments, and the merged field and choice lists.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 18:38:26.920999
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob",
        sa.Column(
            "sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "content_type", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True
        ),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "central_form",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column(
            "cursor_submission_date",
            server.db.AwareDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "cursor_updated_at", server.db.AwareDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_pull_at", server.db.AwareDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_full_pull_at", server.db.AwareDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "xml_form_id"),
    )
    op.create_table(
        "form_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "list_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("label_vi", sa.Text(), nullable=True),
        sa.Column("label_en", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "xml_form_id", "list_name", "name"),
    )
    with op.batch_alter_table("form_choice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_choice_xml_form_id"), ["xml_form_id"], unique=False
        )

    op.create_table(
        "form_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "path", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False
        ),
        sa.Column(
            "table_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "column", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "list_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True
        ),
        sa.Column("label_vi", sa.Text(), nullable=True),
        sa.Column("label_en", sa.Text(), nullable=True),
        sa.Column(
            "sensitivity", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "xml_form_id", "path"),
    )
    with op.batch_alter_table("form_field", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_field_xml_form_id"), ["xml_form_id"], unique=False
        )

    op.create_table(
        "form_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "version", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("fetched_at", server.db.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "xml_form_id", "version"),
    )
    op.create_table(
        "pull_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", server.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", server.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column(
            "status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pull_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pull_run_xml_form_id"), ["xml_form_id"], unique=False
        )

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "submission_id",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=False,
        ),
        sa.Column(
            "instance_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", server.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", server.db.AwareDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quarantine_submission_id"), ["submission_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quarantine_xml_form_id"), ["xml_form_id"], unique=False
        )

    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "submission_id",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=False,
        ),
        sa.Column(
            "current_instance_id",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=False,
        ),
        sa.Column(
            "form_version", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True
        ),
        sa.Column(
            "submission_date", server.db.AwareDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", server.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column(
            "review_state", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        ),
        sa.Column("edits", sa.Integer(), nullable=False),
        sa.Column(
            "submitter_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("deleted_at", server.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column(
            "central_status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        ),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("purged_at", server.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column(
            "first_seen_at", server.db.AwareDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at", server.db.AwareDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "xml_form_id", "submission_id"),
    )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_submission_state"), ["state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_submission_xml_form_id"), ["xml_form_id"], unique=False
        )

    op.create_table(
        "submission_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "submission_id",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=False,
        ),
        sa.Column(
            "instance_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "form_version", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True
        ),
        sa.Column("odata", sa.JSON(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=True),
        sa.Column(
            "received_at", server.db.AwareDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "project_id", "xml_form_id", "submission_id", "instance_id"
        ),
    )
    with op.batch_alter_table("submission_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_version_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_submission_version_submission_id"),
            ["submission_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_submission_version_xml_form_id"),
            ["xml_form_id"],
            unique=False,
        )

    op.create_table(
        "submission_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "xml_form_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "submission_id",
            sqlmodel.sql.sqltypes.AutoString(length=255),
            nullable=False,
        ),
        sa.Column(
            "instance_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["blob.sha256"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "xml_form_id", "instance_id", "name"),
    )
    with op.batch_alter_table("submission_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_attachment_submission_id"),
            ["submission_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("submission_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_attachment_submission_id"))

    op.drop_table("submission_attachment")
    with op.batch_alter_table("submission_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_version_xml_form_id"))
        batch_op.drop_index(batch_op.f("ix_submission_version_submission_id"))
        batch_op.drop_index(batch_op.f("ix_submission_version_project_id"))

    op.drop_table("submission_version")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_xml_form_id"))
        batch_op.drop_index(batch_op.f("ix_submission_state"))
        batch_op.drop_index(batch_op.f("ix_submission_project_id"))

    op.drop_table("submission")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_xml_form_id"))
        batch_op.drop_index(batch_op.f("ix_quarantine_submission_id"))
        batch_op.drop_index(batch_op.f("ix_quarantine_project_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("pull_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pull_run_xml_form_id"))

    op.drop_table("pull_run")
    op.drop_table("form_version")
    with op.batch_alter_table("form_field", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_field_xml_form_id"))

    op.drop_table("form_field")
    with op.batch_alter_table("form_choice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_choice_xml_form_id"))

    op.drop_table("form_choice")
    op.drop_table("central_form")
    op.drop_table("blob")
