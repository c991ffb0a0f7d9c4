"""Instantaneous heart rate from R peaks, per beat or interpolated over the signal.

Rates outside 20-300 bpm (RR intervals outside 0.2-3 s: an extra detection, a pause or
missed beats) are not shown: they are NaN per beat and bridged over when interpolated
(``limits=None`` keeps them). :func:`medmodal.ecg.rr.ecg_rr` says why each was dropped.

Example:
    >>> from medmodal.ecg.rate import ecg_rate
    >>> ecg_rate([0, 360, 720, 1200], 360).tolist()
    [60.0, 60.0, 60.0, 45.0]
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
import scipy.interpolate

from medmodal.ecg._validate import as_peaks, check_sampling_rate
from medmodal.ecg.hrv import NN_BOUNDS
from medmodal.errors import InvalidParameterError
from medmodal.registry import Registry
from medmodal.types import ArrayLike, FloatArray, IntArray

#: ``(beat samples, beat rates, sample grid) -> rate on the grid``; the grid may reach
#: beyond the first/last beat, where the edge rates are held.
Interpolator = Callable[[IntArray, FloatArray, FloatArray], FloatArray]

INTERPOLATORS: Registry[Interpolator] = Registry("heart-rate interpolation")
#: Longest ``desired_length`` accepted (samples): about 32 days at 360 Hz.
MAX_LENGTH = 10**9
#: Beat-to-beat rates (bpm) shown by default: the NN-interval bounds of HRV, inverted.
PLAUSIBLE_BPM = (60.0 / NN_BOUNDS[1], 60.0 / NN_BOUNDS[0])


@INTERPOLATORS.register("linear", description="straight lines between beats")
def _linear(x: IntArray, y: FloatArray, grid: FloatArray) -> FloatArray:
    return np.interp(grid, x, y)


@INTERPOLATORS.register("nearest", description="rate of the nearest beat")
def _nearest(x: IntArray, y: FloatArray, grid: FloatArray) -> FloatArray:
    right = np.clip(np.searchsorted(x, grid), 1, x.size - 1)
    left = right - 1
    use_right = np.abs(x[right] - grid) < np.abs(grid - x[left])
    return np.where(use_right, y[right], y[left])


@INTERPOLATORS.register(
    "step",
    aliases=("interval", "piecewise"),
    description="every sample gets the rate of the RR interval it lies in (a step function)",
)
def _step(x: IntArray, y: FloatArray, grid: FloatArray) -> FloatArray:
    # y[i] is the rate of the interval (x[i-1], x[i]]: samples in it take y[i].
    index = np.clip(np.searchsorted(x, grid, side="left"), 0, x.size - 1)
    return y[index]


@INTERPOLATORS.register(
    "pchip",
    aliases=("monotone", "monotone_cubic"),
    description="shape-preserving cubic (PCHIP; no overshoot between beats)",
)
def _pchip(x: IntArray, y: FloatArray, grid: FloatArray) -> FloatArray:
    inside = np.clip(grid, x[0], x[-1])
    return scipy.interpolate.PchipInterpolator(x, y, extrapolate=False)(inside)


def ecg_rate(
    peaks: ArrayLike,
    sampling_rate: float,
    *,
    desired_length: int | None = None,
    interpolation: str = "linear",
    limits: tuple[float, float] | None = PLAUSIBLE_BPM,
) -> FloatArray:
    """Heart rate (beats per minute) from R-peak sample indices.

    Beat ``i`` (``i >= 1``) gets ``60 / RR_i`` where ``RR_i`` is the interval that ends at
    it; the first beat, which has no preceding interval, gets the rate of the next one.
    A rate outside ``limits`` is NaN. With ``desired_length`` the per-beat rates that
    are left are placed at their beats and interpolated over ``desired_length`` samples
    (across the NaN beats); before the first and after the last beat the edge rate is
    held; with no rate left every sample is NaN.

    Interpolation methods:
    {methods}

    Args:
        peaks: sorted, unique, non-negative R-peak sample indices (at least 2).
        sampling_rate: Hz.
        desired_length: if given, return one rate per sample of a signal this long
            (every peak must lie inside it).
        interpolation: method used with ``desired_length`` (aliases accepted).
        limits: ``(lowest, highest)`` rate shown in bpm (default 20-300), or None to
            keep every rate.

    Returns:
        float64 ``(n_peaks,)`` or ``(desired_length,)`` heart rate in bpm.

    Raises:
        InvalidParameterError: fewer than 2 peaks, unsorted/duplicate/negative/non-integer
            peaks, bad sampling rate, ``desired_length`` or interpolation name.

    Example:
        >>> hr = ecg_rate([0, 4, 6], 4, desired_length=8, interpolation="step")
        >>> hr.tolist()
        [60.0, 60.0, 60.0, 60.0, 60.0, 120.0, 120.0, 120.0]
        >>> ecg_rate([0, 250, 260, 500], 250).tolist()  # a double detection: 1500 bpm
        [60.0, 60.0, nan, 62.5]
    """
    func = "ecg_rate"
    rate = check_sampling_rate(sampling_rate, func=func)
    interpolate = INTERPOLATORS.get(interpolation)
    length = _check_length(desired_length, func=func)
    bounds = _check_limits(limits, func=func)
    beats = as_peaks(peaks, func=func, min_peaks=2, n_samples=length)
    per_beat = 60.0 * rate / np.diff(beats).astype(np.float64)
    per_beat = np.concatenate([per_beat[:1], per_beat])
    if bounds is not None:
        per_beat[(per_beat < bounds[0]) | (per_beat > bounds[1])] = np.nan
    if length is None:
        return per_beat
    shown = np.isfinite(per_beat)
    grid = np.arange(length, dtype=np.float64)
    if shown.sum() < 2:
        return np.full(length, per_beat[shown][0] if shown.any() else np.nan)
    return interpolate(beats[shown], per_beat[shown], grid)


def _check_length(length: object, *, func: str) -> int | None:
    if length is None:
        return None
    if (
        isinstance(length, bool)
        or not isinstance(length, numbers.Integral)
        or not 0 < int(length) <= MAX_LENGTH
    ):
        raise InvalidParameterError(
            f"{func}: desired_length must be a positive integer number of samples "
            f"(at most {MAX_LENGTH:.0e}) or None, got {length!r}"
        )
    return int(length)


def _check_limits(limits: object, *, func: str) -> tuple[float, float] | None:
    if limits is None:
        return None
    try:
        low, high = (float(v) for v in limits)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        low, high = np.nan, np.nan
    if not (np.isfinite(low) and np.isfinite(high) and 0 <= low < high):
        raise InvalidParameterError(
            f"{func}: limits must be (lowest, highest) rates in bpm with 0 <= lowest < "
            f"highest, or None, got {limits!r}"
        )
    return low, high


def available_interpolations() -> tuple[str, ...]:
    """Names accepted by ``interpolation=``.

    Example:
        >>> available_interpolations()
        ('linear', 'nearest', 'step', 'pchip')
    """
    return INTERPOLATORS.names()


INTERPOLATORS.document(ecg_rate)  # the list comes from the registry: it cannot drift
