"""The embedded default: the schedule runs in-process, without Redis."""

from datetime import timedelta

from sqlmodel import Session, func, select

from server.submissions.models import Submission
from tests.factories.sync import CentralActions, form_xml, submission_xml
from workers.embedded import EmbeddedScheduler
from workers.schedule import SCHEDULE, Job, beat_schedule

HOUR = timedelta(hours=1)


def test_schedule__beat_and_embedded_read_the_same_table():
    beat = beat_schedule()

    assert set(beat) == {job.name for job in SCHEDULE}
    assert beat["pull-reconcile"]["kwargs"] == {"full": True}
    assert beat["pull-incremental"]["schedule"] == 300


def test_embedded_scheduler__pulls_due_jobs_into_the_database(
    pyodk_client, central_project_id, central_settings, engine
):
    actions = CentralActions(pyodk_client, central_project_id)
    actions.publish(form_xml("v1"))
    actions.submit(submission_xml())
    actions.submit(submission_xml())
    settings = central_settings.model_copy(
        update={"database_url": engine.url.render_as_string(hide_password=False)}
    )
    jobs = (Job("pull-incremental", "workers.submissions.pull", timedelta(hours=1)),)
    scheduler = EmbeddedScheduler(jobs, settings=settings)

    first = scheduler.run_due()
    second = scheduler.run_due()

    assert first == ["pull-incremental"]
    assert second == []  # not due again for an hour
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 2


def test_embedded_scheduler__a_failing_job_does_not_stop_the_others(monkeypatch):
    calls = []

    def failing(**_):
        calls.append("fail")
        raise RuntimeError("Central unreachable")

    jobs = (
        Job("a", "workers.submissions.pull", timedelta(hours=1)),
        Job("b", "workers.submissions.pull", timedelta(hours=1), {"full": True}),
    )
    scheduler = EmbeddedScheduler(jobs)
    scheduler._functions = {"workers.submissions.pull": failing}

    assert scheduler.run_due() == ["a", "b"]
    assert calls == ["fail", "fail"]


def test_embedded_scheduler__failure_log_never_quotes_the_error_message(caplog):
    def failing(**_):
        raise ValueError("invalid literal for int(): 'Nguyễn Văn A'")

    scheduler = EmbeddedScheduler((Job("a", "workers.submissions.pull", HOUR),))
    scheduler._functions = {"workers.submissions.pull": failing}

    scheduler.run_due()

    assert "ValueError" in caplog.text
    assert "Nguyễn" not in caplog.text
