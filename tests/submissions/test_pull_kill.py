"""A real ``trogiup pull`` process killed midway, on SQLite and PostgreSQL (the
``engine`` fixture): the next pull completes with nothing lost and nothing
counted twice, after a first pull and after an incremental one."""

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from server.submissions.models import PullRun, Submission, SubmissionVersion
from server.submissions.service import form_status
from tests.factories.process import trogiup_env
from tests.factories.settings import TEST_SECRET_KEY
from tests.factories.sync import (
    XML_FORM_ID,
    CentralActions,
    form_xml,
    many_submissions,
    new_instance_id,
    submission_xml,
    submit_at,
)

SUBMISSIONS = 60
PAGE_SIZE = 5


def trogiup(args, env) -> subprocess.Popen:
    script = Path(sys.executable).with_name("trogiup")
    command = [str(script)]
    if not script.exists():
        command = [sys.executable, "-c", "from server.cli import main; main()"]
    return subprocess.Popen(
        [*command, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def environment(central_settings, database_url, tmp_path) -> dict[str, str]:
    return trogiup_env(
        TROGIUP_ENVIRONMENT="test",
        TROGIUP_SECRET_KEY=TEST_SECRET_KEY,
        TROGIUP_DATA_DIR=str(tmp_path / "data"),
        TROGIUP_DATABASE_URL=database_url,
        TROGIUP_CENTRAL_URL=central_settings.central_url,
        TROGIUP_CENTRAL_EMAIL=central_settings.central_email,
        TROGIUP_CENTRAL_PASSWORD=central_settings.central_password.get_secret_value(),
        TROGIUP_CENTRAL_PROJECT_ID=str(central_settings.central_project_id),
    )


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def wait_for(engine, at_least: int, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            stored = count(engine, Submission)
        except sa.exc.OperationalError:
            stored = 0  # the schema is still being created
        if stored >= at_least:
            return stored
        time.sleep(0.02)
    raise AssertionError("the pull stored nothing in a minute")


def pull_until_killed(engine, env, at_least: int) -> int:
    """Start ``trogiup pull``, kill it once ``at_least`` submissions are in the
    ledger; returns how many were."""
    killed = trogiup(["pull", "--page-size", str(PAGE_SIZE)], env)
    stored_when_killed = wait_for(engine, at_least, killed)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=10)
    assert killed.returncode == -signal.SIGKILL
    return stored_when_killed


def pull_to_the_end(env) -> None:
    again = trogiup(["pull", "--page-size", str(PAGE_SIZE)], env)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err


def slow_pages(central_sim) -> None:
    """Every page after the first arrives late, so the kill lands between
    pages or inside one."""
    central_sim.faults.add(
        r"Submissions\?.*%24skiptoken", "latency", seconds=0.2, times=None
    )


def typed_ids(engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT submission_id FROM form_sync_visit"))
        return [row[0] for row in rows]


@pytest.fixture
def kill_setup(
    central_sim, central_settings, central_project_id, pyodk_client, engine, tmp_path
):
    actions = CentralActions(pyodk_client, central_project_id)
    actions.publish(form_xml("v1"))
    database_url = engine.url.render_as_string(hide_password=False)
    env = environment(central_settings, database_url, tmp_path)
    return actions, env


def test_pull_process__killed_midway__resumes_without_loss_or_double_count(
    central_sim, central_project_id, engine, kill_setup
):
    _, env = kill_setup
    central_sim.store.bulk_submit(
        central_project_id, XML_FORM_ID, many_submissions(SUBMISSIONS)
    )
    slow_pages(central_sim)

    stored_when_killed = pull_until_killed(engine, env, 2 * PAGE_SIZE)
    central_sim.faults.clear()

    assert stored_when_killed < SUBMISSIONS
    pull_to_the_end(env)

    assert count(engine, Submission) == SUBMISSIONS
    assert count(engine, SubmissionVersion) == SUBMISSIONS
    with Session(engine) as session:
        (status,) = form_status(session=session)
        runs = session.exec(select(PullRun).order_by(PullRun.id)).all()
    assert status["reconciles"]
    assert status["counts"]["normalized"] == SUBMISSIONS
    assert status["counts"]["repeat_rows"] == sum(n % 5 for n in range(SUBMISSIONS))
    assert [r.status for r in runs] == ["failed", "ok"]
    assert runs[0].new + runs[1].new == SUBMISSIONS
    ids = typed_ids(engine)
    assert len(ids) == len(set(ids)) == SUBMISSIONS


NEW, EDITED, DELETED = 40, 5, 5


def test_pull_process__killed_during_an_incremental_pull__resumes_exactly(
    central_sim, central_project_id, engine, kill_setup
):
    actions, env = kill_setup
    older = submit_at(
        central_sim,
        central_project_id,
        datetime.now(UTC) - timedelta(hours=2),
        *(
            submission_xml(new_instance_id(), members=n % 5, seed=n)
            for n in range(SUBMISSIONS)
        ),
    )
    pull_to_the_end(env)
    for xml in many_submissions(NEW, start=1000):
        actions.submit(xml)
    for n, edited in enumerate(older[:EDITED]):
        actions.edit(
            edited,
            submission_xml(members=1, deprecated_id=edited, seed=2000 + n),
        )
    for deleted in older[EDITED : EDITED + DELETED]:
        actions.delete(deleted)
    slow_pages(central_sim)

    stored_when_killed = pull_until_killed(engine, env, SUBMISSIONS + 2 * PAGE_SIZE)
    central_sim.faults.clear()

    assert stored_when_killed < SUBMISSIONS + NEW
    pull_to_the_end(env)

    total = SUBMISSIONS + NEW
    assert count(engine, Submission) == total
    assert count(engine, SubmissionVersion) == total + EDITED
    with Session(engine) as session:
        (status,) = form_status(session=session)
        runs = session.exec(select(PullRun).order_by(PullRun.id)).all()
    counts = status["counts"]
    assert status["reconciles"] and counts["pending"] == 0
    assert (counts["deleted"], counts["edited"]) == (DELETED, EDITED)
    assert counts["normalized"] == total - DELETED
    assert [(r.mode, r.status) for r in runs] == [
        ("full", "ok"),
        ("incremental", "failed"),
        ("incremental", "ok"),
    ]
    resumed = runs[1:]
    assert sum(r.new for r in resumed) == NEW
    assert sum(r.updated for r in resumed) == EDITED
    assert sum(r.deleted for r in resumed) == DELETED
    ids = typed_ids(engine)
    assert len(ids) == len(set(ids)) == total
