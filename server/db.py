"""Storage: one engine per database URL, sessions, and column types shared by models.

SQLite (the embedded default) and PostgreSQL (production) are chosen by URL only.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import DateTime, Engine, event
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# sqlalchemy.dialects.sqlite.DATETIME's storage format, positionally.
_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class AwareDateTime(TypeDecorator):
    """A timestamp that keeps its timezone on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no such type, so values are
    stored in UTC and handed back as aware UTC datetimes. A naive datetime is a
    programming error here, not something to guess about.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a timezone")
        return value.astimezone(UTC)

    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # The text SQLAlchemy's SQLite DATETIME writes, from one format of a
        # tuple instead of its mapping of seven names: a pull converts tens of
        # thousands of timestamps per page, and this halves their cost.
        utc = UTC

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: give it a timezone")
            value = value.astimezone(utc)
            return _SQLITE_DATETIME % (
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )

        return process

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while a pull writes; foreign keys are off by
    # default in SQLite and the schema relies on them.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache instead of 2: a pull writes typed tables and their
    # indexes page by page, and the default cache made it a third slower.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def json_text(value: Any) -> str:
    """JSON columns' text. orjson writes the ledger's OData rows four times
    faster than the standard library, which cost a tenth of a pull's time.
    What orjson refuses (integers beyond 64 bits, keys that are not strings)
    is written by the standard library, as it was before."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def make_engine(url: str, **kwargs) -> Engine:
    kwargs.setdefault("json_serializer", json_text)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg prepares a statement run five times, and PostgreSQL may then plan
    # it once for any parameters. For the ledger's lookups of hundreds of ids
    # in a table whose statistics lag behind a pull, that plan compared every
    # row with every id: a second --full pull of 10,000 submissions took 8.7 s
    # instead of 1.3 s. Each statement is planned for its own values instead.
    kwargs.setdefault("connect_args", {"prepare_threshold": None})
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    from server.settings import get_settings

    return make_engine(url or get_settings().effective_database_url)


def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    with Session(engine or get_engine()) as session:
        yield session


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (``trogiup db upgrade``)."""
    command.upgrade(alembic_config(engine), revision)
