"""From the raw ledger to the typed tables.

Each current submission version's OData row (repeats inline, from
``$expand=*``) is converted by a plan compiled once per form version: where
each value sits in the row, which column takes it, and how it is converted.
A submission either lands whole (its form-table row and all its repeat rows,
replacing what was there) or is quarantined whole with its reasons; its typed
rows are then removed, so a table never shows a half-converted or stale
version. Reasons say what and where (form, version, submission, field path,
expected type) and never quote a value: values may identify a child.

Writes are batched (one DELETE per chunk of ids, one executemany INSERT per
table) because the pull normalizes while the next page is on its way and must
keep up with Central.
"""

import json
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from server.db import utcnow
from server.submissions.models import (
    FormVersion,
    QuarantineEntry,
    Submission,
    SubmissionVersion,
)
from server.submissions.schema import (
    MergedField,
    MergedSchema,
    ensure_tables,
    form_table_name,
    load_schema,
    merge_version,
    rebuild_schema,
)
from server.submissions.xform import XForm, parse_xform

logger = logging.getLogger(__name__)

NORMALIZED = "normalized"
QUARANTINED = "quarantined"
ID_CHUNK = 500
LEDGER_CHUNK = 2000
_ODATA_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
# How a type is stored: two types with the same storage convert freely.
_STORAGE = {"int": "int", "decimal": "decimal", "date": "date", "boolean": "boolean"}


# Registration -----------------------------------------------------------------


def register_form_version(
    *, session: Session, project_id: int, xml_form_id: str, version: str, xml: str
) -> None:
    """Store a form version's XForm (or update it when Central's copy changed),
    merge it into the form's schema and create or widen the typed tables."""
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
    session.flush()
    merge_version(
        session=session, project_id=project_id, xml_form_id=xml_form_id, xform=xform
    )
    schema = load_schema(
        session=session, project_id=project_id, xml_form_id=xml_form_id
    )
    ensure_tables(session=session, schema=schema)


def _central_fields(xform: XForm) -> list[dict[str, Any]]:
    """The field list in the shape of Central's /fields endpoint."""
    fields = [{"path": r.path, "name": r.name, "type": "repeat"} for r in xform.repeats]
    fields += [{"path": f.path, "name": f.name, "type": f.type} for f in xform.fields]
    return fields


# Plans ------------------------------------------------------------------------


class _Unconvertible(Exception):
    """A value that does not fit its column's type."""


@dataclass
class _FieldPlan:
    path: str
    version_type: str
    column_type: str
    lookups: tuple[tuple[str, ...], ...]
    write: Callable[[Any, dict[str, Any]], None]
    scalar: tuple[str, Callable[[Any], Any]] | None = None
    get: Callable[[dict[str, Any]], Any] = field(init=False)
    fill: Callable[[dict[str, Any], dict[str, Any]], None] = field(init=False)

    def __post_init__(self) -> None:
        self.get = _getter(self.lookups)
        self.fill = _filler(self)


@dataclass
class _RepeatPlan:
    path: str
    name: str
    table: str
    lookups: tuple[tuple[str, ...], ...]
    template: dict[str, Any]
    fields: list[_FieldPlan] = field(default_factory=list)
    children: list["_RepeatPlan"] = field(default_factory=list)


@dataclass
class _VersionPlan:
    version: str
    template: dict[str, Any]
    fields: list[_FieldPlan]
    repeats: list[_RepeatPlan]


@dataclass
class _Problem:
    code: str
    path: str | None
    reason: str


