"""Calibration: reliability curve and expected calibration error (top-label, equal width).

The binned ECE is biased upwards on small or resampled sets (sampling noise in a bin's
accuracy only adds to ``|accuracy - confidence|``), so bootstrap resamples of a
well-calibrated model's ECE can all exceed its estimate; :mod:`medmodal.metrics.bootstrap`
widens such an interval to contain the estimate and says so.

Example:
    >>> import numpy as np
    >>> from medmodal.metrics.calibration import expected_calibration_error
    >>> y = np.array([0, 1, 1, 1])
    >>> proba = np.array([[0.8, 0.2], [0.2, 0.8], [0.2, 0.8], [0.2, 0.8]])
    >>> round(expected_calibration_error(y, proba), 3)  # all confident at 0.8, all right
    0.2

References:
    Guo C, Pleiss G, Sun Y, Weinberger KQ. On calibration of modern neural networks.
    ICML (2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per confidence bin: mean confidence, accuracy and sample count."""

    confidence: FloatArray
    accuracy: FloatArray
    count: IntArray
    edges: FloatArray

    def to_frame(self) -> pd.DataFrame:
        """One row per non-empty bin."""
        keep = self.count > 0
        return pd.DataFrame(
            {
                "bin_low": self.edges[:-1][keep],
                "bin_high": self.edges[1:][keep],
                "confidence": self.confidence[keep],
                "accuracy": self.accuracy[keep],
                "count": self.count[keep],
            }
        )

    @property
    def ece(self) -> float:
        """Count-weighted mean |accuracy - confidence| over the bins."""
        total = self.count.sum()
        if total == 0:
            return float("nan")
        gap = np.abs(np.nan_to_num(self.accuracy) - np.nan_to_num(self.confidence))
        return float(np.sum(self.count * gap) / total)


def reliability_curve(y: ArrayLike, proba: ArrayLike, *, n_bins: int = 15) -> ReliabilityCurve:
    """Top-label reliability: bin samples by max probability, compare with accuracy.

    Args:
        y: class codes ``(n,)`` in ``0..K-1``.
        proba: ``(n, K)`` class probabilities.
        n_bins: equal-width confidence bins on ``[0, 1]``.
    """
    if not isinstance(n_bins, int) or n_bins < 1:
        raise InvalidParameterError(
            f"reliability_curve: n_bins must be an int >= 1, got {n_bins!r}"
        )
    y_arr, p = np.asarray(y), np.asarray(proba, dtype=float)
    if p.ndim != 2 or y_arr.shape != (p.shape[0],):
        raise InvalidParameterError(
            f"reliability_curve: need y (n,) and proba (n, K), got {y_arr.shape} and {p.shape}"
        )
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y_arr).astype(float)
    idx, edges = confidence_bins(conf, n_bins)
    count = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / count
        acc = np.bincount(idx, weights=correct, minlength=n_bins) / count
    return ReliabilityCurve(mean_conf, acc, count.astype(np.int64), edges)


def confidence_bins(conf: FloatArray, n_bins: int) -> tuple[IntArray, FloatArray]:
    """Bin index ``(n,)`` of each confidence among ``n_bins`` equal-width bins, and the edges."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    return idx.astype(np.int64, copy=False), edges


def expected_calibration_error(y: ArrayLike, proba: ArrayLike, *, n_bins: int = 15) -> float:
    """Top-label ECE (Guo et al. 2017) with ``n_bins`` equal-width bins."""
    return reliability_curve(y, proba, n_bins=n_bins).ece
