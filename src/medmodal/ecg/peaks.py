"""R-peak detection: ``ecg_peaks`` and the registry of detectors behind ``method=``.

Each detector lives in its own private module under ``medmodal.ecg._detectors`` and is
registered here; the registry's names feed :func:`available_methods`, the docstring of
:func:`ecg_peaks` and the "did you mean ...?" error for unknown names.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> from medmodal.ecg.peaks import ecg_peaks, available_methods
    >>> sim = ecg_simulate_annotated(10, 250, heart_rate=72, noise=0.05, seed=0)
    >>> peaks = ecg_peaks(sim.signal, 250)
    >>> len(peaks) == len(sim.r_peaks), int(abs(peaks - sim.r_peaks).max())
    (True, 0)
    >>> available_methods()
    ('twosided', 'pantompkins1985')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from medmodal.ecg._detectors import pantompkins, twosided
from medmodal.ecg._validate import CheckedSignal, as_signal, check_sampling_rate
from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.registry import Registry
from medmodal.types import ArrayLike, FloatArray, IntArray

#: Lowest sampling rate (Hz) at which R peaks can be located at all.
MIN_SAMPLING_RATE = 25.0
#: Below this rate (Hz) the detectors run but their accuracy is not validated.
VALIDATED_SAMPLING_RATE = 50.0

__all__ = ["DETECTORS", "Detector", "available_methods", "ecg_peaks"]

#: A detector: ``(signal (n_samples, n_leads) without flat leads, sampling_rate) -> peaks``.
Detector = Callable[[FloatArray, float], IntArray]

#: The R-peak detectors that ``ecg_peaks(..., method=...)`` accepts.
DETECTORS: Registry[Detector] = Registry("R-peak detector")
DETECTORS.add(
    "twosided",
    twosided.detect,
    aliases=("default",),
    description="the default: Pan-Tompkins slope feature with Hamilton-Tompkins median "
    "thresholds estimated from the beats on both sides, P/T-wave rules, search-back and "
    "noise-zone thinning (pooled F1 99.88 % on the MIT-BIH records it was developed on, "
    "benchmarks/results/ecg_qrs.md; under added noise, benchmarks/results/ecg_noise.md)",
)
DETECTORS.add(
    "pantompkins1985",
    pantompkins.detect,
    aliases=("pantompkins", "pan-tompkins"),
    description="Pan & Tompkins (1985): band-pass, derivative, squaring, integration, "
    "dual adaptive thresholds, T-wave check and search-back",
)


def available_methods() -> tuple[str, ...]:
    """Canonical names of the registered R-peak detectors (``"default"`` is an alias)."""
    return DETECTORS.names()


def ecg_peaks(signal: ArrayLike, sampling_rate: float, *, method: str = "default") -> IntArray:
    """Detect R peaks.

    Methods:
    {methods}

    Args:
        signal: ECG, raw or cleaned, ``(n_samples,)`` or ``(n_samples, n_leads)``; every
            detector does its own band-pass. Multi-lead input gives ONE fused set of
            beats (per-lead features weighted by local quality; flat leads are ignored
            with a warning), placed on the most informative lead.
        sampling_rate: Hz (any rate from about 100 Hz up; all parameters are in seconds).
        method: detector name or alias (see above and :func:`available_methods`).

    Returns:
        Sorted, unique sample indices (int64) of the R peaks, each on the dominant
        extremum of its QRS complex (the negative one for inverted complexes). Beats
        cut by the first or last sample are kept; no two peaks are within 100 ms.

    Raises:
        InvalidParameterError: unknown ``method`` (with suggestions) or bad
            ``sampling_rate``.
        InvalidSignalError: signal not 1-D/2-D numeric, shorter than 2 s, flat, or with
            NaN/inf gaps longer than 1 s (shorter gaps are interpolated with a warning).

    Example:
        >>> from medmodal.ecg.simulate import ecg_simulate_annotated
        >>> sim = ecg_simulate_annotated(20, 500, rhythm="pvc", n_leads=3, seed=1)
        >>> peaks = ecg_peaks(sim.signal, 500, method="pantompkins1985")
        >>> peaks.dtype, len(peaks) == len(sim.r_peaks)
        (dtype('int64'), True)

    References:
        Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng
        32(3):230-236 (1985).
        Hamilton PS, Tompkins WJ. Quantitative investigation of QRS detection rules
        using the MIT/BIH arrhythmia database. IEEE Trans Biomed Eng 33(12):1157-1165
        (1986).
    """
    rate = check_sampling_rate(sampling_rate, func="ecg_peaks")
    detector = _detector(rate, method)
    checked = as_signal(signal, rate, func="ecg_peaks")
    return _detect(checked, rate, detector)


def _peaks_unchecked(
    checked: CheckedSignal, sampling_rate: float, *, method: str = "default"
) -> IntArray:
    """:func:`ecg_peaks` of a signal already validated (by the caller's ``as_signal``).
    For pipelines that validate once."""
    return _detect(checked, sampling_rate, _detector(sampling_rate, method, stacklevel=4))


def _detector(rate: float, method: str, *, stacklevel: int = 3) -> Detector:
    """The detector ``method`` after the sampling-rate checks (raises or warns)."""
    if rate < MIN_SAMPLING_RATE:
        raise InvalidParameterError(
            f"ecg_peaks: sampling_rate {rate:g} Hz is too low to detect R peaks (at least "
            f"{MIN_SAMPLING_RATE:g} Hz is needed: the QRS complex has its energy at 5-15 Hz)"
        )
    if rate < VALIDATED_SAMPLING_RATE:
        warnings.warn(
            f"ecg_peaks: at {rate:g} Hz R peaks may be missed or doubled (detection is "
            f"validated from {VALIDATED_SAMPLING_RATE:g} Hz up)",
            MedmodalWarning,
            stacklevel=stacklevel,
        )
    return DETECTORS.get(method)


def _detect(checked: CheckedSignal, rate: float, detector: Detector) -> IntArray:
    """Sorted unique R peaks of a validated signal (its flat leads left out)."""
    data = checked.data
    if checked.flat_leads:
        data = np.delete(data, list(checked.flat_leads), axis=1)
    peaks = np.asarray(detector(data, rate), dtype=np.int64)
    if peaks.size > 1 and not (peaks[1:] > peaks[:-1]).all():
        peaks = np.unique(peaks)
    return peaks


DETECTORS.document(ecg_peaks)  # the list comes from the registry: it cannot drift
