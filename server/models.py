"""Every table, imported in one place so Alembic and tests see the whole schema."""

from server.audit.models import AuditEvent

__all__ = ["AuditEvent"]
