"""The ledger and its bookkeeping.

``SubmissionVersion`` is append-only: a row is written once per version of a
submission (Central gives each edit a new instanceID) and never changed, so
normalization can always be re-run from it. ``Submission`` is the current state
of each logical submission (Central's ``__id``): which version is current, its
review state, whether it is deleted, and where normalization put it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db import AwareDateTime, utcnow


class CentralForm(SQLModel, table=True):
    """A form pulled from Central, with its pull cursor."""

    __tablename__ = "central_form"
    __table_args__ = (UniqueConstraint("project_id", "xml_form_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255)
    name: str | None = Field(default=None, max_length=255)
    # The newest __system/submissionDate and __system/updatedAt seen; the next
    # incremental pull reads from these minus an overlap window.
    cursor_submission_date: datetime | None = Field(default=None, sa_type=AwareDateTime)
    cursor_updated_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    last_pull_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    last_full_pull_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class FormVersion(SQLModel, table=True):
    """One published version of a form: its XForm as Central serves it."""

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("project_id", "xml_form_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255)
    version: str = Field(max_length=255)
    xml: str = Field(sa_column=Column(Text, nullable=False))
    fields: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    # Central's publishedAt of the version; the merged schema folds versions in
    # this order (versions without one come last, in registration order).
    published_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class SubmissionVersion(SQLModel, table=True):
    """The raw ledger: one version of a submission exactly as received."""

    __tablename__ = "submission_version"
    __table_args__ = (
        UniqueConstraint("project_id", "xml_form_id", "submission_id", "instance_id"),
    )

    # Every lookup names project and form: the unique key serves them all.
    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255)
    submission_id: str = Field(max_length=255)
    instance_id: str = Field(max_length=255)
    form_version: str | None = Field(default=None, max_length=255)
    # The OData row as received (with $expand=* repeats inline) and, where it was
    # fetched, the submission XML.
    odata: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    xml: str | None = Field(default=None, sa_column=Column(Text))
    received_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class Submission(SQLModel, table=True):
    """The current state of one logical submission."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("project_id", "xml_form_id", "submission_id"),
        # An incremental pull asks which submissions of a form are deleted.
        Index("ix_submission_form_deleted", "project_id", "xml_form_id", "deleted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255)
    submission_id: str = Field(max_length=255)
    current_instance_id: str = Field(max_length=255)
    form_version: str | None = Field(default=None, max_length=255)
    submission_date: datetime = Field(sa_type=AwareDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    review_state: str | None = Field(default=None, max_length=32)
    edits: int = 0
    submitter_id: str | None = Field(default=None, max_length=64)
    deleted_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    # "notDecrypted" for encrypted submissions Central could not decrypt.
    central_status: str | None = Field(default=None, max_length=32)
    # Where normalization put the current version: pending, normalized, quarantined.
    state: str = Field(default="pending", max_length=32, index=True)
    # Set when a full reconciliation no longer finds it in Central at all.
    purged_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)


class QuarantineEntry(SQLModel, table=True):
    """Why a submission version could not be normalized. Stays until resolved;
    the reason never quotes an identifying value."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(index=True)
    xml_form_id: str = Field(max_length=255, index=True)
    submission_id: str = Field(max_length=255, index=True)
    instance_id: str = Field(max_length=255)
    code: str = Field(max_length=64)
    field: str | None = Field(default=None, max_length=255)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=AwareDateTime)


class PullRun(SQLModel, table=True):
    """One pull of one form: what it saw and what it did."""

    __tablename__ = "pull_run"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255, index=True)
    mode: str = Field(max_length=16)  # incremental | full
    started_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    status: str = Field(default="running", max_length=16)  # running | ok | failed
    seen: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    quarantined: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))


class Blob(SQLModel, table=True):
    """Attachment content, stored once by its SHA-256."""

    __tablename__ = "blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    content_type: str | None = Field(default=None, max_length=255)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SubmissionAttachment(SQLModel, table=True):
    """An attachment of one submission version, pointing at its blob."""

    __tablename__ = "submission_attachment"
    __table_args__ = (
        UniqueConstraint("project_id", "xml_form_id", "instance_id", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255)
    submission_id: str = Field(max_length=255, index=True)
    instance_id: str = Field(max_length=255)
    name: str = Field(max_length=255)
    sha256: str | None = Field(default=None, foreign_key="blob.sha256", max_length=64)


class FormField(SQLModel, table=True):
    """A field of the merged schema of all versions of a form: which typed column
    holds it, and its labels."""

    __tablename__ = "form_field"
    __table_args__ = (UniqueConstraint("project_id", "xml_form_id", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255, index=True)
    path: str = Field(max_length=1000)
    # The typed table (form_<id> or form_<id>__<repeat>) and column holding it.
    table_name: str = Field(max_length=255)
    column: str = Field(max_length=255)
    type: str = Field(max_length=32)
    list_name: str | None = Field(default=None, max_length=255)
    label_vi: str | None = Field(default=None, sa_column=Column(Text))
    label_en: str | None = Field(default=None, sa_column=Column(Text))
    # P (identifying), S (sensitive), P+S, or None; read from the XLSForm.
    sensitivity: str | None = Field(default=None, max_length=8)


class FormChoice(SQLModel, table=True):
    """A choice of a select list, so codes resolve to Vietnamese and English."""

    __tablename__ = "form_choice"
    __table_args__ = (
        UniqueConstraint("project_id", "xml_form_id", "list_name", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    xml_form_id: str = Field(max_length=255, index=True)
    list_name: str = Field(max_length=255)
    name: str = Field(max_length=255)
    label_vi: str | None = Field(default=None, sa_column=Column(Text))
    label_en: str | None = Field(default=None, sa_column=Column(Text))
