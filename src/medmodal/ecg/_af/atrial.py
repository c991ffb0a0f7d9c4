"""Organised atrial activity (atrial flutter) in stretches that look like AF by the RR.

Flutter with variable conduction gives irregular RR intervals without P waves, as AF
does; what differs is the atrial activity: flutter waves are one regular circuit (a
sharp spectral peak, typically 4-6 Hz, with its harmonic), fibrillatory waves are
disorganised (a broad 4-9 Hz hump). The ventricular activity is cancelled first: from
each beat's segment (:data:`BEAT_WINDOW` around the R peak, up to the next beat) the
median of the segments of its neighbourhood (:data:`SPAN` beats around each block of
:data:`BLOCK`) is subtracted, which keeps the QRS-T and drops atrial waves that are not
locked to the QRS (average beat subtraction, after Slocum et al. 1992). On the residual,
every :data:`STEP_S` a :data:`WINDOW_S` window gets the organisation index of each lead
(after Everett et al. 2001): the share of its :data:`BAND` spectral power within
:data:`PEAK_HALF_WIDTH` Hz of the dominant frequency and its second harmonic. Windows
whose index exceeds :data:`MAX_ORGANISATION` on any lead are organised (flutter-like).

Only the stretches the RR already marks AF-like are analysed, so the cost is paid in
suspected AF only. Constants chosen on the development half of MIT-BIH
(``benchmarks/ecg_af.py``; tuning log in ``benchmarks/results/ecg_af.md``).

References:
    Slocum J, Sahakian A, Swiryn S. Diagnosis of atrial fibrillation from surface
    electrocardiograms based on computer-detected atrial activity. J Electrocardiol
    25(1):1-8 (1992).
    Everett TH 4th, Kok LC, Vaughn RH, Moorman JR, Haines DE. Frequency domain algorithm
    for quantifying atrial fibrillation organization to increase defibrillation
    efficacy. IEEE Trans Biomed Eng 48(9):969-978 (2001).
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from medmodal.types import BoolArray, FloatArray, IntArray

#: Beat segment cancelled (s before, after the R peak; cut at the next beat's segment).
BEAT_WINDOW = (0.10, 0.45)
#: Beats cancelled with one template, and the beats the template is the median of.
BLOCK, SPAN = 16, 48
#: Pre-filter (Hz; upper edge capped below Nyquist).
FILTER = (1.0, 40.0)
#: Band (Hz) of the atrial spectrum, and Welch segment length (s).
BAND = (3.5, 12.0)
SEGMENT_S = 4.0
#: Analysis window and step (s).
WINDOW_S, STEP_S = 60.0, 10.0
#: Half-width (Hz) of the dominant peak and of its harmonic.
PEAK_HALF_WIDTH = 0.5
#: Organised (flutter-like) above this organisation index on any lead.
MAX_ORGANISATION = 0.8


def residual(data: FloatArray, rate: float, beats: IntArray) -> FloatArray:
    """``data`` band-passed with each beat's neighbourhood median beat subtracted."""
    high = min(FILTER[1], 0.45 * rate)
    sos = scipy.signal.butter(2, [FILTER[0], high], btype="bandpass", fs=rate, output="sos")
    pad = min(data.shape[0] - 1, 3 * int(rate))
    out = scipy.signal.sosfiltfilt(sos, data, axis=0, padlen=pad)
    before, after = round(BEAT_WINDOW[0] * rate), round(BEAT_WINDOW[1] * rate)
    offsets = np.arange(-before, after)
    index = np.clip(beats[:, None] + offsets[None, :], 0, data.shape[0] - 1)
    segments = out[index]  # (beats, width, leads), taken before any subtraction
    # each beat's segment stops where the next one's starts
    reach = np.append(np.diff(beats) - before, after)[:, None] > offsets[None, :]
    keep = reach & (beats[:, None] + offsets[None, :] >= 0)
    keep &= beats[:, None] + offsets[None, :] < data.shape[0]
    templates = np.empty_like(segments)
    for start in range(0, beats.size, BLOCK):
        lo = max(0, min(start + BLOCK // 2 - SPAN // 2, beats.size - SPAN))
        templates[start : start + BLOCK] = np.median(segments[lo : lo + SPAN], axis=0)
    out[index[keep]] -= templates[keep]  # kept samples of different beats never overlap
    return out


def organisation(segment: FloatArray, rate: float) -> FloatArray:
    """Organisation index of each lead of a residual ``(n_samples, n_leads)`` stretch
    (Welch spectrum, :data:`SEGMENT_S` segments).

    Example:
        >>> t = np.arange(0, 60, 1 / 250)
        >>> flutter = np.sin(2 * np.pi * 5 * t)[:, None]
        >>> noise = np.random.default_rng(0).normal(size=(t.size, 1))
        >>> bool(organisation(flutter, 250)[0] > 0.9 > 0.3 > organisation(noise, 250)[0])
        True
    """
    per_segment = min(segment.shape[0], int(SEGMENT_S * rate))
    freq, power = scipy.signal.welch(segment, fs=rate, nperseg=per_segment, axis=0)
    return _index(freq, power, rate)


def _index(freq: FloatArray, power: FloatArray, rate: float) -> FloatArray:
    """Organisation index per lead of a ``(n_freq, n_leads)`` power spectrum."""
    band = (freq >= BAND[0]) & (freq <= min(BAND[1], 0.45 * rate))
    freq, power = freq[band], power[band]
    if freq.size < 3:
        return np.zeros(power.shape[1])
    dominant = freq[np.argmax(power, axis=0)]  # (leads,)
    near = (np.abs(freq[:, None] - dominant[None, :]) <= PEAK_HALF_WIDTH) | (
        np.abs(freq[:, None] - 2 * dominant[None, :]) <= PEAK_HALF_WIDTH
    )
    total = power.sum(axis=0) + 1e-30
    return np.asarray((power * near).sum(axis=0) / total)


def organised(data: FloatArray, rate: float, beats: IntArray, flags: BoolArray) -> BoolArray:
    """Per RR interval, whether it lies in an organised (flutter-like) window; only the
    windows around ``flags`` (AF-like intervals) are analysed.

    The spectra of :data:`SEGMENT_S` segments (half overlapping) are taken once over the
    record; a window's spectrum is the mean of the segments inside it (Welch's estimate).

    Args:
        data: ``(n_samples, n_leads)`` ECG (validated).
        rate: sampling rate (Hz).
        beats: sorted R-peak samples inside ``data`` (``flags.size + 1`` of them).
        flags: AF-like flag per RR interval.
    """
    out = np.zeros(flags.size, dtype=bool)
    if not flags.any() or beats.size < SPAN or data.shape[0] < WINDOW_S * rate:
        return out
    clean = residual(data, rate, beats)
    per_segment = int(SEGMENT_S * rate)
    freq, times, power = scipy.signal.spectrogram(
        clean, fs=rate, window="hann", nperseg=per_segment, noverlap=per_segment // 2, axis=0
    )  # power: (n_freq, n_leads, n_segments)
    first = times * rate - per_segment / 2  # segment starts (samples)
    mids = (beats[:-1] + beats[1:]) / 2 / rate  # interval centres (s)
    step, width = STEP_S * rate, WINDOW_S * rate
    for centre in np.unique(np.round(mids[flags] / STEP_S)) * step:
        lo = float(np.clip(centre - width / 2, 0, data.shape[0] - width))
        inside = (first >= lo - 0.5) & (first + per_segment <= lo + width + 0.5)
        if inside.any() and _index(freq, power[:, :, inside].mean(axis=2), rate).max() > (
            MAX_ORGANISATION
        ):
            out |= np.abs(mids * rate - centre) <= step / 2
    return out
