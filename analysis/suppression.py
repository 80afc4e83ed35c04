"""Small-cell suppression, with complementary cells chosen until no hidden
count can be worked out from what is shown.

What is published of one *family* of counts (the sensitive indicators of a
form that place records in periods by the same date) is a lattice of cells:
period x unit x breakdown. Each axis nests: months in quarters in a year,
communes in districts in the province, and a unit's sex cells and its
age-group cells each add up to its total.
Every relation "a total is the sum of its parts" holds for every count of the
family, and a reader may combine any number of them.

A cell is hidden as a whole (every count of the family, so that no count of it
can be set against another) when one of its counts is 1 to threshold - 1: the
*primary* cells. A zero is not hidden for itself: "no abused child recorded in
commune X" discloses nobody.

A hidden count is *determined* when the relations and the shown cells fix its
value. That is linear algebra: with the shown cells as constants, x_c is fixed
exactly when the unit vector e_c lies in the row space of the relations
restricted to the hidden cells, i.e. when every vector of their null space is
zero at c. A reader also knows that counts are never negative, so below a
shown zero every count is zero: such hidden cells count as known.
`Lattice.determined` first peels chains: a relation left with one unknown
fixes it, which is then known, and so on (cheap, and most determined cells
are found so). The unknowns left are settled by Gauss-Jordan elimination on
the sparse relations, exact, over the integers modulo a large prime: a cell
is fixed when its reduced row holds nothing else.

`protect` then hides *complementary* cells until no small count is
determined: for each determined one, the shown partner in one of its
relations that costs the reader least (no coarser than it, then the smallest
non-zero counts). A determined zero needs nothing: it discloses nobody.

Shortcomings, stated plainly: exact recovery is prevented, a narrow range is
not (a hidden 2 may be known to lie in 0..4 when its neighbours are small);
tau-ARGUS's protection intervals would take linear programming. Each count is
audited on its own, with the relations of its lattice: a family lists the
numerator, the denominator and their difference of each indicator, so the
identity den = num + rest is covered, not every other identity between two
indicators' counts of one cell.
"""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np

# A relation between the positions of one axis: position -> coefficient.
Relation = dict[int, float]


@dataclass(frozen=True)
class Axis:
    """One dimension of a lattice.

    ``contains[i, j]``: position j lies inside position i (i itself included);
    ``relations``: the additive identities between positions; ``rank``: how
    coarse each position is (0 for the finest)."""

    contains: np.ndarray
    relations: tuple[Relation, ...]
    rank: np.ndarray

    @property
    def size(self) -> int:
        return len(self.rank)

    @cached_property
    def enclosing(self) -> np.ndarray:
        """For each position, the positions containing it (itself included),
        padded with itself: one row per position."""
        lists = [np.flatnonzero(self.contains[:, j]) for j in range(self.size)]
        width = max(len(found) for found in lists)
        rows = [[*found, *[j] * (width - len(found))] for j, found in enumerate(lists)]
        return np.array(rows, dtype=np.int64)


def _ranks(contains: np.ndarray) -> np.ndarray:
    """Depth of each position: 0 when it contains no other, else one more than
    the deepest position strictly inside it."""
    strict = contains & ~np.eye(len(contains), dtype=bool)
    rank = np.zeros(len(contains), dtype=np.int64)
    for _ in range(len(contains)):
        deeper = np.array([rank[row].max(initial=-1) + 1 for row in strict])
        if np.array_equal(deeper, rank):
            break
        rank = deeper
    return rank


def tree_axis(parent: Sequence[int]) -> Axis:
    """An axis whose positions form a tree (-1 for the root): each parent is
    the sum of its children."""
    n = len(parent)
    contains = np.eye(n, dtype=bool)
    for child in range(n):
        node = parent[child]
        while node >= 0:
            contains[node, child] = True
            node = parent[node]
    relations = []
    for node in range(n):
        children = [c for c in range(n) if parent[c] == node]
        if children:
            relations.append({node: 1.0, **{c: -1.0 for c in children}})
    return Axis(contains, tuple(relations), _ranks(contains))


