"""From the raw ledger to the typed tables.

Each current submission version's OData row is converted by a plan compiled
once per form version (``convert.py``). A submission either lands whole (its
form-table row and all its repeat rows, replacing what was there) or is
quarantined whole with its reasons; its typed rows are then removed, so a
table never shows a half-converted or stale version. Reasons say what and
where (form, version, submission, field path, expected type) and never quote
a value: values may identify a child.

Writes are batched (COPY on PostgreSQL, one executemany elsewhere; deletes only
for submissions that already have typed rows) because the pull normalizes
while the next page is on its way and must keep up with Central.
"""

import gc
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from server.db import utcnow
from server.submissions import driver
from server.submissions.convert import (
    Problem,
    TableRows,
    VersionPlan,
    compile_plan,
    convert_batch,
    describe_problem,
    location,
    not_decrypted,
    refused_by_database,
    unknown_version,
)
from server.submissions.models import (
    FormVersion,
    QuarantineEntry,
    Submission,
    SubmissionVersion,
)
from server.submissions.schema import (
    MergedSchema,
    drop_tables,
    ensure_tables,
    form_table_name,
    form_versions,
    layout,
    load_schema,
    merge_media_choices,
    merge_version,
    rebuild_schema,
)
from server.submissions.xform import XForm, parse_xform

logger = logging.getLogger(__name__)

NORMALIZED = "normalized"
QUARANTINED = "quarantined"
ID_CHUNK = 500
# Central's __system/status for encrypted submissions it cannot show: no
# answers reach OData.
_UNREADABLE = {"notDecrypted", "missingEncryptedFormData"}
LEDGER_CHUNK = 2000


# Registration -----------------------------------------------------------------


def register_form_version(
    *,
    session: Session,
    project_id: int,
    xml_form_id: str,
    version: str,
    xml: str,
    media: Mapping[str, bytes] | None = None,
    published_at: datetime | None = None,
) -> None:
    """Store a form version's XForm (or update it when Central's copy changed),
    merge it into the form's schema and create or widen the typed tables.
    ``media`` (file name -> content), when given, labels the choice lists
    that live in CSV media files (districts, communes). ``published_at``
    (Central's) places the version in the merge's order; a version that
    comes before one already merged makes the merge start again (see
    ``schema.py``)."""
    xform = parse_xform(xml)
    row = session.exec(
        select(FormVersion)
        .where(FormVersion.project_id == project_id)
        .where(FormVersion.xml_form_id == xml_form_id)
        .where(FormVersion.version == version)
    ).first()
    if row is None:
        row = FormVersion(
            project_id=project_id, xml_form_id=xml_form_id, version=version
        )
        row.xml = xml
        row.fields = _central_fields(xform)
        session.add(row)
        logger.info("registered form %s version %s", xml_form_id, version)
    elif row.xml != xml:
        row.xml, row.fetched_at = xml, utcnow()
        logger.info(
            "updated the definition of form %s version %s", xml_form_id, version
        )
    row.published_at = published_at or row.published_at
    session.flush()
    if form_versions(session, project_id, xml_form_id)[-1].id == row.id:
        merge_version(
            session=session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            xform=xform,
        )
    else:
        _merge_again_in_order(session, project_id, xml_form_id)
    if media:
        merge_media_choices(
            session=session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            xform=xform,
            media=media,
        )
    schema = load_schema(
        session=session, project_id=project_id, xml_form_id=xml_form_id
    )
    ensure_tables(session=session, schema=schema)


def _merge_again_in_order(session: Session, project_id: int, xml_form_id: str) -> None:
    """A version registered before one published after it: fold them all again
    in publication order. Where that moves a field to another column or type,
    the typed tables are made again from the ledger."""
    tables = {where[0] for where in layout(session, project_id, xml_form_id).values()}
    tables.add(form_table_name(xml_form_id))
    changed = rebuild_schema(
        session=session,
        project_id=project_id,
        xml_form_id=xml_form_id,
        from_scratch=True,
    )
    if not changed:
        return
    logger.warning(
        "form %s: a version registered out of publication order changed the "
        "typed columns; its typed tables are filled again from the ledger",
        xml_form_id,
    )
    drop_tables(session=session, names=tables)
    renormalize(session=session, project_id=project_id, xml_form_id=xml_form_id)


