"""Which cells of the sensitive indicators are hidden.

The sensitive indicators of a form that place records in periods by the same
date make one *family* (CP-04 by visit_date; CP-03 by abuse_date; TV-01 to
TV-06 by receipt_date). Every count a family publishes goes into one
suppression (``analysis.suppression``): each indicator's numerator,
denominator and their difference, counting approved submissions only and
counting every one not rejected, and the difference of the two (so that the
two settings of ``include_pending`` cannot be set against each other to
count the submissions awaiting review), and the review-state
counts of its cells when no indicator outside the family shows them. A
hidden cell is hidden for every indicator of the family: TV-02 and TV-06,
which share their denominator, hide the same cells.

The pattern is decided for each calendar year the request touches, over all
its months, quarters and the year itself, at every level and breakdown,
whatever the caller asked for: two requests never show patterns that could be
set side by side. A campaign round of whole months shows a cell only where
every calendar period tiling it does, so it tells nothing new. A round that
cuts months is hidden whole: rounds of any dates asked for in separate
requests could be set against each other to isolate a few days (until
campaigns fix their rounds, a round must be whole months to be shown).

At commune level a sensitive indicator is shown as totals only, not by sex
or age group: a commune's abused children or victims are too few to be
broken down and too easy to recognise.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from analysis.counting import (
    APPROVED_ONLY,
    NOT_REJECTED,
    Run,
    Spec,
    cube,
    expand,
    has_breakdowns,
    select,
    status_cubes,
)
from analysis.periods import Period, parse_period
from analysis.suppression import (
    Lattice,
    breakdown_axis,
    period_axis,
    protect,
    tree_axis,
)
from analysis.units import Units

Span = tuple[date, date]


@dataclass(frozen=True)
class Family:
    form: str
    date: str | None
    specs: tuple[Spec, ...]
    states: bool  # its review-state counts are shown by no open indicator

    @property
    def key(self) -> tuple[str, str | None]:
        return self.form, self.date


def families(specs: Iterable[Spec]) -> list[Family]:
    specs = list(specs)
    found = []
    for key in dict.fromkeys((s.form, s.date) for s in specs if s.sensitive):
        members = [s for s in specs if (s.form, s.date) == key]
        closed = tuple(s for s in members if s.sensitive)
        states = len(closed) == len(members)
        found.append(Family(key[0], key[1], closed, states))
    return found


@dataclass(frozen=True)
class Hidden:
    """What small-cell suppression hides in one period, per cell: the figures
    counting approved submissions, the figures counting every one not
    rejected, and the review-state counts (None when they are not the
    family's own); each hides at least what ``approved`` hides."""

    approved: np.ndarray
    not_rejected: np.ndarray
    states: np.ndarray | None

    def layers(self) -> list[np.ndarray | None]:
        return [self.approved, self.not_rejected, self.states]


def hidden_cells(run: Run, family: Family, periods: Iterable[Period]):
    """For each period (and the year-earlier periods a growth rate needs),
    keyed by its first and last day, what is hidden, laid out as
    ``counting.expand`` lays the cells."""
    wanted = _with_earlier(family, periods)
    years = sorted({y for p in wanted for y in range(p.start.year, p.end.year + 1)})
    found: dict[Span, Hidden] = {}
    for year in years:
        found.update(_year_pattern(run, family, year))
    for period in (p for p in wanted if p.kind == "round"):
        if _months(period):
            found[(period.start, period.end)] = _tiled(period, found)
        else:
            found[(period.start, period.end)] = _all_hidden(run, family)
            run.warnings.append(
                f"{', '.join(s.code for s in family.specs)}: đợt {period.label} "
                "không gồm trọn các tháng nên các chỉ tiêu này bị ẩn cho đợt đó"
            )
    return found


def _with_earlier(family: Family, periods: Iterable[Period]) -> list[Period]:
    periods = list(periods)
    if any(s.denominator == "previous" for s in family.specs):
        periods += [p.year_earlier() for p in periods]
    return list({(p.start, p.end): p for p in periods}.values())


def _year_periods(year: int) -> list[Period]:
    labels = [f"{year}-{m:02d}" for m in range(1, 13)]
    labels += [f"{year}Q{q}" for q in range(1, 5)] + [str(year)]
    return [parse_period(label) for label in labels]


def _year_pattern(run: Run, family: Family, year: int) -> dict[Span, Hidden]:
    key = ("pattern", family.key, year)
    if key not in run.cache:
        periods = _year_periods(year)
        lattice = _lattice(run, family)
        approved, not_rejected, states = _counts(run, family, periods)
        first = protect(lattice, approved, run.threshold)
        layers = [
            first,
            protect(lattice, not_rejected, run.threshold, hidden=first),
            None if states is None else protect(
                lattice, states, run.threshold, hidden=first
            ),
        ]  # fmt: skip
        run.cache[key] = _by_period(periods, layers)
    return run.cache[key]


def _months(period: Period) -> bool:
    """Whether the round is whole months, so whole calendar periods tile it."""
    after = period.end + timedelta(days=1)
    return period.start.day == 1 and after.day == 1


def _tiled(period: Period, found: dict[Span, Hidden]) -> Hidden:
    """A round of whole months shows a cell only when every calendar period
    tiling it (the largest: years, quarters, then months) shows it: its figure
    is then their sum, which tells nobody anything new."""
    pieces = [found[span].layers() for span in _tiling(period)]
    return Hidden(
        *(
            None if layer[0] is None else np.logical_or.reduce(layer)
            for layer in zip(*pieces, strict=True)
        )
    )


def _tiling(period: Period) -> list[Span]:
    spans, day = [], period.start
    while day <= period.end:
        for label in (str(day.year), f"{day.year}Q{(day.month + 2) // 3}"):
            piece = parse_period(label)
            if piece.start == day and piece.end <= period.end:
                break
        else:
            piece = parse_period(f"{day.year}-{day.month:02d}")
        spans.append((piece.start, piece.end))
        day = piece.end + timedelta(days=1)
    return spans


def _all_hidden(run: Run, family: Family) -> Hidden:
    _, n_geo, n_breakdowns = _lattice(run, family).shape  # one period's cells
    cells = np.ones(n_geo * n_breakdowns, dtype=bool)
    return Hidden(cells, cells, cells if family.states else None)


def _spans(periods: list[Period]) -> list[Span]:
    return [(p.start, p.end) for p in periods]


def _by_period(periods: list[Period], layers) -> dict[Span, Hidden]:
    split = [
        [None] * len(periods) if layer is None else np.split(layer, len(periods))
        for layer in layers
    ]
    return {
        (p.start, p.end): Hidden(*parts)
        for p, *parts in zip(periods, *split, strict=True)
    }


def _counts(run: Run, family: Family, periods: list[Period]):
    """The counts of each layer (see the module docstring), one row each, over
    the periods' cells; None for review states that are not the family's."""
    per_period = [_period_counts(run, family, p) for p in periods]
    return [
        None if parts[0] is None else np.concatenate(parts, axis=1)
        for parts in zip(*per_period, strict=True)
    ]


def _period_counts(run: Run, family: Family, period: Period):
    prep = run.prepared[family.form]
    breakdowns = has_breakdowns(prep)
    per_setting = []
    for allowed in (APPROVED_ONLY, NOT_REJECTED):
        rows = []
        for spec in family.specs:
            chosen = select(run, spec, period, allowed)
            num = cube(run, prep, chosen, prep.values[f"{spec.code}:num"])
            rows.append(expand(run.units, num, breakdowns))
            if spec.denominator == "records":
                den = cube(run, prep, chosen, prep.values[f"{spec.code}:den"])
                rows.append(expand(run.units, den, breakdowns))
                rows.append(rows[-1] - rows[-2])
        per_setting.append(np.array(rows))
    approved, not_rejected = per_setting
    # The latest record of a case may differ between the two settings, so the
    # difference can be negative; what a reader learns is its size.
    awaiting = np.abs(not_rejected - approved)
    states = None
    if family.states:
        cubes = status_cubes(run, family.specs[0], period)
        states = np.array([expand(run.units, c, breakdowns) for c in cubes])
    return approved, np.concatenate([not_rejected, awaiting]), states


def _lattice(run: Run, family: Family) -> Lattice:
    """The family's lattice over one calendar year's periods, whose structure
    is the same every year."""
    prep = run.prepared[family.form]
    n_sex, n_age = (prep.n_sex, prep.n_age) if has_breakdowns(prep) else (1, 1)
    spans = tuple(_spans(_year_periods(2001)))
    key = (tuple(run.units.slot_district.tolist()), n_sex, n_age)
    if key not in _LATTICES:
        _LATTICES[key] = _build_lattice(run.units, n_sex, n_age, spans)
    return _LATTICES[key]


_LATTICES: dict[tuple, Lattice] = {}


def _build_lattice(units: Units, n_sex: int, n_age: int, spans) -> Lattice:
    parent = [-1] + [0] * units.n_districts
    parent += [1 + int(d) for d in units.slot_district]
    breakdowns = breakdown_axis(n_sex, n_age)
    published = np.ones((len(spans), len(parent), breakdowns.size), dtype=bool)
    published[:, 1 + units.n_districts :, 1:] = False  # communes: totals only
    return Lattice(period_axis(spans), tree_axis(parent), breakdowns, published.ravel())
