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
  counted, so a reader sees how final the figure is.
- Small-cell suppression (child-abuse and trafficking indicators): a hidden
  cell shows neither its figures nor its review-state counts; which cells are
  hidden, and why no hidden count can be worked out from the rest, is
  ``analysis.patterns``. At commune level these indicators are shown as
  totals only.
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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import population
from analysis.catalogue import NO_SOURCE_VI, Indicator, load_catalogue
from analysis.counting import (
    APPROVED_ONLY,
    NOT_REJECTED,
    Run,
    Spec,
    cube,
    expand,
    full_years,
    has_breakdowns,
    select,
    status_cubes,
)
from analysis.forms import (
    CHILD,
    COMMUNE,
    SEX_LABELS,
    TIP,
    PreparedForm,
    age_labels,
    prepare_form,
)
from analysis.patterns import families, hidden_cells
from analysis.periods import Period, parse_period
from analysis.progress import compare_with, progress
from analysis.units import PROVINCE_CODE, PROVINCE_NAME, Units, load_units

LEVELS = ("province", "district", "commune")
DEFAULT_THRESHOLD = 5

STATUS_VI = {
    "ok": "",
    "no_source": NO_SOURCE_VI,
    "no_denominator": "chưa có mẫu số",
    "zero_denominator": "mẫu số bằng 0",
    "suppressed": "ẩn (ô nhỏ)",
    "no_data": "chưa có dữ liệu",
    "annual_only": "số liệu theo năm: kỳ không trọn năm",
}


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


FAMILIES = families(SPECS.values())


@dataclass
class IndicatorResult:
    frame: pd.DataFrame
    warnings: list[str]


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
    prepared: Mapping[str, PreparedForm] | None = None,
) -> IndicatorResult:
    """Compute indicators; ``level`` is one of LEVELS or "all"."""
    if level != "all" and level not in LEVELS:
        raise ValueError(f"level {level!r}: choose province, district or commune")
    if threshold < 1:
        raise ValueError(f"threshold {threshold}: it must be 1 or more")
    prepared = dict(prepared) if prepared is not None else prepare_tables(tables or {})
    run = Run(
        prepared=prepared,
        units=load_units(),
        allowed=NOT_REJECTED if include_pending else APPROVED_ONLY,
        threshold=threshold,
        population=_population(child_population, tables, include_pending),
        levels=LEVELS if level == "all" else (level,),
        start_values=start_values or {},
        periods=tuple(parse_period(p) if isinstance(p, str) else p for p in periods),
    )
    for form in (CHILD, COMMUNE, TIP):
        if form not in prepared:
            run.warnings.append(
                f"chưa có bảng của biểu mẫu {form}: các chỉ tiêu của nó để trống"
            )
        else:
            run.warnings.extend(prepared[form].warnings)
    catalogue = load_catalogue()
    wanted = list(codes) if codes is not None else list(catalogue)
    unknown = sorted(set(wanted) - set(catalogue))
    if unknown:
        raise ValueError(f"unknown indicator code(s) {unknown}")
    blocks = [
        _indicator_rows(run, catalogue[code], period)
        for period in run.periods
        for code in wanted
    ]
    return IndicatorResult(_frame(blocks), _unique(run.warnings))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def child_population_for(
    tables: Mapping[str, pd.DataFrame] | None, *, include_pending: bool
) -> pd.DataFrame:
    """CP-02's children under 16 per commune and year, from the reference
    table and the commune assessments among ``tables``."""
    return population.child_population(
        population.reference_table(),
        (tables or {}).get(COMMUNE),
        include_pending=include_pending,
    )


def _population(
    frame: pd.DataFrame | None,
    tables: Mapping[str, pd.DataFrame] | None,
    include_pending: bool,
) -> pd.DataFrame:
    if frame is None:
        frame = child_population_for(tables, include_pending=include_pending)
    missing = {"commune_code", "year", "children_under16"} - set(frame.columns)
    if missing:
        raise ValueError(
            f"child population table lacks column(s) {sorted(missing)}: it needs "
            "commune_code, year, children_under16 (one row per commune and year)"
        )
    return frame.astype({"commune_code": str})


# Numerators and denominators ------------------------------------------------


def _fixed_denominator(units: Units, per_slot: np.ndarray, n_breakdowns: int):
    total = expand(units, per_slot.reshape(-1, 1, 1), breakdowns=False)
    cells = np.full((len(total), n_breakdowns), np.nan)
    cells[:, 0] = total
    return cells.ravel()


def _population_per_slot(run: Run, period: Period) -> np.ndarray:
    units = run.units
    year = period.end.year
    rows = run.population[run.population["year"].astype(int) == year]
    figures = dict(zip(rows["commune_code"], rows["children_under16"], strict=True))
    per_slot = np.zeros(units.n_slots)
    for i, code in enumerate(units.slot_codes):
        if units.slot_real[i]:
            per_slot[i] = float(figures.get(code, np.nan))
    return per_slot


