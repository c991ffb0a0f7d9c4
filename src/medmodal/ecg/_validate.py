"""Validation shared by every public ECG function.

Public functions call :func:`check_sampling_rate` and :func:`as_signal` at their
boundary, so bad input fails early with a message that names the function, the problem
and what is allowed. Automatic fixes (short NaN gaps) emit a :class:`MedmodalWarning`.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from medmodal.errors import InvalidParameterError, InvalidSignalError, MedmodalWarning
from medmodal.types import ArrayLike, FloatArray, IntArray

#: Longest run of NaN/inf samples (seconds) that is interpolated instead of rejected.
MAX_GAP_SECONDS = 1.0
#: Shortest signal (seconds) most ECG functions accept.
MIN_SECONDS = 2.0
#: Fraction of samples on saturation plateaus above which a clipping warning is raised.
CLIP_FRACTION = 0.005


#: Sampling rates every ECG function accepts (Hz): below 1 Hz no heartbeat is resolved,
#: above 1 MHz no ECG hardware records; outside, times overflow or lose all meaning.
SAMPLING_RATE_LIMITS = (1.0, 1e6)


def check_sampling_rate(sampling_rate: object, *, func: str) -> float:
    """Return ``sampling_rate`` as a float within :data:`SAMPLING_RATE_LIMITS` or raise.

    Example:
        >>> check_sampling_rate(360, func="ecg_peaks")
        360.0
    """
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, numbers.Real):
        raise InvalidParameterError(
            f"{func}: sampling_rate must be a positive number in Hz, "
            f"got {type(sampling_rate).__name__} {sampling_rate!r}"
        )
    rate = float(sampling_rate)
    if not np.isfinite(rate) or rate <= 0:
        raise InvalidParameterError(
            f"{func}: sampling_rate must be a positive number in Hz, got {sampling_rate!r}"
        )
    low, high = SAMPLING_RATE_LIMITS
    if not low <= rate <= high:
        raise InvalidParameterError(
            f"{func}: sampling_rate must be between {low:g} and {high:g} Hz, got {rate:g}"
        )
    return rate


@dataclass(frozen=True)
class CheckedSignal:
    """A validated signal: float64, finite, shaped ``(n_samples, n_leads)``."""

    data: FloatArray
    was_1d: bool
    flat_leads: tuple[int, ...] = ()
    #: (min, max) of each lead, measured during validation.
    extremes: tuple[tuple[float, float], ...] = ()

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_leads(self) -> int:
        return int(self.data.shape[1])

    def restore(self, array: FloatArray) -> FloatArray:
        """Give ``array`` (same layout as ``data``) the caller's original dimensionality."""
        return array[:, 0] if self.was_1d else array


def as_signal(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    func: str,
    min_seconds: float = MIN_SECONDS,
    allow_flat: bool = False,
) -> CheckedSignal:
    """Validate ``signal`` and return it as a finite float64 ``(n_samples, n_leads)`` array.

    The returned ``data`` may share memory with ``signal`` and is then read-only: copy
    it before modifying it in place.

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)`` samples.
        sampling_rate: Hz (already checked with :func:`check_sampling_rate`).
        func: public function name, used in messages.
        min_seconds: shortest accepted duration.
        allow_flat: accept a signal whose leads are all constant.

    Raises:
        InvalidSignalError: wrong dtype or shape, too short, flat, or with NaN/inf gaps
            longer than ``MAX_GAP_SECONDS``.

    Warns:
        MedmodalWarning: short NaN/inf gaps were interpolated; some leads are flat;
            the signal looks clipped.
    """
    array = _as_float_array(signal, func=func)
    was_1d = array.ndim == 1
    data = array[:, None] if was_1d else array
    n_samples, n_leads = data.shape
    if n_leads > n_samples:
        raise InvalidSignalError(
            f"{func}: signal has shape {array.shape}, i.e. more leads than samples; "
            "signals are (n_samples,) or (n_samples, n_leads): pass signal.T"
        )
    duration = n_samples / sampling_rate
    if duration < min_seconds:
        raise InvalidSignalError(
            f"{func}: signal is {duration:.3g} s long ({n_samples} samples at "
            f"{sampling_rate:g} Hz); at least {min_seconds:g} s are needed"
        )
    extremes = _extremes(data)
    if not np.isfinite(extremes).all():  # a NaN or inf makes its lead's min or max so
        data = _fill_gaps(data, sampling_rate, func=func)
        extremes = _extremes(data)
    flat = _flat_leads(data, extremes)
    if len(flat) == n_leads and not allow_flat:
        raise InvalidSignalError(
            f"{func}: signal is flat (every sample of every lead has the same value); "
            "there is no ECG to analyse"
        )
    if flat and len(flat) < n_leads:
        warnings.warn(
            f"{func}: lead(s) {list(flat)} are flat (constant) and carry no ECG; "
            "they are ignored where leads are combined",
            MedmodalWarning,
            stacklevel=3,
        )
    _warn_if_clipped(data, extremes, func=func)
    return CheckedSignal(data=data, was_1d=was_1d, flat_leads=tuple(flat), extremes=tuple(extremes))