def breakdown_axis(n_sex: int, n_age: int) -> Axis:
    """The total, then its sex cells, then its age-group cells; each margin
    adds up to the total. With neither, the total alone."""
    if n_sex <= 1 and n_age <= 1:
        return Axis(np.ones((1, 1), dtype=bool), (), np.zeros(1, dtype=np.int64))
    n = 1 + n_sex + n_age
    contains = np.eye(n, dtype=bool)
    contains[0, :] = True
    sex = range(1, 1 + n_sex)
    age = range(1 + n_sex, n)
    relations = (
        {0: 1.0, **{i: -1.0 for i in sex}},
        {0: 1.0, **{i: -1.0 for i in age}},
    )
    rank = np.ones(n, dtype=np.int64)
    rank[1:] = 0
    return Axis(contains, relations, rank)


def period_axis(ranges: Sequence[tuple[date, date]]) -> Axis:
    """Periods as inclusive date ranges. A period laid end to end from the
    longest periods inside it (a year from its quarters, a quarter from its
    months) is their sum. Other identities (two campaign rounds that together
    make a quarter) are not looked for: the lattices suppressed are a year's
    months, quarters and the year, which have none."""
    contains = np.array(
        [[a[0] <= b[0] and b[1] <= a[1] for b in ranges] for a in ranges], dtype=bool
    )
    relations = [r for p in range(len(ranges)) if (r := _tiling(p, ranges, contains))]
    return Axis(contains, tuple(relations), _ranks(contains))


def _tiling(p: int, ranges, contains) -> Relation | None:
    """The period as a sum of the periods inside it: from its first day, the
    longest one starting there, and on from the day after it."""
    inside = [q for q in np.flatnonzero(contains[p]) if q != p]
    day, end, parts = ranges[p][0], ranges[p][1], []
    while day <= end:
        starting = [q for q in inside if ranges[q][0] == day]
        if not starting:
            return None
        longest = max(starting, key=lambda q: (ranges[q][1], -q))
        parts.append(int(longest))
        day = ranges[longest][1] + timedelta(days=1)
    return {int(p): 1.0, **{q: -1.0 for q in parts}}