def _compile(schema: MergedSchema, version: str, tables) -> _VersionPlan:
    xform = schema.versions[version]
    local_paths = _local_paths(schema)
    fields_by_repeat: dict[str | None, list[_FieldPlan]] = {}
    for xfield in xform.fields:
        merged = schema.fields_by_path[xfield.path]
        plan = _field_plan(xfield.path, xfield.type, merged, local_paths)
        fields_by_repeat.setdefault(xfield.repeat, []).append(plan)
    repeats: dict[str, _RepeatPlan] = {}
    roots: list[_RepeatPlan] = []
    for xrepeat in xform.repeats:
        table = schema.repeat_tables[xrepeat.path]
        plan = _RepeatPlan(
            path=xrepeat.path,
            name=xrepeat.name,
            table=table,
            lookups=_lookups(xrepeat.local_path),
            template=dict.fromkeys(c.name for c in tables[table].columns),
            fields=fields_by_repeat.get(xrepeat.path, []),
        )
        repeats[xrepeat.path] = plan
        parent = repeats.get(xrepeat.parent) if xrepeat.parent else None
        (parent.children if parent else roots).append(plan)
    main = tables[form_table_name(schema.xml_form_id)]
    return _VersionPlan(
        version=version,
        template=dict.fromkeys(c.name for c in main.columns),
        fields=fields_by_repeat.get(None, []),
        repeats=roots,
    )


def _local_paths(schema: MergedSchema) -> dict[str, tuple[str, ...]]:
    return {f.path: f.local_path for x in schema.versions.values() for f in x.fields}


def _field_plan(path, version_type, merged: MergedField, local_paths) -> _FieldPlan:
    # The version's own path first; then the paths the field had in other
    # versions, in case Central renders an older row with a newer structure.
    lookups: list[tuple[str, ...]] = []
    for candidate in [path, *merged.paths]:
        for segments in _lookups(local_paths.get(candidate, ())):
            if segments not in lookups:
                lookups.append(segments)
    return _FieldPlan(
        path=path,
        version_type=version_type,
        column_type=merged.type,
        lookups=tuple(lookups),
        write=_writer(merged),
        scalar=_scalar(merged),
    )


def _lookups(local_path: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    # Central's OData renames names that are not OData identifiers.
    if not local_path:
        return ()
    safe = tuple(_ODATA_UNSAFE.sub("_", part) for part in local_path)
    return (local_path,) if safe == local_path else (local_path, safe)


# Conversion -------------------------------------------------------------------


def _writer(merged: MergedField) -> Callable[[Any, dict[str, Any]], None]:
    column = merged.column
    if merged.type == "geopoint":
        names = merged.columns()

        def write_point(value, out):
            out.update(zip(names, _geopoint(value), strict=True))

        return write_point
    if merged.type == "select_multiple":
        choices = tuple(merged.choice_columns.items())

        def write_multiple(value, out):
            raw = " ".join(_text(value).split())
            if not raw:
                return
            out[column] = raw
            codes = set(raw.split())
            for name, choice_column in choices:
                out[choice_column] = name in codes

        return write_multiple
    convert = _CONVERTERS.get(merged.type, _text)

    def write_scalar(value, out):
        out[column] = convert(value)

    return write_scalar


def _scalar(merged: MergedField) -> tuple[str, Callable[[Any], Any]] | None:
    """(column, converter) for a field that fills one column."""
    if merged.type in {"geopoint", "select_multiple"}:
        return None
    return merged.column, _CONVERTERS.get(merged.type, _text)


def _text(value: Any) -> str:
    if type(value) is str:  # the common case first; bool is an int subclass
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if isinstance(value, str):
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise _Unconvertible


def _shape(value: Any) -> str:
    """geotrace and geoshape: GeoJSON kept as JSON text."""
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return _text(value)


def _int(value: Any) -> int:
    if type(value) is int and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, bool):
        raise _Unconvertible
    if isinstance(value, float):
        if not value.is_integer():
            raise _Unconvertible
        value = int(value)
    elif isinstance(value, str):
        value = int(value.strip())
    elif not isinstance(value, int):
        raise _Unconvertible
    if not -(2**63) <= value < 2**63:
        raise _Unconvertible
    return value


