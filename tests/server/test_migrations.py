"""The migrations, as ``trogiup db upgrade`` runs them and as the models expect
them, on SQLite and on PostgreSQL."""

import os
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROGIUP_")}
    env |= {"TROGIUP_DATABASE_URL": database_url, "TROGIUP_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [str(TROGIUP), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_command__migrates_an_empty_database_to_the_head(
    empty_database_url, tmp_path
):
    done = _trogiup("db", "upgrade", database_url=empty_database_url, data_dir=tmp_path)

    engine = make_engine(empty_database_url)
    try:
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        with engine.connect() as conn:
            versions = conn.scalars(text("select version_num from alembic_version"))
            versions = versions.all()
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert done.returncode == 0, done.stderr
    assert "is at heads" in done.stdout
    assert versions == [head]
    assert set(SQLModel.metadata.tables) <= tables


def test_db_upgrade_command__run_twice__changes_nothing_the_second_time(
    empty_database_url, tmp_path
):
    first = _trogiup(
        "db", "upgrade", database_url=empty_database_url, data_dir=tmp_path
    )

    again = _trogiup(
        "db", "upgrade", database_url=empty_database_url, data_dir=tmp_path
    )

    assert (first.returncode, again.returncode) == (0, 0), again.stderr


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
