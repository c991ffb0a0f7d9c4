"""Running beat templates and what is left of a lead once they are subtracted.

Shared by :func:`medmodal.ecg.noise.noise_from_recording` (real noise from a recording)
and the noise index of :mod:`medmodal.ecg.quality`. Each beat (-250 to +450 ms around its
R peak, edges tapered over 50 ms) gets as its template the sample-wise median of nearby
beats, baseline-aligned. With ``lags`` beyond 1, several templates are tried per beat -
the median of all neighbours, and the median of the neighbours 2, 4, ... or 3, 6, ...
beats away - and the one that fits best is kept, so that bigeminy and trigeminy (whose
ectopic beats differ from their immediate neighbours but match the beats 2 or 3 away)
leave no residual.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from medmodal.types import FloatArray, IntArray

#: Beat window (s before, after the R peak).
WINDOW = (0.25, 0.45)
#: Length (s) of the tapers at both ends of a beat window.
TAPER = 0.05


def beat_windows(x: FloatArray, peaks: IntArray, rate: float) -> tuple[IntArray, FloatArray]:
    """``(index, windows)``: sample indices and baseline-aligned samples of whole beats.

    Beats whose window does not fit inside ``x`` are left out.
    """
    before, after = (round(s * rate) for s in WINDOW)
    inside = peaks[(peaks >= before) & (peaks + after < x.size)]
    index = inside[:, None] + np.arange(-before, after)[None, :]
    windows = x[index]
    return index, windows - np.median(windows, axis=1, keepdims=True)


def _lagged_median(windows: FloatArray, neighbours: int, lag: int) -> FloatArray:
    """For each beat, the median of the ``neighbours`` beats ``lag``, ``2 lag``... away."""
    if lag == 1:
        return median_filter(windows, size=(neighbours | 1, 1), mode="nearest")
    out = np.empty_like(windows)
    for phase in range(lag):  # beats of one phase, e.g. every second beat
        rows = slice(phase, None, lag)
        out[rows] = median_filter(windows[rows], size=(neighbours | 1, 1), mode="nearest")
    return out


def residual(
    x: FloatArray,
    peaks: IntArray,
    rate: float,
    *,
    neighbours: int = 9,
    lags: tuple[int, ...] = (1,),
) -> FloatArray:
    """``x`` minus the best-fitting running template of each whole beat."""
    index, windows = beat_windows(x, peaks, rate)
    if windows.shape[0] == 0:
        return x.copy()
    best = _lagged_median(windows, neighbours, lags[0])
    if len(lags) > 1:
        error = np.sum((windows - best) ** 2, axis=1)
        for lag in lags[1:]:
            other = _lagged_median(windows, max(3, neighbours // lag), lag)
            other_error = np.sum((windows - other) ** 2, axis=1)
            better = other_error < error
            best[better], error[better] = other[better], other_error[better]
    taper = np.ones(windows.shape[1])
    edge = max(1, round(TAPER * rate))
    ramp = np.hanning(2 * edge)
    taper[:edge], taper[-edge:] = ramp[:edge], ramp[edge:]
    fitted = np.bincount(index.ravel(), weights=(best * taper).ravel(), minlength=x.size)
    return x - fitted
