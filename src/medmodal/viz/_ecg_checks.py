"""Argument checks shared by the ECG figures (signals, sample indices, time windows)."""

from __future__ import annotations

import numpy as np

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray


def as_2d(signal: ArrayLike, name: str) -> FloatArray:
    """``signal`` as float ``(n_samples, n_leads)`` with at least 2 samples."""
    array = np.asarray(signal, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] < 2:
        raise InvalidParameterError(
            f"{name} must be (n_samples,) or (n_samples, n_leads), got shape {array.shape}"
        )
    return array


def as_indices(values: ArrayLike, name: str) -> IntArray:
    """Sorted int64 sample indices from a 1-D integer array."""
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise InvalidParameterError(f"{name} must be a 1-D array of sample indices")
    return np.sort(array.astype(np.int64))


def time_slice(n_samples: int, sampling_rate: float, start: float, duration: float) -> slice:
    """Samples of ``[start, start + duration)`` s, clipped to the record (at least 2)."""
    if duration <= 0 or start < 0:
        raise InvalidParameterError(f"start must be >= 0 and duration > 0, got {start}, {duration}")
    i0 = min(round(start * sampling_rate), n_samples - 2)
    i1 = min(n_samples, i0 + max(2, round(duration * sampling_rate)))
    return slice(i0, i1)
