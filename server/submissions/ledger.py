"""Writing OData rows into the ledger: raw versions, appended once, and the current
state of each submission. Nothing here talks to Central or normalizes.

The ledger holds the versions a pull saw. A submission edited twice between two
pulls leaves its middle version only on Central (``.../versions``); fetching
those would take one request per edited submission."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, select

from server.db import utcnow
from server.submissions.driver import IN_CHUNK as _CHUNK
from server.submissions.driver import (
    Same,
    bind_processor,
    driver_rows,
    insert_rows,
    marker,
    rows_where_in,
)
from server.submissions.models import Submission, SubmissionVersion


@dataclass(slots=True)
class VersionRef:
    """A ledger version as normalization and attachments read it. A pull makes
    one per row it stores; an ORM object each cost a tenth of storing a page."""

    project_id: int
    xml_form_id: str
    submission_id: str
    instance_id: str
    form_version: str | None
    odata: dict[str, Any] | None = None
    id: int | None = None


@dataclass(slots=True)
class SubmissionRef:
    """A submission new to the ledger, as normalization reads it: an ORM
    object for each new row cost more than inserting the row. Its fields are
    Submission's; ``id`` stays None: its row is written, in the ``state``
    normalization set, after normalization has read it."""

    id: int | None
    project_id: int
    xml_form_id: str
    submission_id: str
    current_instance_id: str
    form_version: str | None
    submission_date: datetime
    updated_at: datetime | None
    review_state: str | None
    edits: int
    submitter_id: str | None
    deleted_at: datetime | None
    central_status: str | None
    state: str = "pending"


@dataclass(slots=True)
class Item:
    """A submission and the version of it that is now current. ``submission``
    is None where only the version's attachments are of interest."""

    submission: Submission | SubmissionRef | None
    version: SubmissionVersion | VersionRef
    row: dict[str, Any]

    @property
    def attachments_present(self) -> int:
        return _attachments_present(self.row)


@dataclass
class PageChanges:
    new: int = 0
    updated: int = 0
    deleted: int = 0
    restored: int = 0
    normalized: int = 0
    quarantined: int = 0
    attachments: int = 0


@dataclass
class StoredPage:
    """What storing a page changed, and what normalization has to do about it."""

    changes: PageChanges = field(default_factory=PageChanges)
    # New current versions (or never normalized ones): to normalize.
    to_normalize: list[Item] = field(default_factory=list)
    # Normalized submissions whose review state, deletion or edit count changed.
    to_sync: list[Submission] = field(default_factory=list)
    # Every row of the page whose version has attachments.
    with_attachments: list[Item] = field(default_factory=list)
    # The newest submissionDate and updatedAt among the page's rows.
    newest_submission_date: datetime | None = None
    newest_updated_at: datetime | None = None


class _Row(NamedTuple):
    """The parts of an OData row the ledger keys and tracks (a tuple: one is
    made per row, and a frozen dataclass took twice as long)."""

    submission_id: str
    instance_id: str
    form_version: str | None
    submission_date: datetime
    updated_at: datetime | None
    review_state: str | None
    edits: int
    submitter_id: str | None
    deleted_at: datetime | None
    central_status: str | None
    odata: dict[str, Any]
    attachments_present: int

    @classmethod
    def parse(cls, odata: dict[str, Any]) -> "_Row":
        system = odata.get("__system") or {}
        meta = odata.get("meta") or {}
        submitter = system.get("submitterId")
        # An encrypted submission Central cannot decrypt has no meta: its logical
        # id is all there is, and it is also its only version's id. Positional,
        # in the order of the fields: keywords took half as long again.
        return cls(
            odata["__id"],
            meta.get("instanceID") or odata["__id"],
            system.get("formVersion"),
            parse_time(system["submissionDate"]),
            parse_time(system.get("updatedAt")),
            system.get("reviewState"),
            int(system.get("edits") or 0),
            None if submitter is None else str(submitter),
            parse_time(system.get("deletedAt")),
            system.get("status"),
            odata,
            int(system.get("attachmentsPresent") or 0),
        )

    def state(self) -> dict[str, Any]:
        """What the ledger tracks of the submission, as Submission's columns."""
        return {name: getattr(self, name) for name in _STATE_COLUMNS}


