"""Pull submissions from Central into the ledger, then normalize them.

One pull of one form reads, in order:

1. the Submissions table with ``$expand=*`` (repeats inline), everything the first
   time and with ``--full``, otherwise what changed since the cursor:
   ``__system/submissionDate gt T or __system/updatedAt gt T`` with ``T`` the
   newest timestamp seen minus an overlap window, because timestamp paging on
   Central can miss rows committed late (getodk/central#1164, #1615);
2. the deleted submissions (``__system/deletedAt ne null``), whole: deleting or
   restoring on Central 2025.x does not change ``updatedAt``, so the window above
   cannot see either;
3. by id, every submission the ledger holds as deleted that is no longer in the
   deleted list (restored, or purged), and with ``--full`` every submission the
   ledger holds that Central listed nowhere (purged, or deleted and restored
   while this pull was reading).

Pages are stored whole, one or more to a transaction: their raw rows, the
current state of their submissions, their typed rows (or quarantine entries) and
the run's counts. A transaction is committed before the pull waits for Central,
before an error in reading is raised, at the end of each listing, and once
``PullOptions.commit_rows`` rows wait. Central serves pages newest first and
refuses ``$orderby`` with ``$skiptoken`` (501.1), so a cursor moved after each
page could jump over older rows still to come; the cursor therefore moves at the
end of the pull. A pull killed midway keeps the pages it committed and reads them
again next time, where they change nothing: a version already in the ledger is
recognised by its instance id.

Pages are read one or two ahead while the current one is stored. Storing and
normalizing still cost more per row than the simulator takes to serve one (in
``benchmarks/sync.py`` a full pull takes 1.5-2.2x its raw fetch at 10,000 rows,
2.1-2.8x at 100,000): the reading ahead hides the fetch, not the work, and the
reading thread's JSON decoding and the storing thread's conversions take turns
with the one interpreter lock, which SQLite lets go of only for each row it
writes. Handing rows over as a page streams in was slower still, the reading
thread waiting for the lock; benchmarks/README.md says where the time goes and
what else was tried.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from server.central.submissions import (
    DEFAULT_PAGE_SIZE,
    CentralSubmissions,
    odata_timestamp,
)
from server.db import utcnow
from server.errors import CentralError, NotFound, TrogiupError, safe_summary
from server.submissions import attachments, ledger, normalize
from server.submissions.models import CentralForm, FormVersion, PullRun, Submission
from server.submissions.xform import parse_xform

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Long enough to cover a slow transaction on Central, short enough that re-reading
# the window costs little: rows in it are recognised and skipped.
DEFAULT_OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True)
class PullOptions:
    overlap: timedelta = DEFAULT_OVERLAP
    page_size: int = DEFAULT_PAGE_SIZE
    # Pages read ahead while the current one is stored.
    prefetch: int = 2
    # Rows stored in one transaction at most while the next page is already
    # waiting (see _FormPull._store_pages).
    commit_rows: int = 20_000


@dataclass
class FormPullResult:
    """What one pull of one form did."""

    xml_form_id: str
    mode: str
    seen: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    restored: int = 0
    purged: int = 0
    normalized: int = 0
    quarantined: int = 0
    attachments: int = 0
    seconds: float = 0.0
    run_id: int | None = None

    def add(self, change: ledger.PageChanges) -> None:
        self.new += change.new
        self.updated += change.updated
        self.deleted += change.deleted
        self.restored += change.restored
        self.normalized += change.normalized
        self.quarantined += change.quarantined
        self.attachments += change.attachments


Progress = Callable[[str, int], None]


def pull(
    *,
    session: Session,
    central: CentralSubmissions,
    xml_form_id: str | None = None,
    full: bool = False,
    options: PullOptions | None = None,
    progress: Progress | None = None,
) -> list[FormPullResult]:
    """Pull one form, or every form of the project. Commits as it goes (see the
    module docstring); a failure is recorded on the form's PullRun and raised."""
    options = options or PullOptions()
    forms = [f for f in central.forms() if _published(f)]
    if xml_form_id is not None:
        forms = [f for f in forms if f["xmlFormId"] == xml_form_id]
        if not forms:
            raise NotFound(
                f"Form {xml_form_id!r} is not published in Central project "
                f"{central.project_id}",
                xml_form_id=xml_form_id,
            )
    results, failures = [], []
    for form in forms:
        try:
            results.append(
                pull_form(
                    session=session,
                    central=central,
                    form=form,
                    full=full,
                    options=options,
                    progress=progress,
                )
            )
        except TrogiupError as err:
            # One form's failure does not keep the others from being pulled.
            failures.append(err)
    if failures:
        raise failures[0]
    return results


