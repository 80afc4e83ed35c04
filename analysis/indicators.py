"""Every indicator of the plan, for given periods, at province, district and
commune level, with sex and age-group breakdowns where the form carries them.

``compute_indicators`` takes the typed form tables as DataFrames (see
``analysis.sources`` to read them from a database) and returns one row per
indicator, period, unit and breakdown cell, with its numerator, denominator,
value, the review states of the submissions behind it, small-cell
suppression, and progress against the target; plus warnings.

Counting rules:
- Deleted submissions never count. The typed table holds each submission once,
  in its latest version, so an edited submission counts once.
- By default only approved submissions count; ``include_pending`` counts every
  submission not rejected. Each row carries how many submissions of the form
  fall in its cell (period, unit, breakdown) in each state (``n_approved``,
  ``n_pending`` = no review, hasIssues or edited, ``n_rejected``), whatever is
  counted, so a reader sees how final the figure is. In the child-abuse and
  trafficking indicators these counts go with a suppressed cell, and any of
  them below the threshold is hidden too (they count records of abused
  children or victims).
- Denominators a case record cannot give: DR-13, DR-17 and PR-02 divide by the
  communes of the 2016-2020 list in the unit (156 for the province); a
  commune without an assessment counts as not meeting the criterion. CP-02
  divides by the children under 16 of the period's last year: the reference
  table ``data/child_population.csv`` (commune_code, year, children_under16)
  completed by the commune assessments' ``n_children_u16`` (see
  ``analysis.population``), or the table the caller passes; a unit where a commune
  lacks a figure has no denominator, shown as such, and the sex and age
  breakdowns have none.
- CP-03 (growth of abused children) compares the period with the same dates a
  year earlier: numerator = abused children now minus then, denominator =
  then; cases are dated by abuse_date.
- Indicators whose source is another register are listed once per period at
  province level with status ``no_source`` ("chưa có nguồn dữ liệu").
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from analysis import population
from analysis.catalogue import NO_SOURCE_VI, Indicator, load_catalogue
from analysis.forms import (
    CHILD,
    COMMUNE,
    DELETED,
    SEX_LABELS,
    STATE_NAMES,
    TIP,
    PreparedForm,
    age_labels,
    prepare_form,
)
from analysis.periods import Period, parse_period
from analysis.progress import compare_with, progress
from analysis.suppression import NOT_SUPPRESSED, PRIMARY, hierarchy_groups, suppress
from analysis.units import PROVINCE_CODE, PROVINCE_NAME, Units, load_units

LEVELS = ("province", "district", "commune")
DEFAULT_THRESHOLD = 5
EPOCH = date(1970, 1, 1)

STATUS_VI = {
    "ok": "",
    "no_source": NO_SOURCE_VI,
    "no_denominator": "chưa có mẫu số",
    "zero_denominator": "mẫu số bằng 0",
    "suppressed": "ẩn (ô nhỏ)",
    "no_data": "chưa có dữ liệu",
    "annual_only": "số liệu theo năm: kỳ không trọn năm",
}
BREAKDOWN_VI = {"total": "Tổng", "sex": "Giới tính", "age_group": "Nhóm tuổi"}


@dataclass(frozen=True)
class Spec:
    """How one form-sourced indicator is counted."""

    code: str
    form: str
    date: str | None  # the column that places a record in a period
    denominator: str  # "records", "none", "communes", "population", "previous"
    aggregate: str = "latest"  # annual form: "sum" over years or "latest" year
    sensitive: bool = False  # small-cell suppression applies


SPECS = {
    s.code: s
    for s in (
        Spec("CP-01", CHILD, "visit_date", "records"),
        Spec("CP-02", CHILD, "visit_date", "population"),
        Spec("CP-03", CHILD, "abuse_date", "previous", sensitive=True),
        Spec("CP-04", CHILD, "visit_date", "records", sensitive=True),
        Spec("CP-05", CHILD, "visit_date", "records"),
        Spec("CP-06", CHILD, "visit_date", "records"),
        Spec("DR-01", COMMUNE, None, "records", "sum"),
        Spec("DR-04", COMMUNE, None, "none", "sum"),
        Spec("DR-06", COMMUNE, None, "records", "sum"),
        Spec("DR-07", COMMUNE, None, "records", "sum"),
        Spec("DR-08", COMMUNE, None, "none", "sum"),
        Spec("DR-09", COMMUNE, None, "records", "sum"),
        Spec("DR-10b", COMMUNE, None, "none", "sum"),
        Spec("DR-11", COMMUNE, None, "none", "sum"),
        Spec("DR-12", COMMUNE, None, "none", "sum"),
        Spec("DR-13", COMMUNE, None, "communes", "latest"),
        Spec("DR-14", COMMUNE, None, "none", "sum"),
        Spec("DR-17", COMMUNE, None, "communes", "latest"),
        Spec("PR-02", COMMUNE, None, "communes", "latest"),
        Spec("TV-01", TIP, "receipt_date", "records", sensitive=True),
        Spec("TV-02", TIP, "receipt_date", "records", sensitive=True),
        Spec("TV-03", TIP, "receipt_date", "records", sensitive=True),
        Spec("TV-04", TIP, "receipt_date", "records", sensitive=True),
        Spec("TV-06", TIP, "receipt_date", "records", sensitive=True),
    )
}


@dataclass
class IndicatorResult:
    frame: pd.DataFrame
    warnings: list[str]
    # The submissions counted in at least one cell (snapshot provenance):
    # xml_form_id, submission_id, instance_id, review_state.
    inputs: pd.DataFrame | None = None


@dataclass
class _Run:
    """What one call shares between indicators and periods."""

    prepared: dict[str, PreparedForm]
    units: Units
    allowed: np.ndarray  # allowed[state] -> counted
    threshold: int
    population: pd.DataFrame
    levels: tuple[str, ...]
    start_values: Mapping[str, tuple[int, float]]
    used: dict[str, np.ndarray] | None
    cache: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def prepare_tables(
    tables: Mapping[str, pd.DataFrame], *, units: Units | None = None
) -> dict[str, PreparedForm]:
    """Prepare each form once; the result can be passed to compute_indicators
    for many calls over the same data."""
    units = units or load_units()
    return {
        form: prepare_form(form, frame, units=units) for form, frame in tables.items()
    }


def compute_indicators(
    tables: Mapping[str, pd.DataFrame] | None = None,
    *,
    periods: Sequence[Period | str],
    level: str = "all",
    include_pending: bool = False,
    threshold: int = DEFAULT_THRESHOLD,
    child_population: pd.DataFrame | None = None,
    codes: Iterable[str] | None = None,
    start_values: Mapping[str, tuple[int, float]] | None = None,
    collect_inputs: bool = False,
    prepared: Mapping[str, PreparedForm] | None = None,
) -> IndicatorResult:
    """Compute indicators; ``level`` is one of LEVELS or "all"."""
    if level != "all" and level not in LEVELS:
        raise ValueError(f"level {level!r}: choose province, district or commune")
    if threshold < 1:
        raise ValueError(f"threshold {threshold}: it must be 1 or more")
    units = load_units()
    prepared = dict(prepared) if prepared is not None else prepare_tables(tables or {})
    run = _Run(
        prepared=prepared,
        units=units,
        allowed=np.array([True, include_pending, False, False]),
        threshold=threshold,
        population=_population(child_population, tables, include_pending),
        levels=LEVELS if level == "all" else (level,),
        start_values=start_values or {},
        used={f: np.zeros(p.n, dtype=bool) for f, p in prepared.items()}
        if collect_inputs
        else None,
    )
    for form in (CHILD, COMMUNE, TIP):
        if form not in prepared:
            run.warnings.append(f"no table for form {form}: its indicators are empty")
        else:
            run.warnings.extend(prepared[form].warnings)
    catalogue = load_catalogue()
    wanted = list(codes) if codes is not None else list(catalogue)
    unknown = sorted(set(wanted) - set(catalogue))
    if unknown:
        raise ValueError(f"unknown indicator code(s) {unknown}")
    frames = []
    for text in periods:
        period = parse_period(text) if isinstance(text, str) else text
        for code in wanted:
            frames.append(_indicator_rows(run, catalogue[code], period))
    return IndicatorResult(_frame(frames), _unique(run.warnings), _inputs(run))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _inputs(run: _Run) -> pd.DataFrame | None:
    if run.used is None:
        return None
    parts = []
    for form, used in run.used.items():
        ids = run.prepared[form].ids(np.flatnonzero(used))
        ids.insert(0, "xml_form_id", form)
        parts.append(ids)
    columns = ["xml_form_id", "submission_id", "instance_id", "review_state"]
    if not parts:
        return pd.DataFrame(columns=columns)
    inputs = pd.concat(parts, ignore_index=True)
    return inputs.sort_values(columns[:2], ignore_index=True)


def _population(
    frame: pd.DataFrame | None,
    tables: Mapping[str, pd.DataFrame] | None,
    include_pending: bool,
) -> pd.DataFrame:
    if frame is None:
        frame = population.child_population(
            population.reference_table(),
            (tables or {}).get(COMMUNE),
            include_pending=include_pending,
        )
    missing = {"commune_code", "year", "children_under16"} - set(frame.columns)
    if missing:
        raise ValueError(
            f"child population table lacks column(s) {sorted(missing)}: it needs "
            "commune_code, year, children_under16 (one row per commune and year)"
        )
    return frame.astype({"commune_code": str})


# Selecting the records of a period ------------------------------------------


def _day(value: date) -> int:
    return (value - EPOCH).days


def _full_years(period: Period) -> tuple[int, int]:
    first = period.start.year + (period.start != date(period.start.year, 1, 1))
    last = period.end.year - (period.end != date(period.end.year, 12, 31))
    return first, last


def _in_period(run: _Run, prep: PreparedForm, spec: Spec, period: Period):
    """Which records the period holds, by the spec's date (once per run)."""
    key = ("in_period", prep.form, spec.date, period)
    if key not in run.cache:
        run.cache[key] = _period_mask(prep, spec, period)
    return run.cache[key]


