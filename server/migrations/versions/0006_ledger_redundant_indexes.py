"""Drop the ledger's single-column indexes that the unique keys already serve.

The queries a pull makes of ``submission`` and ``submission_version`` name
the project and the form, and the unique keys (project_id, xml_form_id,
submission_id[, instance_id]) begin with those columns; the indexes on
project_id, xml_form_id and submission_id alone were only written, three to
five extra B-tree inserts per pulled row, about 40% of the time SQLite took to
store a page of the ledger.

Not every query names both: given a form and no project, ``normalize._forms``
filters ``submission`` by xml_form_id alone, and ``quarantine.unknown_versions``
filters the quarantine so (it reaches ``submission`` by the whole unique key).
They run once per renormalization or quarantine retry, not per pulled row, and
do without the xml_form_id index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 10:00:00
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REDUNDANT = {
    "submission": ("project_id", "xml_form_id"),
    "submission_version": ("project_id", "xml_form_id", "submission_id"),
}


def upgrade() -> None:
    for table, columns in REDUNDANT.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(f"ix_{table}_{column}")


def downgrade() -> None:
    for table, columns in REDUNDANT.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)