def _decimal(value: Any) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Unconvertible
    number = float(value)
    if not math.isfinite(number):
        raise _Unconvertible
    return number


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _Unconvertible
    return date.fromisoformat(value)


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _Unconvertible
    moment = datetime.fromisoformat(value)
    # A time without an offset cannot be placed: guessing would move it.
    if moment.tzinfo is None:
        raise _Unconvertible
    return moment


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise _Unconvertible


def _geopoint(value: Any) -> tuple[float, float, float | None, float | None]:
    """GeoJSON from OData, or ODK's "lat lon alt acc", or WKT "POINT (lon lat)"."""
    if isinstance(value, dict):
        coordinates = value["coordinates"]
        lon, lat = coordinates[0], coordinates[1]
        alt = coordinates[2] if len(coordinates) > 2 else None
        acc = (value.get("properties") or {}).get("accuracy")
    elif isinstance(value, str) and value.upper().startswith("POINT"):
        parts = value[value.index("(") + 1 : value.rindex(")")].split()
        lon, lat = parts[0], parts[1]
        alt, acc = (parts[2] if len(parts) > 2 else None), None
    elif isinstance(value, str):
        parts = value.split()
        lat, lon = parts[0], parts[1]
        alt = parts[2] if len(parts) > 2 else None
        acc = parts[3] if len(parts) > 3 else None
    else:
        raise _Unconvertible
    point = (_decimal(lat), _decimal(lon), _optional(alt), _optional(acc))
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        raise _Unconvertible
    return point


def _optional(value: Any) -> float | None:
    return None if value is None or value == "" else _decimal(value)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _int,
    "decimal": _decimal,
    "date": _date,
    "dateTime": _datetime,
    "boolean": _boolean,
    "geotrace": _shape,
    "geoshape": _shape,
}


def _storage(kind: str) -> str:
    if kind in {"geopoint", "dateTime", "select_multiple"}:
        return kind
    return _STORAGE.get(kind, "text")


# One submission ----------------------------------------------------------------


@dataclass
class _Converted:
    main: dict[str, Any]
    repeats: dict[str, list[dict[str, Any]]]


def _convert(plan: _VersionPlan, submission, odata, problems) -> _Converted:
    main = plan.template.copy()
    main.update(
        submission_id=submission.submission_id,
        project_id=submission.project_id,
        instance_id=submission.current_instance_id,
        form_version=plan.version,
        submission_date=submission.submission_date,
        updated_at=submission.updated_at,
        review_state=submission.review_state,
        edits=submission.edits,
        submitter_id=submission.submitter_id,
        deleted_at=submission.deleted_at,
    )
    _fill(plan.fields, odata, main, problems)
    repeats: dict[str, list[dict[str, Any]]] = {}
    for repeat in plan.repeats:
        _repeat_rows(repeat, odata, submission.submission_id, None, repeats, problems)
    return _Converted(main, repeats)


def _fill(plans: list[_FieldPlan], source, out, problems: list[_FieldPlan]) -> None:
    for plan in plans:
        try:
            plan.fill(source, out)
        except (_Unconvertible, ValueError, TypeError, KeyError, IndexError):
            # An empty string is an unanswered question, not a bad value.
            if plan.get(source) != "":
                problems.append(plan)


def _filler(plan: _FieldPlan) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """Read and convert one field in as few calls as possible: this runs for
    every field of every row."""
    get, write = plan.get, plan.write
    if plan.scalar is not None and len(plan.lookups) == 1 == len(plan.lookups[0]):
        key, (column, convert) = plan.lookups[0][0], plan.scalar

        def fill_scalar(source, out):
            value = source.get(key)
            if value is not None:
                out[column] = convert(value)

        return fill_scalar

    def fill(source, out):
        value = get(source)
        if value is not None:
            write(value, out)

    return fill


