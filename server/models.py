"""Every table, imported in one place so Alembic and tests see the whole schema."""

from server.audit.models import AuditEvent
from server.indicators.models import IndicatorSnapshot
from server.submissions.models import (
    Blob,
    CentralForm,
    FormChoice,
    FormField,
    FormVersion,
    PullRun,
    QuarantineEntry,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
)

__all__ = [
    "AuditEvent",
    "Blob",
    "CentralForm",
    "FormChoice",
    "FormField",
    "FormVersion",
    "IndicatorSnapshot",
    "PullRun",
    "QuarantineEntry",
    "Submission",
    "SubmissionAttachment",
    "SubmissionVersion",
]
