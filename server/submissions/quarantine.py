"""The quarantine as plain data for ``trogiup quarantine`` and the API.

An entry says why one submission version could not be normalized (code,
field path, reason). Entries are never deleted: a retry that succeeds sets
``resolved_at``. Reasons name form, version, submission and field, never a
value, so listing them is safe for any reader allowed to see the form.
"""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from server.central.submissions import CentralSubmissions
from server.errors import InvalidInput
from server.submissions.convert import UNKNOWN_VERSION
from server.submissions.models import QuarantineEntry, Submission
from server.submissions.normalize import renormalize
from server.submissions.pull import published_versions, register_in_order

STATUSES = ("open", "resolved", "all")


def list_entries(
    *,
    session: Session,
    status: str = "open",
    xml_form_id: str | None = None,
    project_id: int | None = None,
    limit: int | None = 500,
    offset: int = 0,
) -> list[dict[str, object]]:
    """Entries newest first; ``status`` is open, resolved or all."""
    query = _filtered(select(QuarantineEntry), status, xml_form_id, project_id)
    query = query.order_by(QuarantineEntry.created_at.desc(), QuarantineEntry.id.desc())
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_as_dict(entry) for entry in session.exec(query)]


def count_by_form(
    *, session: Session, project_id: int | None = None
) -> list[dict[str, object]]:
    """Per form: open and resolved entries, and submissions still held."""
    open_ = QuarantineEntry.resolved_at.is_(None)
    query = select(
        QuarantineEntry.project_id,
        QuarantineEntry.xml_form_id,
        func.count().filter(open_),
        func.count().filter(~open_),
        func.count(QuarantineEntry.submission_id.distinct()).filter(open_),
    ).group_by(QuarantineEntry.project_id, QuarantineEntry.xml_form_id)
    if project_id is not None:
        query = query.where(QuarantineEntry.project_id == project_id)
    return [
        {
            "project_id": project,
            "xml_form_id": form,
            "open": open_count,
            "resolved": resolved,
            "submissions": held,
        }
        for project, form, open_count, resolved, held in session.exec(
            query.order_by(QuarantineEntry.project_id, QuarantineEntry.xml_form_id)
        )
    ]


def retry(
    *,
    session: Session,
    central: CentralSubmissions | None = None,
    project_id: int | None = None,
    xml_form_id: str | None = None,
    unknown: list[tuple[int, str, str]] | None = None,
) -> dict[str, int]:
    """Normalize quarantined submissions again from the ledger. With
    ``central``, the XForms of the versions quarantined as unknown are first
    fetched from it and registered (a pull registers only the versions of the
    rows it reads, so nothing else would): ``versions_registered`` counts
    them. ``unknown`` is what ``unknown_versions`` returns for the same
    filters, when the caller has already asked."""
    registered = 0
    if central is not None:
        if unknown is None:
            unknown = unknown_versions(
                session=session, project_id=project_id, xml_form_id=xml_form_id
            )
        registered = _register_unknown_versions(session, central, unknown)
    totals = renormalize(
        session=session,
        project_id=project_id,
        xml_form_id=xml_form_id,
        only_quarantined=True,
    )
    return {**totals, "versions_registered": registered}


def unknown_versions(
    *, session: Session, project_id: int | None = None, xml_form_id: str | None = None
) -> list[tuple[int, str, str]]:
    """(project_id, xml_form_id, version) of the submissions held in
    quarantine because their form version is not registered."""
    query = (
        select(Submission.project_id, Submission.xml_form_id, Submission.form_version)
        .join(
            QuarantineEntry,
            (QuarantineEntry.project_id == Submission.project_id)
            & (QuarantineEntry.xml_form_id == Submission.xml_form_id)
            & (QuarantineEntry.submission_id == Submission.submission_id),
        )
        .where(
            QuarantineEntry.code == UNKNOWN_VERSION,
            Submission.form_version.is_not(None),
        )
        .distinct()
    )
    query = _filtered(query, "open", xml_form_id, project_id)
    return sorted(session.exec(query).all())


def _register_unknown_versions(session, central, unknown) -> int:
    by_form: dict[str, list[str]] = {}
    for project, form_id, version in unknown:
        if project != central.project_id:
            continue  # another project's versions come from its own Central
        by_form.setdefault(form_id, []).append(version)
    registered = 0
    for form_id, versions in by_form.items():
        registered += register_in_order(
            session=session,
            central=central,
            xml_form_id=form_id,
            versions=versions,
            published=published_versions(central, form_id),
        )
    return registered


def _filtered(query, status, xml_form_id, project_id):
    if status not in STATUSES:
        raise InvalidInput(
            f"unknown quarantine status {status!r}: use one of {', '.join(STATUSES)}"
        )
    if status == "open":
        query = query.where(QuarantineEntry.resolved_at.is_(None))
    elif status == "resolved":
        query = query.where(QuarantineEntry.resolved_at.is_not(None))
    if xml_form_id is not None:
        query = query.where(QuarantineEntry.xml_form_id == xml_form_id)
    if project_id is not None:
        query = query.where(QuarantineEntry.project_id == project_id)
    return query


def _as_dict(entry: QuarantineEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "project_id": entry.project_id,
        "xml_form_id": entry.xml_form_id,
        "submission_id": entry.submission_id,
        "instance_id": entry.instance_id,
        "code": entry.code,
        "field": entry.field,
        "reason": entry.reason,
        "created_at": _iso(entry.created_at),
        "resolved_at": _iso(entry.resolved_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