def _getter(lookups: tuple[tuple[str, ...], ...]) -> Callable[[dict], Any]:
    """The fastest way to read one field: most sit at one key of the row."""
    if len(lookups) == 1 and len(lookups[0]) == 1:
        key = lookups[0][0]
        return lambda source: source.get(key)
    return lambda source: _lookup(source, lookups)


def _lookup(source: Any, lookups: tuple[tuple[str, ...], ...]) -> Any:
    for segments in lookups:
        node = source
        for segment in segments:
            node = node.get(segment) if isinstance(node, dict) else None
            if node is None:
                break
        if node is not None:
            return node
    return None


def _repeat_rows(plan: _RepeatPlan, source, submission_id, parent_id, out, problems):
    items = _lookup(source, plan.lookups)
    if items is None:
        if _link_without_rows(plan, source):
            problems.append(plan)
        return
    if not isinstance(items, list):
        problems.append(plan)
        return
    rows = out.setdefault(plan.table, [])
    parent_key = parent_id or submission_id
    for position, item in enumerate(items, 1):
        if not isinstance(item, dict):
            problems.append(plan)
            continue
        row = plan.template.copy()
        row_id = item.get("__id") or f"{parent_key}/{plan.name}[{position}]"
        row.update(
            row_id=row_id,
            submission_id=submission_id,
            parent_row_id=parent_id,
            position=position,
        )
        _fill(plan.fields, item, row, problems)
        rows.append(row)
        for child in plan.children:
            _repeat_rows(child, item, submission_id, row_id, out, problems)


def _link_without_rows(plan: _RepeatPlan, source) -> bool:
    """A navigation link with no inline rows: the row was fetched without
    ``$expand=*``, so its repeats are missing, not empty."""
    for segments in plan.lookups:
        container = _lookup(source, (segments[:-1],)) if len(segments) > 1 else source
        if isinstance(container, dict) and f"{segments[-1]}@odata.navigationLink" in (
            container
        ):
            return True
    return False


# Reasons -----------------------------------------------------------------------


def _where(xml_form_id: str, version: str | None, submission_id: str) -> str:
    return f"form {xml_form_id}, version {version}, submission {submission_id}"


def _field_problem(where: str, plan: _FieldPlan | _RepeatPlan) -> _Problem:
    if isinstance(plan, _RepeatPlan):
        return _Problem(
            "bad_repeat",
            plan.path,
            f"{where}: repeat {plan.path} is not a list of rows with their answers "
            "inline; pull it again with $expand=*",
        )
    if _storage(plan.version_type) != _storage(plan.column_type):
        return _Problem(
            "schema_drift",
            plan.path,
            f"{where}: field {plan.path} is {plan.version_type} in this version "
            f"but its typed column is {plan.column_type} (schema drift); the value "
            f"cannot be converted to {plan.column_type}",
        )
    return _Problem(
        "bad_value",
        plan.path,
        f"{where}: field {plan.path} does not hold a valid {plan.column_type} value",
    )


def _unknown_version(where: str) -> _Problem:
    return _Problem(
        "unknown_form_version",
        None,
        f"{where}: this form version is not registered; fetch its XForm "
        "(trogiup pull registers it) and retry the quarantine",
    )


def _not_decrypted(where: str) -> _Problem:
    return _Problem(
        "not_decrypted",
        None,
        f"{where}: Central could not decrypt this submission (status "
        "notDecrypted); give Central the form's passphrase or decrypt it, then "
        "pull it again",
    )


# The batch ---------------------------------------------------------------------


