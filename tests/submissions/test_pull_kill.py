"""A real ``trogiup pull`` process killed midway: the next pull completes with
nothing lost and nothing counted twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, func, select

from server.db import make_engine, upgrade
from server.submissions.models import PullRun, Submission, SubmissionVersion
from server.submissions.service import form_status
from tests.factories.settings import TEST_SECRET_KEY
from tests.factories.sync import XML_FORM_ID, CentralActions, form_xml, many_submissions

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
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROGIUP_")}
    env.update(
        TROGIUP_ENVIRONMENT="test",
        TROGIUP_SECRET_KEY=TEST_SECRET_KEY,
        TROGIUP_DATA_DIR=str(tmp_path / "data"),
        TROGIUP_DATABASE_URL=database_url,
        TROGIUP_CENTRAL_URL=central_settings.central_url,
        TROGIUP_CENTRAL_EMAIL=central_settings.central_email,
        TROGIUP_CENTRAL_PASSWORD=central_settings.central_password.get_secret_value(),
        TROGIUP_CENTRAL_PROJECT_ID=str(central_settings.central_project_id),
    )
    return env


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


def test_pull_process__killed_midway__resumes_without_loss_or_double_count(
    central_sim, central_settings, central_project_id, pyodk_client, tmp_path
):
    actions = CentralActions(pyodk_client, central_project_id)
    actions.publish(form_xml("v1"))
    central_sim.store.bulk_submit(
        central_project_id, XML_FORM_ID, many_submissions(SUBMISSIONS)
    )
    database_url = f"sqlite:///{tmp_path / 'trogiup.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    env = environment(central_settings, database_url, tmp_path)
    # Every page after the first arrives late, so the kill lands between pages
    # or inside one.
    central_sim.faults.add(
        r"Submissions\?.*%24skiptoken", "latency", seconds=0.2, times=None
    )

    killed = trogiup(["pull", "--page-size", str(PAGE_SIZE)], env)
    stored_when_killed = wait_for(engine, 2 * PAGE_SIZE, killed)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=10)
    central_sim.faults.clear()

    assert killed.returncode == -signal.SIGKILL
    assert stored_when_killed < SUBMISSIONS
    again = trogiup(["pull", "--page-size", str(PAGE_SIZE)], env)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err

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
    with engine.connect() as conn:
        typed_ids = conn.execute(sa.text("SELECT submission_id FROM form_sync_visit"))
        typed_ids = [row[0] for row in typed_ids]
    assert len(typed_ids) == len(set(typed_ids)) == SUBMISSIONS
    engine.dispose()
