"""The embedded default: no Redis, so the server process runs the schedule
itself, in one thread, calling the same plain functions Celery tasks call."""

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from server.errors import TrogiupError
from server.settings import Settings
from workers.schedule import SCHEDULE, Job

logger = logging.getLogger(__name__)


def _plain_functions() -> dict[str, Callable[..., Any]]:
    from workers.submissions import pull_now

    return {"workers.submissions.pull": pull_now}


class EmbeddedScheduler:
    """Runs each job of ``SCHEDULE`` when it falls due, one at a time.

    A failing job is logged and tried again at its next turn; it never stops
    the others.
    """

    def __init__(
        self,
        jobs: tuple[Job, ...] = SCHEDULE,
        *,
        settings: Settings | None = None,
        run_now: bool = True,
    ):
        self.jobs = jobs
        # Passed to every job, so the demo's settings (pointing at the
        # simulator) reach the pull instead of the environment's.
        self._extra = {"settings": settings} if settings is not None else {}
        self._functions = _plain_functions()
        self._due = {job.name: 0.0 if run_now else self._next(job) for job in jobs}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="trogiup-scheduler", daemon=True
        )

    @staticmethod
    def _next(job: Job) -> float:
        return time.monotonic() + job.every.total_seconds()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def run_due(self) -> list[str]:
        """Run every job that is due now; returns their names."""
        ran = []
        for job in self.jobs:
            if time.monotonic() < self._due[job.name]:
                continue
            self._due[job.name] = self._next(job)
            self._run(job)
            ran.append(job.name)
        return ran

    def _run(self, job: Job) -> None:
        logger.info("running %s", job.name)
        try:
            self._functions[job.task](**job.kwargs, **self._extra)
        except TrogiupError as err:
            logger.error("%s failed [%s]: %s", job.name, err.code, err.message)
        except Exception as err:
            # An unexpected error's message may quote a submission's value, so
            # only its type and where it was raised reach the log.
            where = traceback.extract_tb(err.__traceback__)[-1]
            logger.error(
                "%s failed: %s at %s:%s; next try in %s",
                job.name,
                type(err).__name__,
                where.filename,
                where.lineno,
                job.every,
            )

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(timeout=5)