def _published(form: dict[str, Any]) -> bool:
    """Forms with only a draft have no submissions to pull."""
    return form.get("publishedAt", True) is not None


def pull_form(
    *,
    session: Session,
    central: CentralSubmissions,
    form: dict[str, Any],
    full: bool = False,
    options: PullOptions | None = None,
    progress: Progress | None = None,
) -> FormPullResult:
    """Pull one form described by Central's form listing (``xmlFormId``,
    ``name``, ``version``). Pulls of one form in this process wait their turn:
    the scheduler, the API and the CLI may all start one."""
    with _form_lock(central.project_id, form["xmlFormId"]):
        return _pull_form(session, central, form, full, options, progress)


_form_locks: dict[tuple[int, str], threading.Lock] = {}
_form_locks_guard = threading.Lock()


def _form_lock(project_id: int, xml_form_id: str) -> threading.Lock:
    with _form_locks_guard:
        return _form_locks.setdefault((project_id, xml_form_id), threading.Lock())


def _pull_form(
    session: Session,
    central: CentralSubmissions,
    form: dict[str, Any],
    full: bool,
    options: PullOptions | None,
    progress: Progress | None,
) -> FormPullResult:
    options = options or PullOptions()
    central_form = _central_form(session, central.project_id, form)
    full = full or central_form.cursor_submission_date is None
    _abandon_unfinished(session, central.project_id, form["xmlFormId"])
    run = PullRun(
        project_id=central.project_id,
        xml_form_id=form["xmlFormId"],
        mode="full" if full else "incremental",
    )
    session.add(run)
    session.commit()
    puller = _FormPull(session, central, central_form, run, options, progress)
    puller.versions.current = form.get("version")
    started = time.perf_counter()
    try:
        puller.run(full=full)
    except Exception as err:
        session.rollback()
        _fail(session, run, err)
        raise
    puller.result.seconds = time.perf_counter() - started
    puller.result.run_id = run.id
    logger.info(
        "pulled %s (%s): seen %s, new %s, updated %s, deleted %s, quarantined %s",
        form["xmlFormId"],
        run.mode,
        puller.result.seen,
        puller.result.new,
        puller.result.updated,
        puller.result.deleted,
        puller.result.quarantined,
    )
    return puller.result


