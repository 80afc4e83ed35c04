"""A reader trying to work out hidden counts from what is shown.

Independent of analysis.suppression, which reasons about cells and the sums
between them: this reader reasons about *atoms*, the finest cells nobody
publishes (a month, a commune slot, a sex, an age group), of which every
published figure is a sum. It knows that counts are never negative, so every
atom under a shown zero is zero. A hidden figure is recovered when its atoms
are a combination of the shown figures' atoms (least squares, exact to
rounding). Brute force, for small tables in tests only.
"""

from collections.abc import Sequence

import numpy as np


def recovered(
    shown: Sequence[tuple[np.ndarray, float]],
    hidden: Sequence[tuple[np.ndarray, float]],
    *,
    threshold: int,
) -> list[int]:
    """Positions in ``hidden`` of small counts the shown figures pin down.

    Each figure is (boolean mask over the atoms it sums, its value)."""
    if not hidden:
        return []
    n_atoms = len(hidden[0][0])
    dead = np.zeros(n_atoms, dtype=bool)
    for atoms, value in shown:
        if value == 0:
            dead |= atoms
    live = ~dead
    matrix = np.array([atoms[live] for atoms, value in shown if value != 0], float)
    found = []
    for i, (atoms, value) in enumerate(hidden):
        if not 0 < value < threshold:
            continue
        target = atoms[live].astype(float)
        if not len(matrix):
            pinned = not target.any()
        else:
            weights, *_ = np.linalg.lstsq(matrix.T, target, rcond=None)
            pinned = np.allclose(matrix.T @ weights, target, atol=1e-7)
        if pinned:
            found.append(i)
    return found
