"""One schema for all versions of a form, and the typed tables that hold it.

The merged schema lives in ``form_field`` (one row per field path seen in any
version, naming the table and column that hold it) and ``form_choice``. Once a
path has a column it keeps it, so columns never move under an analyst's feet:

- a field keeps its column across versions; a field added later gets a new
  column, empty for rows of earlier versions;
- a field moved into or out of a group (same table, same name, and that name
  occurs once per version) is the same field: both paths map to one column;
- a column is named after the field when that name is free in its table,
  otherwise after its group path joined with ``__`` (``grp__name``);
- a column's type is the field's type in the first version published. A later
  version that changes it is schema drift: its values are converted to the
  column's type where they can be, and quarantined where they cannot.

Versions are folded in Central's publication order (``FormVersion.published_at``;
versions without one come after, in registration order), so that a fresh
install, which may register the current version first, ends with the same
schema as one that followed the form from its first version: a version
registered out of that order makes the merge start again from the first
(``rebuild_schema(from_scratch=True)``).

Tables are created and widened (``ALTER TABLE ... ADD COLUMN``) at run time
with SQLAlchemy Core on SQLite and PostgreSQL; columns are never dropped.

Shortcoming: typed tables are named by ``xml_form_id`` alone, as agreed for
readers; two Central projects holding the same ``xml_form_id`` share a table
(rows keep ``project_id``), so their versions must agree on types.
"""

import csv
import hashlib
import io
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from server.db import AwareDateTime
from server.submissions.models import FormChoice, FormField, FormVersion
from server.submissions.xform import Choice, XField, XForm, XRepeat, parse_xform

logger = logging.getLogger(__name__)

MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names silently
REPEAT = "repeat"
FORM_COLUMNS = (
    "submission_id",
    "project_id",
    "instance_id",
    "form_version",
    "submission_date",
    "updated_at",
    "review_state",
    "edits",
    "submitter_id",
    "deleted_at",
)
REPEAT_COLUMNS = ("row_id", "submission_id", "parent_row_id", "position")
GEOPOINT_PARTS = ("lat", "lon", "alt", "acc")
UTC_OFFSET_SUFFIX = "__utc_offset"
_UNSAFE = re.compile(r"[^a-z0-9_]")
_UNSAFE_CASED = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class MergedField:
    """A column group of a typed table: one field across all versions."""

    column: str
    type: str
    paths: list[str]
    list_name: str | None = None
    label_vi: str | None = None
    label_en: str | None = None
    sensitivity: str | None = None
    # choice name -> boolean column, for select_multiple with known choices
    choice_columns: dict[str, str] = field(default_factory=dict)

    def columns(self) -> list[str]:
        if self.type == "geopoint":
            return [f"{self.column}__{part}" for part in GEOPOINT_PARTS]
        if self.type == "dateTime":
            return [self.column, offset_column(self.column)]
        return [self.column, *self.choice_columns.values()]


@dataclass
class MergedTable:
    name: str
    repeat_path: str | None = None  # None for the form table
    parent_repeat: str | None = None
    label_vi: str | None = None
    label_en: str | None = None
    fields: list[MergedField] = field(default_factory=list)

    def standard_columns(self) -> tuple[str, ...]:
        return FORM_COLUMNS if self.repeat_path is None else REPEAT_COLUMNS


@dataclass
class MergedSchema:
    project_id: int
    xml_form_id: str
    tables: dict[str, MergedTable]
    # repeat path (any version) -> table name
    repeat_tables: dict[str, str]
    # field path (any version) -> its merged field
    fields_by_path: dict[str, MergedField]
    versions: dict[str, XForm]

    @property
    def form_table(self) -> MergedTable:
        return self.tables[form_table_name(self.xml_form_id)]


def offset_column(column: str) -> str:
    """A dateTime's companion column: the device's offset from UTC in minutes,
    which the instant alone (timestamptz, or UTC on SQLite) loses."""
    return f"{column}{UTC_OFFSET_SUFFIX}"


def form_table_name(xml_form_id: str, repeat: str | None = None) -> str:
    base = "form_" + _UNSAFE.sub("_", xml_form_id.lower())
    if repeat is None:
        return fit_identifier(base)
    return fit_identifier(f"{base}__{_UNSAFE.sub('_', repeat.lower())}")


def fit_identifier(name: str) -> str:
    """Keep a name within PostgreSQL's 63 characters, stable and unique."""
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER - 9]}_{digest}"


