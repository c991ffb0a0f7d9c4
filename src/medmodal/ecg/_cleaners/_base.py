"""Shared pieces of the ECG cleaners: the registry, fast detrending and zero-phase filters.

Every cleaner takes a validated float64 ``(n_samples, n_leads)`` array that it owns (it
may modify it in place), the sampling rate in Hz and the resolved powerline frequency
(``None``: no notch), and returns an array of the same shape; filtering runs along
axis 0, so each lead is cleaned on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import scipy.signal

from medmodal.registry import Registry
from medmodal.types import FloatArray

Cleaner: TypeAlias = Callable[[FloatArray, float, float | None], FloatArray]

#: The ECG cleaning methods, by name.
CLEANERS: Registry[Cleaner] = Registry("ECG cleaning method")

#: Quality factor of the powerline notch (-3 dB width = f0 / Q, i.e. 1.7 Hz at 50 Hz).
NOTCH_Q = 30.0
#: Odd-extension padding (s) added at both ends before zero-phase filtering.
PAD_SECONDS = 1.0


def detrend(data: FloatArray) -> FloatArray:
    """Remove each lead's least-squares line, in place (closed form; ~10x faster than scipy).

    Example:
        >>> import numpy as np
        >>> x = np.arange(5.0)[:, None] * 2 + 1
        >>> bool(np.allclose(detrend(x), 0))
        True
    """
    n = data.shape[0]
    data -= data.mean(axis=0)
    if n < 2:
        return data
    t = np.arange(n, dtype=np.float64)
    t -= (n - 1) / 2.0
    # einsum, not ``t @ data``: BLAS threads cost 10x more than this one pass on a busy
    # machine. sum(t**2) of the centred ramp is n(n**2 - 1)/12.
    slope = np.einsum("i,ij->j", t, data) / (n * (n * n - 1.0) / 12.0)
    data -= np.outer(t, slope)
    return data


def band_sos(low: float | None, high: float | None, sampling_rate: float, order: int) -> FloatArray:
    """Butterworth high-, low- or band-pass as second-order sections.

    ``high`` is clipped to 45 % of the sampling rate (below Nyquist); a ``None`` edge
    leaves that side open. Returns an empty ``(0, 6)`` array when both sides are open.
    """
    if high is not None and high >= 0.45 * sampling_rate:
        high = 0.45 * sampling_rate
    if high is not None and low is not None and high <= low:
        high = None
    if low is not None and high is not None:
        return scipy.signal.butter(order, [low, high], "bandpass", fs=sampling_rate, output="sos")
    if low is not None:
        return scipy.signal.butter(order, low, "highpass", fs=sampling_rate, output="sos")
    if high is not None:
        return scipy.signal.butter(order, high, "lowpass", fs=sampling_rate, output="sos")
    return np.zeros((0, 6))


def notch_sos(powerline: float | None, sampling_rate: float) -> FloatArray:
    """IIR notch at ``powerline`` Hz as one section; empty when ``None`` or >= Nyquist."""
    if powerline is None or powerline >= sampling_rate / 2.0:
        return np.zeros((0, 6))
    b, a = scipy.signal.iirnotch(powerline, NOTCH_Q, fs=sampling_rate)
    return scipy.signal.tf2sos(b, a)


def filtfilt(sos: FloatArray, data: FloatArray, sampling_rate: float) -> FloatArray:
    """Zero-phase ``sosfiltfilt`` along axis 0 with ``PAD_SECONDS`` of odd-extension padding.

    The long pad lets the slow high-pass settle before the record starts (with scipy's
    default of ~20 samples a 0.15 Hz wander leaves a 10x larger error in the first
    second); it is cut to the signal length for short signals.
    """
    if sos.shape[0] == 0:
        return data
    padlen = max(3 * (2 * sos.shape[0] + 1), round(PAD_SECONDS * sampling_rate))
    padlen = max(min(padlen, data.shape[0] - 1), 0)
    return scipy.signal.sosfiltfilt(sos, data, axis=0, padlen=padlen)
