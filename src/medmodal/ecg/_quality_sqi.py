"""Signal-quality indices of one lead, computed for many windows at once.

Private helpers of :mod:`medmodal.ecg.quality`. Windows are given as sorted, contiguous
``starts``/``stops`` sample bounds; every function returns one value per window.
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._templates import residuals
from medmodal.types import FloatArray, IntArray

#: Length (s) of the Hann-windowed segments averaged into each window's spectrum
#: (0.2 Hz resolution: a heart rate above 60 bpm stays out of the 0-1 Hz baseline band).
SEGMENT_S = 5.0
#: Beat window (s) for template matching, before and after the R peak.
BEAT_BEFORE, BEAT_AFTER = 0.2, 0.4
#: Detections of two detectors within this distance (s) are the same beat (EC57).
MATCH_TOLERANCE = 0.15
#: Half-width (s) of the window of each QRS peak-to-peak amplitude (as ``nst`` measures).
QRS_HALF_WINDOW = 0.05


def spectral_sqi(
    raw: FloatArray, sampling_rate: float, starts: IntArray, stops: IntArray
) -> tuple[FloatArray, FloatArray]:
    """pSQI (power 5-15 Hz / 5-40 Hz) and basSQI (1 - power 0-1 Hz / 0-40 Hz) per window.

    Each window's spectrum is the sum of the periodograms of its non-overlapping 5 s
    Hann-windowed segments, taken after removing the window's mean (so baseline wander
    inside the window shows as low-frequency power).
    """
    seg = max(4, min(round(SEGMENT_S * sampling_rate), int((stops - starts).min())))
    counts = np.maximum((stops - starts) // seg, 1)
    owner = np.repeat(np.arange(starts.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seg_starts = starts[owner] + (np.arange(owner.size) - first[owner]) * seg
    means = np.add.reduceat(raw, starts) / (stops - starts)
    segments = raw[seg_starts[:, None] + np.arange(seg)] - means[owner, None]
    power = np.abs(np.fft.rfft(segments * np.hanning(seg), axis=1)) ** 2
    power = np.add.reduceat(power, first, axis=0)  # (n_windows, n_freq)
    freqs = np.fft.rfftfreq(seg, 1.0 / sampling_rate)

    def band(low: float, high: float) -> FloatArray:
        return power[:, (freqs >= low) & (freqs < high)].sum(axis=1)

    with np.errstate(invalid="ignore", divide="ignore"):
        psqi = band(5.0, 15.0) / band(5.0, 40.0)
        bassqi = 1.0 - band(0.0, 1.0) / band(0.0, 40.0)
    return psqi, bassqi


def kurtosis(cleaned: FloatArray, starts: IntArray, stops: IntArray) -> FloatArray:
    """Pearson kurtosis (normal = 3) of each window; NaN for a constant window."""
    lengths = (stops - starts).astype(np.float64)
    mean = np.add.reduceat(cleaned, starts) / lengths
    centred = cleaned - np.repeat(mean, (stops - starts))
    squared = centred * centred
    m2 = np.add.reduceat(squared, starts) / lengths
    m4 = np.add.reduceat(squared * squared, starts) / lengths
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m2 > 0, m4 / (m2 * m2), np.nan)


def flat_windows(raw: FloatArray, starts: IntArray) -> FloatArray:
    """1.0 where a window of the recorded signal is constant (to rounding), else 0.0."""
    ptp = np.maximum.reduceat(raw, starts) - np.minimum.reduceat(raw, starts)
    scale = max(float(np.abs(raw).max()), 1e-300)
    return (ptp <= 1e-9 * scale).astype(np.float64)


def template_sqi(
    cleaned: FloatArray,
    peaks: IntArray,
    sampling_rate: float,
    window_of_peak: IntArray,
    n_windows: int,
) -> FloatArray:
    """Median correlation of each window's beats with that window's average beat.

    After Orphanidou et al. (2015), who average the correlations; the median keeps a
    minority of ectopic beats (a rhythm question, not a quality one) from lowering the
    index. NaN for windows with fewer than 2 complete beats.
    """
    before = round(BEAT_BEFORE * sampling_rate)
    after = round(BEAT_AFTER * sampling_rate)
    inside = (peaks - before >= 0) & (peaks + after < cleaned.size)
    owner = window_of_peak[inside]
    out = np.full(n_windows, np.nan)
    if owner.size == 0:
        return out
    beats = cleaned[peaks[inside, None] + np.arange(-before, after)]
    beats -= beats.mean(axis=1, keepdims=True)
    beats /= np.maximum(np.linalg.norm(beats, axis=1, keepdims=True), 1e-300)
    groups, first, count = np.unique(owner, return_index=True, return_counts=True)
    template = np.add.reduceat(beats, first, axis=0)  # beats are sorted by window
    template /= np.maximum(np.linalg.norm(template, axis=1, keepdims=True), 1e-300)
    corr = np.einsum("ij,ij->i", beats, np.repeat(template, count, axis=0))
    # Median per window: sort within windows, average the middle one or two.
    corr = corr[np.lexsort((corr, owner))]
    low = corr[first + (count - 1) // 2]
    high = corr[first + count // 2]
    good = count >= 2
    out[groups[good]] = 0.5 * (low + high)[good]
    return out


def beat_agreement(
    first: IntArray, second: IntArray, sampling_rate: float, stops: IntArray
) -> FloatArray:
    """bSQI (Li et al. 2008): matched / (n_first + n_second - matched) per window.

    Two detections match when they are within 150 ms; windows without any detection
    score 0.
    """
    n_windows = stops.size
    tolerance = MATCH_TOLERANCE * sampling_rate
    matched = np.zeros(first.size, dtype=bool)
    if first.size and second.size:
        index = np.searchsorted(second, first)
        left = np.clip(index - 1, 0, second.size - 1)
        right = np.clip(index, 0, second.size - 1)
        nearest = np.minimum(np.abs(second[left] - first), np.abs(second[right] - first))
        matched = nearest <= tolerance
    win_first = np.searchsorted(stops, first, side="right")
    win_second = np.searchsorted(stops, second, side="right")
    n_first = np.bincount(win_first, minlength=n_windows)[:n_windows]
    n_second = np.bincount(win_second, minlength=n_windows)[:n_windows]
    n_match = np.bincount(win_first, weights=matched, minlength=n_windows)[:n_windows]
    union = n_first + n_second - n_match
    return np.where(union > 0, n_match / np.where(union > 0, union, 1), 0.0)


def max_gaps(peaks: IntArray, starts: IntArray, stops: IntArray) -> tuple[FloatArray, IntArray]:
    """Longest stretch (samples) of each window without a beat, and beat counts.

    The signal's ends count as beats, so a window without beats is one long gap; a gap
    that crosses a window edge counts only its part inside the window.
    """
    edges = np.concatenate([[0], peaks, [stops[-1]]]).astype(np.int64)
    gap_start, gap_stop = edges[:-1], edges[1:]
    out = np.zeros(starts.size)
    for i, (lo, hi) in enumerate(zip(starts, stops, strict=True)):
        a = np.searchsorted(gap_stop, lo, side="right")
        b = np.searchsorted(gap_start, hi, side="left")
        out[i] = (np.minimum(gap_stop[a:b], hi) - np.maximum(gap_start[a:b], lo)).max()
    counts = np.diff(np.searchsorted(peaks, np.append(starts, stops[-1])))
    return out, counts


def snr_sqi(
    cleaned: FloatArray, peaks: IntArray, sampling_rate: float, starts: IntArray, stops: IntArray
) -> FloatArray:
    """Estimated signal-to-noise ratio (dB) per window, as the NSTDB defines SNR.

    Signal: the median peak-to-peak amplitude within +-50 ms of the window's beats.
    Noise: what is left once every beat's best-fitting running template (of its
    neighbours, or of the beats 2 or 3 away, so bigeminy and trigeminy fit) is
    subtracted, as the median over the window's seconds of the per-second RMS (each
    second's mean removed). ``SNR = 20 log10(A / (sqrt(8) R))``, as in
    :mod:`medmodal.ecg.snr`. NaN for windows without beats.
    """
    return snr_sqi_leads(cleaned[:, None], peaks, sampling_rate, starts, stops)[0]


def snr_sqi_leads(
    cleaned: FloatArray, peaks: IntArray, sampling_rate: float, starts: IntArray, stops: IntArray
) -> FloatArray:
    """:func:`snr_sqi` of every column of the ``(n_samples, n_leads)`` ``cleaned``, as
    ``(n_leads, n_windows)``: the same numbers as lead by lead, computed at once."""
    n_leads = cleaned.shape[1]
    out = np.full((n_leads, starts.size), np.nan)
    if peaks.size < 3 or n_leads == 0:
        return out
    left = residuals(cleaned, peaks, sampling_rate, lags=(1, 2, 3)).T  # (n_leads, n)
    leads = np.ascontiguousarray(cleaned.T)
    half = max(1, round(QRS_HALF_WINDOW * sampling_rate))
    n = cleaned.shape[0]
    index = np.clip(peaks[:, None] + np.arange(-half, half + 1)[None, :], 0, n - 1)
    around = leads[:, index]  # (n_leads, n_peaks, 2 half + 1)
    amplitude = around.max(axis=2) - around.min(axis=2)
    second = max(1, round(sampling_rate))
    n_seconds = max(1, n // second)
    blocks = np.ascontiguousarray(left[:, : n_seconds * second]).reshape(n_leads, n_seconds, -1)
    rms = np.sqrt(np.mean((blocks - blocks.mean(axis=2, keepdims=True)) ** 2, axis=2))
    first_beat = np.searchsorted(peaks, starts)
    last_beat = np.searchsorted(peaks, stops)
    for i, (lo, hi) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        beats = amplitude[:, first_beat[i] : last_beat[i]]
        noise = rms[:, min(lo // second, n_seconds - 1) : max(hi // second, lo // second + 1)]
        if beats.shape[1] and noise.shape[1]:
            for lead in range(n_leads):
                out[lead, i] = _snr_db(beats[lead], noise[lead])
    return out


def _snr_db(beats: FloatArray, noise: FloatArray) -> float:
    """``20 log10(median(beats) / (sqrt(8) median(noise)))``, NaN when not finite."""
    size = max(float(np.median(noise)), 1e-12 * float(np.median(beats)) + 1e-300)
    with np.errstate(all="ignore"):  # a flat or overflowing window: NaN, never inf
        value = 20.0 * np.log10(float(np.median(beats)) / (np.sqrt(8.0) * size))
    return float(value) if np.isfinite(value) else np.nan