class _FormPull:
    """The state of one pull of one form while it runs."""

    def __init__(
        self,
        session: Session,
        central: CentralSubmissions,
        form: CentralForm,
        run: PullRun,
        options: PullOptions,
        progress: Progress | None,
    ) -> None:
        self.session = session
        self.central = central
        self.form = form
        self.run_row = run
        self.options = options
        self.progress = progress or (lambda _stage, _rows: None)
        self.project_id = form.project_id
        self.xml_form_id = form.xml_form_id
        self.result = FormPullResult(self.xml_form_id, run.mode)
        self.newest = _Newest(form.cursor_submission_date, form.cursor_updated_at)
        self.versions = _Versions(session, central, form.project_id, form.xml_form_id)
        # Submission id -> the updatedAt of the reading stored, per listing.
        self.listed: dict[str, str] = {}
        self.deleted_listed: dict[str, str] = {}
        self.seen: set[str] = set()
        # Rows stored since the last commit.
        self.uncommitted = 0

    def run(self, *, full: bool) -> None:
        self.versions.ensure([self.versions.current])
        self.session.commit()

        pages = self.central.odata_pages(
            self.xml_form_id,
            filter=None if full else self._window(),
            page_size=self.options.page_size,
        )
        self._store_pages(pages, "submissions", self.listed)
        deleted = self.central.deleted_pages(
            self.xml_form_id, page_size=self.options.page_size
        )
        self._store_pages(deleted, "deleted", self.deleted_listed)
        self._recheck(self._recheck_candidates(full))
        self._finish(full)

    def _window(self) -> str:
        since = odata_timestamp(self.newest.watermark() - self.options.overlap)
        return f"__system/submissionDate gt {since} or __system/updatedAt gt {since}"

    def _store_pages(
        self, pages: Iterable[Any], stage: str, ids: dict[str, str]
    ) -> None:
        """Store the pages as they come. Stored pages are committed before
        waiting for Central, before raising an error in reading, at the end,
        and once ``commit_rows`` rows wait: while pages arrive faster than
        they are stored, a commit per page rewrote the pages of every index
        keyed by submission id each time (random keys touch most of an
        index), which at 100,000 rows cost a fifth of storing them."""
        reading = prefetched(
            pages, depth=self.options.prefetch, before_waiting=self._commit
        )
        for page in reading:
            # Per page, so that anything the page left in a cycle is collected.
            with normalize.cyclic_gc_paused():
                self._store(page.rows, ids)
            self.progress(stage, len(page.rows))
            if self.uncommitted >= self.options.commit_rows:
                self._commit()
        self._commit()

    def _commit(self) -> None:
        if self.uncommitted:
            self.session.commit()
            self.uncommitted = 0

    def _store(self, rows: list[dict[str, Any]], ids: dict[str, str]) -> None:
        """One page, in the caller's transaction. A submission this listing
        already showed is stored again only if this reading is newer (a later
        ``updatedAt``): timestamp paging can show a row twice, and an older
        copy must not undo a newer one."""
        fresh = _newer_readings(rows, ids)
        self.seen.update(r["__id"] for r in fresh)
        stored = ledger.store_page(
            session=self.session,
            project_id=self.project_id,
            xml_form_id=self.xml_form_id,
            rows=fresh,
            before_write=self._normalize,
        )
        self.newest.see(stored)
        self.result.seen = len(self.seen)
        self.result.add(stored.changes)
        _count(self.run_row, stored.changes, seen=self.result.seen)
        self.session.add(self.run_row)
        # Counted even when empty: the run's counts are due at the next commit.
        self.uncommitted += max(len(rows), 1)

    def _normalize(self, stored: ledger.StoredPage) -> None:
        items = stored.to_normalize
        self.versions.ensure(sorted({i.version.form_version or "" for i in items}))
        stored.changes.attachments = attachments.fetch(
            session=self.session, central=self.central, items=stored.with_attachments
        )
        if items:
            counts = normalize.normalize_batch(
                session=self.session,
                project_id=self.project_id,
                xml_form_id=self.xml_form_id,
                items=[(i.submission, i.version) for i in items],
            )
            stored.changes.normalized = counts.get("normalized", 0)
            stored.changes.quarantined = counts.get("quarantined", 0)
        if stored.to_sync:
            normalize.sync_state(session=self.session, submissions=stored.to_sync)

    def _recheck_candidates(self, full: bool) -> list[str]:
        """Submissions whose fate the listings did not settle: with ``full``,
        every one Central listed nowhere; otherwise those the ledger holds as
        deleted that are no longer in the deleted list (only those, so an
        incremental pull costs nothing per submission it did not read)."""
        table = Submission.__table__
        query = sa.select(table.c.submission_id).where(
            table.c.project_id == self.project_id,
            table.c.xml_form_id == self.xml_form_id,
            table.c.purged_at.is_(None),
        )
        if not full:
            query = query.where(table.c.deleted_at.is_not(None))
        listed = self.listed.keys() | self.deleted_listed.keys()
        # Core, not the ORM: a full pull reads every id of the form here, and
        # loading them as ORM rows cost a twentieth of the pull.
        ids = self.session.connection().execute(query).scalars().all()
        return sorted(sid for sid in ids if sid not in listed)

    def _recheck(self, candidates: list[str]) -> None:
        if not candidates:
            return
        current = self.central.rows_by_id(self.xml_form_id, candidates)
        self._store(current, self.listed)
        self._commit()
        remaining = [sid for sid in candidates if sid not in self.listed]
        deleted = self.central.rows_by_id(self.xml_form_id, remaining, deleted=True)
        self._store(deleted, self.deleted_listed)
        purged = ledger.mark_purged(
            session=self.session,
            project_id=self.project_id,
            xml_form_id=self.xml_form_id,
            submission_ids=[s for s in remaining if s not in self.deleted_listed],
        )
        normalized = [s for s in purged if s.state == "normalized"]
        if normalized:
            normalize.sync_state(session=self.session, submissions=normalized)
        self.result.purged += len(purged)
        self.run_row.deleted += len(purged)
        self.session.add(self.run_row)
        self.session.commit()

    def _finish(self, full: bool) -> None:
        now = utcnow()
        self.form.cursor_submission_date = self.newest.submission_date
        self.form.cursor_updated_at = self.newest.updated_at
        self.form.last_pull_at = now
        if full:
            self.form.last_full_pull_at = now
        self.run_row.status = "ok"
        self.run_row.finished_at = now
        self.session.add_all([self.form, self.run_row])
        self.session.commit()