def parse_time(text: str | None) -> datetime | None:
    """Central's ISO timestamps (``...Z``) as aware datetimes."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def store_page(
    *,
    session: Session,
    project_id: int,
    xml_form_id: str,
    rows: list[dict[str, Any]],
    before_write: Callable[[StoredPage], None],
) -> StoredPage:
    """Add the page's rows to the caller's transaction. A version already in the
    ledger is never written again; only the submission's state may change.

    ``before_write`` is called with the page once its known submissions are
    changed and before its new rows are written: normalizing there settles the
    states of the new submissions (SubmissionRefs, whose ``id`` stays None),
    which are then inserted in those states instead of inserted pending and
    updated, which cost SQLite as much again."""
    parsed = list({r.submission_id: r for r in map(_Row.parse, rows)}.values())
    ids = [r.submission_id for r in parsed]
    known = _known(session, project_id, xml_form_id, ids)
    # A version is written with its submission or after it, never alone: only
    # submissions the ledger holds can have versions there.
    versions = _versions(session, project_id, xml_form_id, list(known))
    # Whole objects only for submissions that change: most rows of a full or
    # overlapping read are already in the ledger as they are.
    bound = _Bound(session)
    moving = [r.submission_id for r in parsed if _moves(known, versions, r, bound)]
    current = _submissions(session, project_id, xml_form_id, moving)
    page = StoredPage()
    _newest(page, parsed)
    inserts = _Inserts(project_id, xml_form_id)
    for row in parsed:
        if row.submission_id not in known:
            inserts.new(row)
            continue
        submission = current.get(row.submission_id)
        if (row.submission_id, row.instance_id) not in versions:
            _add_edit(session, submission, row, page, inserts)
        elif submission is not None:
            _update_state(session, submission, row, page, versions)
        elif row.attachments_present:
            version = _version_key(project_id, xml_form_id, row, versions)
            page.with_attachments.append(Item(None, version, row.odata))
    page.changes.new = len(inserts.submissions)
    page.changes.deleted += sum(1 for r in inserts.submissions if r.deleted_at)
    for item in inserts.items():
        _want(page, item)
    before_write(page)
    session.flush()
    inserts.write(session)
    return page


def _newest(page: StoredPage, rows: list["_Row"]) -> None:
    page.newest_submission_date = max((r.submission_date for r in rows), default=None)
    updated = [r.updated_at for r in rows if r.updated_at is not None]
    page.newest_updated_at = max(updated, default=None)


def _moves(known: dict[str, tuple], versions: dict, row: "_Row", bound) -> bool:
    """Whether storing ``row`` changes its submission in the ledger. A change
    seen where there is none only costs loading the submission, which
    ``_update_state`` then compares as objects."""
    stored = known.get(row.submission_id)
    if stored is None:
        return False
    if (row.submission_id, row.instance_id) not in versions:
        return True
    _, current_instance_id, state, purged_at, *values = stored
    if state == "pending" or purged_at is not None:
        return True
    if current_instance_id != row.instance_id:
        return True
    return tuple(values) != bound(row)


def _version_key(
    project_id: int, xml_form_id: str, row: "_Row", versions: dict
) -> VersionRef:
    """A stored version by its key alone, without its content."""
    return VersionRef(
        project_id=project_id,
        xml_form_id=xml_form_id,
        submission_id=row.submission_id,
        instance_id=row.instance_id,
        form_version=row.form_version,
        id=versions[(row.submission_id, row.instance_id)],
    )


def mark_purged(
    *, session: Session, project_id: int, xml_form_id: str, submission_ids: list[str]
) -> list[Submission]:
    """Submissions Central no longer has at all. They stay in the ledger, and
    count as deleted from the moment they were found gone."""
    now = utcnow()
    purged = list(
        _submissions(session, project_id, xml_form_id, submission_ids).values()
    )
    for submission in purged:
        submission.purged_at = now
        submission.deleted_at = submission.deleted_at or now
        session.add(submission)
    session.flush()
    return purged


class _Inserts:
    """New ledger rows of one page, written a column at a time in one
    statement per table: building and flushing SQLModel objects cost several
    times the fetch from Central at 5,000 rows a page."""

    def __init__(self, project_id: int, xml_form_id: str) -> None:
        self.key = {"project_id": project_id, "xml_form_id": xml_form_id}
        # One instant for the page: its rows arrived together, and one object
        # is converted for the database once.
        self.now = utcnow()
        self.submissions: list[_Row] = []
        # Versions to add, in page order, with the submission of an edit.
        self.versions: list[tuple[_Row, Submission | None]] = []
        self.refs: dict[str, SubmissionRef] = {}

    def new(self, row: _Row) -> None:
        self.submissions.append(row)
        self.versions.append((row, None))

    def version(self, row: _Row, submission: Submission | None) -> None:
        self.versions.append((row, submission))

    def items(self) -> list[Item]:
        """The new versions with their submissions, a SubmissionRef without an
        id for each new one: its row is not written yet."""
        project_id, xml_form_id = self.key["project_id"], self.key["xml_form_id"]
        # A SubmissionRef's fields after the ids are _Row's state fields.
        self.refs = {
            row.submission_id: SubmissionRef(
                None,
                project_id,
                xml_form_id,
                row.submission_id,
                row.instance_id,
                *row[_ROW_STATE],
            )
            for row in self.submissions
        }
        return [
            Item(
                submission or self.refs[row.submission_id],
                VersionRef(
                    project_id,
                    xml_form_id,
                    row.submission_id,
                    row.instance_id,
                    row.form_version,
                    row.odata,
                ),
                row.odata,
            )
            for row, submission in self.versions
        ]

    def write(self, session: Session) -> None:
        """Insert, new submissions in the state their refs hold. Nothing
        reads the new rows' ids afterwards: the refs keep None, and looking
        up a page's ids is spared."""
        connection = session.connection()
        if self.submissions:
            columns = self._submission_columns(self.submissions)
            _insert(connection, Submission.__table__, columns)
        if self.versions:
            columns = self._version_columns([row for row, _ in self.versions])
            _insert(connection, SubmissionVersion.__table__, columns)

    def _submission_columns(self, rows: list[_Row]) -> dict[str, Any]:
        fields = dict(zip(_Row._fields, zip(*rows, strict=True), strict=True))
        states = [self.refs[row.submission_id].state for row in rows]
        return {
            "project_id": Same(self.key["project_id"]),
            "xml_form_id": Same(self.key["xml_form_id"]),
            "submission_id": fields["submission_id"],
            "current_instance_id": fields["instance_id"],
            **{name: fields[name] for name in _STATE_COLUMNS},
            "state": states,
            "purged_at": Same(None),
            "first_seen_at": Same(self.now),
            "last_seen_at": Same(self.now),
        }

    def _version_columns(self, rows: list[_Row]) -> dict[str, Any]:
        return {
            "project_id": Same(self.key["project_id"]),
            "xml_form_id": Same(self.key["xml_form_id"]),
            "submission_id": [r.submission_id for r in rows],
            "instance_id": [r.instance_id for r in rows],
            "form_version": [r.form_version for r in rows],
            "odata": [r.odata for r in rows],
            "xml": Same(None),
            "received_at": Same(self.now),
        }


