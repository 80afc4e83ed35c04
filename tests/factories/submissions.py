"""Builders for forms and ledger rows: XForms compiled by pyxform from small
inline XLSForm tables, OData rows shaped like Central's, and the ledger rows
(Submission, SubmissionVersion) a pull would have written."""

import copy
import textwrap
import uuid
from datetime import UTC, datetime
from typing import Any

from pyxform.xls2xform import convert
from sqlmodel import Session

from server.submissions.models import Submission, SubmissionVersion


def build_xform(xlsform_md: str) -> str:
    """Compile an XLSForm written as markdown tables (the way pyxform's own
    tests write them) into the XForm XML Central would serve."""
    return convert(xlsform=textwrap.dedent(xlsform_md), file_type=".md").xform


def xlsform_md(
    survey: str, *, form_id: str, version: str, choices: str = "", extra: str = ""
) -> str:
    """Assemble markdown sheets: ``survey`` and ``choices`` are table rows
    (header first) without the sheet line; settings get form_id, version and
    the ``trogiup`` namespace for the sensitivity bind column."""
    parts = ["| survey |", _indent_rows(survey)]
    if choices:
        parts += ["| choices |", _indent_rows(choices)]
    if extra:
        parts.append(textwrap.dedent(extra).strip())
    parts += [
        "| settings |",
        "| | form_id | version | namespaces |",
        f'| | {form_id} | {version} | trogiup="https://trogiup.example/xforms" |',
    ]
    return "\n".join(parts)


def _indent_rows(rows: str) -> str:
    lines = [line.strip() for line in textwrap.dedent(rows).strip().splitlines()]
    return "\n".join(f"| | {line.lstrip('|').strip()}" for line in lines if line)


def new_instance_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def odata_row(
    answers: dict[str, Any],
    *,
    submission_id: str | None = None,
    instance_id: str | None = None,
    form_version: str = "v1",
    submission_date: str = "2026-11-01T03:00:00.000Z",
    updated_at: str | None = None,
    review_state: str | None = None,
    edits: int = 0,
    deleted_at: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """An OData ``Submissions`` row as Central serves it with ``$expand=*``:
    groups nested, repeats inline lists whose items carry ``__id``."""
    instance_id = instance_id or new_instance_id()
    answers = copy.deepcopy(answers)
    return {
        **answers,
        "meta": {"instanceID": instance_id, **answers.get("meta", {})},
        "__id": submission_id or instance_id,
        "__system": {
            "submissionDate": submission_date,
            "updatedAt": updated_at,
            "submitterId": "5",
            "submitterName": "collector@example.org",
            "attachmentsPresent": 0,
            "attachmentsExpected": 0,
            "status": status,
            "reviewState": review_state,
            "deviceId": None,
            "edits": edits,
            "formVersion": form_version,
            "deletedAt": deleted_at,
        },
    }


def encrypted_odata_row(*, form_version: str = "e1") -> dict[str, Any]:
    """A submission Central could not decrypt: no answers at all."""
    row = odata_row({}, form_version=form_version, status="notDecrypted")
    del row["meta"]
    return row


def repeat_row(answers: dict[str, Any], row_id: str | None = None) -> dict[str, Any]:
    return {**answers, "__id": row_id or uuid.uuid4().hex}


def ledger_submission(
    session: Session, *, project_id: int, xml_form_id: str, row: dict[str, Any]
) -> tuple[Submission, SubmissionVersion]:
    """Write (or move forward) the ledger for one OData row, as a pull would:
    a new SubmissionVersion, and the Submission pointing at it."""
    system = row["__system"]
    instance_id = row.get("meta", {}).get("instanceID") or row["__id"]
    version = SubmissionVersion(
        project_id=project_id,
        xml_form_id=xml_form_id,
        submission_id=row["__id"],
        instance_id=instance_id,
        form_version=system["formVersion"],
        odata=row,
    )
    submission = _current(session, project_id, xml_form_id, row["__id"])
    submission.current_instance_id = instance_id
    submission.form_version = system["formVersion"]
    submission.submission_date = _aware(system["submissionDate"])
    submission.updated_at = _aware(system["updatedAt"])
    submission.review_state = system["reviewState"]
    submission.edits = system["edits"]
    submission.submitter_id = system["submitterId"]
    submission.deleted_at = _aware(system["deletedAt"])
    submission.central_status = system["status"]
    session.add_all([version, submission])
    session.flush()
    return submission, version


def _current(session, project_id, xml_form_id, submission_id) -> Submission:
    from sqlmodel import select

    found = session.exec(
        select(Submission).where(
            Submission.project_id == project_id,
            Submission.xml_form_id == xml_form_id,
            Submission.submission_id == submission_id,
        )
    ).first()
    return found or Submission(
        project_id=project_id,
        xml_form_id=xml_form_id,
        submission_id=submission_id,
        current_instance_id="",
        submission_date=datetime.now(UTC),
    )


def _aware(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
