"""Indicator services: compute from the typed tables, freeze a snapshot, show
it, check it. The CLI and the API call these; the counting is in analysis/.

A snapshot keeps the frozen inputs (analysis.frozen) beside the figures, so
a figure reported once is computed again from exactly what it came from.
"""

import logging
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from analysis.forms import PreparedForm
from analysis.frozen import fingerprint, freeze, submissions, thaw
from analysis.indicators import (
    LEVELS,
    IndicatorResult,
    child_population_for,
    compute_indicators,
    prepare_tables,
)
from analysis.output import records
from analysis.periods import PeriodError, parse_period
from analysis.sources import read_form_tables
from server.audit.service import record
from server.errors import InvalidInput, NotFound
from server.indicators.models import IndicatorSnapshot

logger = logging.getLogger(__name__)

# Rows compared by verify: what identifies a figure.
FIGURE_KEY = ("indicator", "period", "level", "unit_code", "breakdown", "group")
SHOWN_DIFFERENCES = 20


@dataclass(frozen=True)
class Query:
    periods: tuple[str, ...]
    level: str = "district"
    include_pending: bool = False

    def parameters(self, threshold: int) -> dict[str, object]:
        return {
            "periods": list(self.periods),
            "level": self.level,
            "include_pending": self.include_pending,
            "threshold": threshold,
        }


@dataclass
class Inputs:
    """What a computation reads: each form prepared, the child population."""

    prepared: dict[str, PreparedForm]
    population: pd.DataFrame
    warnings: list[str]


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
    return query


def read_inputs(*, session: Session, include_pending: bool) -> Inputs:
    tables, warnings = read_form_tables(session.get_bind())
    population = child_population_for(tables, include_pending=include_pending)
    return Inputs(prepare_tables(tables), population, warnings)


def _compute(inputs: Inputs, query: Query, threshold: int) -> IndicatorResult:
    result = compute_indicators(
        prepared=inputs.prepared,
        child_population=inputs.population,
        periods=list(query.periods),
        level=query.level,
        include_pending=query.include_pending,
        threshold=threshold,
    )
    result.warnings[:0] = inputs.warnings
    return result


def compute(*, session: Session, query: Query, threshold: int) -> IndicatorResult:
    validate(query)
    inputs = read_inputs(session=session, include_pending=query.include_pending)
    return _compute(inputs, query, threshold)


def create_snapshot(
    *, session: Session, query: Query, threshold: int, actor: str
) -> IndicatorSnapshot:
    """Compute the figures and store them with the inputs they came from."""
    validate(query)
    inputs = read_inputs(session=session, include_pending=query.include_pending)
    result = _compute(inputs, query, threshold)
    blob = freeze(inputs.prepared, inputs.population)
    snapshot = IndicatorSnapshot(
        created_by=actor,
        periods=list(query.periods),
        level=query.level,
        include_pending=query.include_pending,
        threshold=threshold,
        data_hash=fingerprint(blob, query.parameters(threshold)),
        n_inputs=sum(p.n for p in inputs.prepared.values()),
        inputs=blob,
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
        "indicator snapshot %s: %s submissions, %s bytes of inputs, hash %s",
        snapshot.id,
        snapshot.n_inputs,
        len(blob),
        snapshot.data_hash,
    )
    return snapshot


def get_snapshot(*, session: Session, snapshot_id: int) -> IndicatorSnapshot:
    snapshot = session.get(IndicatorSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound(f"indicator snapshot {snapshot_id} does not exist")
    return snapshot


def snapshot_submissions(snapshot: IndicatorSnapshot) -> pd.DataFrame:
    """The submissions the snapshot read (form, submission, version, state);
    for a snapshot older than its frozen inputs, those it counted."""
    if snapshot.inputs is None:
        columns = ["xml_form_id", "submission_id", "instance_id", "review_state"]
        return pd.DataFrame(snapshot.counted_submissions or [], columns=columns)
    prepared, _ = thaw(snapshot.inputs)
    return submissions(prepared)


def verify_snapshot(*, session: Session, snapshot_id: int) -> dict[str, object]:
    """Whether the snapshot's own inputs still give its figures (they should,
    unless the counting rules changed since), and whether today's data give
    the same figures; which figures differ, and which submissions."""
    snapshot = get_snapshot(session=session, snapshot_id=snapshot_id)
    query = Query(tuple(snapshot.periods), snapshot.level, snapshot.include_pending)
    reproduced = None  # a snapshot older than its frozen inputs cannot say
    if snapshot.inputs is None:
        then = snapshot_submissions(snapshot)
    else:
        prepared, population = thaw(snapshot.inputs)  # thawed once: it is costly
        then = submissions(prepared)
        again = _compute(Inputs(prepared, population, []), query, snapshot.threshold)
        reproduced = not _differences(snapshot.results, records(again.frame))
    current_inputs = read_inputs(session=session, include_pending=query.include_pending)
    current = _compute(current_inputs, query, snapshot.threshold)
    changed = _differences(snapshot.results, records(current.frame))
    now = submissions(current_inputs.prepared)
    return {
        "snapshot_id": snapshot.id,
        "data_hash": snapshot.data_hash,
        "reproduced": reproduced,
        "unchanged": not changed,
        "figures_changed": len(changed),
        "first_changes": changed[:SHOWN_DIFFERENCES],
        "submissions_gone": _count_missing(then, now),
        "submissions_new": _count_missing(now, then),
    }


def _differences(before: list[dict], after: list[dict]) -> list[dict]:
    """The figures whose row differs, or exists on one side only."""
    keyed_before = {tuple(r[k] for k in FIGURE_KEY): r for r in before}
    keyed_after = {tuple(r[k] for k in FIGURE_KEY): r for r in after}
    found = []
    for key in sorted(keyed_before.keys() | keyed_after.keys(), key=str):
        old, new = keyed_before.get(key), keyed_after.get(key)
        if old != new:
            found.append(
                {
                    **dict(zip(FIGURE_KEY, key, strict=True)),
                    "then": _figure(old),
                    "now": _figure(new),
                }
            )
    return found


def _figure(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {k: row[k] for k in ("numerator", "denominator", "value", "status")}


def _count_missing(left: pd.DataFrame, right: pd.DataFrame) -> int:
    """Submission versions (with their review state) in left, not in right."""
    return len(set(left.itertuples(index=False)) - set(right.itertuples(index=False)))
