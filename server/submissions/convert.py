"""Convert one OData row into typed rows, by a plan compiled once per form
version: where each value sits in the row (groups nested, repeats inline from
``$expand=*``), which column takes it, and how it is converted. What cannot be
converted becomes a Problem whose reason names form, version, submission,
field path and expected type, and never the value.
"""

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

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
class RepeatPlan:
    path: str
    name: str
    table: str
    lookups: tuple[tuple[str, ...], ...]
    template: dict[str, Any]
    fields: list[FieldPlan] = field(default_factory=list)
    children: list["RepeatPlan"] = field(default_factory=list)


@dataclass
class VersionPlan:
    version: str
    template: dict[str, Any]
    fields: list[FieldPlan]
    repeats: list[RepeatPlan]


@dataclass
class Problem:
    code: str
    path: str | None
    reason: str


def compile_plan(schema: MergedSchema, version: str, tables) -> VersionPlan:
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
            template=dict.fromkeys(c.name for c in tables[table].columns),
            fields=fields_by_repeat.get(xrepeat.path, []),
        )
        repeats[xrepeat.path] = plan
        parent = repeats.get(xrepeat.parent) if xrepeat.parent else None
        (parent.children if parent else roots).append(plan)
    main = tables[form_table_name(schema.xml_form_id)]
    return VersionPlan(
        version=version,
        template=dict.fromkeys(c.name for c in main.columns),
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
    return FieldPlan(
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
    if merged.type == "dateTime":
        offset = offset_column(column)

        def write_moment(value, out):
            out[column], out[offset] = _moment(value)

        return write_moment
    convert = _CONVERTERS.get(merged.type, _text)

    def write_scalar(value, out):
        out[column] = convert(value)

    return write_scalar


def _scalar(merged: MergedField) -> tuple[str, Callable[[Any], Any]] | None:
    """(column, converter) for a field that fills one column."""
    if merged.type in {"geopoint", "select_multiple", "dateTime"}:
        return None
    return merged.column, _CONVERTERS.get(merged.type, _text)


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


def _datetime(value: Any) -> datetime:
    return _moment(value)[0]


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
class Converted:
    main: dict[str, Any]
    repeats: dict[str, list[dict[str, Any]]]


def convert(plan: VersionPlan, submission, odata, problems) -> Converted:
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
    return Converted(main, repeats)


def _fill(plans: list[FieldPlan], source, out, problems: list[FieldPlan]) -> None:
    for plan in plans:
        try:
            plan.fill(source, out)
        except CONVERSION_ERRORS:
            # An empty string is an unanswered question, not a bad value.
            if plan.get(source) != "":
                problems.append(plan)


def _filler(plan: FieldPlan) -> Callable[[dict[str, Any], dict[str, Any]], None]:
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
    if plan.scalar is not None:
        column, convert = plan.scalar

        def fill_found(source, out):
            value = get(source)
            if value is not None:
                out[column] = convert(value)

        return fill_found

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
    if len(lookups) == 1 and len(lookups[0]) == 2:
        # A field in a group (or a repeat in one), the next most common place.
        outer, inner = lookups[0]

        def get_nested(source):
            node = source.get(outer)
            return node.get(inner) if isinstance(node, dict) else None

        return get_nested
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


def _repeat_rows(plan: RepeatPlan, source, submission_id, parent_id, out, problems):
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
    state = getattr(err, "sqlstate", None) or getattr(
        getattr(err, "orig", None), "sqlstate", None
    )
    cause = type(getattr(err, "orig", None) or err).__name__
    cause += f", SQLSTATE {state}" if state else ""
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
