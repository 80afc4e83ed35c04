from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from server.db import AwareDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """One access or change. ``details`` holds ids and counts, never a person's
    identifying fields."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=100, index=True)
    resource_type: str = Field(max_length=100)
    resource_id: str | None = Field(default=None, max_length=200, index=True)
    district_code: str | None = Field(default=None, max_length=10)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