def _counts(run: Run, spec: Spec, period: Period, breakdowns: bool, n_b: int):
    """Numerator and denominator cells."""
    prep = run.prepared[spec.form]
    rows = select(run, spec, period)
    num_cube = cube(run, prep, rows, prep.values[f"{spec.code}:num"])
    num = expand(run.units, num_cube, breakdowns)
    if spec.denominator == "records":
        den_cube = cube(run, prep, rows, prep.values[f"{spec.code}:den"])
        return num, expand(run.units, den_cube, breakdowns)
    if spec.denominator == "communes":
        real = run.units.slot_real.astype(float)
        return num, _fixed_denominator(run.units, real, n_b)
    if spec.denominator == "population":
        per_slot = _population_per_slot(run, period)
        return num, _fixed_denominator(run.units, per_slot, n_b)
    if spec.denominator == "previous":
        earlier = select(run, spec, period.year_earlier())
        prev_cube = cube(run, prep, earlier, prep.values[f"{spec.code}:num"])
        prev = expand(run.units, prev_cube, breakdowns)
        return num - prev, prev
    return num, np.full(len(num), np.nan)


def _hidden(run: Run, spec: Spec, period: Period, n_cells: int):
    """What small-cell suppression hides (analysis.patterns): the cells'
    figures as this run counts them, and their review-state counts (one
    mask for every state; None when nothing is hidden); for a growth rate,
    what either the period or the year-earlier period hides."""
    if not spec.sensitive:
        return np.zeros(n_cells, dtype=bool), None
    family = next(f for f in FAMILIES if spec in f.specs)
    key = ("hidden", family.key)
    if key not in run.cache:
        run.cache[key] = hidden_cells(run, family, run.periods)
    spans = [(period.start, period.end)]
    if spec.denominator == "previous":
        earlier = period.year_earlier()
        spans.append((earlier.start, earlier.end))
    parts = [run.cache[key][span] for span in spans]
    layer = "approved" if run.allowed == APPROVED_ONLY else "not_rejected"
    cells = np.logical_or.reduce([getattr(p, layer) for p in parts])
    states = cells
    if parts[0].states is not None:
        states = np.logical_or.reduce([p.states for p in parts]) | cells
    return cells, states


# Rows ------------------------------------------------------------------------


def _layout(units: Units, prep: PreparedForm):
    """Labels of the cells: geo and breakdown of each position."""
    breakdowns = has_breakdowns(prep)
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


def _indicator_rows(run: Run, ind: Indicator, period: Period) -> "Block":
    spec = SPECS.get(ind.code)
    if spec is None or spec.form not in run.prepared:
        return _no_source_rows(run, ind, period, spec)
    prep = run.prepared[spec.form]
    breakdowns, kinds, groups = _layout(run.units, prep)
    num, den = _counts(run, spec, period, breakdowns, len(kinds))
    status_counts = [
        expand(run.units, c, breakdowns) for c in status_cubes(run, spec, period)
    ]
    hidden, hidden_states = _hidden(run, spec, period, len(num))
    if hidden_states is not None:
        status_counts = [np.where(hidden_states, np.nan, c) for c in status_counts]
    return _assemble(run, ind, spec, period, num, den, status_counts, hidden,
                     kinds, groups)  # fmt: skip


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
    "n_approved", "n_pending", "n_rejected", "target",
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


def _labels(run: Run) -> dict[str, np.ndarray]:
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
    if spec.form == COMMUNE and full_years(period)[0] > full_years(period)[1]:
        num, den = np.full(len(num), np.nan), np.full(len(num), np.nan)
        value = np.full(len(num), np.nan)
        status[:] = "annual_only"
    num, den, value = (np.where(hidden, np.nan, a) for a in (num, den, value))
    status[hidden] = "suppressed"

    labels = _labels(run)
    n_geo = len(labels["level"])
    geo = np.repeat(np.arange(n_geo), n_b)
    keep = np.isin(labels["level"][geo], run.levels)
    if spec.sensitive:
        # Communes by total only; every "not known" unit listed, since one
        # shown only when it holds something would say so.
        commune = labels["level"][geo] == "commune"
        keep &= ~commune | (np.tile(np.asarray(kinds), n_geo) == "total")
    else:
        # Extra "not known" units appear only when they hold something.
        keep &= labels["real"][geo] | (sum(status_counts) > 0)
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
        n_approved=status_counts[0][keep],
        n_pending=status_counts[1][keep],
        n_rejected=status_counts[2][keep],
    )
    return _with_progress(run, ind, period, block, n)


def _constant(n: int, value) -> np.ndarray:
    return np.full(n, value, dtype=object)


def _with_progress(run: Run, ind: Indicator, period: Period, block, n) -> Block:
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


def _no_source_rows(run: Run, ind: Indicator, period: Period, spec) -> Block:
    status = "no_source" if spec is None else "no_data"
    if spec is not None:
        run.warnings.append(f"{ind.code}: biểu mẫu {spec.form} chưa có bảng")
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
    "child_population_for",
    "compute_indicators",
    "prepare_tables",
]