def _as_float_array(signal: ArrayLike, *, func: str) -> FloatArray:
    try:
        array = np.asarray(signal)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise InvalidSignalError(f"{func}: signal cannot be read as an array: {exc}") from exc
    if array.dtype == np.bool_ or array.dtype.kind not in "iuf":
        raise InvalidSignalError(
            f"{func}: signal must hold real numbers (int or float), got dtype {array.dtype}"
        )
    if array.ndim not in (1, 2):
        raise InvalidSignalError(
            f"{func}: signal must be (n_samples,) or (n_samples, n_leads), "
            f"got {array.ndim}-D shape {array.shape}"
        )
    if array.size == 0:
        raise InvalidSignalError(f"{func}: signal is empty (shape {array.shape})")
    # No copy of float64 input: the validated array is a read-only view unless gaps
    # must be filled (then it is a copy), so the caller's data is never modified.
    out = np.asarray(array, dtype=np.float64)
    if out is array or out.base is array:
        out = out.view()
        out.flags.writeable = False
    return out


def _all_finite(data: FloatArray) -> bool:
    """Whether every sample is finite: one sum per lead, no temporary arrays.

    A NaN or inf anywhere makes its lead's sum non-finite; only when a sum is not
    finite (which finite values can also cause, by overflowing) is each sample checked.
    """
    sums = [float(np.add.reduce(data[:, lead])) for lead in range(data.shape[1])]
    return bool(np.isfinite(sums).all()) or bool(np.isfinite(data).all())


def _fill_gaps(data: FloatArray, sampling_rate: float, *, func: str) -> FloatArray:
    if _all_finite(data):
        return data
    data = data.copy()
    bad = ~np.isfinite(data)
    max_gap = max(1, round(MAX_GAP_SECONDS * sampling_rate))
    index = np.arange(data.shape[0])
    for lead in range(data.shape[1]):
        lead_bad = bad[:, lead]
        if not lead_bad.any():
            continue
        if lead_bad.all():
            raise InvalidSignalError(f"{func}: lead {lead} has no finite samples (all NaN/inf)")
        start, length = _longest_run(lead_bad)
        if length > max_gap:
            raise InvalidSignalError(
                f"{func}: lead {lead} has {length} consecutive NaN/inf samples "
                f"({length / sampling_rate:.2f} s from sample {start}); gaps up to "
                f"{MAX_GAP_SECONDS:g} s are interpolated, longer ones must be cut out"
            )
        good = ~lead_bad
        # Interpolate in units of the lead's largest value: between two values near
        # +-1.8e308 the straight line's slope would overflow to inf.
        scale = float(np.abs(data[good, lead]).max()) or 1.0
        filled = np.interp(index[lead_bad], index[good], data[good, lead] / scale)
        data[lead_bad, lead] = filled * scale
    warnings.warn(
        f"{func}: interpolated {int(bad.sum())} NaN/inf sample(s) in gaps of at most "
        f"{MAX_GAP_SECONDS:g} s",
        MedmodalWarning,
        stacklevel=4,
    )
    return data