def _insert(connection: sa.Connection, table: sa.Table, columns: dict) -> None:
    names = list(columns)
    rows = driver_rows(connection.dialect, table, names, columns)
    insert_rows(connection, table, names, rows)


def _add_edit(
    session: Session,
    submission: Submission,
    row: _Row,
    page: StoredPage,
    inserts: _Inserts,
) -> None:
    _count_deletion(submission, row, page)
    _apply(submission, row)
    submission.current_instance_id = row.instance_id
    submission.state = "pending"
    session.add(submission)
    inserts.version(row, submission)
    page.changes.updated += 1


def _update_state(
    session: Session,
    submission: Submission,
    row: _Row,
    page: StoredPage,
    versions: dict[tuple[str, str], int],
) -> None:
    switched = submission.current_instance_id != row.instance_id
    changed = switched or any(
        getattr(submission, name) != value for name, value in row.state().items()
    )
    if submission.purged_at is not None:
        submission.purged_at = None
        changed = True
    if changed:
        _count_deletion(submission, row, page)
        _apply(submission, row)
        submission.current_instance_id = row.instance_id
        session.add(submission)
    renormalize = switched or submission.state == "pending"
    version_id = versions[(row.submission_id, row.instance_id)]
    if renormalize:
        submission.state = "pending"
        version = session.get(SubmissionVersion, version_id)
        _want(page, Item(submission, version, row.odata))
        return
    if changed and submission.state == "normalized":
        page.to_sync.append(submission)
    if row.attachments_present:
        version = _version_key(
            submission.project_id, submission.xml_form_id, row, versions
        )
        page.with_attachments.append(Item(submission, version, row.odata))