def _central_fields(xform: XForm) -> list[dict[str, Any]]:
    """The field list in the shape of Central's /fields endpoint."""
    fields = [{"path": r.path, "name": r.name, "type": "repeat"} for r in xform.repeats]
    fields += [{"path": f.path, "name": f.name, "type": f.type} for f in xform.fields]
    return fields


# The batch ---------------------------------------------------------------------


@dataclass
class _Batch:
    # Typed rows to write, by table, in the parts they were converted in.
    rows: dict[str, list[TableRows]] = field(default_factory=dict)
    normalized: list[Submission] = field(default_factory=list)
    # submission_id -> the version normalized, should its rows be refused.
    versions: dict[str, SubmissionVersion] = field(default_factory=dict)
    failed: list[tuple[Submission, SubmissionVersion, list[Problem]]] = field(
        default_factory=list
    )


def normalize_batch(
    *,
    session: Session,
    project_id: int,
    xml_form_id: str,
    items: list[tuple[Submission, SubmissionVersion]],
) -> dict[str, int]:
    """Normalize the current versions of some submissions of one form: upsert
    their typed rows (replacing their repeat rows), or quarantine them."""
    if not items:
        return {NORMALIZED: 0, QUARANTINED: 0}
    session.flush()  # the caller's changes reach the database before its UPDATEs
    schema = _merged_schema(session, project_id, xml_form_id)
    tables = ensure_tables(session=session, schema=schema) if schema else {}
    batch = _Batch()
    with cyclic_gc_paused():
        for version, group in _by_version(schema, batch, items).items():
            _convert(compile_plan(schema, version, tables), group, batch)
        if tables:
            _write(session, tables, schema, batch, [s for s, _ in items])
    _set_state(session, batch.normalized, NORMALIZED)
    _set_state(session, [s for s, _, _ in batch.failed], QUARANTINED)
    _record_quarantine(session, project_id, xml_form_id, batch)
    if batch.failed:
        logger.warning(
            "quarantined %s of %s submissions of form %s",
            len(batch.failed),
            len(items),
            xml_form_id,
        )
    return {NORMALIZED: len(batch.normalized), QUARANTINED: len(batch.failed)}


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Storing and converting a page allocates hundreds of thousands of small
    dicts, tuples and ledger objects, none in a reference cycle; each
    allocation burst set off collections over the page's JSON, a fifth of the
    batch's CPU time and over a third of a pull's. Reference counting still
    frees everything meanwhile. Nested uses leave the outermost to resume."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _merged_schema(session, project_id, xml_form_id) -> MergedSchema | None:
    """The form's schema, merged again first if a stored version was never
    merged (a FormVersion row written without register_form_version)."""
    schema = load_schema(
        session=session, project_id=project_id, xml_form_id=xml_form_id
    )
    if schema is None or not _has_unmerged(schema):
        return schema
    rebuild_schema(session=session, project_id=project_id, xml_form_id=xml_form_id)
    return load_schema(session=session, project_id=project_id, xml_form_id=xml_form_id)


def _has_unmerged(schema: MergedSchema) -> bool:
    return any(
        f.path not in schema.fields_by_path
        for xform in schema.versions.values()
        for f in xform.fields
    ) or any(
        r.path not in schema.repeat_tables
        for xform in schema.versions.values()
        for r in xform.repeats
    )


def _current_only(items: list[tuple[Submission, SubmissionVersion]]):
    """One pair per submission, its current version where given: a page read
    with an overlap window can hold a submission twice."""
    chosen: dict[tuple[int, str], tuple[Submission, SubmissionVersion]] = {}
    for submission, version in items:
        key = (submission.project_id, submission.submission_id)
        held = chosen.get(key)
        if held is None or version.instance_id == submission.current_instance_id:
            chosen[key] = (submission, version)
    return list(chosen.values())


def _by_version(schema, batch: _Batch, items) -> dict[str, list[tuple]]:
    """The submissions to convert, by form version, one each (see
    ``_current_only``); those that cannot be converted at all are set aside
    with their reason."""
    groups: dict[str, list[tuple]] = {}
    for submission, version in _current_only(items):
        odata = version.odata or {}
        system = odata.get("__system") or {}
        form_version = version.form_version or system.get("formVersion")
        status = submission.central_status or system.get("status")
        if status in _UNREADABLE:
            problem = not_decrypted(_where(submission, form_version))
        elif schema is None or form_version not in schema.versions:
            problem = unknown_version(_where(submission, form_version))
        else:
            groups.setdefault(form_version, []).append((submission, version))
            continue
        batch.failed.append((submission, version, [problem]))
    return groups


