"""The sync's API: status per form, starting a pull, the quarantine. Thin: each
route calls the service the CLI calls. Who may call them is decided elsewhere."""

import logging
import threading
from typing import Any

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel
from sqlmodel import Session

from server.db import get_engine
from server.deps import SessionDep, SettingsDep
from server.errors import Conflict, TrogiupError
from server.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["sync"])
PULL_TASK = "workers.submissions.pull"

# One pull at a time per process: two would read the same pages and one of them
# would only fail on the ledger's unique keys.
_pull_lock = threading.Lock()


class PullRequest(BaseModel):
    xml_form_id: str | None = None
    full: bool = False


@router.get("/forms/status")
def forms_status(session: SessionDep) -> list[dict[str, Any]]:
    from server.submissions.service import form_status

    return form_status(session=session)


@router.post("/pull", status_code=202)
def start_pull(
    body: PullRequest, settings: SettingsDep, background: BackgroundTasks
) -> dict[str, Any]:
    """Start a pull: on a worker through Redis when there is one, else in this
    process after the answer. ``GET /forms/status`` shows how it went."""
    request = {"xml_form_id": body.xml_form_id, "full": body.full}
    if not settings.embedded:
        from workers.celery_app import make_celery

        # A pull on demand is rare: a short-lived app whose broker connections
        # are closed on the way out beats a pool that outlives its settings.
        with make_celery(settings) as celery:
            task = celery.send_task(PULL_TASK, kwargs=request)
        return {"status": "queued", "task_id": task.id, **request}
    if not _pull_lock.acquire(blocking=False):
        raise Conflict("A pull is already running; try again when it has finished")
    background.add_task(_pull_in_background, settings, body)
    return {"status": "started", **request}


@router.get("/quarantine")
def quarantine(
    session: SessionDep,
    xml_form_id: str | None = None,
    status: str = "open",
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    from server.submissions.quarantine import list_entries

    return list_entries(
        session=session,
        status=status,
        xml_form_id=xml_form_id,
        limit=limit,
        offset=offset,
    )


class RetryRequest(BaseModel):
    xml_form_id: str | None = None


@router.post("/quarantine/retry")
def quarantine_retry(
    body: RetryRequest, session: SessionDep, settings: SettingsDep
) -> dict[str, int]:
    """Fetch the form versions quarantined submissions wait for, then normalize
    them again: what ``trogiup quarantine retry`` does."""
    from server.submissions.service import retry_quarantine

    return retry_quarantine(
        session=session, settings=settings, xml_form_id=body.xml_form_id
    )


def _pull_in_background(settings: Settings, body: PullRequest) -> None:
    from server.submissions.service import run_pull

    try:
        with Session(get_engine(settings.effective_database_url)) as session:
            run_pull(
                session=session,
                settings=settings,
                xml_form_id=body.xml_form_id,
                full=body.full,
            )
    except TrogiupError as err:
        # The failed PullRun holds the message for the status page.
        logger.warning("background pull failed: %s", err.code)
    finally:
        _pull_lock.release()
