"""Timestamps as Central writes them: UTC, milliseconds, a trailing ``Z``. Stored
in that form too, so text order is time order in SQLite."""

import threading
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_lock = threading.Lock()
_last_ms = 0


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> str:
    """A new moment to store: the time now, or one millisecond past the last
    moment handed out when the clock has not moved on since.

    Central reads the clock in each statement and takes milliseconds over a
    request, so the moments it writes in different requests always differ. The
    simulator can answer two requests within one millisecond; without this
    their moments would be equal where Central's never are.
    """
    global _last_ms
    with _lock:
        wall_ms = (datetime.now(UTC) - _EPOCH) // timedelta(milliseconds=1)
        _last_ms = max(wall_ms, _last_ms + 1)
        return iso(_EPOCH + timedelta(milliseconds=_last_ms))


def wall() -> str:
    """The time now, for comparisons (session expiry, OData ``now()``) and bulk
    seeding, where nothing needs a moment of its own."""
    return iso(datetime.now(UTC))


def normalise(text: str) -> str | None:
    """An OData or query literal (date or date-time, any offset) as a stored
    timestamp, or None when it is neither."""
    candidate = text.strip()
    if candidate.endswith("Z"):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)
