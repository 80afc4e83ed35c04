"""The sync through the API and the ``trogiup`` command: status, pull, and the
quarantine retry, against the Central simulator."""

import json

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from server.app import create_app
from server.cli import app as cli_app
from server.db import get_engine
from server.settings import get_settings
from server.submissions.cli import local_time
from tests.factories.sync import (
    CentralActions,
    form_xml,
    many_submissions,
    submission_xml,
)


def call(app, method: str, url: str, **kwargs) -> httpx.Response:
    """The ASGI app in-process, to the end of its background tasks (starlette's
    TestClient wants the httpx2 package, which the lock file does not carry)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.request(method, url, **kwargs)

    return anyio.run(send)


@pytest.fixture
def settings(central_settings, engine):
    url = engine.url.render_as_string(hide_password=False)
    yield central_settings.model_copy(update={"database_url": url})
    # The app and the command keep one engine per URL; close its connections.
    get_engine(url).dispose()


@pytest.fixture
def actions(pyodk_client, central_project_id):
    actions = CentralActions(pyodk_client, central_project_id)
    actions.publish(form_xml("v1"))
    return actions


@pytest.fixture
def cli(settings, monkeypatch):
    """The command as a user runs it, configured by the environment."""
    env = {
        "TROGIUP_DATABASE_URL": settings.database_url,
        "TROGIUP_DATA_DIR": str(settings.data_dir),
        "TROGIUP_CENTRAL_URL": settings.central_url,
        "TROGIUP_CENTRAL_EMAIL": settings.central_email,
        "TROGIUP_CENTRAL_PASSWORD": settings.central_password.get_secret_value(),
        "TROGIUP_CENTRAL_PROJECT_ID": str(settings.central_project_id),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield lambda *args: CliRunner().invoke(cli_app, list(args))
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_api__pull_then_status__shows_counts_that_reconcile(settings, actions):
    for xml in many_submissions(3):
        actions.submit(xml)
    app = create_app(settings)

    started = call(app, "POST", "/api/v1/pull", json={})
    status = call(app, "GET", "/api/v1/forms/status")

    assert started.status_code == 202
    (form,) = status.json()
    assert form["xml_form_id"] == "sync_visit"
    assert form["counts"]["normalized"] == 3 and form["reconciles"]
    assert form["last_run"]["status"] == "ok"


def test_cli__pull__prints_a_summary_without_answers(cli, actions):
    actions.submit(submission_xml(seed=1))
    actions.submit(submission_xml(seed=2))

    result = cli("pull", "--form", "sync_visit")

    assert result.exit_code == 0, result.output
    assert "sync_visit" in result.output and "seconds" in result.output
    assert "Child 1" not in result.output


def test_cli__status_json__lists_each_form(cli, actions):
    actions.submit(submission_xml(seed=1))
    cli("pull")

    result = cli("status", "--format", "json")

    assert result.exit_code == 0, result.output
    (form,) = json.loads(result.output)
    assert form["counts"]["submissions"] == 1 and form["cursor"]["submission_date"]


def test_cli__status_table__gives_the_last_pull_in_vietnam_time(cli, actions):
    actions.submit(submission_xml(seed=1))
    cli("pull")
    (form,) = json.loads(cli("status", "--format", "json").output)

    result = cli("status")

    assert result.exit_code == 0, result.output
    assert local_time(form["last_pull_at"]) in result.output


def test_local_time__an_instant__is_read_in_vietnam_with_its_offset():
    assert local_time("2026-03-31T18:30:00+00:00") == "2026-04-01 01:30 +07"
    assert local_time(None) == ""


def test_cli__pull_of_unknown_form__fails_with_a_clear_message(cli, actions):
    result = cli("pull", "--form", "no_such_form")

    assert result.exit_code != 0
    assert "no_such_form" in str(result.exception)


def test_cli__quarantine_retry__normalizes_again(cli, actions):
    actions.submit(submission_xml(visit_date="2026-02-30", seed=1))
    cli("pull")

    result = cli("quarantine", "retry")

    assert result.exit_code == 0, result.output
    assert "still quarantined 1" in result.output


def test_cli__quarantine_list__gives_the_reason_not_the_value(cli, actions):
    bad = actions.submit(submission_xml(visit_date="2026-02-30", seed=1))
    cli("pull")

    result = cli("quarantine", "list", "--format", "json")

    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)
    assert entry["submission_id"] == bad and entry["field"]
    assert "2026-02-30" not in result.output


def test_api__quarantine__lists_open_entries(settings, actions):
    actions.submit(submission_xml(visit_date="2026-02-30", seed=1))
    app = create_app(settings)
    call(app, "POST", "/api/v1/pull", json={})

    entries = call(app, "GET", "/api/v1/quarantine").json()

    assert len(entries) == 1 and entries[0]["xml_form_id"] == "sync_visit"


def test_api__quarantine_retry__fetches_the_missing_version_and_normalizes(
    settings, actions, central_sim
):
    actions.submit(submission_xml(seed=1))
    actions.publish_version(form_xml("v2", with_remark=True), "v2")
    central_sim.faults.add(r"/versions/v1\.xml", "status", status=404, times=None)
    app = create_app(settings)
    call(app, "POST", "/api/v1/pull", json={})
    central_sim.faults.clear()

    answer = call(app, "POST", "/api/v1/quarantine/retry", json={})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "normalized": 1,
        "quarantined": 0,
        "resolved": 1,
        "versions_registered": 1,
    }
    assert call(app, "GET", "/api/v1/quarantine").json() == []


def test_api__pull_with_redis__is_queued_for_a_worker(settings, redis_url):
    import redis

    with_redis = settings.model_copy(update={"redis_url": redis_url})
    client = redis.Redis.from_url(redis_url)
    client.delete("celery")
    try:
        answer = call(create_app(with_redis), "POST", "/api/v1/pull", json={})
        queued = client.lrange("celery", 0, -1)
    finally:
        client.delete("celery")
        client.close()

    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    assert len(queued) == 1 and b"workers.submissions.pull" in queued[0]