def _where(submission, form_version: str | None) -> str:
    return location(submission.xml_form_id, form_version, submission.submission_id)


def _convert(plan: VersionPlan, group: list[tuple], batch: _Batch) -> None:
    """Convert one version's submissions; each lands whole or is set aside
    whole with the fields and repeats at fault."""
    submissions = [submission for submission, _ in group]
    converted = convert_batch(plan, submissions, [v.odata or {} for _, v in group])
    bad = converted.problems
    for place, plans in bad.items():
        submission, version = group[place]
        where = _where(submission, plan.version)
        unique = {p.path: p for p in plans}.values()
        problems = [describe_problem(where, p) for p in unique]
        batch.failed.append((submission, version, problems))
    for name, rows in converted.tables.items():
        if bad:
            rows = rows.take([i for i, o in enumerate(rows.owners) if o not in bad])
        batch.rows.setdefault(name, []).append(rows)
    for place, (submission, version) in enumerate(group):
        if place not in bad:
            batch.normalized.append(submission)
            batch.versions[submission.submission_id] = version


def _write(session, tables, schema: MergedSchema, batch: _Batch, submissions) -> None:
    connection = session.connection()
    main = tables[form_table_name(schema.xml_form_id)]
    # Repeat rows exist only beside a form-table row, so the ids found there
    # are all that need deleting; a first pull deletes nothing. A submission
    # whose ledger row is not written yet (a ref without an id) has none.
    ids = [s.submission_id for s in submissions if s.id is not None]
    existing = _existing(connection, main, ids)
    typed = [main, *dict.fromkeys(tables[n] for n in schema.repeat_tables.values())]
    _delete_typed(connection, typed, existing)
    try:
        with _undone_on_error(session, typed, list(batch.versions)):
            _insert_rows(connection, tables, batch.rows)
    except DATA_ERRORS:
        # One submission's rows that converted but that the database refuses
        # (two repeat rows with one __id, say) must not fail the page.
        _insert_one_by_one(session, tables, typed, batch)


def _existing(connection, main: sa.Table, ids: list[str]) -> list[str]:
    """Which of ``ids`` have a row in the form table."""
    name = connection.dialect.identifier_preparer.quote(main.name)
    # The name comes from the merged schema, quoted by the dialect.
    sql = f"SELECT submission_id FROM {name} WHERE submission_id {{in}}"  # noqa: S608
    return [found for (found,) in driver.rows_where_in(connection, sql, (), ids)]


# What a database may raise on a value it will not store, through SQLAlchemy,
# psycopg's COPY or sqlite3's executemany (OverflowError, UnicodeEncodeError).
DATA_ERRORS = (
    sa.exc.DataError,
    sa.exc.IntegrityError,
    psycopg.DataError,
    psycopg.IntegrityError,
    sqlite3.DataError,
    sqlite3.IntegrityError,
    ValueError,
    TypeError,
    ArithmeticError,
)


def _insert_rows(connection, tables, rows: dict[str, list[TableRows]]) -> None:
    """Each table's rows in one statement, its columns in the table's order."""
    for name, parts in rows.items():
        table = tables[name]
        names = [column.name for column in table.columns]
        params: list[tuple] = []
        for part in parts:
            if len(part):
                params += driver.driver_rows(
                    connection.dialect, table, names, part.columns
                )
        driver.insert_rows(connection, table, names, params)


@contextmanager
def _undone_on_error(session, tables: list[sa.Table], ids: list[str]):
    """Undo a failed insert of these submissions' typed rows and nothing else: a
    savepoint on PostgreSQL, whose transaction is unusable after an error until
    rolled back to one; on SQLite a failed statement leaves the transaction as
    it was, less that statement, so the rows written before it are deleted
    (pysqlite's savepoints could commit the page early, outside a BEGIN)."""
    if session.connection().dialect.name == "postgresql":
        with session.begin_nested():
            session.connection()  # emits the SAVEPOINT, which is otherwise lazy
            yield
        return
    try:
        yield
    except DATA_ERRORS:
        _delete_typed(session.connection(), tables, ids)
        raise