def column_name(name: str) -> str:
    return fit_identifier(_UNSAFE_CASED.sub("_", name))


def merge_version(
    *, session: Session, project_id: int, xml_form_id: str, xform: XForm
) -> None:
    """Fold one version's fields and choices into form_field and form_choice."""
    rows = _field_rows(session, project_id, xml_form_id)
    merger = _Merger(project_id, xml_form_id, xform, rows)
    for repeat in xform.repeats:
        merger.place_repeat(repeat)
    for xfield in xform.fields:
        merger.place_field(xfield)
    session.add_all(merger.added)
    _merge_choices(session, project_id, xml_form_id, xform)
    session.flush()


class _Merger:
    def __init__(self, project_id, xml_form_id, xform, rows: list[FormField]):
        self.project_id = project_id
        self.xml_form_id = xml_form_id
        self.xform = xform
        self.by_path = {row.path: row for row in rows}
        self.added: list[FormField] = []
        self.used: dict[str, set[str]] = {}
        for row in rows:
            self._use(row.table_name, row.column, row.type)

    def place_repeat(self, repeat: XRepeat) -> None:
        row = self.by_path.get(repeat.path)
        if row is None:
            row = self._moved(repeat.name, self._table_of(repeat) or "", True)
        table = row.table_name if row else self._new_repeat_table(repeat)
        self._upsert(repeat.path, table, "", REPEAT, repeat, None, None)

    def place_field(self, xfield: XField) -> None:
        table = self._table_of(xfield) or form_table_name(self.xml_form_id)
        row = self.by_path.get(xfield.path)
        if row is not None and row.type != xfield.type:
            logger.warning(
                "schema drift in form %s version %s: field %s is %s, column %s is %s",
                self.xml_form_id,
                self.xform.version,
                xfield.path,
                xfield.type,
                row.column,
                row.type,
            )
        if row is None:
            row = self._moved(xfield.name, table, False)
        if row is None:
            column, kind = self._new_column(table, xfield), xfield.type
        else:
            column, kind = row.column, row.type
        self._upsert(xfield.path, table, column, kind, xfield, xfield.list_name, xfield)

    def _parent_table(self, repeat_path: str | None) -> str | None:
        if repeat_path is None:
            return form_table_name(self.xml_form_id)
        row = self.by_path.get(repeat_path)
        return row.table_name if row else None

    def _moved(self, name: str, table: str, is_repeat: bool) -> FormField | None:
        """The earlier field (or repeat) of this name in this table when this
        version has the name once there and no longer has it at any earlier
        path: it moved into or out of a group."""
        elements = self.xform.repeats if is_repeat else self.xform.fields
        here = [e for e in elements if e.name == name and self._table_of(e) == table]
        if len(here) != 1:
            return None
        groups: dict[str, list[FormField]] = {}
        for row in self.by_path.values():
            if (row.type == REPEAT) != is_repeat or _last(row.path) != name:
                continue
            if self._row_table(row) == table:
                key = row.table_name if is_repeat else row.column
                groups.setdefault(key, []).append(row)
        if len(groups) != 1:
            return None
        (rows,) = groups.values()
        current = {e.path for e in elements}
        return None if any(row.path in current for row in rows) else rows[0]

    def _table_of(self, element: XField | XRepeat) -> str | None:
        parent = element.parent if isinstance(element, XRepeat) else element.repeat
        return self._parent_table(parent)

    def _row_table(self, row: FormField) -> str:
        return self._parent_of(row.path) if row.type == REPEAT else row.table_name

    def _parent_of(self, repeat_path: str) -> str:
        parents = [
            row
            for row in self.by_path.values()
            if row.type == REPEAT and repeat_path.startswith(row.path + "/")
        ]
        if not parents:
            return form_table_name(self.xml_form_id)
        return max(parents, key=lambda r: len(r.path)).table_name

    def _new_repeat_table(self, repeat: XRepeat) -> str:
        taken = {row.table_name for row in self.by_path.values()}
        taken.add(form_table_name(self.xml_form_id))
        for candidate in (repeat.name, "__".join(repeat.path.strip("/").split("/"))):
            table = form_table_name(self.xml_form_id, candidate)
            if table not in taken:
                return table
        return _numbered(form_table_name(self.xml_form_id, repeat.name), taken)

    def _new_column(self, table: str, xfield: XField) -> str:
        used = self.used.setdefault(table, set())
        standard = REPEAT_COLUMNS if table in self._repeat_tables() else FORM_COLUMNS
        # SQLite compares column names without case.
        taken = {name.lower() for name in (*used, *standard)}
        for candidate in (xfield.name, "__".join(xfield.local_path)):
            column = column_name(candidate)
            if not taken & {p.lower() for p in _physical(column, xfield.type)}:
                return column
        return _numbered(column_name(xfield.name), taken)

    def _repeat_tables(self) -> set[str]:
        return {row.table_name for row in self.by_path.values() if row.type == REPEAT}

    def _upsert(self, path, table, column, kind, element, list_name, xfield) -> None:
        row = self.by_path.get(path)
        if row is None:
            row = FormField(
                project_id=self.project_id,
                xml_form_id=self.xml_form_id,
                path=path,
                table_name=table,
                column=column,
                type=kind,
            )
            self.by_path[path] = row
            self.added.append(row)
            self._use(table, column, kind)
        row.list_name = list_name or row.list_name
        row.label_vi = element.label_vi or row.label_vi
        row.label_en = element.label_en or row.label_en
        if xfield is not None:
            row.sensitivity = xfield.sensitivity or row.sensitivity

    def _use(self, table: str, column: str, kind: str) -> None:
        if kind != REPEAT:
            self.used.setdefault(table, set()).update(_physical(column, kind))


