"""The migrations, as ``trogiup db upgrade`` runs them and as the models expect
them, on SQLite and on PostgreSQL."""

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

import server.models  # noqa: F401  (registers every table on SQLModel.metadata)
from server.db import alembic_config, make_engine, upgrade
from server.indicators import service
from server.indicators.models import IndicatorSnapshot
from tests.factories.process import trogiup_env
from tests.fixtures.db import new_schema

# The console script pip installed beside this interpreter.
TROGIUP = Path(sys.executable).with_name("trogiup")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """A database with nothing in it yet: a new SQLite file, or a new schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with new_schema("trogiup_cli") as url:
        yield url


def _trogiup(*args: str, database_url: str, data_dir: Path):
    env = trogiup_env(TROGIUP_DATABASE_URL=database_url, TROGIUP_DATA_DIR=str(data_dir))
    return subprocess.run(
        [str(TROGIUP), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _schema(database_url: str) -> dict:
    """What the migrations made: every table's columns and indexes, and the
    revision alembic_version records."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            versions = conn.scalars(text("select version_num from alembic_version"))
            schema = inspect(conn)
            tables = {
                table: {
                    "columns": [
                        (col["name"], str(col["type"]), col["nullable"])
                        for col in schema.get_columns(table)
                    ],
                    "indexes": sorted(
                        (index["name"], tuple(index["column_names"]))
                        for index in schema.get_indexes(table)
                    ),
                }
                for table in sorted(schema.get_table_names())
            }
            return {"alembic_version": versions.all(), "tables": tables}
    finally:
        engine.dispose()


def _head(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    finally:
        engine.dispose()


def test_db_upgrade_command__migrates_an_empty_database_to_the_head(
    empty_database_url, tmp_path
):
    done = _trogiup("db", "upgrade", database_url=empty_database_url, data_dir=tmp_path)

    assert done.returncode == 0, done.stderr
    schema = _schema(empty_database_url)
    assert schema["alembic_version"] == [_head(empty_database_url)]
    assert set(SQLModel.metadata.tables) <= set(schema["tables"])


def test_db_upgrade_command__run_twice__changes_nothing_the_second_time(
    empty_database_url, tmp_path
):
    first = _trogiup(
        "db", "upgrade", database_url=empty_database_url, data_dir=tmp_path
    )
    assert first.returncode == 0, first.stderr
    after_first = _schema(empty_database_url)

    again = _trogiup(
        "db", "upgrade", database_url=empty_database_url, data_dir=tmp_path
    )

    assert again.returncode == 0, again.stderr
    assert _schema(empty_database_url) == after_first
    assert after_first["alembic_version"] == [_head(empty_database_url)]


def test_migrated_schema__autogenerate_finds_no_difference_from_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []


def test_migration_0007__a_snapshot_taken_before_keeps_its_figures_and_list(
    empty_database_url,
):
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0006")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO indicator_snapshot (created_at, created_by, periods,"
                    " level, include_pending, threshold, data_hash, n_inputs,"
                    " inputs, results, warnings) VALUES ('2026-12-01 00:00:00+00:00',"
                    " 'cli', '[\"2026\"]', 'province', false, 5, 'abc', 1,"
                    ' \'[["ag_child_case", "uuid:a", "uuid:a", "approved"]]\','
                    " '[]', '[]')"
                )
            )

        upgrade(engine)

        with Session(engine) as session:
            (snapshot,) = session.exec(select(IndicatorSnapshot)).all()
            listed = service.snapshot_submissions(snapshot)
    finally:
        engine.dispose()
    assert snapshot.inputs is None
    assert listed["instance_id"].tolist() == ["uuid:a"]