def _count_deletion(submission: Submission, row: _Row, page: StoredPage) -> None:
    if row.deleted_at and not submission.deleted_at:
        page.changes.deleted += 1
    elif submission.deleted_at and not row.deleted_at:
        page.changes.restored += 1


def _apply(submission: Submission, row: _Row) -> None:
    for name, value in row.state().items():
        setattr(submission, name, value)
    submission.last_seen_at = utcnow()


def _want(page: StoredPage, item: Item) -> None:
    """A current version to normalize, and to look at for attachments."""
    page.to_normalize.append(item)
    if item.attachments_present:
        page.with_attachments.append(item)


def _attachments_present(odata: dict[str, Any]) -> int:
    return int((odata.get("__system") or {}).get("attachmentsPresent") or 0)


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _submissions(
    session: Session, project_id: int, xml_form_id: str, ids: list[str]
) -> dict[str, Submission]:
    found: dict[str, Submission] = {}
    for chunk in _chunks(ids):
        query = select(Submission).where(
            Submission.project_id == project_id,
            Submission.xml_form_id == xml_form_id,
            Submission.submission_id.in_(chunk),
        )
        found.update((s.submission_id, s) for s in session.exec(query))
    return found


_STATE_COLUMNS = (
    "form_version",
    "submission_date",
    "updated_at",
    "review_state",
    "edits",
    "submitter_id",
    "deleted_at",
    "central_status",
)

# Where a _Row holds the state fields, in _STATE_COLUMNS order: rows are
# sliced there, not read by name, which costs more per row.
_ROW_STATE = slice(
    _Row._fields.index(_STATE_COLUMNS[0]),
    _Row._fields.index(_STATE_COLUMNS[0]) + len(_STATE_COLUMNS),
)
if _Row._fields[_ROW_STATE] != _STATE_COLUMNS:
    raise RuntimeError("_Row's state fields must be _STATE_COLUMNS, in order")


def _known(
    session: Session, project_id: int, xml_form_id: str, ids: list[str]
) -> dict[str, tuple]:
    """The ledger's state of these submissions, as the driver returns it
    (``_Bound`` gives a row's values in the same form)."""
    names = ("submission_id", "current_instance_id", "state", "purged_at")
    table, key = Submission.__table__, (project_id, xml_form_id)
    rows = _driver_select(session, table, (*names, *_STATE_COLUMNS), key, ids)
    return {row[0]: row for row in rows}


def _versions(
    session: Session, project_id: int, xml_form_id: str, ids: list[str]
) -> dict[tuple[str, str], int]:
    """The ledger's versions of these submissions, without their content."""
    names = ("submission_id", "instance_id", "id")
    table, key = SubmissionVersion.__table__, (project_id, xml_form_id)
    rows = _driver_select(session, table, names, key, ids)
    return {(sid, iid): vid for sid, iid, vid in rows}


def _driver_select(
    session: Session, table: sa.Table, names: tuple[str, ...], key: tuple, ids
) -> list[tuple]:
    """``names`` of the form's rows of ``table`` with these submission ids,
    as the driver returns them: built and compiled as SQLAlchemy IN lists, a
    page's lookups cost more than SQLite's own work."""
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    mark = marker(connection.dialect)
    columns = ", ".join(quote(name) for name in names)
    # Names come from the models, quoted by the dialect.
    sql = (
        f"SELECT {columns} FROM {quote(table.name)} "  # noqa: S608
        f"WHERE project_id = {mark} AND xml_form_id = {mark} AND submission_id {{in}}"
    )
    return list(rows_where_in(connection, sql, key, ids))


class _Bound:
    """A row's state values as the database driver is handed them, to compare
    with what the driver returns for the stored submission: equal values bind
    to equal text on SQLite, and to equal instants on PostgreSQL."""

    def __init__(self, session: Session) -> None:
        dialect = session.connection().dialect
        table = Submission.__table__
        self.processors = [
            bind_processor(table.c[name].type, dialect) for name in _STATE_COLUMNS
        ]

    def __call__(self, row: "_Row") -> tuple:
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.processors, row[_ROW_STATE], strict=True)
        )