def _longest_run(mask: np.ndarray) -> tuple[int, int]:
    """Start and length of the longest run of True in a 1-D boolean mask."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, ends = edges[::2], edges[1::2]
    longest = int(np.argmax(ends - starts))
    return int(starts[longest]), int(ends[longest] - starts[longest])


def _flat_leads(data: FloatArray, extremes: list[tuple[float, float]]) -> list[int]:
    return [
        lead
        for lead, (lo, hi) in enumerate(extremes)
        if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1.0)
    ]


def _extremes(data: FloatArray) -> list[tuple[float, float]]:
    """(min, max) of each lead, column by column (numpy's axis-0 reductions of (n, L)
    arrays are up to 40x slower than L single columns)."""
    return [(float(data[:, k].min()), float(data[:, k].max())) for k in range(data.shape[1])]


def _warn_if_clipped(data: FloatArray, extremes: list[tuple[float, float]], *, func: str) -> None:
    """Warn when many samples sit on plateaus at a lead's extreme values (saturation)."""
    limit = CLIP_FRACTION * (data.shape[0] - 1)
    for lead, (lo, hi) in enumerate(extremes):
        if hi <= lo:
            continue
        x = data[:, lead]
        at_hi, at_lo = x == hi, x == lo
        if np.count_nonzero(at_hi) + np.count_nonzero(at_lo) <= limit:
            continue  # plateaus are a subset of the samples at the extremes
        at_edge = at_hi | at_lo
        # Only plateaus count: saturation holds the extreme for consecutive samples.
        plateau = at_edge[1:] & at_edge[:-1] & (x[1:] == x[:-1])
        fraction = plateau.mean()
        if fraction > CLIP_FRACTION:
            warnings.warn(
                f"{func}: lead {lead} looks clipped ({100 * fraction:.2g}% of samples sit "
                f"on plateaus at its extreme values {lo:g}/{hi:g}); peaks there are "
                "flattened and amplitudes underestimated",
                MedmodalWarning,
                stacklevel=4,
            )


def as_peaks(
    peaks: ArrayLike, *, func: str, min_peaks: int = 0, n_samples: int | None = None
) -> IntArray:
    """Validate R-peak sample indices: 1-D, integral, non-negative, strictly increasing.

    Float arrays are accepted when every value is a whole number (e.g. read from CSV).

    Args:
        peaks: sample indices.
        func: public function name, used in messages.
        min_peaks: fewest peaks accepted.
        n_samples: when given, every peak must be below it (inside the signal).

    Raises:
        InvalidParameterError: naming the first offending value.

    Example:
        >>> as_peaks([10, 250.0, 400], func="ecg_rate").tolist()
        [10, 250, 400]
    """
    try:
        array = np.asarray(peaks)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{func}: peaks cannot be read as an array: {exc}") from exc
    if array.ndim != 1:
        raise InvalidParameterError(
            f"{func}: peaks must be a 1-D array of sample indices, got shape {array.shape}"
        )
    if array.dtype == np.bool_ or array.dtype.kind not in "iuf":
        raise InvalidParameterError(
            f"{func}: peaks must be integer sample indices, got dtype {array.dtype}"
        )
    if array.dtype.kind == "f":
        whole = np.isfinite(array) & (array == np.round(array))
        if not whole.all():
            bad = int(np.flatnonzero(~whole)[0])
            raise InvalidParameterError(
                f"{func}: peaks must be whole sample indices, got {array[bad]!r} at position {bad}"
            )
    if array.size and (array.max() > np.iinfo(np.int64).max or array.min() < 0):
        bad = int(np.flatnonzero((array < 0) | (array > np.iinfo(np.int64).max))[0])
        raise InvalidParameterError(
            f"{func}: peaks must be non-negative sample indices, got {array[bad]!r} at "
            f"position {bad}"
        )
    out = array.astype(np.int64)
    if out.size < min_peaks:
        raise InvalidParameterError(
            f"{func}: at least {min_peaks} R peaks are needed, got {out.size}"
        )
    steps = np.diff(out)
    if (steps <= 0).any():
        bad = int(np.flatnonzero(steps <= 0)[0])
        raise InvalidParameterError(
            f"{func}: peaks must be strictly increasing (sorted, no duplicates); "
            f"position {bad + 1} holds {out[bad + 1]} after {out[bad]}"
        )
    if n_samples is not None and out.size and out[-1] >= n_samples:
        raise InvalidParameterError(
            f"{func}: peak {out[-1]} lies outside the signal of {n_samples} samples"
        )
    return out
