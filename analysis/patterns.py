"""Which cells of the sensitive indicators are hidden.

The sensitive indicators of a form that place records in periods by the same
date make one *family* (CP-04 by visit_date; CP-03 by abuse_date; TV-01 to
TV-06 by receipt_date). Every count a family publishes goes into one
suppression (``analysis.suppression``): each indicator's numerator,
denominator and their difference, counting approved submissions only and
counting every one not rejected (so that the two settings of
``include_pending`` cannot be set against each other), and the review-state
counts of its cells when no indicator outside the family shows them. A
hidden cell is hidden for every indicator of the family: TV-02 and TV-06,
which share their denominator, hide the same cells.

The pattern is decided for each calendar year the request touches, over all
its months, quarters and the year itself, at every level and breakdown,
whatever the caller asked for: two requests never show patterns that could be
set side by side. A campaign round is added afterwards, over the years it
touches, hiding its own cells only, as many as the years' patterns need.
(Two different rounds asked for in two requests are not audited together:
rounds are meant to be the campaign's fixed ones.)

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
    """What small-cell suppression hides in one period: the cells' figures,
    and the cells' review-state counts (hidden together) when the family's
    own; hiding the figures hides them too."""

    cells: np.ndarray
    states: np.ndarray | None


def hidden_cells(run: Run, family: Family, periods: Iterable[Period]):
    """For each period (and the year-earlier periods a growth rate needs),
    keyed by its first and last day, what is hidden, laid out as
    ``counting.expand`` lays the cells."""
    wanted = _with_earlier(family, periods)
    years = sorted({y for p in wanted for y in range(p.start.year, p.end.year + 1)})
    found: dict[Span, Hidden] = {}
    for year in years:
        found.update(_year_pattern(run, family, year))
    rounds = [p for p in wanted if p.kind == "round"]
    found.update({(p.start, p.end): _tiled(p, found) for p in rounds if _months(p)})
    other = [p for p in rounds if not _months(p)]
    if other:
        found.update(_round_pattern(run, family, other, found))
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
        lattice = _lattice(run, family, None)
        figures, states = _counts(run, family, periods)
        cells = protect(lattice, figures, run.threshold)
        if states is not None:
            states = protect(lattice, states, run.threshold, hidden=cells)
        run.cache[key] = _by_period(periods, cells, states)
    return run.cache[key]


def _months(period: Period) -> bool:
    """Whether the round is whole months, so whole calendar periods tile it."""
    after = period.end + timedelta(days=1)
    return period.start.day == 1 and after.day == 1


def _tiled(period: Period, found: dict[Span, Hidden]) -> Hidden:
    """A round of whole months shows a cell only when every calendar period
    tiling it (the largest: years, quarters, then months) shows it: its figure
    is then their sum, which tells nobody anything new."""
    pieces = [found[span] for span in _tiling(period)]
    cells = np.logical_or.reduce([p.cells for p in pieces])
    if pieces[0].states is None:
        return Hidden(cells, None)
    return Hidden(cells, np.logical_or.reduce([p.states for p in pieces]))


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


def _round_pattern(run, family: Family, rounds: list[Period], found):
    """Rounds that are not whole months, against the fixed patterns of the
    years they touch: only the rounds' own cells may be hidden for them."""
    years = sorted({y for p in rounds for y in range(p.start.year, p.end.year + 1)})
    calendar = [p for y in years for p in _year_periods(y)]
    fixed = [found[(p.start, p.end)] for p in calendar]
    lattice = _lattice(run, family, tuple(_spans(calendar + rounds)))
    start = lattice.n_cells // (len(calendar) + len(rounds)) * len(calendar)
    movable = np.arange(lattice.n_cells) >= start
    figures, states = _counts(run, family, calendar + rounds)
    threshold = run.threshold

    def hide(counts, before, own):
        hidden = np.concatenate([*before, own])
        return protect(lattice, counts, threshold, hidden=hidden, movable=movable)

    cells = hide(
        figures, [h.cells for h in fixed], np.zeros(lattice.n_cells - start, dtype=bool)
    )
    if states is not None:
        states = np.array(
            [
                hide(row[None], [h.states[i] for h in fixed], cells[start:])
                for i, row in enumerate(states)
            ]
        )[:, start:]
    return _by_period(rounds, cells[start:], states)


def _spans(periods: list[Period]) -> list[Span]:
    return [(p.start, p.end) for p in periods]


def _by_period(periods: list[Period], cells, states) -> dict[Span, Hidden]:
    parts = np.split(cells, len(periods))
    per_state = (
        [None] * len(periods) if states is None else np.split(states, len(periods))
    )
    return {
        (p.start, p.end): Hidden(c, st)
        for p, c, st in zip(periods, parts, per_state, strict=True)
    }


def _counts(run: Run, family: Family, periods: list[Period]):
    """The family's counts, one row each, over the periods' cells; and the
    review-state counts (a row per state) when the family's own."""
    per_period = [_period_counts(run, family, p) for p in periods]
    figures = np.concatenate([f for f, _ in per_period], axis=1)
    if not family.states:
        return figures, None
    return figures, np.concatenate([s for _, s in per_period], axis=1)


def _period_counts(run: Run, family: Family, period: Period):
    prep = run.prepared[family.form]
    breakdowns = has_breakdowns(prep)
    rows = []
    for allowed in (APPROVED_ONLY, NOT_REJECTED):
        for spec in family.specs:
            chosen = select(run, spec, period, allowed)
            num = cube(run, prep, chosen, prep.values[f"{spec.code}:num"])
            rows.append(expand(run.units, num, breakdowns))
            if spec.denominator == "records":
                den = cube(run, prep, chosen, prep.values[f"{spec.code}:den"])
                rows.append(expand(run.units, den, breakdowns))
                rows.append(rows[-1] - rows[-2])
    states = None
    if family.states:
        cubes = status_cubes(run, family.specs[0], period)
        states = np.array([expand(run.units, c, breakdowns) for c in cubes])
    return np.array(rows), states


def _lattice(run: Run, family: Family, spans: tuple[Span, ...] | None) -> Lattice:
    """The family's lattice over ``spans``; None for one calendar year's
    periods, whose structure is the same every year."""
    prep = run.prepared[family.form]
    n_sex, n_age = (prep.n_sex, prep.n_age) if has_breakdowns(prep) else (1, 1)
    if spans is None:
        spans = tuple(_spans(_year_periods(2001)))
    key = (tuple(run.units.slot_district.tolist()), n_sex, n_age, spans)
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
