"""Seeded row subsampling against class imbalance (beats, windows, any labelled rows).

Two rules, each used wherever a data set, the report or a benchmark thins its rows:

- :func:`keep_minority`: every row outside the majority class plus a seeded fraction of
  the majority rows (MIT-BIH beats: all S, V and F beats and a tenth of the N beats).
- :func:`cap_per_group`: at most ``cap`` seeded rows per group (patient, record) and
  side of a binary label, so that no patient dominates a small cohort.

Example:
    >>> import numpy as np
    >>> labels = np.array(["N"] * 8 + ["V", "S"])
    >>> rows = keep_minority(labels, fraction=0.0)
    >>> labels[rows].tolist()
    ['V', 'S']
    >>> groups = np.array(["a"] * 6 + ["b"] * 4)
    >>> rows = cap_per_group(groups, labels == "N", 2, seed=0)
    >>> [(str(g), int(n)) for g, n in zip(*np.unique(groups[rows], return_counts=True))]
    [('a', 2), ('b', 4)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, IntArray

__all__ = ["cap_per_group", "keep_minority"]


def keep_minority(
    labels: ArrayLike, *, fraction: float, majority: object = "N", seed: int = 0
) -> IntArray:
    """Rows of every non-``majority`` label plus a seeded ``fraction`` of majority rows.

    Each row draws one uniform number from ``numpy.random.default_rng(seed)`` (in row
    order), so the majority rows kept are spread evenly over records and the choice does
    not depend on the other classes.

    Args:
        labels: ``(n,)`` class labels.
        fraction: share of majority rows kept, in ``[0, 1]`` (1 keeps every row).
        majority: the label to thin (MIT-BIH: ``"N"``).
        seed: seeds the draw.

    Returns:
        Sorted row indices (int64).

    Raises:
        InvalidParameterError: ``fraction`` outside ``[0, 1]`` or ``labels`` not 1-D.
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise InvalidParameterError(f"keep_minority: labels must be 1-D, got shape {y.shape}")
    if not 0 <= fraction <= 1:
        raise InvalidParameterError(f"keep_minority: fraction must be in [0, 1], got {fraction}")
    keep = (y != majority) | (np.random.default_rng(seed).random(len(y)) < fraction)
    return np.flatnonzero(keep).astype(np.int64)


def cap_per_group(
    groups: ArrayLike,
    positive: ArrayLike,
    cap: int,
    *,
    seed: int = 0,
    order: Sequence[object] | None = None,
) -> IntArray:
    """At most ``cap`` seeded rows per group and side of ``positive`` (True, then False).

    One generator visits the groups in ``order``; within a group it draws a permutation
    of the positive rows, keeps the first ``cap`` (sorted), then does the same for the
    negative rows.

    Args:
        groups: ``(n,)`` group ids (patients, records).
        positive: ``(n,)`` booleans (e.g. "is a ventricular beat").
        cap: most rows kept per group and side (>= 1).
        seed: seeds the generator.
        order: groups to visit, in this order (default: the sorted distinct ids); rows of
            groups not listed are dropped.

    Returns:
        Row indices (int64), grouped as visited: per group its positive rows, then its
        negative rows, each sorted. ``np.sort`` them for row order.

    Raises:
        InvalidParameterError: ``cap`` below 1 or arrays of different lengths.
    """
    g, pos = np.asarray(groups), np.asarray(positive, dtype=bool)
    if g.shape != pos.shape or g.ndim != 1:
        raise InvalidParameterError(
            f"cap_per_group: groups {g.shape} and positive {pos.shape} must be equal 1-D shapes"
        )
    if cap < 1:
        raise InvalidParameterError(f"cap_per_group: cap must be >= 1, got {cap}")
    rng = np.random.default_rng(seed)
    keep: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for group in np.unique(g) if order is None else order:
        for side in (True, False):
            pool = np.flatnonzero((g == group) & (pos == side))
            keep.append(np.sort(rng.permutation(pool)[:cap]))
    return np.concatenate(keep).astype(np.int64)
