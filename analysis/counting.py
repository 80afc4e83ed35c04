"""Counting prepared records into cells: which records a period holds, one
count per case, and the cells of every unit and breakdown.

A *cube* holds one count per commune slot, sex and age group; ``expand``
lays it out as the cells the indicators publish: geo * n_breakdowns +
breakdown, geo being the province (0), the districts (1..D) and the commune
slots, breakdown being the total (0), the sex cells and the age-group cells
(none when the form has no sex or age).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from analysis.forms import COMMUNE, DELETED, STATE_NAMES, PreparedForm
from analysis.periods import Period
from analysis.units import Units

EPOCH = date(1970, 1, 1)
APPROVED_ONLY = (True, False, False, False)  # allowed[state] -> counted
NOT_REJECTED = (True, True, False, False)


@dataclass(frozen=True)
class Spec:
    """How one form-sourced indicator is counted."""

    code: str
    form: str
    date: str | None  # the column that places a record in a period
    denominator: str  # "records", "none", "communes", "population", "previous"
    aggregate: str = "latest"  # annual form: "sum" over years or "latest" year
    sensitive: bool = False  # small-cell suppression applies


@dataclass
class Run:
    """What one computation shares between indicators and periods."""

    prepared: dict[str, PreparedForm]
    units: Units
    allowed: tuple[bool, ...]
    threshold: int
    population: pd.DataFrame
    levels: tuple[str, ...]
    start_values: Mapping[str, tuple[int, float]]
    periods: tuple[Period, ...] = ()
    cache: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _day(value: date) -> int:
    return (value - EPOCH).days


def full_years(period: Period) -> tuple[int, int]:
    """The first and last calendar years lying whole inside the period."""
    first = period.start.year + (period.start != date(period.start.year, 1, 1))
    last = period.end.year - (period.end != date(period.end.year, 12, 31))
    return first, last


def in_period(run: Run, prep: PreparedForm, spec: Spec, period: Period):
    """Which records the period holds, by the spec's date (once per run)."""
    key = ("in_period", prep.form, spec.date, period)
    if key not in run.cache:
        run.cache[key] = _period_mask(prep, spec, period)
    return run.cache[key]


def _period_mask(prep: PreparedForm, spec: Spec, period: Period) -> np.ndarray:
    if prep.form == COMMUNE:
        first, last = full_years(period)
        return (prep.year >= first) & (prep.year <= last)
    days = prep.days[spec.date]
    return (days >= _day(period.start)) & (days <= _day(period.end))


def select(
    run: Run, spec: Spec, period: Period, allowed: tuple[bool, ...] | None = None
) -> np.ndarray:
    """Row indices counted: allowed states (the run's unless given), in the
    period, latest per case (per commune and year for annual sums)."""
    allowed = run.allowed if allowed is None else allowed
    key = ("select", spec.form, spec.date, spec.aggregate, period, allowed)
    if key in run.cache:
        return run.cache[key]
    prep = run.prepared[spec.form]
    # Prepared rows are already in case, date, submission order.
    counted = run.cache.get(("counted", prep.form, allowed))
    if counted is None:
        counted = np.asarray(allowed)[prep.state]
        run.cache[("counted", prep.form, allowed)] = counted
    rows = np.flatnonzero(in_period(run, prep, spec, period) & counted)
    case = prep.case[rows]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = case[1:] != case[:-1]
    if prep.form == COMMUNE and spec.aggregate == "sum":
        year = prep.year[rows]
        last[:-1] |= year[1:] != year[:-1]
        if allowed == run.allowed:
            _warn_duplicates(run, rows, last, prep)
    run.cache[key] = rows[last]
    return rows[last]


def _warn_duplicates(run: Run, rows, last, prep: PreparedForm) -> None:
    duplicates = len(rows) - int(last.sum())
    if duplicates:
        run.warnings.append(
            f"{prep.form}: {duplicates} phiếu thừa cho một xã trong một năm đã "
            "đánh giá; chỉ tính phiếu gửi sau cùng"
        )


def cube(run: Run, prep: PreparedForm, rows: np.ndarray, weights) -> np.ndarray:
    """Counts (or sums of ``weights``) of the rows per slot, sex, age group."""
    shape = (run.units.n_slots, prep.n_sex, prep.n_age)
    keys = _keys(run, prep, rows)
    w = None if weights is None else weights[rows]
    counts = np.bincount(keys, weights=w, minlength=int(np.prod(shape)))
    return counts.astype(float).reshape(shape)


def _keys(run: Run, prep: PreparedForm, rows: np.ndarray) -> np.ndarray:
    """The cell keys of selected rows, gathered once per selection."""
    cache_key = ("keys", prep.form, id(rows))
    if cache_key not in run.cache:
        run.cache[cache_key] = (rows, prep.key[rows])
    return run.cache[cache_key][1]


def status_cubes(run: Run, spec: Spec, period: Period) -> list[np.ndarray]:
    """Submissions of the form in the period (not deleted), by review state."""
    key = ("status", spec.form, spec.date, period)
    if key not in run.cache:
        prep = run.prepared[spec.form]
        live = prep.state != DELETED
        rows = np.flatnonzero(in_period(run, prep, spec, period) & live)
        size = run.units.n_slots * prep.n_sex * prep.n_age
        keys = prep.state[rows].astype(np.int64) * size + prep.key[rows]
        counts = np.bincount(keys, minlength=len(STATE_NAMES) * size).astype(float)
        shape = (run.units.n_slots, prep.n_sex, prep.n_age)
        run.cache[key] = [c.reshape(shape) for c in np.split(counts, len(STATE_NAMES))]
    return run.cache[key]


def has_breakdowns(prep: PreparedForm) -> bool:
    return prep.n_sex > 1 or prep.n_age > 1


def expand(units: Units, cube: np.ndarray, breakdowns: bool) -> np.ndarray:
    """Cells laid out as geo * n_breakdowns + breakdown (module docstring)."""
    flat = cube.reshape(cube.shape[0], -1)
    missing = np.isnan(flat)
    district = units.district_matrix @ (np.where(missing, 0.0, flat))
    if missing.any():
        # A district with a commune lacking a figure has no figure (0 x NaN
        # would spread NaN to every district in a plain product).
        district[(units.district_matrix @ missing) > 0] = np.nan
    district = district.reshape(-1, *cube.shape[1:])
    geo = np.concatenate([cube.sum(axis=0, keepdims=True), district, cube])
    total = geo.sum(axis=(1, 2))[:, None]
    if not breakdowns:
        return total.ravel()
    return np.concatenate([total, geo.sum(axis=2), geo.sum(axis=1)], axis=1).ravel()
