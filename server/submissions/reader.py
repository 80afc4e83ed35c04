"""What an analyst needs to read the typed tables without knowing ODK: which
tables exist, their columns, SQL types and labels, and SQLAlchemy tables that
hand back typed values (aware datetimes on SQLite too) to pandas or SQL.

Everything here is plain data (lists and dicts), so the CLI, the API and
analysis code can use it without pandas.

A default read leaves out the columns of fields the form marks identifying or
sensitive (``P``, ``S``, ``P+S``, carried by the XForm of each version): the
SQLAlchemy table handed back does not list them, so ``select(table)`` cannot
fetch them, and the description does not offer them. A reader who is allowed
to see them asks with ``include_sensitive=True``.
"""

from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from server.errors import NotFound
from server.submissions.models import FormVersion
from server.submissions.schema import (
    FORM_COLUMNS,
    GEOPOINT_PARTS,
    REPEAT_COLUMNS,
    MergedField,
    MergedSchema,
    MergedTable,
    build_tables,
    load_schema,
    offset_column,
)

STANDARD_LABELS = {
    "submission_id": "Central's logical submission id (__id), stable across edits",
    "project_id": "Central project id",
    "instance_id": "meta/instanceID of the current version",
    "form_version": "form version of the current version",
    "submission_date": "when Central first received the submission",
    "updated_at": "last review, edit or deletion in Central",
    "review_state": "null, hasIssues, edited, approved or rejected",
    "edits": "number of edits",
    "submitter_id": "Central actor id of the submitter",
    "deleted_at": "set when deleted in Central; such rows are not counted",
    "row_id": "Central's repeat row id (__id)",
    "parent_row_id": "row_id of the enclosing repeat row (nested repeats)",
    "position": "1-based position within its parent",
}
_PART_LABELS = {"lat": "latitude", "lon": "longitude", "alt": "altitude"}
_PART_LABELS["acc"] = "accuracy (m)"


def typed_table(
    *,
    session: Session,
    xml_form_id: str,
    table: str | None = None,
    project_id: int | None = None,
    include_sensitive: bool = False,
) -> sa.Table:
    """The form table (or the repeat table named ``table``) of a form, without
    the marked fields' columns unless ``include_sensitive``."""
    schema = _schema(session, xml_form_id, project_id)
    tables = build_tables(schema if include_sensitive else _unmarked(schema))
    name = table or next(iter(tables))
    if name not in tables:
        raise NotFound(
            f"form {xml_form_id} has no typed table {name}; known: {sorted(tables)}"
        )
    return tables[name]


def describe_typed_tables(
    *,
    session: Session,
    xml_form_id: str | None = None,
    include_sensitive: bool = False,
) -> list[dict[str, object]]:
    """Every typed table with its columns: name, SQL type (as PostgreSQL names
    it), labels, source path, sensitivity, and for select columns the choice
    list name. Marked fields are described only with ``include_sensitive``."""
    described: dict[str, dict[str, object]] = {}
    for project_id, form_id in _registered(session, xml_form_id):
        schema = _schema(session, form_id, project_id)
        if not include_sensitive:
            schema = _unmarked(schema)
        sql_tables = build_tables(schema)
        for table in schema.tables.values():
            if table.name not in described:
                described[table.name] = _describe(schema, table, sql_tables)
    return list(described.values())


def _describe(schema: MergedSchema, table: MergedTable, sql_tables) -> dict:
    types = {
        c.name: str(c.type.compile(postgresql.dialect()))
        for c in (sql_tables[table.name].columns)
    }
    columns = [
        {"name": name, "type": types[name], "label_en": STANDARD_LABELS[name]}
        for name in (FORM_COLUMNS if table.repeat_path is None else REPEAT_COLUMNS)
    ]
    for merged in table.fields:
        columns += _field_columns(merged, types)
    return {
        "table": table.name,
        "xml_form_id": schema.xml_form_id,
        "repeat": table.repeat_path,
        "parent_repeat": table.parent_repeat,
        "label_vi": table.label_vi,
        "label_en": table.label_en,
        "columns": columns,
    }


def _field_columns(merged: MergedField, types: dict[str, str]) -> list[dict]:
    base = {
        "path": merged.paths[0],
        "field_type": merged.type,
        "list_name": merged.list_name,
        "sensitivity": merged.sensitivity,
    }
    if merged.type == "geopoint":
        return [
            {
                **base,
                "name": f"{merged.column}__{part}",
                "type": types[f"{merged.column}__{part}"],
                "label_vi": merged.label_vi,
                "label_en": f"{merged.label_en or merged.column}: {_PART_LABELS[part]}",
            }
            for part in GEOPOINT_PARTS
        ]
    first = {
        **base,
        "name": merged.column,
        "type": types[merged.column],
        "label_vi": merged.label_vi,
        "label_en": merged.label_en,
    }
    if merged.type == "dateTime":
        offset = offset_column(merged.column)
        return [
            first,
            {
                **base,
                "name": offset,
                "type": types[offset],
                "label_vi": merged.label_vi,
                "label_en": f"{merged.label_en or merged.column}: offset from UTC "
                "where it was recorded, in minutes",
            },
        ]
    return [first] + [
        {**base, "name": column, "type": types[column], "choice": choice}
        for choice, column in merged.choice_columns.items()
    ]


def _unmarked(schema: MergedSchema) -> MergedSchema:
    """The schema without the fields marked P, S or P+S (with their choice and
    geopoint columns)."""
    tables = {
        name: replace(table, fields=[f for f in table.fields if not f.sensitivity])
        for name, table in schema.tables.items()
    }
    return replace(schema, tables=tables)


def _schema(session, xml_form_id, project_id) -> MergedSchema:
    projects = [p for p, f in _registered(session, xml_form_id) if f == xml_form_id]
    if project_id is not None:
        projects = [p for p in projects if p == project_id]
    if not projects:
        raise NotFound(f"form {xml_form_id} has no registered version yet")
    schema = load_schema(
        session=session, project_id=projects[0], xml_form_id=xml_form_id
    )
    assert schema is not None  # a registered version exists
    return schema


def _registered(session, xml_form_id) -> list[tuple[int, str]]:
    query = select(FormVersion.project_id, FormVersion.xml_form_id).distinct()
    if xml_form_id is not None:
        query = query.where(FormVersion.xml_form_id == xml_form_id)
    return sorted(session.exec(query).all())
