"""Many rows to and from the database driver, past SQLAlchemy's per-row work.

A pull writes tens of thousands of ledger and typed rows per page, and
SQLAlchemy's handling of each parameter set cost more than the rest of storing
it. Here values arrive a column at a time, each column's bind processor (the
type's own, as SQLAlchemy would apply it) runs once per value, or once for a
column that holds one value in every row (``Same``), and a page's rows of one
table go to the driver in one call: COPY on PostgreSQL, one executemany on
SQLite.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from itertools import repeat
from typing import Any

import sqlalchemy as sa

# Keeps IN lists well under SQLite's limit on bound parameters.
IN_CHUNK = 900


class Same:
    """A column holding one value in every row: processed once, not per row."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Column = Sequence[Any] | Same


def driver_rows(
    dialect: sa.Dialect,
    table: sa.Table,
    names: Sequence[str],
    columns: Mapping[str, Column],
) -> list[tuple]:
    """Rows of ``table`` as the driver takes them, in the order of ``names``;
    a name ``columns`` lacks is NULL in every row."""
    processed = []
    for name in names:
        values = columns.get(name)
        if values is None:
            processed.append(repeat(None))
            continue
        process = bind_processor(table.c[name].type, dialect)
        if isinstance(values, Same):
            value = values.value
            processed.append(repeat(value if process is None else process(value)))
        elif process is None:
            processed.append(values)
        else:
            native = _stored_as_is(table.c[name].type, dialect)
            processed.append(_processed(values, process, native))
    if all(isinstance(c, repeat) for c in processed):
        raise ValueError("driver_rows needs one column of values at least")
    # The columns given have one value per row; a repeat() ends with them.
    return list(zip(*processed, strict=False))


def bind_processor(
    type_: sa.types.TypeEngine, dialect: sa.Dialect
) -> Callable[[Any], Any] | None:
    """The type's bind processor for ``dialect``, as SQLAlchemy applies it
    (SQLite's Date: the same text from ``date.isoformat``, four times faster
    than SQLAlchemy's mapping of three names)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if dialect.name == "sqlite" and _is_date(type_) and process is not None:
        return _sqlite_date(process)
    return process


def _is_date(type_: sa.types.TypeEngine) -> bool:
    return isinstance(type_, sa.Date) and not isinstance(type_, sa.DateTime)


def _sqlite_date(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        # isoformat pads the year to four digits, as SQLAlchemy's format does.
        return value.isoformat() if type(value) is date else process(value)

    return convert


def _stored_as_is(type_: sa.types.TypeEngine, dialect: sa.Dialect) -> type | None:
    """The Python type whose values the driver stores exactly as the type's
    bind processor would have it: on SQLite a float for Float (the processor
    is float()), and a bool for Boolean (the processor gives 1 or 0, which
    sqlite3 stores for True and False alike). Such values skip a call each."""
    if dialect.name != "sqlite":
        return None
    if isinstance(type_, sa.Float):
        return float
    if isinstance(type_, sa.Boolean):
        return bool
    return None


def _processed(
    values: Sequence[Any], process: Callable[[Any], Any], native: type | None
) -> list[Any]:
    if native is None:
        return [None if v is None else process(v) for v in values]
    return [
        v if type(v) is native else (None if v is None else process(v)) for v in values
    ]


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Sequence[tuple],
) -> None:
    """``rows`` (from ``driver_rows``, same ``names``) in one driver call."""
    if not rows:
        return
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    if dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        with cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)
        return
    markers = ", ".join([marker(dialect)] * len(names))
    # Names come from the models or the merged schema, quoted by the dialect.
    sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({markers})"  # noqa: S608
    connection.exec_driver_sql(sql, list(rows))


def marker(dialect: sa.Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def rows_where_in(
    connection: sa.Connection,
    sql: str,
    params: tuple,
    values: Sequence[Any],
) -> Iterator[tuple]:
    """The rows of ``sql`` (a SELECT ending in ``<column> {in}``, with driver
    markers) for every value of ``values``: one array parameter on
    PostgreSQL, chunks of bound parameters elsewhere. For lookups of a page's
    ids, where building and compiling a SQLAlchemy IN list per chunk cost more
    than the database's own work."""
    if not values:
        return
    dialect = connection.dialect
    if dialect.name == "postgresql":
        statement = sql.format(**{"in": "= ANY(%s)"})
        yield from connection.exec_driver_sql(statement, (*params, list(values)))
        return
    for start in range(0, len(values), IN_CHUNK):
        chunk = tuple(values[start : start + IN_CHUNK])
        markers = ", ".join([marker(dialect)] * len(chunk))
        statement = sql.format(**{"in": f"IN ({markers})"})
        yield from connection.exec_driver_sql(statement, (*params, *chunk))
