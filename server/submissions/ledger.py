"""Writing OData rows into the ledger: raw versions, appended once, and the current
state of each submission. Nothing here talks to Central or normalizes.

The ledger holds the versions a pull saw. A submission edited twice between two
pulls leaves its middle version only on Central (``.../versions``); fetching
those would take one request per edited submission."""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import configure_mappers
from sqlmodel import Session, select

from server.db import utcnow
from server.submissions.models import Submission, SubmissionVersion

# Keeps IN lists well under SQLite's limit on bound parameters.
_CHUNK = 900


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


@dataclass
class Item:
    """A submission and the version of it that is now current. ``submission``
    is None where only the version's attachments are of interest."""

    submission: Submission | None
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

    @classmethod
    def parse(cls, odata: dict[str, Any]) -> "_Row":
        system = odata.get("__system") or {}
        meta = odata.get("meta") or {}
        submitter = system.get("submitterId")
        # An encrypted submission Central cannot decrypt has no meta: its logical
        # id is all there is, and it is also its only version's id.
        return cls(
            submission_id=odata["__id"],
            instance_id=meta.get("instanceID") or odata["__id"],
            form_version=system.get("formVersion"),
            submission_date=parse_time(system["submissionDate"]),
            updated_at=parse_time(system.get("updatedAt")),
            review_state=system.get("reviewState"),
            edits=int(system.get("edits") or 0),
            submitter_id=None if submitter is None else str(submitter),
            deleted_at=parse_time(system.get("deletedAt")),
            central_status=system.get("status"),
            odata=odata,
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
) -> StoredPage:
    """Add the page's rows to the caller's transaction. A version already in the
    ledger is never written again; only the submission's state may change."""
    parsed = list({r.submission_id: r for r in map(_Row.parse, rows)}.values())
    ids = [r.submission_id for r in parsed]
    known = _known(session, project_id, xml_form_id, ids)
    versions = _versions(session, project_id, xml_form_id, ids)
    # Whole objects only for submissions that change: most rows of a full or
    # overlapping read are already in the ledger as they are.
    moving = [r.submission_id for r in parsed if _moves(known, versions, r)]
    current = _submissions(session, project_id, xml_form_id, moving)
    page = StoredPage()
    inserts = _Inserts(project_id, xml_form_id)
    for row in parsed:
        submission = current.get(row.submission_id)
        if row.submission_id not in known:
            inserts.new(row)
            page.changes.new += 1
            page.changes.deleted += 1 if row.deleted_at else 0
        elif (row.submission_id, row.instance_id) not in versions:
            _add_edit(session, submission, row, page, inserts)
        elif submission is not None:
            _update_state(session, submission, row, page, versions)
        elif _attachments_present(row.odata):
            version = _version_key(project_id, xml_form_id, row, versions)
            page.with_attachments.append(Item(None, version, row.odata))
    session.flush()
    for item in inserts.write(session):
        _want(page, item, normalize=True)
    return page


def _moves(known: dict[str, Any], versions: dict, row: "_Row") -> bool:
    """Whether storing ``row`` changes its submission in the ledger."""
    stored = known.get(row.submission_id)
    if stored is None:
        return False
    if (row.submission_id, row.instance_id) not in versions:
        return True
    if stored.state == "pending" or stored.purged_at is not None:
        return True
    if stored.current_instance_id != row.instance_id:
        return True
    # The state columns come last in the stored row, in _STATE_COLUMNS order.
    return tuple(stored[4:]) != tuple(row.state().values())


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
    """New ledger rows of one page, written in two statements instead of one ORM
    object each: building and flushing SQLModel objects cost several times the
    fetch from Central at 5,000 rows a page."""

    def __init__(self, project_id: int, xml_form_id: str) -> None:
        self.key = {"project_id": project_id, "xml_form_id": xml_form_id}
        # One instant for the page: its rows arrived together, and one object
        # is converted for the database once (see _insert_many).
        self.now = utcnow()
        self.submissions: list[dict[str, Any]] = []
        self.versions: list[tuple[dict[str, Any], _Row, Submission | None]] = []

    def new(self, row: _Row) -> None:
        now = self.now
        self.submissions.append(
            {
                **self.key,
                "submission_id": row.submission_id,
                "current_instance_id": row.instance_id,
                **row.state(),
                "state": "pending",
                "purged_at": None,
                "first_seen_at": now,
                "last_seen_at": now,
            }
        )
        self.version(row, None)

    def version(self, row: _Row, submission: Submission | None) -> None:
        values = {
            **self.key,
            "submission_id": row.submission_id,
            "instance_id": row.instance_id,
            "form_version": row.form_version,
            "odata": row.odata,
            "xml": None,
            "received_at": self.now,
        }
        self.versions.append((values, row, submission))

    def write(self, session: Session) -> list[Item]:
        """Insert, and hand back the new versions with their submissions."""
        added = {}
        if self.submissions:
            before = self._newest_id(session)
            _insert_many(session, Submission.__table__, self.submissions)
            ids = self._ids(session, after=before)
            missing = [
                v["submission_id"]
                for v in self.submissions
                if v["submission_id"] not in ids
            ]
            if missing:  # only if rows were deleted meanwhile: never by trogiup
                ids.update(_submission_ids(session, self.key, missing))
            for values in self.submissions:
                values["id"] = ids[values["submission_id"]]
                added[values["submission_id"]] = _detached(Submission, values)
        if self.versions:
            rows = [values for values, _, _ in self.versions]
            _insert_many(session, SubmissionVersion.__table__, rows)
        return [
            Item(
                submission or added[row.submission_id],
                VersionRef(
                    project_id=values["project_id"],
                    xml_form_id=values["xml_form_id"],
                    submission_id=row.submission_id,
                    instance_id=row.instance_id,
                    form_version=row.form_version,
                    odata=row.odata,
                ),
                row.odata,
            )
            for values, row, submission in self.versions
        ]

    def _newest_id(self, session: Session) -> int:
        table = Submission.__table__
        query = sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))
        return session.connection().execute(query).scalar_one()

    def _ids(self, session: Session, *, after: int) -> dict[str, int]:
        """The ids of the form's submissions above ``after``, the highest id
        before the page's rows were inserted: those rows are all above it (a
        PostgreSQL sequence hands out values above any row visible before;
        SQLite takes one above the highest, unless the highest was deleted
        meanwhile, when the caller looks up the rest by submission id). Rows
        another pull added meanwhile come too and go unused. A range of the
        key instead of the page's ids in IN lists, which cost a twentieth of
        storing a page to compile and run."""
        table = Submission.__table__
        query = sa.select(table.c.submission_id, table.c.id).where(
            table.c.id > after,
            table.c.project_id == self.key["project_id"],
            table.c.xml_form_id == self.key["xml_form_id"],
        )
        return dict(session.connection().execute(query).all())


