from typing import Any

from sqlmodel import Session

from server.audit.models import AuditEvent


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    district_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction."""
    event = AuditEvent(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        district_code=district_code,
        details=details or {},
    )
    session.add(event)
    return event
