"""Signal-to-noise ratio of a noisy ECG as the MIT-BIH Noise Stress Test defines it.

PhysioNet's ``nst``, which built the MIT-BIH Noise Stress Test Database, sets its noise
gains from two sizes measured as its ``sigamp`` does: the signal size ``A`` is the
trimmed mean (lowest and highest 5 % dropped) of the peak-to-peak amplitudes of the QRS
complexes, each taken within +-50 ms of its R peak (:func:`qrs_amplitude`); the noise
size ``R`` is the trimmed mean of the RMS of the noise over consecutive 1 s windows,
each window's mean removed (:func:`noise_rms`). The signal power is taken as that of a
sine wave of peak-to-peak amplitude ``A``, ``S = A**2 / 8``, the noise power as
``N = R**2``, and ``SNR = 10 log10(S / N)`` dB (:func:`ecg_snr`). ``nst`` measures the
first 300 normal beats and 300 s of noise; these functions measure everything given.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> sim = ecg_simulate_annotated(30, 250, seed=0)
    >>> noise = np.random.default_rng(1).normal(0, 0.1, sim.signal.size)
    >>> snr = ecg_snr(sim.signal, noise, 250, peaks=sim.r_peaks)
    >>> a = qrs_amplitude(sim.signal, 250, sim.r_peaks)  # white noise: R is about 0.1
    >>> bool(abs(snr - 20 * np.log10(a / (np.sqrt(8) * 0.1))) < 0.2)
    True

References:
    Moody GB. nst: noise stress test for ECG analysis programs; sigamp: measure signal
    amplitudes. WFDB Software Package, PhysioNet.
    Moody GB, Muldrow WE, Mark RG. A noise stress test for arrhythmia detectors.
    Computers in Cardiology 11:381-384 (1984).
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._validate import as_peaks, as_signal, check_sampling_rate
from medmodal.errors import InvalidParameterError, InvalidSignalError
from medmodal.types import ArrayLike, FloatArray

__all__ = ["ecg_snr", "noise_rms", "qrs_amplitude"]

#: Half-width (s) of the window around each R peak for the QRS peak-to-peak amplitude.
QRS_HALF_WINDOW = 0.05
#: Window (s) over which the noise RMS is measured.
RMS_WINDOW = 1.0


def _trimmed_mean(values: FloatArray) -> float:
    """Mean after dropping the lowest and highest ``floor(n / 20)`` values (sigamp)."""
    ordered = np.sort(values)
    cut = ordered.size // 20
    kept = ordered[cut : ordered.size - cut]
    return float(kept.mean()) if kept.size else float("nan")


def qrs_amplitude(signal: ArrayLike, sampling_rate: float, peaks: ArrayLike) -> float:
    """Size of the QRS complexes of one lead, as ``nst`` measures it (``sigamp -a``).

    The trimmed mean (5 % off each end) of the peak-to-peak amplitude within +-50 ms of
    every R peak (windows cut by the record's edges are shortened).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(0, 1e-4, 1000)
        >>> x[[100, 400, 700]] += [1.0, 1.2, 0.8]  # three spikes
        >>> round(qrs_amplitude(x, 250, [100, 400, 700]), 2)  # their mean
        1.0
    """
    func = "qrs_amplitude"
    rate = check_sampling_rate(sampling_rate, func=func)
    x = one_lead(signal, rate, func=func)
    beats = as_peaks(peaks, func=func, min_peaks=1, n_samples=x.size)
    half = max(1, round(QRS_HALF_WINDOW * rate))
    index = np.clip(beats[:, None] + np.arange(-half, half + 1)[None, :], 0, x.size - 1)
    windows = x[index]
    return _trimmed_mean(windows.max(axis=1) - windows.min(axis=1))


def noise_rms(noise: ArrayLike, sampling_rate: float) -> float:
    """Size of a noise signal, as ``nst`` measures it (``sigamp -r``).

    The trimmed mean (5 % off each end) of the RMS over consecutive 1 s windows, each
    window's mean removed first (a last, partial window is left out unless it is the
    only one).

    Example:
        >>> import numpy as np
        >>> t = np.arange(2500) / 250
        >>> round(noise_rms(3.0 + np.sin(2 * np.pi * 10 * t), 250), 4)  # 1/sqrt(2)
        0.7071
    """
    func = "noise_rms"
    rate = check_sampling_rate(sampling_rate, func=func)
    x = one_lead(noise, rate, func=func)
    return segment_rms(x, rate)


#: Above this amplitude a square may overflow float64; RMS is then taken in peak units.
_SQUARE_SAFE = 1e150


def segment_rms(x: FloatArray, rate: float) -> float:
    """:func:`noise_rms` of a validated 1-D array (no checks)."""
    width = max(1, round(RMS_WINDOW * rate))
    n_windows = max(1, x.size // width)
    blocks = x[: n_windows * width].reshape(n_windows, -1) if x.size >= width else x[None, :]
    centred = blocks - blocks.mean(axis=1, keepdims=True)
    peak = float(np.max(np.abs(centred))) if centred.size else 0.0
    if peak > _SQUARE_SAFE:  # squares would overflow: measure in units of the peak
        scaled = centred / peak
        return peak * _trimmed_mean(np.sqrt(np.mean(scaled * scaled, axis=1)))
    return _trimmed_mean(np.sqrt(np.mean(centred * centred, axis=1)))


def ecg_snr(
    signal: ArrayLike, noise: ArrayLike, sampling_rate: float, *, peaks: ArrayLike
) -> float:
    """Signal-to-noise ratio (dB) of ``noise`` added to ``signal``, as ``nst`` defines it.

    ``10 log10((A**2 / 8) / R**2)`` with ``A`` = :func:`qrs_amplitude` of the clean
    ``signal`` at ``peaks`` and ``R`` = :func:`noise_rms` of ``noise``. One lead
    (``(n_samples,)``); pass only the noisy stretches' noise to measure those.

    Raises:
        InvalidParameterError: bad arguments, or noise of zero size.
    """
    func = "ecg_snr"
    rate = check_sampling_rate(sampling_rate, func=func)
    amplitude = qrs_amplitude(signal, rate, peaks)
    size = segment_rms(one_lead(noise, rate, func=func, allow_flat=True), rate)
    if not size > 0:
        raise InvalidParameterError(f"{func}: the noise has zero size; the SNR is infinite")
    return float(10.0 * np.log10(amplitude**2 / 8.0 / size**2))


def one_lead(x: ArrayLike, rate: float, *, func: str, allow_flat: bool = False) -> FloatArray:
    """The single lead of ``x`` as a 1-D float array, validated for ``func``."""
    checked = as_signal(x, rate, func=func, min_seconds=0.0, allow_flat=allow_flat)
    if checked.n_leads != 1:
        raise InvalidSignalError(
            f"{func}: expects one lead, (n_samples,), got shape {checked.data.shape}"
        )
    return checked.data[:, 0]
