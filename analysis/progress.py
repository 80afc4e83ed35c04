"""Progress of a value against the plan's target.

- The compared target is the one ``Indicator.target_for`` picks for the
  period's last year (a 2026 period is compared with the plan's 2020 target:
  the plan ran 2016-2020 and has no later figure).
- A count target over several years (DR-08: 200 people in 2016-2020) is
  pro-rated to the period's length: a quarter is compared with 200 x 92 /
  1827. A count target is shown only on province rows: the plan does not
  split it between districts. A percentage target applies to every row.
- ``gap`` is in the indicator's unit and positive when the value falls short
  of the target (for an "at most" target such as CP-02: above it).
- ``on_track``: when the period ends in or after the target year, whether the
  target is met. Before it, whether the value is on or ahead of the straight
  line from a start point to the target in the target year. The start point is
  the catalogue's baseline, placed in 2016 (the plan's first year, since
  CP-02's baseline year is not stated), or a start value the caller observed
  (``start_values``); with neither, a value that already meets the target is
  on track and any other is undecided (None). Pro-rated count targets are
  judged against the pro-rated figure. A directional target (CP-03: reduce
  the growth of abused children) is on track when the value, a growth rate
  against the same period a year earlier, is below zero; it has no gap.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np

from analysis.catalogue import Indicator, Target
from analysis.periods import Period

PLAN_START_YEAR = 2016


@dataclass(frozen=True)
class Comparison:
    target: Target | None
    figure: float | None  # the target figure this period is compared with
    prorated: bool
    expected: float | None  # where the straight line stands at the period's end

    @property
    def label(self) -> str:
        if self.target is None:
            return ""
        text = self.target.describe()
        return f"{text}, pro-rata {self.figure:.4g}" if self.prorated else text


def _span_days(target: Target) -> int:
    first = date(target.year - target.span_years + 1, 1, 1)
    return (date(target.year, 12, 31) - first).days + 1


def compare_with(
    indicator: Indicator, period: Period, start: tuple[int, float] | None = None
) -> Comparison:
    target = indicator.target_for(period.end.year)
    if target is None or target.value is None:
        return Comparison(target, None, False, None)
    if target.span_years:
        figure = target.value * period.days / _span_days(target)
        return Comparison(target, figure, True, figure)
    if period.end.year >= target.year:
        return Comparison(target, target.value, False, target.value)
    if start is None and indicator.baseline is not None:
        start = (PLAN_START_YEAR, indicator.baseline)
    if start is None or start[0] >= target.year:
        return Comparison(target, target.value, False, None)
    year, value = start
    share = (period.end.year - year) / (target.year - year)
    expected = value + (target.value - value) * max(0.0, share)
    return Comparison(target, target.value, False, expected)


def _meets(values: np.ndarray, figure: float, comparator: str) -> np.ndarray:
    if comparator == "<=":
        return values <= figure + 1e-9
    return values >= figure - 1e-9


def progress(
    values: np.ndarray, comparison: Comparison
) -> tuple[np.ndarray, np.ndarray]:
    """Gap and on-track (True, False or None) for each value."""
    n = len(values)
    on_track = np.full(n, None, dtype=object)
    target = comparison.target
    if target is not None and target.comparator == "decrease":
        for i in np.flatnonzero(~np.isnan(values)):
            on_track[i] = bool(values[i] < 0)
        return np.full(n, np.nan), on_track
    if target is None or comparison.figure is None:
        return np.full(n, np.nan), on_track
    sign = -1.0 if target.comparator == "<=" else 1.0
    gap = sign * (comparison.figure - values)
    known = ~np.isnan(values)
    if comparison.expected is not None:
        meets = _meets(values, comparison.expected, target.comparator)
    else:
        meets = _meets(values, comparison.figure, target.comparator)
        # Short of the final target, with no start point to draw a line from.
        meets = np.where(meets, True, None)
    for i in np.flatnonzero(known):
        on_track[i] = None if meets[i] is None else bool(meets[i])
    return gap, on_track
