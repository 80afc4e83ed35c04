"""Small-cell suppression with complementary suppression.

A table of cells is described by additive *groups*: a total and the parts it
is the sum of (a district and its communes; a commune's total and its sex
cells; its total and its age-group cells). A cell is suppressed first when
one of its counts is at least 1 and below the threshold. Then, as long as a
group has exactly one suppressed cell, one more cell of that group is
suppressed (the smallest non-zero part not yet hidden; else a zero part; else
the total), because a lone hidden cell equals its total minus the shown
parts. The loop runs until no group has exactly one hidden cell.

A zero is not suppressed for itself: "no abused child recorded in commune X"
discloses nobody. It is hidden when it is chosen as a complement only when no
non-zero part is left.

Shortcoming, stated plainly: this is the classic one-equation safeguard. It
stops recovery of a hidden cell from any single total, not every
linear-programming attack across many overlapping totals (what tau-ARGUS's
optimal methods solve); with our two-level hierarchy and two one-way margins
that residual risk is small but not zero.
"""

from collections.abc import Sequence
from functools import cache

import numpy as np

Group = tuple[int, np.ndarray]  # (total cell, part cells)

NOT_SUPPRESSED, PRIMARY, COMPLEMENTARY = 0, 1, 2


def primary_cells(counts: Sequence[np.ndarray], threshold: int) -> np.ndarray:
    """Cells where some count is 1 to threshold - 1."""
    small = np.zeros(len(counts[0]), dtype=bool)
    for count in counts:
        values = np.nan_to_num(np.asarray(count, dtype=float), nan=0.0)
        small |= (values > 0) & (values < threshold)
    return small


class GroupTable:
    """Groups, plus flat arrays to count hidden members of all groups at once."""

    def __init__(self, groups: Sequence[Group]) -> None:
        self.groups = [(int(t), np.asarray(p, dtype=np.int64)) for t, p in groups]
        self.cells = np.concatenate(
            [np.r_[t, p] for t, p in self.groups] or [np.zeros(0, np.int64)]
        ).astype(np.int64)
        sizes = [1 + len(p) for _, p in self.groups]
        self.owner = np.repeat(np.arange(len(self.groups)), sizes)

    def hidden_per_group(self, status: np.ndarray) -> np.ndarray:
        hidden = (status[self.cells] != NOT_SUPPRESSED).astype(float)
        return np.bincount(self.owner, weights=hidden, minlength=len(self.groups))


def suppress(
    counts: Sequence[np.ndarray],
    groups: "Sequence[Group] | GroupTable",
    threshold: int,
) -> np.ndarray:
    """NOT_SUPPRESSED, PRIMARY or COMPLEMENTARY for each cell."""
    status = np.where(primary_cells(counts, threshold), PRIMARY, NOT_SUPPRESSED)
    if not status.any():
        return status
    table = groups if isinstance(groups, GroupTable) else GroupTable(groups)
    size = np.nan_to_num(np.sum([np.asarray(c, float) for c in counts], axis=0))
    # Zeros last among candidates, then the smallest: hiding a small cell costs
    # the reader least information.
    rank = np.where(size > 0, size, np.inf)
    while True:
        lone = np.flatnonzero(table.hidden_per_group(status) == 1)
        if not len(lone):
            return status
        for g in lone:
            total, parts = table.groups[g]
            hidden = status[parts] != NOT_SUPPRESSED
            # An earlier fix in this pass may already have settled this group.
            if int(hidden.sum()) + (status[total] != NOT_SUPPRESSED) == 1:
                _hide_one_more(status, total, parts[~hidden], rank)


def _hide_one_more(status, total: int, shown: np.ndarray, rank) -> None:
    if len(shown):
        status[shown[np.argmin(rank[shown])]] = COMPLEMENTARY
    else:
        status[total] = COMPLEMENTARY


@cache
def hierarchy_groups(
    slot_district: tuple[int, ...], n_districts: int, n_sex: int, n_age: int
) -> GroupTable:
    """Groups of the indicator cell table laid out as
    ``geo * n_breakdowns + breakdown``, geo being the province (0), the
    districts (1..D) and the commune slots; breakdown being the total (0),
    the sex cells and the age-group cells (absent when the form has none)."""
    n_slots = len(slot_district)
    n_breakdowns = 1 + n_sex + n_age if n_sex > 1 or n_age > 1 else 1
    district_of = np.asarray(slot_district)
    groups: list[Group] = []
    for b in range(n_breakdowns):
        districts = (1 + np.arange(n_districts)) * n_breakdowns + b
        groups.append((b, districts))
        for d in range(n_districts):
            slots = np.flatnonzero(district_of == d)
            communes = (1 + n_districts + slots) * n_breakdowns + b
            groups.append(((1 + d) * n_breakdowns + b, communes))
    if n_breakdowns > 1:
        for geo in range(1 + n_districts + n_slots):
            first = geo * n_breakdowns
            groups.append((first, first + 1 + np.arange(n_sex)))
            groups.append((first, first + 1 + n_sex + np.arange(n_age)))
    return GroupTable(groups)