def _period_mask(prep: PreparedForm, spec: Spec, period: Period) -> np.ndarray:
    if prep.form == COMMUNE:
        first, last = _full_years(period)
        return (prep.year >= first) & (prep.year <= last)
    days = prep.days[spec.date]
    return (days >= _day(period.start)) & (days <= _day(period.end))


def _select(run: _Run, spec: Spec, period: Period) -> np.ndarray:
    """Row indices counted: allowed states, in the period, latest per case
    (per commune and year for annual sums)."""
    key = ("select", spec.form, spec.date, spec.aggregate, period)
    if key in run.cache:
        return run.cache[key]
    prep = run.prepared[spec.form]
    # Prepared rows are already in case, date, submission order.
    counted = run.cache.get(("counted", prep.form))
    if counted is None:
        counted = run.cache[("counted", prep.form)] = run.allowed[prep.state]
    rows = np.flatnonzero(_in_period(run, prep, spec, period) & counted)
    case = prep.case[rows]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = case[1:] != case[:-1]
    if prep.form == COMMUNE and spec.aggregate == "sum":
        year = prep.year[rows]
        last[:-1] |= year[1:] != year[:-1]
        _warn_duplicates(run, rows, last, prep)
    run.cache[key] = rows[last]
    return rows[last]


def _warn_duplicates(run: _Run, rows, last, prep: PreparedForm) -> None:
    duplicates = len(rows) - int(last.sum())
    if duplicates:
        run.warnings.append(
            f"{prep.form}: {duplicates} extra submission(s) for a commune-year "
            "already assessed; only the latest submission counts"
        )


