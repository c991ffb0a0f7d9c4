"""Heart-rate variability: time- and frequency-domain measures of the NN intervals.

The RR intervals between consecutive R peaks are cleaned into NN ("normal-to-normal")
intervals by one stated rule (:func:`nn_mask`): an interval is removed when it lies
outside 0.2-3 s (300-20 bpm) or deviates by more than ``artifact_threshold`` (20 %) from
the median of the 11 intervals centred on it. Ectopic beats and missed or extra
detections break that rule: a premature beat's short coupling interval and its
compensatory pause are both removed. Successive differences only use pairs of adjacent
intervals that were both kept.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.hrv import ecg_hrv
    >>> rr = 0.8 + 0.05 * np.sin(2 * np.pi * 0.25 * np.arange(400) * 0.8)
    >>> peaks = np.round(np.cumsum(rr) * 250).astype(int)
    >>> hrv = ecg_hrv(peaks, 250)
    >>> round(hrv.mean_nn_ms), hrv.hf_ms2 > 10 * hrv.lf_ms2
    (800, True)
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import scipy.interpolate
import scipy.ndimage
import scipy.signal

from medmodal.ecg._validate import as_peaks, check_sampling_rate
from medmodal.errors import InvalidParameterError
from medmodal.io import DEFAULT_LIMITS
from medmodal.registry import Registry
from medmodal.types import ArrayLike, BoolArray, FloatArray

#: Frequency bands (Hz) of the Task Force (1996).
LF_BAND = (0.04, 0.15)
HF_BAND = (0.15, 0.40)
#: Shortest NN series (s) for HF and LF: ~10 cycles of each band's lowest frequency.
MIN_SECONDS_HF = 60.0
MIN_SECONDS_LF = 120.0
#: Sampling rates (Hz) of the peak indices: 1 Hz (indices in whole seconds) up to the
#: highest rate any reader accepts (real ECG hardware, :class:`medmodal.io.Limits`).
#: Outside, intervals are not physical (1e-300 Hz makes every interval infinite).
SAMPLING_RATE_RANGE = (1.0, DEFAULT_LIMITS.max_sampling_rate)
#: Physiological bounds (s) of an NN interval, and the local-median window (intervals).
NN_BOUNDS = (0.2, 3.0)
MEDIAN_WINDOW = 11
#: Longest NN series (s) analysed in the frequency domain (a week; the 4 Hz grid).
MAX_SPECTRUM_SECONDS = 7 * 86400.0
#: Segment (s) of the averaged Lomb-Scargle periodograms (the Task Force's short term).
LOMB_SEGMENT_S = 300.0

#: ``(times s, NN ms) -> (frequencies Hz, one-sided PSD ms²/Hz)``.
Spectrum = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]
SPECTRA: Registry[Spectrum] = Registry("HRV spectral method")


@dataclass(frozen=True, eq=False)
class HRV:
    """Heart-rate variability of one recording.

    Attributes:
        n_beats: R peaks given.
        n_intervals: RR intervals between them (``n_beats - 1``).
        n_removed: intervals removed as ectopic/artefact (see :func:`nn_mask`).
        duration_s: time from the first to the last R peak.
        mean_nn_ms, median_nn_ms: mean and median NN interval.
        sdnn_ms: standard deviation of the NN intervals (ddof=1).
        rmssd_ms: root mean square of successive NN differences.
        sdsd_ms: standard deviation of successive NN differences (ddof=1).
        pnn50_pct: successive differences > 50 ms, in % of the NN intervals (Task Force).
        sd1_ms, sd2_ms: Poincaré plot axes (Brennan et al. 2001).
        lf_ms2, hf_ms2: power in 0.04-0.15 Hz and 0.15-0.4 Hz (NaN when too short).
        lf_hf: ``lf_ms2 / hf_ms2``; lf_nu, hf_nu: normalised units (% of LF + HF).
        method: spectral estimator used.
        notes: why a measure is NaN, or what to watch out for.
        nn_times_s: time of the beat ending each kept NN interval.
        nn_ms: the kept NN intervals.
    """

    n_beats: int
    n_intervals: int
    n_removed: int
    duration_s: float
    mean_nn_ms: float
    median_nn_ms: float
    sdnn_ms: float
    rmssd_ms: float
    sdsd_ms: float
    pnn50_pct: float
    sd1_ms: float
    sd2_ms: float
    lf_ms2: float
    hf_ms2: float
    lf_hf: float
    lf_nu: float
    hf_nu: float
    method: str
    notes: tuple[str, ...] = ()
    nn_times_s: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    nn_ms: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_dict(self) -> dict[str, object]:
        """Every scalar measure (arrays left out); notes joined by ``"; "``."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name[:3] != "nn_"}
        out["notes"] = "; ".join(self.notes)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row with every scalar measure."""
        return pd.DataFrame([self.to_dict()])


def nn_mask(rr_s: FloatArray, *, artifact_threshold: float | None = 0.2) -> BoolArray:
    """Which RR intervals (s) are kept as NN intervals.

    Removed: intervals outside ``NN_BOUNDS`` (0.2-3 s); the neighbours of an interval
    shorter than 0.2 s (an extra detection splits one interval in two: both pieces are
    artefacts); and intervals deviating by more than ``artifact_threshold`` (fraction)
    from the median of the ``MEDIAN_WINDOW`` (11) intervals centred on them (Malik et al.
    1989's 20 % rule, against a local median instead of the previous interval, so one
    ectopic beat does not reject its neighbour twice). ``artifact_threshold=None`` keeps
    every interval.

    Example:
        >>> rr = np.array([0.8, 0.8, 0.8, 0.5, 1.1, 0.8, 0.8, 0.8])  # a premature beat
        >>> nn_mask(rr).tolist()
        [True, True, True, False, False, True, True, True]
        >>> nn_mask(np.array([0.8, 0.8, 0.1, 0.7, 0.8, 0.8])).tolist()  # a double detection
        [True, False, False, False, True, True]
    """
    if artifact_threshold is None:
        return np.ones(rr_s.shape, dtype=bool)
    keep = (rr_s >= NN_BOUNDS[0]) & (rr_s <= NN_BOUNDS[1])
    short = rr_s < NN_BOUNDS[0]
    keep[1:] &= ~short[:-1]
    keep[:-1] &= ~short[1:]
    local = scipy.ndimage.median_filter(rr_s, size=MEDIAN_WINDOW, mode="nearest")
    return keep & (np.abs(rr_s - local) <= artifact_threshold * local)


@SPECTRA.register(
    "welch",
    description="cubic-spline resampling at 4 Hz, linear detrend, Welch (Hann, 240 s "
    "segments, 50 % overlap)",
)
def _welch(times: FloatArray, nn: FloatArray) -> tuple[FloatArray, FloatArray]:
    rate = 4.0
    grid = np.arange(times[0], times[-1], 1.0 / rate)
    even = scipy.signal.detrend(scipy.interpolate.CubicSpline(times, nn)(grid))
    nperseg = min(even.size, int(240 * rate))
    nfft = max(2048, 1 << (nperseg - 1).bit_length())
    return scipy.signal.welch(even, fs=rate, window="hann", nperseg=nperseg, nfft=nfft)


@SPECTRA.register(
    "lomb",
    aliases=("lombscargle",),
    description="Lomb-Scargle periodogram of the NN series (no resampling); series longer "
    "than 5 min: periodograms of 5-min segments (50 % overlap) averaged",
)
def _lomb(times: FloatArray, nn: FloatArray) -> tuple[FloatArray, FloatArray]:
    span = times[-1] - times[0]
    segment = min(span, LOMB_SEGMENT_S)
    freqs = np.arange(1.0, 4.0 * segment * HF_BAND[1] + 1.0) / (4.0 * segment)  # 4x oversampled
    starts = np.arange(times[0], times[-1] - segment + 1e-9, segment / 2.0)
    psds = []
    for start in starts:
        inside = (times >= start) & (times <= start + segment)
        if inside.sum() >= 4:
            psds.append(_lomb_psd(times[inside], nn[inside], freqs))
    if not psds:  # gaps everywhere: no segment holds 4 intervals (the caller says so)
        return freqs, np.full(freqs.size, np.nan)
    return freqs, np.mean(psds, axis=0)


def _lomb_psd(times: FloatArray, nn: FloatArray, freqs: FloatArray) -> FloatArray:
    """One-sided density (ms²/Hz) of one stretch of NN intervals."""
    span = times[-1] - times[0]
    power = scipy.signal.lombscargle(times, scipy.signal.detrend(nn), 2 * np.pi * freqs)
    # The unnormalised periodogram is ~A²N/4 at a sinusoid of amplitude A; 2 P divided
    # by the mean sampling rate (N / span) makes the bands sum to the variance.
    return 2.0 * power * span / times.size


def ecg_hrv(
    peaks: ArrayLike,
    sampling_rate: float,
    *,
    method: str = "welch",
    artifact_threshold: float | None = 0.2,
) -> HRV:
    """Time- and frequency-domain HRV from R-peak sample indices.

    Frequency measures need at least 60 s (HF) and 120 s (LF) of NN series; shorter
    recordings give NaN there and a note in :attr:`HRV.notes` (no warning: the result
    says why). Time-domain measures need 2 NN intervals (SDNN) or 2 successive
    differences (RMSSD, SDSD, pNN50), else NaN with a note.

    Spectral methods:
    {methods}

    Args:
        peaks: sorted, unique, non-negative R-peak sample indices (at least 2).
        sampling_rate: Hz of the peak indices, within ``SAMPLING_RATE_RANGE``
            (1 Hz to 20 kHz).
        method: frequency-domain estimator (see above).
        artifact_threshold: relative deviation from the local median above which an
            interval is removed (default 0.2), or ``None`` to keep every interval.

    Returns:
        An :class:`HRV`.

    Raises:
        InvalidParameterError: bad peaks (fewer than 2, unsorted, ...), sampling rate,
            method or threshold.

    Example:
        >>> peaks = np.arange(0, 250 * 60, 250)  # a metronome: 60 bpm, no variability
        >>> h = ecg_hrv(peaks, 250)
        >>> h.mean_nn_ms, h.sdnn_ms, bool(np.isnan(h.lf_ms2))
        (1000.0, 0.0, True)

    References:
        Task Force of the European Society of Cardiology and the North American Society
        of Pacing and Electrophysiology. Heart rate variability: standards of
        measurement, physiological interpretation and clinical use. Circulation
        93(5):1043-1065 (1996).
        Malik M et al. Heart rate variability in relation to prognosis after myocardial
        infarction: selection of optimal processing techniques. Eur Heart J
        10(12):1060-1074 (1989).
        Brennan M, Palaniswami M, Kamen P. Do existing measures of Poincaré plot
        geometry reflect nonlinear features of heart rate variability? IEEE Trans
        Biomed Eng 48(11):1342-1347 (2001).
    """
    func = "ecg_hrv"
    rate = _check_rate(sampling_rate, func=func)
    spectrum = SPECTRA.get(method)
    threshold = _check_threshold(artifact_threshold, func=func)
    beats = as_peaks(peaks, func=func, min_peaks=2)
    rr_samples = np.diff(beats)
    keep = nn_mask(rr_samples / rate, artifact_threshold=threshold)
    times = beats[1:][keep] / rate
    # ms from whole samples in one division, so that e.g. 18 samples at 360 Hz is exactly
    # 50 ms (pNN50 counts differences strictly above 50 ms).
    nn = rr_samples[keep] * 1000.0 / rate
    # Successive differences only between adjacent intervals that were both kept.
    pairs = keep[1:] & keep[:-1]
    diffs = np.diff(rr_samples)[pairs] * 1000.0 / rate
    notes: list[str] = []
    if keep.size - keep.sum():
        removed = int(keep.size - keep.sum())
        notes.append(
            f"{removed} of {keep.size} RR intervals ({100 * removed / keep.size:.1f} %) "
            f"removed as ectopic/artefact"
        )
    time_domain = _time_domain(nn, diffs, notes)
    freq_domain = _frequency_domain(times, nn, spectrum, notes)
    return HRV(
        n_beats=int(beats.size),
        n_intervals=int(keep.size),
        n_removed=int(keep.size - keep.sum()),
        duration_s=float((beats[-1] - beats[0]) / rate),
        **time_domain,
        **freq_domain,
        method=SPECTRA.resolve(method),
        notes=tuple(notes),
        nn_times_s=times,
        nn_ms=nn,
    )


def _time_domain(nn: FloatArray, diffs: FloatArray, notes: list[str]) -> dict[str, float]:
    nan = float("nan")
    mean = float(nn.mean()) if nn.size else nan
    sdnn = float(nn.std(ddof=1)) if nn.size >= 2 else nan
    if nn.size < 2:
        notes.append(f"SDNN needs 2 NN intervals, got {nn.size}")
    if diffs.size >= 1:
        rmssd = float(np.sqrt(np.mean(diffs**2)))
        pnn50 = float(100.0 * np.count_nonzero(np.abs(diffs) > 50.0) / nn.size)
    else:
        rmssd = pnn50 = nan
        notes.append("RMSSD/pNN50 need 2 adjacent NN intervals, got none")
    sdsd = float(diffs.std(ddof=1)) if diffs.size >= 2 else nan
    sd1 = float(np.sqrt(0.5) * sdsd)
    sd2 = float(np.sqrt(max(2 * sdnn**2 - 0.5 * sdsd**2, 0.0))) if np.isfinite(sdsd) else nan
    return {
        "mean_nn_ms": mean,
        "median_nn_ms": float(np.median(nn)) if nn.size else nan,
        "sdnn_ms": sdnn,
        "rmssd_ms": rmssd,
        "sdsd_ms": sdsd,
        "pnn50_pct": pnn50,
        "sd1_ms": sd1,
        "sd2_ms": sd2,
    }


def _frequency_domain(
    times: FloatArray, nn: FloatArray, spectrum: Spectrum, notes: list[str]
) -> dict[str, float]:
    nan = float("nan")
    span = float(times[-1] - times[0]) if times.size else 0.0
    out = {"lf_ms2": nan, "hf_ms2": nan, "lf_hf": nan, "lf_nu": nan, "hf_nu": nan}
    if span < MIN_SECONDS_HF or times.size < 4:
        notes.append(
            f"frequency measures need >= {MIN_SECONDS_HF:g} s of NN intervals (HF) and "
            f">= {MIN_SECONDS_LF:g} s (LF); got {span:.1f} s: LF and HF are NaN"
        )
        return out
    if span > MAX_SPECTRUM_SECONDS:
        notes.append(
            f"the NN series spans {span:.3g} s, more than {MAX_SPECTRUM_SECONDS:.0e} s: "
            "LF and HF are NaN (analyse shorter segments)"
        )
        return out
    freqs, psd = spectrum(times, nn)
    if not np.isfinite(psd).any():
        notes.append(
            "no stretch of the NN series is dense enough for a spectrum (long gaps): "
            "LF and HF are NaN"
        )
        return out
    # Powers at rounding-noise level (a metronome) are zero, so their ratios are NaN.
    floor = 1e-12 * float(np.mean(nn)) ** 2
    out["hf_ms2"] = _band_power(freqs, psd, HF_BAND, floor)
    if span < MIN_SECONDS_LF:
        notes.append(f"LF needs >= {MIN_SECONDS_LF:g} s of NN intervals, got {span:.1f} s")
        return out
    lf, hf = _band_power(freqs, psd, LF_BAND, floor), out["hf_ms2"]
    total = lf + hf
    out.update(
        lf_ms2=lf,
        lf_hf=lf / hf if hf > 0 else nan,
        lf_nu=100 * lf / total if total > 0 else nan,
        hf_nu=100 * hf / total if total > 0 else nan,
    )
    return out


def _band_power(
    freqs: FloatArray, psd: FloatArray, band: tuple[float, float], floor: float
) -> float:
    """Power (ms²) in ``[low, high)``: the PSD bins' sum times the bin width (0 if tiny)."""
    inside = (freqs >= band[0]) & (freqs < band[1])
    power = float(psd[inside].sum() * (freqs[1] - freqs[0]))
    return power if power > floor else 0.0


def _check_rate(sampling_rate: object, *, func: str) -> float:
    rate = check_sampling_rate(sampling_rate, func=func)
    low, high = SAMPLING_RATE_RANGE
    if not low <= rate <= high:
        raise InvalidParameterError(
            f"{func}: sampling_rate must be between {low:g} and {high:g} Hz (the rate of "
            f"the peak indices), got {sampling_rate!r}"
        )
    return rate


def _check_threshold(value: object, *, func: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < float(value) <= 1:
        return float(value)
    raise InvalidParameterError(
        f"{func}: artifact_threshold must be a fraction in (0, 1] or None, got {value!r}"
    )


def available_methods() -> tuple[str, ...]:
    """Names of the registered spectral methods.

    Example:
        >>> available_methods()
        ('welch', 'lomb')
    """
    return SPECTRA.names()


SPECTRA.document(ecg_hrv)  # the method list comes from the registry: it cannot drift

__all__ = ["HRV", "available_methods", "ecg_hrv", "nn_mask"]