def _newer_readings(
    rows: list[dict[str, Any]], ids: dict[str, str]
) -> list[dict[str, Any]]:
    """The rows not yet read in this listing, or read with an older
    ``updatedAt``; ``ids`` learns the ones returned. Central writes every
    timestamp in one format, so their text sorts as their time does."""
    fresh = []
    for row in rows:
        stamp = (row.get("__system") or {}).get("updatedAt") or ""
        held = ids.get(row["__id"])
        if held is None or stamp > held:
            ids[row["__id"]] = stamp
            fresh.append(row)
    return fresh


@dataclass
class _Newest:
    """The newest ``submissionDate`` and ``updatedAt`` seen, the next cursor."""

    submission_date: datetime | None
    updated_at: datetime | None

    def see(self, page: ledger.StoredPage) -> None:
        self.submission_date = _later(self.submission_date, page.newest_submission_date)
        self.updated_at = _later(self.updated_at, page.newest_updated_at)

    def watermark(self) -> datetime:
        stamps = [t for t in (self.submission_date, self.updated_at) if t]
        return max(stamps)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


@dataclass
class _Versions:
    """Form versions known to the ledger; an unknown one is fetched from Central
    and handed to normalization before any submission of it is normalized."""

    session: Session
    central: CentralSubmissions
    project_id: int
    xml_form_id: str
    # The version Central publishes now, from its form listing.
    current: str | None = None
    known: set[str] = field(default_factory=set)
    # version -> Central's publishedAt, read once per pull when first needed.
    published: dict[str, datetime | None] | None = None

    def __post_init__(self) -> None:
        query = select(FormVersion.version).where(
            FormVersion.project_id == self.project_id,
            FormVersion.xml_form_id == self.xml_form_id,
        )
        self.known = set(self.session.exec(query).all())

    def ensure(self, versions: Iterable[str | None]) -> None:
        missing = {v for v in versions if v is not None and v not in self.known}
        if not missing:
            return
        # Every published version not yet registered, oldest first, then any
        # Central does not list.
        published = self._published()
        missing |= published.keys() - self.known
        self.known |= missing
        register_in_order(
            session=self.session,
            central=self.central,
            xml_form_id=self.xml_form_id,
            versions=missing,
            published=published,
            current=self.current,
        )

    def _published(self) -> dict[str, datetime | None]:
        if self.published is None:
            self.published = published_versions(self.central, self.xml_form_id)
        return self.published


def published_versions(
    central: CentralSubmissions, xml_form_id: str
) -> dict[str, datetime | None]:
    """Version -> Central's publishedAt, for every version Central lists."""
    listing = central.form_versions(xml_form_id)
    return {v["version"]: ledger.parse_time(v.get("publishedAt")) for v in listing}


def _order(published_at: datetime | None, version: str) -> tuple:
    """Publication order; versions Central does not list come last."""
    earliest = datetime.min.replace(tzinfo=UTC)
    return (published_at is None, published_at or earliest, version)


def register_in_order(
    *,
    session: Session,
    central: CentralSubmissions,
    xml_form_id: str,
    versions: Iterable[str],
    published: dict[str, datetime | None],
    current: str | None = None,
) -> int:
    """Register ``versions`` from Central in publication order (``published``
    is ``published_versions``): the merge folds versions in that order, and
    registering them so spares it starting again. How many Central had."""
    registered = 0
    for version in sorted(versions, key=lambda v: _order(published.get(v), v)):
        registered += register_from_central(
            session=session,
            central=central,
            xml_form_id=xml_form_id,
            version=version,
            current=current,
            published_at=published.get(version),
        )
    return registered