def _cube(run: _Run, prep: PreparedForm, rows: np.ndarray, weights) -> np.ndarray:
    shape = (run.units.n_slots, prep.n_sex, prep.n_age)
    keys = _keys(run, prep, rows)
    w = None if weights is None else weights[rows]
    counts = np.bincount(keys, weights=w, minlength=int(np.prod(shape)))
    return counts.astype(float).reshape(shape)


def _keys(run: _Run, prep: PreparedForm, rows: np.ndarray) -> np.ndarray:
    """The cell keys of selected rows, gathered once per selection."""
    cache_key = ("keys", prep.form, id(rows))
    if cache_key not in run.cache:
        run.cache[cache_key] = (rows, prep.key[rows])
    return run.cache[cache_key][1]


def _status_cubes(run: _Run, spec: Spec, period: Period) -> list[np.ndarray]:
    """Submissions of the form in the period (not deleted), by review state."""
    key = ("status", spec.form, spec.date, period)
    if key not in run.cache:
        prep = run.prepared[spec.form]
        live = prep.state != DELETED
        rows = np.flatnonzero(_in_period(run, prep, spec, period) & live)
        size = run.units.n_slots * prep.n_sex * prep.n_age
        keys = prep.state[rows].astype(np.int64) * size + prep.key[rows]
        counts = np.bincount(keys, minlength=len(STATE_NAMES) * size).astype(float)
        shape = (run.units.n_slots, prep.n_sex, prep.n_age)
        run.cache[key] = [c.reshape(shape) for c in np.split(counts, len(STATE_NAMES))]
    return run.cache[key]