def _insert_one_by_one(session, tables, table_list, batch: _Batch) -> None:
    """Each submission's typed rows on their own; a submission whose rows are
    refused is quarantined with the error's type, the others land."""
    by_submission: dict[str, dict[str, list[TableRows]]] = {}
    for name, parts in batch.rows.items():
        for part in parts:
            places: dict[str, list[int]] = {}
            for place, submission_id in enumerate(part.columns["submission_id"]):
                places.setdefault(submission_id, []).append(place)
            for submission_id, own in places.items():
                rows = by_submission.setdefault(submission_id, {})
                rows.setdefault(name, []).append(part.take(own))
    kept = []
    for submission in batch.normalized:
        try:
            with _undone_on_error(session, table_list, [submission.submission_id]):
                rows = by_submission.get(submission.submission_id, {})
                _insert_rows(session.connection(), tables, rows)
        except DATA_ERRORS as err:
            version = batch.versions[submission.submission_id]
            where = _where(submission, version.form_version)
            batch.failed.append(
                (submission, version, [refused_by_database(where, err)])
            )
            continue
        kept.append(submission)
    batch.normalized = kept


def _delete_typed(connection, tables: list[sa.Table], ids: list[str]) -> None:
    for table in tables:
        for clause in _where_in(connection, table.c.submission_id, ids):
            connection.execute(table.delete().where(clause))


def _where_in(connection, column: sa.Column, values: list) -> Iterator:
    """``column IN values`` as few statements as the backend allows: one array
    parameter on PostgreSQL, chunks of bound parameters elsewhere."""
    if not values:
        return
    if connection.dialect.name == "postgresql":
        yield column == sa.any_(sa.bindparam(None, values, type_=ARRAY(column.type)))
        return
    for chunk in _chunks(values, ID_CHUNK):
        yield column.in_(chunk)


def _set_state(session: Session, submissions: list[Submission], state: str) -> None:
    """One statement for the lot: an executemany by id on SQLite, one array
    parameter on PostgreSQL. The objects are told the new value without
    being marked dirty; a ledger.SubmissionRef without an id has no row yet,
    and its row is written in the state it is given here."""
    table = Submission.__table__
    changed = [s for s in submissions if s.state != state]
    ids = [s.id for s in changed if s.id is not None]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for clause in _where_in(connection, table.c.id, ids):
            connection.execute(table.update().where(clause).values(state=state))
    elif ids:
        # IN lists of ids cost more to compile than SQLite takes to update.
        sql = "UPDATE submission SET state = ? WHERE id = ?"
        connection.exec_driver_sql(sql, [(state, id_) for id_ in ids])
    for submission in changed:
        if isinstance(submission, Submission):
            set_committed_value(submission, "state", state)
        else:
            submission.state = state


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _record_quarantine(session, project_id, xml_form_id, batch: _Batch) -> None:
    """Open an entry per new problem; resolve entries whose problem is gone.
    An identical open entry is kept, so normalizing twice changes nothing."""
    now = utcnow()
    wanted = {
        (s.submission_id, v.instance_id, p.code, p.path): (s, v, p)
        for s, v, problems in batch.failed
        for p in problems
    }
    ids = [s.submission_id for s in batch.normalized]
    ids += [s.submission_id for s, _, _ in batch.failed]
    for entry in _open_entries(session, project_id, xml_form_id, ids):
        key = (entry.submission_id, entry.instance_id, entry.code, entry.field)
        if wanted.pop(key, None) is None:
            entry.resolved_at = now
    for submission, version, problem in wanted.values():
        session.add(
            QuarantineEntry(
                project_id=project_id,
                xml_form_id=xml_form_id,
                submission_id=submission.submission_id,
                instance_id=version.instance_id,
                code=problem.code,
                field=problem.path,
                reason=problem.reason,
            )
        )
    session.flush()


def _open_entries(session, project_id, xml_form_id, ids) -> list[QuarantineEntry]:
    base = (
        select(QuarantineEntry)
        .where(QuarantineEntry.project_id == project_id)
        .where(QuarantineEntry.xml_form_id == xml_form_id)
        .where(QuarantineEntry.resolved_at.is_(None))
    )
    # Most batches have nothing in quarantine: one cheap query settles it.
    if not ids or session.exec(base.limit(1)).first() is None:
        return []
    entries: list[QuarantineEntry] = []
    for chunk in _chunks(ids, ID_CHUNK):
        entries += session.exec(base.where(QuarantineEntry.submission_id.in_(chunk)))
    return entries