def register_from_central(
    *,
    session: Session,
    central: CentralSubmissions,
    xml_form_id: str,
    version: str,
    current: str | None = None,
    published_at: datetime | None = None,
) -> bool:
    """Fetch a form version's XForm from Central and register it; False when
    Central has no such version, whose submissions then wait in quarantine.
    ``current`` is the version Central publishes now, when known."""
    xml = _version_xml(central, xml_form_id, version, current)
    if xml is None:
        logger.warning(
            "form %s version %s is not on Central; its submissions wait in quarantine",
            xml_form_id,
            version,
        )
        return False
    normalize.register_form_version(
        session=session,
        project_id=central.project_id,
        xml_form_id=xml_form_id,
        version=version,
        xml=xml,
        published_at=published_at,
    )
    return True


def _version_xml(
    central: CentralSubmissions, xml_form_id: str, version: str, current: str | None
) -> str | None:
    """The XForm of ``version``: the form's own XForm while it is the current
    version, else the published version's (``/versions/{v}.xml``). Without
    ``current``, the form's own XForm is tried when the version's is not
    found."""
    if current is not None and version == current:
        xml = central.form_xml(xml_form_id)
        if parse_xform(xml).version == version:
            return xml
    try:
        if version:
            return central.form_xml(xml_form_id, version)
    except CentralError as err:
        if err.status != 404:
            raise
    if current is not None:
        return None
    xml = central.form_xml(xml_form_id)
    return xml if parse_xform(xml).version == version else None


def _central_form(
    session: Session, project_id: int, form: dict[str, Any]
) -> CentralForm:
    query = select(CentralForm).where(
        CentralForm.project_id == project_id,
        CentralForm.xml_form_id == form["xmlFormId"],
    )
    row = session.exec(query).first()
    if row is None:
        row = CentralForm(project_id=project_id, xml_form_id=form["xmlFormId"])
    row.name = form.get("name")
    session.add(row)
    session.commit()
    return row


def _count(run: PullRun, changes: ledger.PageChanges, *, seen: int) -> None:
    run.seen = seen
    run.new += changes.new
    run.updated += changes.updated + changes.restored
    run.deleted += changes.deleted
    run.quarantined += changes.quarantined


def _abandon_unfinished(session: Session, project_id: int, xml_form_id: str) -> None:
    """Runs still marked running belong to a process that stopped without saying
    (killed, power cut): callers run one pull of a form at a time."""
    query = select(PullRun).where(
        PullRun.project_id == project_id,
        PullRun.xml_form_id == xml_form_id,
        PullRun.status == "running",
    )
    for run in session.exec(query):
        run.status = "failed"
        run.error = "did not finish: the process stopped before the end of the run"
        session.add(run)
        logger.warning("pull run %s of %s never finished", run.id, xml_form_id)


def _fail(session: Session, run: PullRun, err: Exception) -> None:
    run = session.get(PullRun, run.id) or run
    run.status = "failed"
    run.finished_at = utcnow()
    run.error = safe_summary(err)[:2000]
    session.add(run)
    session.commit()
    logger.info("pull of %s failed; run %s recorded it", run.xml_form_id, run.id)


def prefetched(
    items: Iterable[T],
    *,
    depth: int = 2,
    before_waiting: Callable[[], None] | None = None,
) -> Iterator[T]:
    """``items`` read by a background thread, up to ``depth`` ahead, so the next
    page travels while this one is stored. An error in the reader is raised here,
    in order; leaving the loop early stops the reader. ``before_waiting`` is
    called whenever the next item is not there yet, and before an error in
    the reader is raised."""
    buffer: queue.Queue = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()
    settle = before_waiting or (lambda: None)

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as err:  # handed to the consumer, raised there
            put(("error", err))
            return
        put(("end", None))

    reader = threading.Thread(target=read, name="central-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            try:
                kind, value = buffer.get_nowait()
            except queue.Empty:
                settle()
                kind, value = buffer.get()
            if kind == "end":
                return
            if kind == "error":
                settle()
                raise value
            yield value
    finally:
        stop.set()
        reader.join(timeout=5)