# From commune slots to every unit and breakdown ------------------------------


def _expand(units: Units, cube: np.ndarray, breakdowns: bool) -> np.ndarray:
    """Cells laid out as geo * n_breakdowns + breakdown (see suppression)."""
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


def _fixed_denominator(units: Units, per_slot: np.ndarray, n_breakdowns: int):
    cube = per_slot.reshape(-1, 1, 1)
    total = _expand(units, cube, breakdowns=False)
    cells = np.full((len(total), n_breakdowns), np.nan)
    cells[:, 0] = total
    return cells.ravel()


def _population_per_slot(run: _Run, period: Period) -> np.ndarray:
    units = run.units
    year = period.end.year
    rows = run.population[run.population["year"].astype(int) == year]
    figures = dict(zip(rows["commune_code"], rows["children_under16"], strict=True))
    per_slot = np.zeros(units.n_slots)
    for i, code in enumerate(units.slot_codes):
        if units.slot_real[i]:
            per_slot[i] = float(figures.get(code, np.nan))
    return per_slot


def _counts(run: _Run, spec: Spec, period: Period, breakdowns: bool, n_b: int):
    """Numerator and denominator cells, and the counts suppression looks at."""
    prep = run.prepared[spec.form]
    rows = _select(run, spec, period)
    if run.used is not None:
        run.used[spec.form][rows] = True
    num = _expand(run.units, _cube(run, prep, rows, prep.values[f"{spec.code}:num"]),
                  breakdowns)  # fmt: skip
    if spec.denominator == "records":
        den_cube = _cube(run, prep, rows, prep.values[f"{spec.code}:den"])
        den = _expand(run.units, den_cube, breakdowns)
        return num, den, [num, den]
    if spec.denominator == "communes":
        real = run.units.slot_real.astype(float)
        return num, _fixed_denominator(run.units, real, n_b), [num]
    if spec.denominator == "population":
        per_slot = _population_per_slot(run, period)
        return num, _fixed_denominator(run.units, per_slot, n_b), [num]
    if spec.denominator == "previous":
        before = period.year_earlier()
        earlier = _select(run, spec, before)
        if run.used is not None:
            run.used[spec.form][earlier] = True
        prev_cube = _cube(run, prep, earlier, prep.values[f"{spec.code}:num"])
        prev = _expand(run.units, prev_cube, breakdowns)
        return num - prev, prev, [num, prev]
    return num, np.full(len(num), np.nan), [num]


# Rows ------------------------------------------------------------------------


def _layout(units: Units, prep: PreparedForm):
    """Labels of the cells: geo and breakdown of each position."""
    breakdowns = prep.n_sex > 1 or prep.n_age > 1
    kinds, groups = ["total"], [""]
    if breakdowns:
        kinds += ["sex"] * prep.n_sex + ["age_group"] * prep.n_age
        groups += list(SEX_LABELS) + list(age_labels(prep.form))
    return breakdowns, kinds, groups