def _submission_ids(session, key: dict, submission_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(submission_ids):
        query = select(Submission.submission_id, Submission.id).where(
            Submission.project_id == key["project_id"],
            Submission.xml_form_id == key["xml_form_id"],
            Submission.submission_id.in_(chunk),
        )
        found.update(session.exec(query).all())
    return found


def _insert_many(session: Session, table: sa.Table, rows: list[dict]) -> None:
    """Rows straight to the driver (COPY on PostgreSQL, one executemany
    elsewhere), each column's bind processing applied once per value:
    SQLAlchemy's own handling of each parameter set cost more than the rest of
    storing a page, and on PostgreSQL COPY writes a page in a fraction of an
    executemany's time."""
    connection = session.connection()
    dialect = connection.dialect
    columns = [c for c in table.columns if c.name in rows[0]]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    params = list(
        zip(*(_column_values(c, dialect, rows) for c in columns), strict=True)
    )
    if dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for values in params:
                copy.write_row(values)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    markers = ", ".join([marker] * len(columns))
    # Names come from the models and are quoted by the dialect.
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"  # noqa: S608
    connection.exec_driver_sql(sql, params)


def _column_values(column: sa.Column, dialect, rows: list[dict]) -> list:
    """One column's values as the driver takes them, converted a column at a
    time: fewer Python steps per value than row by row."""
    values = [row[column.name] for row in rows]
    process = repeating(column.type.dialect_impl(dialect).bind_processor(dialect))
    if process is None:
        return values
    return [None if value is None else process(value) for value in values]


def repeating(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """A bind processor that converts a value given again (the same object as
    the row before's, like a page's arrival time) once: converting datetimes
    for SQLite cost several microseconds each."""
    if process is None:
        return None
    last: list[Any] = [_NOTHING, None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return convert


_NOTHING = object()


def _detached(model: type, values: dict[str, Any]):
    """An instance of ``model`` for a row just inserted, built without the
    model's validation (which cost more than the fetch from Central) and never
    added to the session: normalization reads it, and writes a submission's
    state with its own UPDATE."""
    instance = _managers()[model].new_instance()
    # A fresh instance has no history to keep: its attributes live in __dict__.
    instance.__dict__.update(values)
    return instance


@functools.cache
def _managers() -> dict[type, Any]:
    configure_mappers()
    return {Submission: sa.inspect(Submission).class_manager}


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
        _want(page, Item(submission, version, row.odata), normalize=True)
        return
    if changed and submission.state == "normalized":
        page.to_sync.append(submission)
    if _attachments_present(row.odata):
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


def _want(page: StoredPage, item: Item, *, normalize: bool) -> None:
    if normalize:
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


def _known(
    session: Session, project_id: int, xml_form_id: str, ids: list[str]
) -> dict[str, Any]:
    """The ledger's state of these submissions, as plain rows."""
    table = Submission.__table__
    columns = [table.c[name] for name in _STATE_COLUMNS]
    found: dict[str, Any] = {}
    for chunk in _chunks(ids):
        query = sa.select(
            table.c.submission_id,
            table.c.current_instance_id,
            table.c.state,
            table.c.purged_at,
            *columns,
        ).where(
            table.c.project_id == project_id,
            table.c.xml_form_id == xml_form_id,
            table.c.submission_id.in_(chunk),
        )
        found.update((r.submission_id, r) for r in session.connection().execute(query))
    return found


def _versions(
    session: Session, project_id: int, xml_form_id: str, ids: list[str]
) -> dict[tuple[str, str], int]:
    """The ledger's versions of these submissions, without their content."""
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(ids):
        query = select(
            SubmissionVersion.submission_id,
            SubmissionVersion.instance_id,
            SubmissionVersion.id,
        ).where(
            SubmissionVersion.project_id == project_id,
            SubmissionVersion.xml_form_id == xml_form_id,
            SubmissionVersion.submission_id.in_(chunk),
        )
        found.update(((sid, iid), vid) for sid, iid, vid in session.exec(query))
    return found
