"""R-peak detection: ``ecg_peaks`` and the registry of detectors behind ``method=``.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.peaks import ecg_peaks, available_methods
    >>> fs = 250
    >>> t = np.arange(10 * fs) / fs
    >>> beats = np.arange(0.5, 10, 0.8)
    >>> ecg = sum(np.exp(-((t - b) ** 2) / (2 * 0.01**2)) for b in beats)
    >>> ecg = ecg + 0.01 * np.random.default_rng(0).standard_normal(t.size)
    >>> peaks = ecg_peaks(ecg, fs)
    >>> len(peaks), int(peaks[0])
    (12, 125)
    >>> "pantompkins1985" in available_methods()
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from medmodal.ecg._detectors import pantompkins, twosided
from medmodal.ecg._validate import as_signal, check_sampling_rate
from medmodal.registry import Registry
from medmodal.types import ArrayLike, FloatArray, IntArray

#: A detector: ``(signal (n_samples, n_leads) without flat leads, sampling_rate) -> peaks``.
Detector = Callable[[FloatArray, float], IntArray]

#: The R-peak detectors that ``ecg_peaks(..., method=...)`` accepts.
DETECTORS: Registry[Detector] = Registry("R-peak detector")
DETECTORS.add(
    "twosided",
    twosided.detect,
    aliases=("default",),
    description="medmodal's default: Pan-Tompkins feature, Hamilton-Tompkins median "
    "thresholds estimated from the beats on both sides, P/T-wave pair rules, search-back",
)
DETECTORS.add(
    "pantompkins1985",
    pantompkins.detect,
    aliases=("pantompkins", "pan-tompkins"),
    description="Pan & Tompkins (1985): band-pass, derivative, squaring, integration, "
    "dual adaptive thresholds, T-wave check and search-back",
)


def available_methods() -> tuple[str, ...]:
    """Canonical names of the registered R-peak detectors."""
    return DETECTORS.names()


def ecg_peaks(signal: ArrayLike, sampling_rate: float, *, method: str = "default") -> IntArray:
    """Detect R peaks.

    Args:
        signal: ECG, raw or cleaned, ``(n_samples,)`` or ``(n_samples, n_leads)``; every
            detector does its own band-pass. Multi-lead input gives ONE fused set of
            beats; flat leads are ignored (with a warning).
        sampling_rate: Hz (any rate from about 100 Hz up).
        method: detector name (see :func:`available_methods`).

    Returns:
        Sorted, unique sample indices (int64) of the R peaks, each on the dominant
        extremum of its QRS complex (negative for inverted complexes).

    Raises:
        InvalidParameterError: unknown ``method`` (with suggestions) or bad
            ``sampling_rate``.
        InvalidSignalError: signal not 1-D/2-D numeric, shorter than 2 s, flat, or with
            long NaN/inf gaps.
    """
    rate = check_sampling_rate(sampling_rate, func="ecg_peaks")
    detector = DETECTORS.get(method)
    checked = as_signal(signal, rate, func="ecg_peaks")
    data = checked.data
    if checked.flat_leads:
        data = np.delete(data, list(checked.flat_leads), axis=1)
    peaks = detector(data, rate)
    return np.unique(np.asarray(peaks, dtype=np.int64))