# State and re-runs -------------------------------------------------------------


def sync_state(*, session: Session, submissions: Iterable[Submission]) -> None:
    """Copy review state, edits, deletion and version bookkeeping from the
    ledger's current state into the typed rows (no answers change)."""
    groups: dict[tuple[int, str], list[Submission]] = {}
    for submission in submissions:
        key = (submission.project_id, submission.xml_form_id)
        groups.setdefault(key, []).append(submission)
    for (project_id, xml_form_id), group in groups.items():
        schema = load_schema(
            session=session, project_id=project_id, xml_form_id=xml_form_id
        )
        if schema is not None:
            _sync_group(session, schema, group)


def _sync_group(session, schema: MergedSchema, group: list[Submission]) -> None:
    table = ensure_tables(session=session, schema=schema)[schema.form_table.name]
    names = ("instance_id", "form_version", "updated_at", "review_state")
    names += ("edits", "deleted_at")
    statement = (
        table.update()
        .where(table.c.submission_id == sa.bindparam("b_submission_id"))
        .values({name: sa.bindparam(f"b_{name}") for name in names})
    )
    params = [
        {
            "b_submission_id": s.submission_id,
            "b_instance_id": s.current_instance_id,
            "b_form_version": s.form_version,
            "b_updated_at": s.updated_at,
            "b_review_state": s.review_state,
            "b_edits": s.edits,
            "b_deleted_at": s.deleted_at,
        }
        for s in group
    ]
    session.connection().execute(statement, params)


def renormalize(
    *,
    session: Session,
    project_id: int | None = None,
    xml_form_id: str | None = None,
    only_quarantined: bool = False,
) -> dict[str, int]:
    """Normalize again from the ledger (after a form fix, a code fix, a newly
    registered version). Quarantined submissions that now pass leave
    quarantine with ``resolved_at`` set; nothing is dropped."""
    totals = {NORMALIZED: 0, QUARANTINED: 0, "resolved": 0}
    for form_project, form_id in _forms(session, project_id, xml_form_id):
        rebuild_schema(session=session, project_id=form_project, xml_form_id=form_id)
        before = _quarantined_ids(session, form_project, form_id)
        for chunk in _ledger(session, form_project, form_id, only_quarantined):
            counts = normalize_batch(
                session=session,
                project_id=form_project,
                xml_form_id=form_id,
                items=chunk,
            )
            totals[NORMALIZED] += counts[NORMALIZED]
            totals[QUARANTINED] += counts[QUARANTINED]
        after = _quarantined_ids(session, form_project, form_id)
        totals["resolved"] += len(before - after)
    logger.info("renormalized: %s", totals)
    return totals


def _forms(session, project_id, xml_form_id) -> list[tuple[int, str]]:
    query = select(Submission.project_id, Submission.xml_form_id).distinct()
    if project_id is not None:
        query = query.where(Submission.project_id == project_id)
    if xml_form_id is not None:
        query = query.where(Submission.xml_form_id == xml_form_id)
    return sorted(session.exec(query).all())


def _quarantined_ids(session, project_id, xml_form_id) -> set[str]:
    return set(
        session.exec(
            select(QuarantineEntry.submission_id)
            .where(QuarantineEntry.project_id == project_id)
            .where(QuarantineEntry.xml_form_id == xml_form_id)
            .where(QuarantineEntry.resolved_at.is_(None))
        )
    )


def _ledger(session, project_id, xml_form_id, only_quarantined):
    """Current submissions with their current raw version, in chunks."""
    last_id = 0
    while True:
        query = (
            select(Submission, SubmissionVersion)
            .join(
                SubmissionVersion,
                (SubmissionVersion.project_id == Submission.project_id)
                & (SubmissionVersion.xml_form_id == Submission.xml_form_id)
                & (SubmissionVersion.submission_id == Submission.submission_id)
                & (SubmissionVersion.instance_id == Submission.current_instance_id),
            )
            .where(Submission.project_id == project_id)
            .where(Submission.xml_form_id == xml_form_id)
            .where(Submission.id > last_id)
            .order_by(Submission.id)
            .limit(LEDGER_CHUNK)
        )
        if only_quarantined:
            query = query.where(Submission.state == QUARANTINED)
        chunk = list(session.exec(query).all())
        if not chunk:
            return
        yield [tuple(pair) for pair in chunk]
        last_id = chunk[-1][0].id
