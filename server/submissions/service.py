"""What the CLI, the API and the workers call: connect and pull, and the status of
each form's sync. Plain functions over an explicit database session."""

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from server.central.client import connect
from server.central.submissions import CentralSubmissions, RetryPolicy
from server.errors import ConfigurationError
from server.settings import Settings
from server.submissions import quarantine
from server.submissions.models import (
    CentralForm,
    FormField,
    PullRun,
    Submission,
    SubmissionVersion,
)
from server.submissions.pull import FormPullResult, Progress, PullOptions, pull
from server.submissions.schema import form_table_name

logger = logging.getLogger(__name__)

COUNT_NAMES = (
    "submissions",
    "current",
    "normalized",
    "quarantined",
    "pending",
    "edited",
    "deleted",
    "purged",
)


def central_for(
    settings: Settings, *, retry: RetryPolicy | None = None
) -> CentralSubmissions:
    """The project's submissions on the Central the settings name."""
    if settings.central_project_id is None:
        raise ConfigurationError(
            "Central's project is not configured: set TROGIUP_CENTRAL_PROJECT_ID"
        )
    return CentralSubmissions(
        connect(settings),
        project_id=settings.central_project_id,
        timeout=settings.central_timeout,
        retry=retry,
    )


def run_pull(
    *,
    session: Session,
    settings: Settings,
    xml_form_id: str | None = None,
    full: bool = False,
    options: PullOptions | None = None,
    progress: Progress | None = None,
) -> list[FormPullResult]:
    central = central_for(settings)
    try:
        return pull(
            session=session,
            central=central,
            xml_form_id=xml_form_id,
            full=full,
            options=options,
            progress=progress,
        )
    finally:
        central.client.close()


def retry_quarantine(
    *,
    session: Session,
    settings: Settings,
    xml_form_id: str | None = None,
) -> dict[str, int]:
    """``trogiup quarantine retry`` and its API: fetch the versions quarantined
    as unknown from Central, then normalize the quarantined submissions again.
    Central is contacted only when some version is unknown; without a
    configured Central only the second step runs. Commits."""
    central = None
    unknown = quarantine.unknown_versions(session=session, xml_form_id=xml_form_id)
    if unknown:
        try:
            central = central_for(settings)
        except ConfigurationError:
            logger.warning("Central is not configured: unknown versions not fetched")
    try:
        totals = quarantine.retry(
            session=session, central=central, xml_form_id=xml_form_id, unknown=unknown
        )
    finally:
        if central is not None:
            central.client.close()
    session.commit()
    return totals


def result_dict(result: FormPullResult) -> dict[str, Any]:
    return asdict(result)


def form_status(
    *, session: Session, project_id: int | None = None
) -> list[dict[str, Any]]:
    """Per form: the last pull, the cursor, and counts that must reconcile:
    ``submissions == normalized + quarantined + deleted + pending`` where
    ``pending`` is zero after every successful pull."""
    query = select(CentralForm).order_by(
        CentralForm.project_id, CentralForm.xml_form_id
    )
    if project_id is not None:
        query = query.where(CentralForm.project_id == project_id)
    return [_one_status(session, form) for form in session.exec(query)]


def _one_status(session: Session, form: CentralForm) -> dict[str, Any]:
    counts = _counts(session, form.project_id, form.xml_form_id)
    last = _last_run(session, form.project_id, form.xml_form_id)
    return {
        "project_id": form.project_id,
        "xml_form_id": form.xml_form_id,
        "name": form.name,
        "last_pull_at": _iso(form.last_pull_at),
        "last_full_pull_at": _iso(form.last_full_pull_at),
        "cursor": {
            "submission_date": _iso(form.cursor_submission_date),
            "updated_at": _iso(form.cursor_updated_at),
        },
        "last_run": last,
        "counts": counts,
        "reconciles": counts["submissions"]
        == counts["normalized"] + counts["quarantined"] + counts["deleted"],
    }


def _counts(session: Session, project_id: int, xml_form_id: str) -> dict[str, int]:
    live = Submission.deleted_at.is_(None)
    row = session.exec(
        select(
            func.count(),
            func.count().filter(live),
            func.count().filter(live, Submission.state == "normalized"),
            func.count().filter(live, Submission.state == "quarantined"),
            func.count().filter(live, Submission.state == "pending"),
            func.count().filter(live, Submission.edits > 0),
            func.count().filter(col(Submission.deleted_at).is_not(None)),
            func.count().filter(col(Submission.purged_at).is_not(None)),
        ).where(
            Submission.project_id == project_id,
            Submission.xml_form_id == xml_form_id,
        )
    ).one()
    counts = dict(zip(COUNT_NAMES, row, strict=True))
    counts["versions"] = session.exec(
        select(func.count()).where(
            SubmissionVersion.project_id == project_id,
            SubmissionVersion.xml_form_id == xml_form_id,
        )
    ).one()
    counts["repeat_rows"] = _repeat_rows(session, project_id, xml_form_id)
    return counts


def _repeat_rows(session: Session, project_id: int, xml_form_id: str) -> int:
    tables = session.exec(
        select(FormField.table_name)
        .where(
            FormField.project_id == project_id,
            FormField.xml_form_id == xml_form_id,
            FormField.table_name != form_table_name(xml_form_id),
        )
        .distinct()
    ).all()
    inspector = sa.inspect(session.connection())
    total = 0
    for name in tables:
        if inspector.has_table(name):
            total += session.exec(
                select(func.count()).select_from(sa.table(name))
            ).one()
    return total


def _last_run(session: Session, project_id: int, xml_form_id: str) -> dict | None:
    run = session.exec(
        select(PullRun)
        .where(PullRun.project_id == project_id, PullRun.xml_form_id == xml_form_id)
        .order_by(col(PullRun.id).desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    return {
        "id": run.id,
        "mode": run.mode,
        "status": run.status,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "seen": run.seen,
        "new": run.new,
        "updated": run.updated,
        "deleted": run.deleted,
        "quarantined": run.quarantined,
        "error": run.error,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