def _geo_labels(units: Units):
    n_d = units.n_districts
    levels = ["province"] + ["district"] * n_d + ["commune"] * units.n_slots
    codes = [PROVINCE_CODE, *units.district_codes, *units.slot_codes]
    names = [PROVINCE_NAME, *units.district_names, *units.slot_names]
    parent = ["", *[PROVINCE_CODE] * n_d,
              *[units.district_codes[d] for d in units.slot_district]]  # fmt: skip
    real = [True, *[c != "?" for c in units.district_codes], *units.slot_real]
    return levels, codes, names, parent, np.asarray(real)


def _indicator_rows(run: _Run, ind: Indicator, period: Period) -> "Block":
    spec = SPECS.get(ind.code)
    if spec is None or spec.form not in run.prepared:
        return _no_source_rows(run, ind, period, spec)
    prep = run.prepared[spec.form]
    breakdowns, kinds, groups = _layout(run.units, prep)
    n_b = len(kinds)
    num, den, counts = _counts(run, spec, period, breakdowns, n_b)
    status_counts = [
        _expand(run.units, c, breakdowns) for c in _status_cubes(run, spec, period)
    ]
    hidden = _suppression(run, spec, counts, prep, n_b)
    return _assemble(run, ind, spec, period, num, den, status_counts, hidden,
                     kinds, groups)  # fmt: skip


def _suppression(run: _Run, spec: Spec, counts, prep: PreparedForm, n_b: int):
    if not spec.sensitive:
        return np.zeros(len(counts[0]), dtype=np.int8)
    groups = hierarchy_groups(
        tuple(int(d) for d in run.units.slot_district),
        run.units.n_districts,
        prep.n_sex if n_b > 1 else 1,
        prep.n_age if n_b > 1 else 1,
    )
    return suppress(counts, groups, run.threshold)


def _values(ind: Indicator, num: np.ndarray, den: np.ndarray):
    status = np.full(len(num), "ok", dtype=object)
    if ind.factor == "count":
        return num.copy(), status
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(den > 0, 100.0 * num / den, np.nan)
    status[np.isnan(den)] = "no_denominator"
    status[den == 0] = "zero_denominator"
    return value, status


COLUMNS = (
    "indicator", "name_vi", "name_en", "factor", "period", "period_start",
    "period_end", "level", "unit_code", "unit_name", "parent_code", "breakdown",
    "group", "numerator", "denominator", "value", "status", "status_vi",
    "suppression", "n_approved", "n_pending", "n_rejected", "target",
    "target_compared", "target_section", "other_targets", "gap", "on_track",
)  # fmt: skip
Block = dict[str, np.ndarray]


def _frame(blocks: list[Block]) -> pd.DataFrame:
    """One DataFrame from the blocks: built once, since a DataFrame per
    indicator and period costs more than all the counting."""
    if not blocks:
        return pd.DataFrame(columns=list(COLUMNS))
    lengths = [b["n"] for b in blocks]
    columns = {}
    for c in COLUMNS:
        if c in blocks[0]["constants"]:
            per_block = np.array([b["constants"][c] for b in blocks], dtype=object)
            columns[c] = np.repeat(per_block, lengths)
        elif c != "status_vi":
            columns[c] = np.concatenate([b[c] for b in blocks])
    frame = pd.DataFrame(columns)
    frame.insert(
        COLUMNS.index("status_vi"), "status_vi", frame["status"].map(STATUS_VI)
    )
    for name in ("numerator", "denominator", "value", "target", "gap"):
        frame[name] = frame[name].astype(float)
    for name in ("n_approved", "n_pending", "n_rejected"):
        frame[name] = frame[name].astype(float)
    return frame


def _labels(run: _Run) -> dict[str, np.ndarray]:
    if "labels" not in run.cache:
        levels, codes, names, parent, real = _geo_labels(run.units)
        run.cache["labels"] = {
            "level": np.asarray(levels, dtype=object),
            "unit_code": np.asarray(codes, dtype=object),
            "unit_name": np.asarray(names, dtype=object),
            "parent_code": np.asarray(parent, dtype=object),
            "real": real,
        }
    return run.cache["labels"]