@dataclass
class _Batch:
    main_rows: list[dict[str, Any]] = field(default_factory=list)
    repeat_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    normalized: list[Submission] = field(default_factory=list)
    failed: list[tuple[Submission, SubmissionVersion, list[_Problem]]] = field(
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
    session.flush()  # the caller's new ledger rows need their ids
    schema = load_schema(
        session=session, project_id=project_id, xml_form_id=xml_form_id
    )
    tables = ensure_tables(session=session, schema=schema) if schema else {}
    batch = _Batch()
    plans: dict[str, _VersionPlan] = {}
    for submission, version in _current_only(items):
        _one(schema, tables, plans, batch, submission, version)
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


def _one(schema, tables, plans, batch: _Batch, submission, version) -> None:
    odata = version.odata or {}
    system = odata.get("__system") or {}
    form_version = version.form_version or system.get("formVersion")
    where = _where(submission.xml_form_id, form_version, submission.submission_id)
    status = submission.central_status or system.get("status")
    if status == "notDecrypted":
        batch.failed.append((submission, version, [_not_decrypted(where)]))
        return
    if schema is None or form_version not in schema.versions:
        batch.failed.append((submission, version, [_unknown_version(where)]))
        return
    plan = plans.get(form_version)
    if plan is None:
        plan = plans[form_version] = _compile(schema, form_version, tables)
    bad: list[_FieldPlan | _RepeatPlan] = []
    converted = _convert(plan, submission, odata, bad)
    if bad:
        unique = {p.path: p for p in bad}.values()
        problems = [_field_problem(where, p) for p in unique]
        batch.failed.append((submission, version, problems))
        return
    batch.main_rows.append(converted.main)
    for table, rows in converted.repeats.items():
        batch.repeat_rows.setdefault(table, []).extend(rows)
    batch.normalized.append(submission)


def _write(session, tables, schema: MergedSchema, batch: _Batch, submissions) -> None:
    connection = session.connection()
    main = tables[form_table_name(schema.xml_form_id)]
    # Repeat rows exist only beside a form-table row, so the ids found there
    # are all that need deleting; a first pull deletes nothing.
    ids = [s.submission_id for s in submissions]
    existing = [
        found
        for clause in _where_in(connection, main.c.submission_id, ids)
        for found in connection.execute(sa.select(main.c.submission_id).where(clause))
        .scalars()
        .all()
    ]
    repeat_tables = dict.fromkeys(tables[n] for n in schema.repeat_tables.values())
    for table in (main, *repeat_tables):
        for clause in _where_in(connection, table.c.submission_id, existing):
            connection.execute(table.delete().where(clause))
    if batch.main_rows:
        _insert_many(connection, main, batch.main_rows)
    for name, rows in batch.repeat_rows.items():
        if rows:
            _insert_many(connection, tables[name], rows)


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


def _insert_many(connection: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """Rows straight to the driver: COPY on PostgreSQL, one executemany
    elsewhere. SQLAlchemy's per-row parameter handling cost more than the
    conversion itself, so the column types' own bind processors are applied
    here, once per column that has one. Rows are built from a template in the
    table's column order."""
    dialect = connection.dialect
    params = _driver_values(dialect, table, rows)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(column.name) for column in table.columns)
    if dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        with cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for values in params:
                copy.write_row(values)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    markers = ", ".join([marker] * len(table.columns))
    # Names come from the merged schema and are quoted by the dialect.
    sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({markers})"  # noqa: S608
    connection.exec_driver_sql(sql, params)


def _driver_values(dialect, table: sa.Table, rows: list[dict]) -> list[tuple]:
    processors = [
        (index, processor)
        for index, column in enumerate(table.columns)
        if (processor := column.type.dialect_impl(dialect).bind_processor(dialect))
    ]
    params = []
    for row in rows:
        values = list(row.values())
        for index, processor in processors:
            if values[index] is not None:
                values[index] = processor(values[index])
        params.append(tuple(values))
    return params


def _set_state(session: Session, submissions: list[Submission], state: str) -> None:
    """One UPDATE per chunk instead of one per object: the objects are told
    the new value without being marked dirty."""
    table = Submission.__table__
    changed = [s for s in submissions if s.state != state]
    connection = session.connection()
    for clause in _where_in(connection, table.c.id, [s.id for s in changed]):
        connection.execute(table.update().where(clause).values(state=state))
    for submission in changed:
        set_committed_value(submission, "state", state)


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
