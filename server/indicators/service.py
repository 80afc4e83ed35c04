"""Indicator services: compute from the typed tables, freeze a snapshot, show it.

The CLI and the API call these; the counting itself is in analysis/.
"""

import logging
from dataclasses import dataclass

from sqlmodel import Session

from analysis.indicators import LEVELS, IndicatorResult, compute_indicators
from analysis.output import fingerprint, records
from analysis.periods import PeriodError, parse_period
from analysis.sources import read_form_tables
from server.audit.service import record
from server.errors import InvalidInput, NotFound
from server.indicators.models import IndicatorSnapshot

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Query:
    periods: tuple[str, ...]
    level: str = "district"
    include_pending: bool = False
    threshold: int = 5

    def parameters(self) -> dict[str, object]:
        return {
            "periods": list(self.periods),
            "level": self.level,
            "include_pending": self.include_pending,
            "threshold": self.threshold,
        }


def validate(query: Query) -> Query:
    """Refuse a query the analysis cannot answer, saying which part is wrong."""
    if not query.periods:
        raise InvalidInput("give at least one period, e.g. --period 2026Q3")
    for text in query.periods:
        try:
            parse_period(text)
        except (PeriodError, ValueError) as err:
            raise InvalidInput(str(err), parameter="period") from err
    if query.level not in (*LEVELS, "all"):
        raise InvalidInput(
            f"level {query.level!r}: choose province, district, commune or all",
            parameter="level",
        )
    if query.threshold < 1:
        raise InvalidInput("threshold must be 1 or more", parameter="threshold")
    return query


def compute(
    *, session: Session, query: Query, collect_inputs: bool = False
) -> IndicatorResult:
    validate(query)
    tables, warnings = read_form_tables(session.get_bind())
    result = compute_indicators(
        tables,
        periods=list(query.periods),
        level=query.level,
        include_pending=query.include_pending,
        threshold=query.threshold,
        collect_inputs=collect_inputs,
    )
    result.warnings[:0] = warnings
    return result


def create_snapshot(*, session: Session, query: Query, actor: str) -> IndicatorSnapshot:
    """Compute and store the figures with the ids of every submission counted."""
    result = compute(session=session, query=query, collect_inputs=True)
    inputs = result.inputs
    snapshot = IndicatorSnapshot(
        created_by=actor,
        periods=list(query.periods),
        level=query.level,
        include_pending=query.include_pending,
        threshold=query.threshold,
        data_hash=fingerprint(inputs, query.parameters()),
        n_inputs=len(inputs),
        inputs=[list(map(_plain, row)) for row in inputs.itertuples(index=False)],
        results=records(result.frame),
        warnings=result.warnings,
    )
    session.add(snapshot)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="indicators.snapshot",
        resource_type="indicator_snapshot",
        resource_id=str(snapshot.id),
        details={"data_hash": snapshot.data_hash, "n_inputs": snapshot.n_inputs},
    )
    logger.info(
        "indicator snapshot %s: %s submissions, hash %s",
        snapshot.id,
        snapshot.n_inputs,
        snapshot.data_hash,
    )
    return snapshot


def _plain(value):
    return None if value is None or value != value else str(value)


def get_snapshot(*, session: Session, snapshot_id: int) -> IndicatorSnapshot:
    snapshot = session.get(IndicatorSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound(f"indicator snapshot {snapshot_id} does not exist")
    return snapshot


def verify_snapshot(*, session: Session, snapshot_id: int) -> dict[str, object]:
    """Recompute with the snapshot's parameters and compare the data hash: the
    same hash means the same submissions, in the same versions and review
    states, would give the same figures today."""
    snapshot = get_snapshot(session=session, snapshot_id=snapshot_id)
    query = Query(
        periods=tuple(snapshot.periods),
        level=snapshot.level,
        include_pending=snapshot.include_pending,
        threshold=snapshot.threshold,
    )
    result = compute(session=session, query=query, collect_inputs=True)
    now = fingerprint(result.inputs, query.parameters())
    then = {tuple(row) for row in snapshot.inputs}
    current = {tuple(map(_plain, row)) for row in result.inputs.itertuples(index=False)}
    return {
        "snapshot_id": snapshot.id,
        "data_hash": snapshot.data_hash,
        "current_hash": now,
        "unchanged": now == snapshot.data_hash,
        "no_longer_counted": len(then - current),
        "newly_counted": len(current - then),
    }