def _assemble(run, ind, spec, period, num, den, status_counts, hidden, kinds, groups):
    n_b = len(kinds)
    value, status = _values(ind, num, den)
    if spec.form == COMMUNE and _full_years(period)[0] > _full_years(period)[1]:
        num, den = np.full(len(num), np.nan), np.full(len(num), np.nan)
        value = np.full(len(num), np.nan)
        status[:] = "annual_only"
    suppressed = hidden != NOT_SUPPRESSED
    num, den, value = (np.where(suppressed, np.nan, a) for a in (num, den, value))
    status[suppressed] = "suppressed"
    state_counts = [np.where(suppressed, np.nan, c) for c in status_counts]
    if spec.sensitive:
        state_counts = [
            np.where((c > 0) & (c < run.threshold), np.nan, c) for c in state_counts
        ]

    labels = _labels(run)
    n_geo = len(labels["level"])
    geo = np.repeat(np.arange(n_geo), n_b)
    keep = np.isin(labels["level"][geo], run.levels)
    # Extra "not known" units appear only when they hold something.
    has_data = (sum(status_counts) > 0) | suppressed
    keep &= labels["real"][geo] | has_data
    n = int(keep.sum())
    block = {
        name: labels[name][geo][keep]
        for name in ("level", "unit_code", "unit_name", "parent_code")
    }
    block.update(
        breakdown=np.tile(np.asarray(kinds, dtype=object), n_geo)[keep],
        group=np.tile(np.asarray(groups, dtype=object), n_geo)[keep],
        numerator=num[keep],
        denominator=den[keep],
        value=value[keep],
        status=status[keep],
        suppression=np.where(
            hidden == PRIMARY, "primary", np.where(suppressed, "complementary", "")
        ).astype(object)[keep],
        n_approved=state_counts[0][keep],
        n_pending=state_counts[1][keep],
        n_rejected=state_counts[2][keep],
    )
    return _with_progress(run, ind, period, block, n)


def _constant(n: int, value) -> np.ndarray:
    return np.full(n, value, dtype=object)


def _with_progress(run: _Run, ind: Indicator, period: Period, block, n) -> Block:
    comparison = compare_with(ind, period, run.start_values.get(ind.code))
    gap, on_track = progress(block["value"].astype(float), comparison)
    target = np.full(n, np.nan if comparison.figure is None else comparison.figure)
    if ind.factor == "count":
        # The plan gives count targets for the province only.
        mask = ~((block["level"] == "province") & (block["breakdown"] == "total"))
        target[mask], gap[mask] = np.nan, np.nan
        on_track[mask] = None
    chosen = comparison.target
    others = "; ".join(t.describe() for t in ind.other_targets(chosen))
    block["constants"] = {
        "indicator": ind.code,
        "name_vi": ind.name_vi,
        "name_en": ind.name_en,
        "factor": ind.factor,
        "period": period.label,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "target_compared": comparison.label,
        "target_section": chosen.section if chosen else "",
        "other_targets": others,
    }
    block["n"] = n
    block.update(
        target=target,
        gap=gap,
        on_track=on_track,
    )
    return block


def _no_source_rows(run: _Run, ind: Indicator, period: Period, spec) -> Block:
    status = "no_source" if spec is None else "no_data"
    if spec is not None:
        run.warnings.append(f"{ind.code}: form {spec.form} has no table yet")
    block = {
        "level": _constant(1, "province"),
        "unit_code": _constant(1, PROVINCE_CODE),
        "unit_name": _constant(1, PROVINCE_NAME),
        "parent_code": _constant(1, ""),
        "breakdown": _constant(1, "total"),
        "group": _constant(1, ""),
        "numerator": np.full(1, np.nan),
        "denominator": np.full(1, np.nan),
        "value": np.full(1, np.nan),
        "status": _constant(1, status),
        "suppression": _constant(1, ""),
        "n_approved": np.full(1, np.nan),
        "n_pending": np.full(1, np.nan),
        "n_rejected": np.full(1, np.nan),
    }
    return _with_progress(run, ind, period, block, 1)


__all__ = [
    "DEFAULT_THRESHOLD",
    "LEVELS",
    "SPECS",
    "IndicatorResult",
    "compute_indicators",
    "prepare_tables",
]
