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

from medmodal.ecg._detectors._common import running_rank
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
    """For each beat, the median of the ``neighbours`` beats ``lag``, ``2 lag``... away.

    ``windows`` is ``(n_leads, n_beats, n_samples)``; the median runs along the beats.
    """
    if lag == 1:
        return _running_median(windows, neighbours | 1)
    out = np.empty_like(windows)
    for phase in range(lag):  # beats of one phase, e.g. every second beat
        rows = slice(phase, None, lag)
        out[:, rows] = _running_median(windows[:, rows], neighbours | 1)
    return out


def _running_median(windows: FloatArray, size: int) -> FloatArray:
    """``median_filter(windows, size=(1, size, 1), mode="nearest")``: the same numbers.

    Every (lead, sample) lane of beats, padded with ``size // 2`` copies of its end
    values, is laid end to end in one line for scipy's compiled 1-D rank filter: one
    call for all leads instead of one 2-D filter per lead (the median of each position
    only sees its own lane and its padding, which is what ``mode="nearest"`` gives).
    """
    half = size // 2
    if half == 0 or windows.shape[1] == 0:
        return windows.copy()
    lanes = np.moveaxis(windows, 1, 2)  # (n_leads, n_samples, n_beats)
    padded = np.concatenate(
        [np.repeat(lanes[..., :1], half, axis=2), lanes, np.repeat(lanes[..., -1:], half, axis=2)],
        axis=2,
    )
    line = running_rank(padded.ravel(), half, size).reshape(padded.shape)
    return np.ascontiguousarray(np.moveaxis(line[..., half:-half], 2, 1))


def residual(
    x: FloatArray,
    peaks: IntArray,
    rate: float,
    *,
    neighbours: int = 9,
    lags: tuple[int, ...] = (1,),
) -> FloatArray:
    """``x`` minus the best-fitting running template of each whole beat."""
    return residuals(x[:, None], peaks, rate, neighbours=neighbours, lags=lags)[:, 0]


def residuals(
    x: FloatArray,
    peaks: IntArray,
    rate: float,
    *,
    neighbours: int = 9,
    lags: tuple[int, ...] = (1,),
) -> FloatArray:
    """:func:`residual` of each column of the ``(n_samples, n_leads)`` ``x`` (the same
    numbers as lead by lead, computed for all leads at once)."""
    leads = np.ascontiguousarray(x.T)  # (n_leads, n_samples): each lead's rows contiguous
    before, after = (round(s * rate) for s in WINDOW)
    inside = peaks[(peaks >= before) & (peaks + after < x.shape[0])]
    if inside.size == 0:
        return x.copy()
    index = inside[:, None] + np.arange(-before, after)[None, :]
    windows = leads[:, index]  # (n_leads, n_beats, n_window)
    windows -= np.median(windows, axis=2, keepdims=True)
    best = _lagged_median(windows, neighbours, lags[0])
    if len(lags) > 1:
        error = np.sum((windows - best) ** 2, axis=2)
        for lag in lags[1:]:
            other = _lagged_median(windows, max(3, neighbours // lag), lag)
            other_error = np.sum((windows - other) ** 2, axis=2)
            better = other_error < error
            best[better], error[better] = other[better], other_error[better]
    taper = np.ones(windows.shape[2])
    edge = max(1, round(TAPER * rate))
    ramp = np.hanning(2 * edge)
    taper[:edge], taper[-edge:] = ramp[:edge], ramp[edge:]
    n = x.shape[0]
    shifted = index.ravel()[None, :] + (n * np.arange(leads.shape[0]))[:, None]
    fitted = np.bincount(shifted.ravel(), weights=(best * taper).ravel(), minlength=leads.size)
    return x - fitted.reshape(leads.shape).T
