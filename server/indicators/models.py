"""Frozen indicator figures and the exact data they came from."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from server.db import AwareDateTime, utcnow


class IndicatorSnapshot(SQLModel, table=True):
    """Indicator values as computed once, kept so a reported figure can be
    shown again and checked against the data.

    ``inputs`` lists every submission counted, as
    ``[xml_form_id, submission_id, instance_id, review_state]``; ``data_hash``
    is the SHA-256 of that list and the parameters (analysis.output.fingerprint).
    Recomputing later gives the same hash only if no counted submission was
    edited, re-reviewed or deleted since and none was added. Snapshots hold ids
    and aggregate figures after suppression, never an answer that identifies
    a person.
    """

    __tablename__ = "indicator_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=AwareDateTime)
    created_by: str = Field(max_length=200)
    periods: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    level: str = Field(max_length=20)
    include_pending: bool = False
    threshold: int
    data_hash: str = Field(max_length=64, index=True)
    n_inputs: int
    inputs: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON))
    results: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON))
