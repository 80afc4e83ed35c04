"""The pull task through a real Celery worker and a real Redis broker."""

import os
import subprocess
import sys
import uuid

import pytest
from sqlmodel import Session, func, select

from server.db import make_engine, upgrade
from server.settings import Settings
from server.submissions.models import Submission
from tests.factories.sync import CentralActions, form_xml, submission_xml
from workers.celery_app import make_celery


@pytest.fixture
def published_with_three(pyodk_client, central_project_id):
    actions = CentralActions(pyodk_client, central_project_id)
    actions.publish(form_xml("v1"))
    for _ in range(3):
        actions.submit(submission_xml())
    return actions


@pytest.fixture
def worker(redis_url, central_settings, tmp_path):
    """A Celery worker process on a queue of its own, with a migrated database."""
    database_url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    upgrade(make_engine(database_url))
    queue = f"trogiup-test-{uuid.uuid4().hex[:8]}"
    password = central_settings.central_password.get_secret_value()
    env = {
        **os.environ,
        "TROGIUP_REDIS_URL": redis_url,
        "TROGIUP_DATABASE_URL": database_url,
        "TROGIUP_DATA_DIR": str(tmp_path),
        "TROGIUP_CENTRAL_URL": central_settings.central_url,
        "TROGIUP_CENTRAL_EMAIL": central_settings.central_email,
        "TROGIUP_CENTRAL_PASSWORD": password,
        "TROGIUP_CENTRAL_PROJECT_ID": str(central_settings.central_project_id),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
        "--pool", "solo", "-Q", queue, "--without-gossip", "--without-mingle",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    yield queue, database_url
    process.terminate()
    process.wait(timeout=30)


def test_pull_task__runs_in_a_worker_through_redis(
    published_with_three, worker, redis_url
):
    queue, database_url = worker
    celery = make_celery(Settings(redis_url=redis_url, _env_file=None))

    results = celery.send_task(
        "workers.submissions.pull", kwargs={"full": False}, queue=queue
    ).get(timeout=120)

    assert [r["xml_form_id"] for r in results] == ["sync_visit"]
    assert results[0]["new"] == 3
    with Session(make_engine(database_url)) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 3


def test_pull_task__second_run_changes_nothing(published_with_three, worker, redis_url):
    queue, database_url = worker
    celery = make_celery(Settings(redis_url=redis_url, _env_file=None))

    def pull():
        return celery.send_task("workers.submissions.pull", queue=queue).get(
            timeout=120
        )

    pull()
    again = pull()

    assert again[0]["new"] == 0
    assert again[0]["updated"] == 0
    with Session(make_engine(database_url)) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 3
