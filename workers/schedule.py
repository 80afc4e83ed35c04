"""What triggers what: the one table of scheduled jobs.

Each job names a plain function (called in-process by the embedded scheduler)
and the Celery task that wraps it (sent by Celery beat in production).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    every: timedelta
    kwargs: dict[str, Any] = field(default_factory=dict)


SCHEDULE: tuple[Job, ...] = (
    # New, edited, reviewed and deleted submissions since the cursor.
    Job("pull-incremental", "workers.submissions.pull", timedelta(minutes=5)),
    # The whole id list against the ledger: catches what the overlap window of
    # the incremental pull missed (getodk/central#1164, #1615) and purges.
    Job(
        "pull-reconcile",
        "workers.submissions.pull",
        timedelta(hours=24),
        {"full": True},
    ),
)


def beat_schedule() -> dict[str, dict[str, Any]]:
    return {
        job.name: {
            "task": job.task,
            "schedule": job.every.total_seconds(),
            "kwargs": job.kwargs,
        }
        for job in SCHEDULE
    }
