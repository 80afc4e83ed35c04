"""The Celery application (production mode, Redis as broker and result store)."""

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from celery import Celery

from server.settings import Settings, get_settings
from workers.schedule import beat_schedule

# A pull of every form takes minutes, not hours; a lock older than this belongs
# to a worker that died.
LOCK_SECONDS = 3600


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    celery = Celery(
        "trogiup",
        broker=settings.redis_url,
        backend=settings.redis_url,
        include=["workers.submissions"],
    )
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="Asia/Ho_Chi_Minh",
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        beat_schedule=beat_schedule(),
    )
    return celery


app = make_celery()


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Hold a Redis lock named ``name`` for the block; yields whether it was had."""
    client = redis.Redis.from_url(get_settings().redis_url)
    lock = client.lock(f"trogiup:{name}", timeout=LOCK_SECONDS, blocking=False)
    acquired = lock.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()
        client.close()
