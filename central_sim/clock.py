"""Timestamps as Central writes them: UTC, milliseconds, a trailing ``Z``. Stored
in that form too, so text order is time order in SQLite."""

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> str:
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
