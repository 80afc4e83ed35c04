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
    again from ``inputs`` at any time. ``inputs`` holds no name, date of birth
    or address, but it is record-level data (commune, sex, age group, dates,
    whether a child was abused, submission ids that lead back to Central): it
    is as confidential as the typed tables and is never part of an export.
    The figures are stored after suppression.
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
    inputs: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # Snapshots taken before migration 0007: the submissions they counted, as
    # [xml_form_id, submission_id, instance_id, review_state]; no inputs.
    counted_submissions: list[list[Any]] | None = Field(
        default=None, sa_column=Column(JSON)
    )
    results: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON))
