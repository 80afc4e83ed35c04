"""Frozen indicator figures and the exact data they came from."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel

from server.db import AwareDateTime, utcnow


class IndicatorSnapshot(SQLModel, table=True):
    """Indicator values as computed once, kept so a reported figure can be
    shown again and checked against the data.

    ``inputs`` is what the counting read, frozen (analysis.frozen: each
    form's records as prepared, with the ids of every submission version and
    its review state, and the child population table); ``data_hash`` is the
    SHA-256 of those bytes and the parameters. The figures can be computed
    again from ``inputs`` at any time. Neither holds an answer that names a
    person: the records are reduced to commune, sex, age group, dates and
    per-indicator flags, and the figures are stored after suppression.
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
    inputs: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    results: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON))
