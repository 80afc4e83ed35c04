"""Pulling from Central, as a plain function and as a Celery task."""

import logging
from typing import Any

from sqlmodel import Session

from server.db import get_engine
from server.settings import Settings, get_settings
from server.submissions.service import result_dict, run_pull
from workers.celery_app import app, exclusive

logger = logging.getLogger(__name__)


def pull_now(
    *,
    xml_form_id: str | None = None,
    full: bool = False,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Pull one form or all forms; what the task, the scheduler and the API call."""
    settings = settings or get_settings()
    with Session(get_engine(settings.effective_database_url)) as session:
        results = run_pull(
            session=session, settings=settings, xml_form_id=xml_form_id, full=full
        )
    return [result_dict(result) for result in results]


@app.task(name="workers.submissions.pull", acks_late=True)
def pull(xml_form_id: str | None = None, full: bool = False) -> list[dict[str, Any]]:
    # Safe to run twice (the pull is idempotent), but two at once would only
    # fight over the same pages, so a second one steps aside.
    with exclusive(f"pull:{xml_form_id or '*'}") as acquired:
        if not acquired:
            logger.warning("pull of %s already running; skipped", xml_form_id or "*")
            return []
        return pull_now(xml_form_id=xml_form_id, full=full)