class Lattice:
    """The cells period x unit x breakdown, flattened as
    ``(period * n_units + unit) * n_breakdowns + breakdown``, and every
    relation between them.

    ``published`` leaves cells out of the table altogether (the sex and
    age-group cells of a commune, say). Only relations among published cells
    are kept: the cells left out are parts nobody sees, so any identity that
    holds among the published ones through them holds without them too."""

    def __init__(
        self,
        periods: Axis,
        units: Axis,
        breakdowns: Axis,
        published: np.ndarray | None = None,
    ) -> None:
        self.axes = (periods, units, breakdowns)
        self.shape = (periods.size, units.size, breakdowns.size)
        self.n_cells = int(np.prod(self.shape))
        cells = np.arange(self.n_cells).reshape(self.shape)
        rows, entries, coefficients = [], [], []
        for axis_index, axis in enumerate(self.axes):
            moved = np.moveaxis(cells, axis_index, 0)  # positions first
            others = moved.reshape(axis.size, -1)
            for relation in axis.relations:
                positions = np.fromiter(relation, dtype=np.int64)
                values = np.fromiter(relation.values(), dtype=float)
                block = others[positions].T  # one relation per other-axes cell
                entries.append(block.ravel())
                coefficients.append(np.tile(values, block.shape[0]))
                rows.append(np.repeat(np.arange(block.shape[0]), len(positions)))
        self.published = (
            np.ones(self.n_cells, dtype=bool) if published is None else published
        )
        self.relation_of, self.cell_of, self.coefficient = _numbered(
            rows, entries, coefficients, self.published
        )
        self.n_relations = int(self.relation_of.max(initial=-1) + 1)
        ranks = np.ix_(*(axis.rank for axis in self.axes))
        self.rank = (ranks[0] + ranks[1] + ranks[2]).ravel()

    @cached_property
    def _by_cell(self) -> tuple[np.ndarray, np.ndarray]:
        """Entries sorted by cell, and where each cell's entries start."""
        order = np.argsort(self.cell_of, kind="stable")
        starts = np.searchsorted(self.cell_of[order], np.arange(self.n_cells + 1))
        return order, starts

    @cached_property
    def _by_relation(self) -> np.ndarray:
        return np.searchsorted(self.relation_of, np.arange(self.n_relations + 1))

    def relations_of(self, cell: int) -> np.ndarray:
        order, starts = self._by_cell
        return self.relation_of[order[starts[cell] : starts[cell + 1]]]

    def members(self, relations: np.ndarray) -> np.ndarray:
        starts = self._by_relation
        return np.concatenate(
            [self.cell_of[starts[r] : starts[r + 1]] for r in relations]
            or [np.zeros(0, dtype=np.int64)]
        )

    def zero_known(self, hidden: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Hidden cells lying inside a shown cell whose count is 0; ``values``
        is one count per cell, or one row of them per count."""
        rows = np.atleast_2d(values)
        below = (self.published & ~hidden & (rows == 0)).reshape(-1, *self.shape)
        for axis_index, axis in enumerate(self.axes, start=1):
            enclosing = axis.enclosing
            spread = np.take(below, enclosing[:, 0], axis=axis_index)
            for column in range(1, enclosing.shape[1]):
                spread |= np.take(below, enclosing[:, column], axis=axis_index)
            below = spread
        known = hidden & below.reshape(len(rows), self.n_cells)
        return known if np.ndim(values) == 2 else known[0]

    def determined(
        self,
        hidden: np.ndarray,
        known: np.ndarray | None = None,
        *,
        full: bool = True,
    ) -> np.ndarray:
        """Hidden cells (not in ``known``) whose value the shown cells and the
        relations fix. ``full=False`` finds only those fixed by a chain of
        relations each left with one unknown (cheap, and most of them)."""
        return self._fixed(hidden, known, full=full)[0]

    def _fixed(self, hidden, known, *, full):
        """Fixed cells, and for each the relation that left it alone among
        unknowns (-1 when only the full solve finds it fixed)."""
        unknown = hidden if known is None else hidden & ~known
        by = self._peel(unknown)
        fixed = by >= 0
        if full:
            fixed |= self._solve(unknown & ~fixed)
        return fixed, by

    def _peel(self, unknown: np.ndarray) -> np.ndarray:
        """For each cell that a relation has as its one unknown (then taken as
        known, and so on), that relation; -1 for the others."""
        unknown = unknown.copy()
        by = np.full(self.n_cells, -1, dtype=np.int64)
        while True:
            on = unknown[self.cell_of]
            per_relation = np.bincount(self.relation_of[on], minlength=self.n_relations)
            lone = np.flatnonzero(on & (per_relation[self.relation_of] == 1))
            if not len(lone):
                return by
            by[self.cell_of[lone]] = self.relation_of[lone]
            unknown[self.cell_of[lone]] = False

    def _solve(self, unknown: np.ndarray) -> np.ndarray:
        """Cells the relations fix once the shown cells are constants."""
        index = np.full(self.n_cells, -1, dtype=np.int64)
        index[unknown] = np.arange(int(unknown.sum()))
        on = unknown[self.cell_of]
        fixed = _fixed_by_elimination(
            self.relation_of[on], index[self.cell_of[on]], self.coefficient[on]
        )
        result = np.zeros(self.n_cells, dtype=bool)
        result[np.flatnonzero(unknown)[fixed]] = True
        return result


def _numbered(rows, entries, coefficients, published):
    """Concatenate per-axis relation blocks, keep the relations whose cells
    are all published, number them 0.. and sort entries by relation."""
    relation_of, offset = [], 0
    for block in rows:
        relation_of.append(block + offset)
        offset += int(block.max(initial=-1)) + 1
    if not relation_of:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    relation_of = np.concatenate(relation_of)
    cell_of = np.concatenate(entries)
    coefficient = np.concatenate(coefficients)
    missing = np.bincount(relation_of[~published[cell_of]], minlength=offset)
    keep = missing[relation_of] == 0
    _, relation_of = np.unique(relation_of[keep], return_inverse=True)
    order = np.argsort(relation_of, kind="stable")
    return relation_of[order], cell_of[keep][order], coefficient[keep][order]


# A prime below 2**31: products of two residues fit in 64 bits.
_PRIME = 2_147_483_629


def _fixed_by_elimination(relations, unknowns, coefficients) -> np.ndarray:
    """Indices of the unknowns fixed by the equations (relation, unknown,
    coefficient): Gauss-Jordan elimination over the integers modulo a large
    prime, on sparse rows, shortest row first. An unknown is fixed when it is
    a pivot whose reduced row holds nothing else. Working modulo a prime
    keeps the arithmetic exact; it could only ever find an unknown fixed that
    is not (a prime dividing a minor of a 0/1 matrix this size is out of
    reach), which would hide a cell more, never less."""
    rows: dict[int, dict[int, int]] = {}
    for r, v, c in zip(
        relations.tolist(), unknowns.tolist(), coefficients.tolist(), strict=True
    ):
        row = rows.setdefault(r, {})
        row[v] = (row.get(v, 0) + int(c)) % _PRIME
    matrix = [r for r in ({v: c for v, c in r.items() if c} for r in rows.values())]
    pivots = _gauss_jordan([r for r in matrix if r])
    found = [v for v, row in pivots.items() if len(row) == 1]
    return np.asarray(found, dtype=np.int64)


def _gauss_jordan(rows: list[dict[int, int]]) -> dict[int, dict[int, int]]:
    """Reduce the rows in place; return each pivot unknown with its row."""
    holding: dict[int, set[int]] = {}  # unknown -> rows holding it
    for i, row in enumerate(rows):
        for v in row:
            holding.setdefault(v, set()).add(i)
    queue = [(len(row), i) for i, row in enumerate(rows)]
    heapq.heapify(queue)
    done = [False] * len(rows)
    pivots = {}
    while queue:
        length, i = heapq.heappop(queue)
        row = rows[i]
        if done[i] or length != len(row):
            continue  # a row pushed again when it changed; this entry is stale
        done[i] = True
        if not row:
            continue
        pivot = min(row, key=lambda v: len(holding[v]))
        lead = row[pivot]
        if lead != 1:
            inverse = (
                _PRIME - 1 if lead == _PRIME - 1 else pow(lead, _PRIME - 2, _PRIME)
            )
            for v in row:
                row[v] = row[v] * inverse % _PRIME
        pivots[pivot] = row
        for k in holding[pivot] - {i}:
            _subtract(rows[k], row, rows[k][pivot], holding, k)
            if not done[k]:
                heapq.heappush(queue, (len(rows[k]), k))
        holding[pivot] = {i}
    return pivots


def _subtract(target, row, factor, holding, k, prime=_PRIME) -> None:
    get = target.get
    for v, c in row.items():
        old = get(v)
        if old is None:
            target[v] = -factor * c % prime
            holding[v].add(k)
        else:
            value = (old - factor * c) % prime
            if value:
                target[v] = value
            else:
                del target[v]
                holding[v].discard(k)


def protect(
    lattice: Lattice,
    counts: np.ndarray,
    threshold: int,
    *,
    hidden: np.ndarray | None = None,
    movable: np.ndarray | None = None,
) -> np.ndarray:
    """Which cells to hide: ``counts`` has one row per count of the family
    (NaN where a count is not published); ``hidden`` cells stay hidden
    whatever; complements are taken among ``movable`` cells only."""
    values = np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0)
    small = (values > 0) & (values < threshold) & lattice.published
    hide = small.any(axis=0)
    if hidden is not None:
        hide |= hidden & lattice.published
    movable = lattice.published & (True if movable is None else movable)
    cost = np.abs(values).sum(axis=0)
    for _ in range(lattice.n_cells + 1):
        exposed, by = _exposed(lattice, hide, values, small)
        if not exposed.any():
            return hide
        added = _complements(lattice, hide, exposed, by, movable, cost)
        if not added.any():
            # Nothing near the exposed cells can move: hide all that may.
            added = movable & ~hide
            if not added.any():
                raise RuntimeError("suppression cannot protect the small cells")
        hide |= added
    raise RuntimeError("suppression did not settle")


def _exposed(lattice: Lattice, hide, values, small):
    """Hidden cells with a small count that some count of theirs leaves
    determined, and the relation that does it where one alone does. The cheap
    chains first: when they expose a cell, the round ends there, and the full
    solve waits until they expose nothing."""
    rows = np.flatnonzero((small & hide).any(axis=1))
    known = lattice.zero_known(hide, values[rows])
    for full in (False, True):
        exposed = np.zeros(lattice.n_cells, dtype=bool)
        by = np.full(lattice.n_cells, -1, dtype=np.int64)
        seen: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for row, zero in zip(rows, known, strict=True):
            key = np.packbits(zero).tobytes()
            if key not in seen:
                seen[key] = lattice._fixed(hide, zero, full=full)
                fixed, reason = seen[key]
                first = (by < 0) & (reason >= 0)
                by[first] = reason[first]
            fixed, _ = seen[key]
            exposed |= fixed & small[row] & hide
        if exposed.any():
            return exposed, by
    return exposed, by


def _complements(lattice: Lattice, hide, exposed, by, movable, cost):
    """One more hidden cell for each exposed cell, in the relation that
    exposes it (any of its relations when the full solve found it); a
    relation gains one cell a round. Finest exposed cells first."""
    added = np.zeros(lattice.n_cells, dtype=bool)
    touched = np.zeros(lattice.n_relations, dtype=bool)
    cells = np.flatnonzero(exposed)
    for cell in cells[np.argsort(lattice.rank[cells], kind="stable")]:
        relations = lattice.relations_of(cell) if by[cell] < 0 else by[cell : cell + 1]
        if touched[relations].any():
            continue
        partner = _nearest_partner(
            lattice, cell, relations, hide | added, by, movable, cost
        )
        if partner is not None:
            added[partner] = True
            touched[relations] = True
    return added


def _nearest_partner(lattice, cell, relations, hidden, by, movable, cost):
    """A partner in ``relations``; when all their cells are hidden, in the
    relations that fixed those cells (the chain that exposes ``cell``), and
    failing that in ever wider rings of relations."""
    seen = np.zeros(lattice.n_relations, dtype=bool)
    ring = np.unique(relations)
    while len(ring):
        seen[ring] = True
        partner = _partner(lattice, cell, ring, hidden, movable, cost)
        if partner is not None:
            return partner
        members = np.unique(lattice.members(ring))
        causes = by[members]
        chain = np.unique(causes[causes >= 0])
        chain = chain[~seen[chain]]
        if not len(chain):
            chain = np.unique(
                np.concatenate([lattice.relations_of(m) for m in members])
            )
            chain = chain[~seen[chain]]
        ring = chain
    return None


def _partner(lattice: Lattice, cell, relations, hidden, movable, cost) -> int | None:
    candidates = np.unique(lattice.members(relations))
    candidates = candidates[~hidden[candidates] & movable[candidates]]
    if not len(candidates):
        return None
    coarser = lattice.rank[candidates] > lattice.rank[cell]
    empty = cost[candidates] == 0
    best = np.lexsort((candidates, cost[candidates], empty, coarser))[0]
    return int(candidates[best])
