"""Convert OData rows into typed rows, by a plan compiled once per form
version: where each value sits in the row (groups nested, repeats inline from
``$expand=*``), which columns take it, and how it is converted. What cannot be
converted becomes a Problem whose reason names form, version, submission,
field path and expected type, and never the value.

A batch of rows is converted a field at a time: one pass over the batch's
values of a field with that field's converter, building the table's columns,
instead of a dict per row filled field by field. The common batch, where
every value converts, then costs one list comprehension per column.
"""

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from math import isfinite
from typing import Any

from server.errors import error_kind
from server.submissions.schema import (
    MergedField,
    MergedSchema,
    form_table_name,
    offset_column,
)

_ODATA_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
# How a type is stored: two types with the same storage convert freely.
_STORAGE = {"int": "int", "decimal": "decimal", "date": "date", "boolean": "boolean"}


# Plans ------------------------------------------------------------------------


class _Unconvertible(Exception):
    """A value that does not fit its column's type."""


# What converting one value may raise on a value of the wrong shape: each one
# sets that value's submission aside, never the batch (OverflowError is an
# ArithmeticError; KeyError and IndexError are LookupErrors).
CONVERSION_ERRORS = (
    _Unconvertible,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
)


@dataclass
class FieldPlan:
    """One field of a version: where it sits, and the columns it fills.
    ``convert`` takes one value and returns the column's value, or with
    several ``columns`` a tuple of theirs (None: leave them all empty)."""

    path: str
    version_type: str
    column_type: str
    lookups: tuple[tuple[str, ...], ...]
    columns: tuple[str, ...]
    convert: Callable[[Any], Any]
    read: Callable[[list[dict[str, Any]]], list[Any]] = field(init=False)
    convert_all: Callable[[list[Any]], list[Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.read = _reader(self.lookups)
        self.convert_all = _converter_of_all(self.convert)


@dataclass
class RepeatPlan:
    path: str
    name: str
    table: str
    lookups: tuple[tuple[str, ...], ...]
    fields: list[FieldPlan] = field(default_factory=list)
    children: list["RepeatPlan"] = field(default_factory=list)
    read: Callable[[list[dict[str, Any]]], list[Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.read = _reader(self.lookups)


@dataclass
class VersionPlan:
    version: str
    table: str
    fields: list[FieldPlan]
    repeats: list[RepeatPlan]


@dataclass
class Problem:
    code: str
    path: str | None
    reason: str


def compile_plan(schema: MergedSchema, version: str, tables) -> VersionPlan:
    """How to convert rows of ``version`` into ``tables`` (by name)."""
    xform = schema.versions[version]
    local_paths = _local_paths(schema)
    fields_by_repeat: dict[str | None, list[FieldPlan]] = {}
    for xfield in xform.fields:
        merged = schema.fields_by_path[xfield.path]
        plan = _field_plan(xfield.path, xfield.type, merged, local_paths)
        fields_by_repeat.setdefault(xfield.repeat, []).append(plan)
    repeats: dict[str, RepeatPlan] = {}
    roots: list[RepeatPlan] = []
    for xrepeat in xform.repeats:
        table = schema.repeat_tables[xrepeat.path]
        plan = RepeatPlan(
            path=xrepeat.path,
            name=xrepeat.name,
            table=table,
            lookups=_repeat_lookups(schema, xrepeat.path, table),
            fields=fields_by_repeat.get(xrepeat.path, []),
        )
        repeats[xrepeat.path] = plan
        parent = repeats.get(xrepeat.parent) if xrepeat.parent else None
        (parent.children if parent else roots).append(plan)
    return VersionPlan(
        version=version,
        table=tables[form_table_name(schema.xml_form_id)].name,
        fields=fields_by_repeat.get(None, []),
        repeats=roots,
    )


def _repeat_lookups(schema: MergedSchema, path: str, table: str):
    """The repeat's own place first, then where it sat in other versions (a
    repeat moved into or out of a group keeps its table)."""
    local_paths = {
        r.path: r.local_path for x in schema.versions.values() for r in x.repeats
    }
    others = [p for p, t in schema.repeat_tables.items() if t == table and p != path]
    lookups: list[tuple[str, ...]] = []
    for candidate in [path, *others]:
        for segments in _lookups(local_paths.get(candidate, ())):
            if segments not in lookups:
                lookups.append(segments)
    return tuple(lookups)


def _local_paths(schema: MergedSchema) -> dict[str, tuple[str, ...]]:
    return {f.path: f.local_path for x in schema.versions.values() for f in x.fields}


def _field_plan(path, version_type, merged: MergedField, local_paths) -> FieldPlan:
    # The version's own path first; then the paths the field had in other
    # versions, in case Central renders an older row with a newer structure.
    lookups: list[tuple[str, ...]] = []
    for candidate in [path, *merged.paths]:
        for segments in _lookups(local_paths.get(candidate, ())):
            if segments not in lookups:
                lookups.append(segments)
    columns, convert = _converter(merged)
    return FieldPlan(
        path=path,
        version_type=version_type,
        column_type=merged.type,
        lookups=tuple(lookups),
        columns=columns,
        convert=convert,
    )


def _lookups(local_path: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    # Central's OData renames names that are not OData identifiers.
    if not local_path:
        return ()
    safe = tuple(_ODATA_UNSAFE.sub("_", part) for part in local_path)
    return (local_path,) if safe == local_path else (local_path, safe)


# Conversion -------------------------------------------------------------------


def _converter(merged: MergedField) -> tuple[tuple[str, ...], Callable[[Any], Any]]:
    """The columns a field fills and the function converting one value."""
    if merged.type == "geopoint":
        return tuple(merged.columns()), _geopoint
    if merged.type == "select_multiple":
        choices = tuple(merged.choice_columns)

        def multiple(value):
            codes = _text(value).split()
            if not codes:
                return None
            present = set(codes)
            return (" ".join(codes), *[name in present for name in choices])

        return (merged.column, *merged.choice_columns.values()), multiple
    if merged.type == "dateTime":
        return (merged.column, offset_column(merged.column)), _moment
    return (merged.column,), _CONVERTERS.get(merged.type, _text)


def _converter_of_all(convert: Callable[[Any], Any]) -> Callable[[list], list]:
    """A function converting a list of values, raising on the first that
    does not convert. The common values of the common types are recognised
    in the comprehension itself, without a call per value."""
    if convert is _text:
        return lambda values: [
            v
            if type(v) is str and v.isascii() and "\x00" not in v
            else (None if v is None else _text(v))
            for v in values
        ]
    if convert is _int:
        return lambda values: [
            v
            if type(v) is int and -(2**63) <= v < 2**63
            else (None if v is None else _int(v))
            for v in values
        ]
    if convert is _decimal:
        return lambda values: [
            v
            if type(v) is float and isfinite(v)
            else (None if v is None else _decimal(v))
            for v in values
        ]
    return lambda values: [None if v is None else convert(v) for v in values]


def _text(value: Any) -> str:
    if isinstance(value, str):  # the common case first
        if value.isascii():
            if "\x00" in value:
                raise _Unconvertible
            return value
        return _unicode_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise _Unconvertible


def _unicode_text(value: str) -> str:
    """Vietnamese text in NFC, as typed tables keep it. PostgreSQL stores no
    NUL character, and neither database takes a lone surrogate (JSON's
    ``\\ud800`` escapes parse into one): such a value is not text a column can
    hold."""
    text = unicodedata.normalize("NFC", value)
    if "\x00" in text:
        raise _Unconvertible
    text.encode("utf-8")  # UnicodeEncodeError, a ValueError, on a surrogate
    return text


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


def _moment(value: Any) -> tuple[datetime, int]:
    """The UTC instant and the offset from UTC it was written with, in whole
    minutes (every offset in use is; a finer one is not a value the offset
    column takes)."""
    if not isinstance(value, str):
        raise _Unconvertible
    moment = datetime.fromisoformat(value)
    # A time without an offset cannot be placed: guessing would move it.
    if moment.tzinfo is None:
        raise _Unconvertible
    minutes, rest = divmod(moment.utcoffset(), timedelta(minutes=1))
    if rest:
        raise _Unconvertible
    # Stored as its UTC instant. Near the ends of the range that instant falls
    # outside what datetime can hold (0001-01-01T00:00+07:00 is in year 0):
    # OverflowError, a bad value like any other.
    return moment.astimezone(UTC), minutes


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
        properties = value.get("properties")
        acc = properties.get("accuracy") if properties else None
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
    lat = lat if type(lat) is float else _decimal(lat)
    lon = lon if type(lon) is float else _decimal(lon)
    # NaN fails both tests; infinities the second.
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _Unconvertible
    return lat, lon, _optional(alt), _optional(acc)


def _optional(value: Any) -> float | None:
    return None if value is None or value == "" else _decimal(value)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _int,
    "decimal": _decimal,
    "date": _date,
    "boolean": _boolean,
    "geotrace": _shape,
    "geoshape": _shape,
}


def _storage(kind: str) -> str:
    if kind in {"geopoint", "dateTime", "select_multiple"}:
        return kind
    return _STORAGE.get(kind, "text")


# A batch of rows --------------------------------------------------------------


@dataclass
class TableRows:
    """Rows of one typed table, a column at a time (a column the rows leave
    empty may be missing). ``owners`` holds each row's submission, by its
    place in the batch."""

    columns: dict[str, list[Any]]
    owners: list[int]

    def __len__(self) -> int:
        return len(self.owners)

    def take(self, places: list[int]) -> "TableRows":
        """The rows at ``places``, in that order."""
        columns = self.columns.items()
        return TableRows(
            {name: [values[p] for p in places] for name, values in columns},
            [self.owners[p] for p in places],
        )

    def extend(self, other: "TableRows") -> None:
        size, more = len(self), len(other)
        for name in self.columns.keys() - other.columns.keys():
            self.columns[name].extend([None] * more)
        for name, values in other.columns.items():
            self.columns.setdefault(name, [None] * size).extend(values)
        self.owners.extend(other.owners)


@dataclass
class Converted:
    """A batch converted: its rows by table, and for each submission (by its
    place in the batch) that did not convert, the fields and repeats at
    fault. Rows of those submissions are still among ``tables``."""

    tables: dict[str, TableRows]
    problems: dict[int, list["FieldPlan | RepeatPlan"]]


def convert_batch(plan: VersionPlan, submissions: list, odata: list) -> Converted:
    """Convert the OData rows ``odata`` of ``submissions`` (ledger rows of
    one form version, in the same order)."""
    places = list(range(len(submissions)))
    submission_ids = [s.submission_id for s in submissions]
    main = {
        "submission_id": submission_ids,
        "project_id": [s.project_id for s in submissions],
        "instance_id": [s.current_instance_id for s in submissions],
        "form_version": [plan.version] * len(submissions),
        "submission_date": [s.submission_date for s in submissions],
        "updated_at": [s.updated_at for s in submissions],
        "review_state": [s.review_state for s in submissions],
        "edits": [s.edits for s in submissions],
        "submitter_id": [s.submitter_id for s in submissions],
        "deleted_at": [s.deleted_at for s in submissions],
    }
    problems: dict[int, list[FieldPlan | RepeatPlan]] = {}
    _fill(plan.fields, odata, main, places, problems)
    tables = {plan.table: TableRows(main, places)}
    for repeat in plan.repeats:
        parents = [None] * len(odata)
        _repeat_rows(repeat, odata, places, parents, submission_ids, tables, problems)
    return Converted(tables, problems)


def _fill(plans: list[FieldPlan], sources, out, owners, problems) -> None:
    """Each field's columns for all ``sources`` (rows of one table)."""
    for plan in plans:
        values = plan.read(sources)
        try:
            converted = plan.convert_all(values)
        except CONVERSION_ERRORS:
            converted = _one_by_one(plan, values, owners, problems)
        if len(plan.columns) == 1:
            _put(out, plan.columns[0], converted)
            continue
        for part, column in enumerate(plan.columns):
            _put(out, column, [None if c is None else c[part] for c in converted])


def _one_by_one(plan: FieldPlan, values, owners, problems) -> list[Any]:
    """A field's values converted where they can be; the owners of the others
    are given the problem. An empty string is an unanswered question, not a
    bad value: its columns stay empty."""
    converted: list[Any] = []
    for place, value in enumerate(values):
        try:
            converted.append(None if value is None else plan.convert(value))
        except CONVERSION_ERRORS:
            converted.append(None)
            if value != "":
                problems.setdefault(owners[place], []).append(plan)
    return converted


def _put(out: dict[str, list[Any]], column: str, values: list[Any]) -> None:
    """Set a column; should two fields of a version fill one column, a value
    of the later one takes the place of the earlier's."""
    held = out.get(column)
    if held is None:
        out[column] = values
    else:
        out[column] = [h if v is None else v for h, v in zip(held, values, strict=True)]


def _reader(lookups: tuple[tuple[str, ...], ...]) -> Callable[[list[dict]], list]:
    """The values of one field in a list of rows: most sit at one key of the
    row, the next most in a group."""
    if len(lookups) == 1 and len(lookups[0]) == 1:
        key = lookups[0][0]
        return lambda sources: [source.get(key) for source in sources]
    if len(lookups) == 1 and len(lookups[0]) == 2:
        outer, inner = lookups[0]

        def read_nested(sources):
            nodes = [source.get(outer) for source in sources]
            return [n.get(inner) if isinstance(n, dict) else None for n in nodes]

        return read_nested
    return lambda sources: [_lookup(source, lookups) for source in sources]


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


def _repeat_rows(
    plan: RepeatPlan, sources, owners, parent_ids, submission_ids, tables, problems
) -> None:
    """The rows of one repeat under every row of ``sources`` (the form's rows,
    or an enclosing repeat's, whose row ids are ``parent_ids``), then the rows
    of the repeats inside it."""
    items, own, row_ids, parents, positions = [], [], [], [], []
    name = plan.name
    found_all = plan.read(sources)
    for source, owner, parent_id, found in zip(
        sources, owners, parent_ids, found_all, strict=True
    ):
        if not isinstance(found, list):
            if found is not None or _link_without_rows(plan, source):
                problems.setdefault(owner, []).append(plan)
            continue
        parent_key = parent_id or submission_ids[owner]
        for position, item in enumerate(found, 1):
            if not isinstance(item, dict):
                problems.setdefault(owner, []).append(plan)
                continue
            items.append(item)
            own.append(owner)
            row_ids.append(item.get("__id") or f"{parent_key}/{name}[{position}]")
            parents.append(parent_id)
            positions.append(position)
    columns = {
        "row_id": row_ids,
        "submission_id": [submission_ids[o] for o in own],
        "parent_row_id": parents,
        "position": positions,
    }
    _fill(plan.fields, items, columns, own, problems)
    rows = TableRows(columns, own)
    if plan.table in tables:
        tables[plan.table].extend(rows)
    else:
        tables[plan.table] = rows
    for child in plan.children:
        _repeat_rows(child, items, own, row_ids, submission_ids, tables, problems)


def _link_without_rows(plan: RepeatPlan, source) -> bool:
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


def location(xml_form_id: str, version: str | None, submission_id: str) -> str:
    return f"form {xml_form_id}, version {version}, submission {submission_id}"


def describe_problem(where: str, plan: FieldPlan | RepeatPlan) -> Problem:
    if isinstance(plan, RepeatPlan):
        return Problem(
            "bad_repeat",
            plan.path,
            f"{where}: repeat {plan.path} is not a list of rows with their answers "
            "inline; pull it again with $expand=*",
        )
    if _storage(plan.version_type) != _storage(plan.column_type):
        return Problem(
            "schema_drift",
            plan.path,
            f"{where}: field {plan.path} is {plan.version_type} in this version "
            f"but its typed column is {plan.column_type} (schema drift); the value "
            f"cannot be converted to {plan.column_type}",
        )
    return Problem(
        "bad_value",
        plan.path,
        f"{where}: field {plan.path} does not hold a valid {plan.column_type} value",
    )


UNKNOWN_VERSION = "unknown_form_version"


def unknown_version(where: str) -> Problem:
    return Problem(
        UNKNOWN_VERSION,
        None,
        f"{where}: this form version is not registered; trogiup quarantine "
        "retry fetches its XForm from Central once Central has it (or register "
        "it from its XForm), then normalizes the submission again",
    )


def refused_by_database(where: str, err: Exception) -> Problem:
    """The database would not take rows that converted: the error's type and
    SQLSTATE say why, its message is left out (drivers quote the values)."""
    error, state = error_kind(err)
    cause = type(error).__name__ + (f", SQLSTATE {state}" if state else "")
    return Problem(
        "refused_by_database",
        None,
        f"{where}: the database refused its typed rows ({cause}); the version "
        "stays in the ledger: fix the form or the code, then retry the quarantine",
    )


def not_decrypted(where: str) -> Problem:
    return Problem(
        "not_decrypted",
        None,
        f"{where}: Central holds this submission encrypted and shows no answers "
        "(status notDecrypted or missingEncryptedFormData); give Central the "
        "form's passphrase or decrypt it, then pull it again",
    )
