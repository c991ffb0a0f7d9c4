"""Vectorised per-beat windows: every beat's search window is one row of a matrix.

A :class:`Windows` holds, for K beats, the sample index of every column of a (K, W)
matrix and which cells are inside both the beat's window and the record. Searches
("first sample after the slope peak where the slope falls below a threshold") become
masked ``argmax`` calls over rows, so no Python loop runs over beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medmodal.types import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class Windows:
    """Windows ``[start_k, stop_k)`` of K beats as rows of a (K, W) index matrix."""

    index: IntArray  # (K, W) sample index, clipped into the record
    valid: BoolArray  # (K, W) inside the window and the record

    @classmethod
    def build(cls, start: IntArray, stop: IntArray, n_samples: int) -> Windows:
        """Rows from ``start`` (inclusive) to ``stop`` (exclusive), per beat."""
        start = np.asarray(start, dtype=np.int64)
        stop = np.maximum(np.asarray(stop, dtype=np.int64), start)
        width = max(1, int((stop - start).max(initial=1)))
        cols = np.arange(width)
        raw = start[:, None] + cols[None, :]
        valid = (raw < stop[:, None]) & (raw >= 0) & (raw < n_samples)
        return cls(index=np.clip(raw, 0, n_samples - 1), valid=valid)

    def take(self, x: FloatArray, fill: float = 0.0) -> FloatArray:
        """``x`` gathered into the (K, W) matrix; ``fill`` outside the windows."""
        return np.where(self.valid, x[self.index], fill)

    def sample(self, col: IntArray, found: BoolArray) -> IntArray:
        """Sample index of column ``col`` of each row; -1 where not ``found``."""
        rows = np.arange(self.index.shape[0])
        safe = np.clip(col, 0, self.index.shape[1] - 1)
        return np.where(found, self.index[rows, safe], -1)


def any_in_row(mask: BoolArray) -> BoolArray:
    """Whether each row holds a True."""
    return np.asarray(mask.any(axis=1), dtype=np.bool_)


def first_true(mask: BoolArray) -> tuple[IntArray, BoolArray]:
    """Column of the first True in each row, and whether there is one."""
    return np.argmax(mask, axis=1), any_in_row(mask)


def last_true(mask: BoolArray) -> tuple[IntArray, BoolArray]:
    """Column of the last True in each row, and whether there is one."""
    width = mask.shape[1]
    return width - 1 - np.argmax(mask[:, ::-1], axis=1), any_in_row(mask)


def run_length(mask: BoolArray) -> IntArray:
    """Length of the run of True ending at each cell (0 where False), per row."""
    counts = np.cumsum(mask, axis=1)
    reset = np.where(~mask, counts, 0)
    return counts - np.maximum.accumulate(reset, axis=1)


def masked_argmax(values: FloatArray, mask: BoolArray) -> tuple[IntArray, BoolArray]:
    """Column of the largest value per row among ``mask`` cells, and whether any."""
    return np.argmax(np.where(mask, values, -np.inf), axis=1), any_in_row(mask)


def columns(windows: Windows) -> IntArray:
    """(1, W) column numbers, for comparisons with per-row columns."""
    return np.arange(windows.index.shape[1])[None, :]


def row_values(matrix: FloatArray, col: IntArray) -> FloatArray:
    """``matrix[k, col[k]]`` for every row k."""
    safe = np.clip(col, 0, matrix.shape[1] - 1)
    return matrix[np.arange(matrix.shape[0]), safe]