def _physical(column: str, kind: str) -> list[str]:
    """The column names a field takes up (a geopoint reserves its base name
    too, so that no other field can take it)."""
    if kind == "geopoint":
        return [column, *(f"{column}__{part}" for part in GEOPOINT_PARTS)]
    if kind == "dateTime":
        return [column, offset_column(column)]
    return [column]


def _numbered(base: str, taken: set[str]) -> str:
    """``base_2``, ``base_3``... the first not in ``taken`` (lower case)."""
    number = 2
    while fit_identifier(f"{base}_{number}").lower() in taken:
        number += 1
    return fit_identifier(f"{base}_{number}")


def _last(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _field_rows(session: Session, project_id: int, xml_form_id: str):
    return list(
        session.exec(
            select(FormField)
            .where(FormField.project_id == project_id)
            .where(FormField.xml_form_id == xml_form_id)
            .order_by(FormField.id)
        )
    )


def _merge_choices(session, project_id, xml_form_id, xform: XForm) -> None:
    _upsert_choices(session, project_id, xml_form_id, xform.choices)


def _upsert_choices(session, project_id, xml_form_id, lists) -> None:
    existing = {
        (row.list_name, row.name): row
        for row in session.exec(
            select(FormChoice)
            .where(FormChoice.project_id == project_id)
            .where(FormChoice.xml_form_id == xml_form_id)
        )
    }
    for list_name, choices in lists.items():
        for choice in choices or ():
            row = existing.get((list_name, choice.name))
            if row is None:
                row = FormChoice(
                    project_id=project_id,
                    xml_form_id=xml_form_id,
                    list_name=list_name,
                    name=choice.name,
                )
                existing[(list_name, choice.name)] = row
                session.add(row)
            row.label_vi = choice.label_vi or row.label_vi
            row.label_en = choice.label_en or row.label_en


def merge_media_choices(
    *,
    session: Session,
    project_id: int,
    xml_form_id: str,
    xform: XForm,
    media: Mapping[str, bytes],
) -> None:
    """Labels of choice lists kept in the form's CSV media files (columns
    ``name`` and ``label`` or ``label::Vietnamese (vi)`` / ``label::English
    (en)``). XML media files are not read: their codes stay without labels."""
    for list_name, file_name in xform.media_files.items():
        content = media.get(file_name)
        if content is None or not file_name.lower().endswith(".csv"):
            continue
        rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
        choices = tuple(_csv_choice(row) for row in rows if row.get("name"))
        _upsert_choices(session, project_id, xml_form_id, {list_name: choices})
    session.flush()


def _csv_choice(row: dict[str, str]) -> Choice:
    label_vi = row.get("label::Vietnamese (vi)") or row.get("label") or None
    label_en = row.get("label::English (en)") or None
    return Choice(
        name=row["name"].strip(),
        label_vi=unicodedata.normalize("NFC", label_vi) if label_vi else None,
        label_en=label_en,
    )


def form_versions(
    session: Session, project_id: int, xml_form_id: str
) -> list[FormVersion]:
    """A form's registered versions in the order the merge folds them."""
    return list(
        session.exec(
            select(FormVersion)
            .where(FormVersion.project_id == project_id)
            .where(FormVersion.xml_form_id == xml_form_id)
            .order_by(
                FormVersion.published_at.is_(None),
                FormVersion.published_at,
                FormVersion.id,
            )
        )
    )


def load_schema(
    *, session: Session, project_id: int, xml_form_id: str
) -> MergedSchema | None:
    """The merged schema of a form, or None when no version is registered."""
    versions = {
        row.version: parse_xform(row.xml)
        for row in form_versions(session, project_id, xml_form_id)
    }
    if not versions:
        return None
    rows = _field_rows(session, project_id, xml_form_id)
    choices = _choice_names(session, project_id, xml_form_id)
    return _assemble(project_id, xml_form_id, versions, rows, choices)


def _choice_names(session, project_id, xml_form_id) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for list_name, name in session.exec(
        select(FormChoice.list_name, FormChoice.name)
        .where(FormChoice.project_id == project_id)
        .where(FormChoice.xml_form_id == xml_form_id)
        .order_by(FormChoice.id)
    ):
        names.setdefault(list_name, []).append(name)
    return names


def _assemble(project_id, xml_form_id, versions, rows, choices) -> MergedSchema:
    main = form_table_name(xml_form_id)
    tables = {main: MergedTable(name=main)}
    repeat_tables: dict[str, str] = {}
    for row in rows:
        if row.type == REPEAT:
            repeat_tables[row.path] = row.table_name
            tables.setdefault(row.table_name, MergedTable(name=row.table_name))
            _describe_repeat(tables[row.table_name], row)
    for table in tables.values():
        if table.repeat_path is not None:
            table.parent_repeat = _enclosing(table.repeat_path, repeat_tables)
    # Lists kept in media files get no boolean columns, even once their
    # labels are known: the columns would come and go with the media.
    in_form = {
        name: names
        for name, names in choices.items()
        if not any(x.choices.get(name, ()) is None for x in versions.values())
    }
    by_column: dict[tuple[str, str], MergedField] = {}
    fields_by_path: dict[str, MergedField] = {}
    for row in rows:
        if row.type == REPEAT:
            continue
        merged = by_column.get((row.table_name, row.column))
        if merged is None:
            merged = MergedField(column=row.column, type=row.type, paths=[])
            by_column[(row.table_name, row.column)] = merged
            tables[row.table_name].fields.append(merged)
        _describe_field(merged, row, in_form)
        fields_by_path[row.path] = merged
    return MergedSchema(
        project_id, xml_form_id, tables, repeat_tables, fields_by_path, versions
    )


def _describe_repeat(table: MergedTable, row: FormField) -> None:
    # The first path stays the table's path; later ones are moves of it.
    table.repeat_path = table.repeat_path or row.path
    table.label_vi = row.label_vi or table.label_vi
    table.label_en = row.label_en or table.label_en


def _enclosing(path: str, repeat_tables: dict[str, str]) -> str | None:
    parents = [p for p in repeat_tables if path.startswith(p + "/")]
    return max(parents, key=len) if parents else None


def _describe_field(merged: MergedField, row: FormField, choices) -> None:
    merged.paths.append(row.path)
    merged.list_name = merged.list_name or row.list_name
    merged.label_vi = row.label_vi or merged.label_vi
    merged.label_en = row.label_en or merged.label_en
    merged.sensitivity = row.sensitivity or merged.sensitivity
    if merged.type == "select_multiple" and row.list_name:
        taken = {c.lower() for c in merged.choice_columns.values()}
        for name in choices.get(row.list_name, []):
            if name not in merged.choice_columns:
                column = column_name(f"{merged.column}__{name}")
                if column.lower() in taken:
                    column = _numbered(column, taken)
                merged.choice_columns[name] = column
                taken.add(column.lower())


def sql_type(kind: str) -> sa.types.TypeEngine:
    return {
        "int": sa.BigInteger(),
        "decimal": sa.Float(),
        "date": sa.Date(),
        "dateTime": AwareDateTime(),
        "boolean": sa.Boolean(),
    }.get(kind, sa.Text())


def build_tables(schema: MergedSchema) -> dict[str, sa.Table]:
    """SQLAlchemy tables for the merged schema, by table name."""
    metadata = sa.MetaData()
    return {
        name: sa.Table(name, metadata, *_columns(table))
        for name, table in schema.tables.items()
    }


def _columns(table: MergedTable) -> list[sa.schema.SchemaItem]:
    if table.repeat_path is None:
        columns: list[sa.schema.SchemaItem] = [
            sa.Column("submission_id", sa.Text(), primary_key=True),
            sa.Column("project_id", sa.Integer(), nullable=False),
            sa.Column("instance_id", sa.Text(), nullable=False),
            sa.Column("form_version", sa.Text()),
            sa.Column("submission_date", AwareDateTime(), nullable=False),
            sa.Column("updated_at", AwareDateTime()),
            sa.Column("review_state", sa.Text()),
            sa.Column("edits", sa.Integer(), nullable=False),
            sa.Column("submitter_id", sa.Text()),
            sa.Column("deleted_at", AwareDateTime()),
        ]
    else:
        # Keyed by (submission_id, row_id): row ids come from Central and are
        # only promised to be unique within their submission, and the key's
        # first column serves the per-submission replace without an index.
        columns = [
            sa.Column("row_id", sa.Text(), nullable=False),
            sa.Column("submission_id", sa.Text(), nullable=False),
            sa.Column("parent_row_id", sa.Text()),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("submission_id", "row_id"),
        ]
    for merged in table.fields:
        columns += _field_columns(merged)
    return columns


def _field_columns(merged: MergedField) -> list[sa.Column]:
    if merged.type == "geopoint":
        return [sa.Column(name, sa.Float()) for name in merged.columns()]
    if merged.type == "dateTime":
        return [
            sa.Column(merged.column, AwareDateTime()),
            sa.Column(offset_column(merged.column), sa.SmallInteger()),
        ]
    columns = [sa.Column(merged.column, sql_type(merged.type))]
    columns += [sa.Column(c, sa.Boolean()) for c in merged.choice_columns.values()]
    return columns


def ensure_tables(*, session: Session, schema: MergedSchema) -> dict[str, sa.Table]:
    """Create missing typed tables and add missing columns; never drop any."""
    connection = session.connection()
    tables = build_tables(schema)
    inspector = sa.inspect(connection)
    for name, table in tables.items():
        if not inspector.has_table(name):
            table.create(connection)
            logger.info("created typed table %s", name)
            continue
        present = {c["name"] for c in inspector.get_columns(name)}
        for column in table.columns:
            if column.name not in present:
                _add_column(connection, name, column)
    return tables


def _add_column(connection: sa.Connection, table: str, column: sa.Column) -> None:
    preparer = connection.dialect.identifier_preparer
    kind = column.type.compile(dialect=connection.dialect)
    connection.execute(
        sa.text(
            f"ALTER TABLE {preparer.quote(table)} "
            f"ADD COLUMN {preparer.quote(column.name)} {kind}"
        )
    )
    logger.info("added column %s to typed table %s", column.name, table)


def rebuild_schema(
    *, session: Session, project_id: int, xml_form_id: str, from_scratch: bool = False
) -> bool:
    """Merge every registered version again in publication order and widen
    the tables. ``from_scratch`` forgets the merge so far first, for a version
    registered out of order. Returns whether any field changed table, column
    or type; the typed tables then no longer match their rows."""
    before = layout(session, project_id, xml_form_id)
    if from_scratch:
        for row in _field_rows(session, project_id, xml_form_id):
            session.delete(row)
        session.flush()
    for row in form_versions(session, project_id, xml_form_id):
        merge_version(
            session=session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            xform=parse_xform(row.xml),
        )
    after = layout(session, project_id, xml_form_id)
    changed = any(after.get(path) != where for path, where in before.items())
    schema = load_schema(
        session=session, project_id=project_id, xml_form_id=xml_form_id
    )
    if schema is not None and not changed:
        ensure_tables(session=session, schema=schema)
    return changed


def layout(session: Session, project_id: int, xml_form_id: str) -> dict[str, tuple]:
    """Field path -> (table, column, type): what a typed row's shape rests on."""
    return {
        row.path: (row.table_name, row.column, row.type)
        for row in _field_rows(session, project_id, xml_form_id)
    }


def drop_tables(*, session: Session, names: set[str]) -> None:
    """Drop typed tables, to be created again from the merged schema and
    filled again from the ledger."""
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    for name in sorted(names):
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {quote(name)}"))
        logger.info("dropped typed table %s, to be filled again", name)
