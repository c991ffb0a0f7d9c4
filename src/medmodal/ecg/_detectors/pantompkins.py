"""Pan & Tompkins (1985) QRS detector.

The algorithm as published, with every duration in seconds so it runs at any sampling
rate and with zero-phase filters so the feature peaks sit on the QRS complexes:

1. band-pass 5-15 Hz, five-point derivative, squaring, 150 ms moving-window integration;
2. candidate peaks of the integrated signal at least 200 ms apart (refractory period);
3. two sets of adaptive thresholds, on the integrated signal and on the band-passed
   signal: ``SPK = 0.125 PEAK + 0.875 SPK`` for QRS peaks, ``NPK = 0.125 PEAK + 0.875
   NPK`` for noise peaks, ``THRESHOLD1 = NPK + 0.25 (SPK - NPK)``, ``THRESHOLD2 = 0.5
   THRESHOLD1``; a QRS must exceed THRESHOLD1 on both signals;
4. a candidate within 360 ms of the previous QRS whose maximal slope is under half that
   of the previous QRS is a T wave;
5. RR AVERAGE1 (last 8 RR intervals) and RR AVERAGE2 (last 8 intervals within 92-116 %
   of RR AVERAGE2); with no QRS for 166 % of RR AVERAGE2, search back for the largest
   peak above THRESHOLD2 (``SPK = 0.25 PEAK + 0.75 SPK``); while the rhythm is
   irregular THRESHOLD1 is halved.

Two guards not in the paper: the learning phase uses the first 2 s (at most), and RR
AVERAGE2 is reset to RR AVERAGE1 when eight consecutive intervals fall outside its
limits, so a lasting change of heart rate cannot lock the search-back interval.

References:
    Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng
    32(3):230-236 (1985). doi:10.1109/TBME.1985.325532
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks

from medmodal.ecg._detectors._common import (
    bandpass,
    best_lead,
    derivative,
    fuse_features,
    moving_average,
    normalise,
    refine_peaks,
    samples,
    windows,
)
from medmodal.types import FloatArray, IntArray

REFRACTORY = 0.200  # s
T_WAVE_WINDOW = 0.360  # s
INTEGRATION_WINDOW = 0.150  # s


def feature(x: FloatArray, sampling_rate: float) -> tuple[FloatArray, FloatArray]:
    """Moving-window integral of the squared derivative of the 5-15 Hz band-passed ECG."""
    band = bandpass(x, sampling_rate, 5.0, 15.0, order=2)
    slope = derivative(band, sampling_rate)
    integrated = moving_average(slope * slope, samples(INTEGRATION_WINDOW, sampling_rate))
    return integrated, band


class _Thresholds:
    """One set of Pan-Tompkins signal/noise levels (integrated or filtered signal)."""

    def __init__(self, signal_level: float, noise_level: float) -> None:
        self.spk = signal_level
        self.npk = noise_level

    def threshold1(self, irregular: bool) -> float:
        th = self.npk + 0.25 * (self.spk - self.npk)
        return 0.5 * th if irregular else th

    def threshold2(self, irregular: bool) -> float:
        return 0.5 * self.threshold1(irregular)

    def signal(self, peak: float, searchback: bool) -> None:
        a = 0.25 if searchback else 0.125
        self.spk = a * peak + (1.0 - a) * self.spk

    def noise(self, peak: float) -> None:
        self.npk = 0.125 * peak + 0.875 * self.npk


class _RR:
    """RR AVERAGE1 / RR AVERAGE2 bookkeeping (in samples)."""

    def __init__(self, initial: float) -> None:
        self.recent: list[float] = []
        self.selected: list[float] = []
        self.average2 = initial
        self.misses = 0

    def add(self, rr: float) -> None:
        low, high = 0.92 * self.average2, 1.16 * self.average2
        self.recent = [*self.recent[-7:], rr]
        if low <= rr <= high:
            self.selected = [*self.selected[-7:], rr]
            self.average2 = float(np.mean(self.selected))
            self.misses = 0
        else:
            self.misses += 1
            if self.misses >= 8:  # guard: follow a lasting change of rate
                self.selected = list(self.recent)
                self.average2 = float(np.mean(self.selected))
                self.misses = 0

    @property
    def irregular(self) -> bool:
        low, high = 0.92 * self.average2, 1.16 * self.average2
        return len(self.recent) == 8 and not all(low <= r <= high for r in self.recent)

    @property
    def missed_limit(self) -> float:
        return 1.66 * self.average2


def _decide(
    cands: IntArray,
    peak_i: FloatArray,
    peak_f: FloatArray,
    slope: FloatArray,
    fs: float,
    n: int,
) -> IntArray:
    """Run the Pan-Tompkins decision rules over the candidate peaks (in time order)."""
    learn = cands < samples(2.0, fs)
    if not learn.any():
        learn = np.zeros(len(cands), dtype=bool)
        learn[: max(1, min(3, len(cands)))] = True
    integ = _Thresholds(float(peak_i[learn].max()) / 3.0, float(np.mean(peak_i[learn])) / 2.0)
    filt = _Thresholds(float(peak_f[learn].max()) / 3.0, float(np.mean(peak_f[learn])) / 2.0)
    rr = _RR(initial=fs)  # 1 s until beats are found
    qrs: list[int] = []  # indices into cands
    t_window = samples(T_WAVE_WINDOW, fs)

    def is_t_wave(i: int) -> bool:
        return (
            bool(qrs) and cands[i] - cands[qrs[-1]] < t_window and (slope[i] < 0.5 * slope[qrs[-1]])
        )

    def accept(i: int, searchback: bool) -> None:
        if qrs:
            rr.add(float(cands[i] - cands[qrs[-1]]))
        qrs.append(i)
        integ.signal(float(peak_i[i]), searchback)
        filt.signal(float(peak_f[i]), searchback)

    def search_back(upto: int) -> None:
        """Largest skipped candidate above THRESHOLD2 between the last QRS and ``upto``."""
        first = qrs[-1] + 1 if qrs else 0
        best = -1
        for j in range(first, upto):
            irregular = rr.irregular
            if (
                peak_i[j] >= integ.threshold2(irregular)
                and peak_f[j] >= filt.threshold2(irregular)
                and not is_t_wave(j)
                and (best < 0 or peak_i[j] > peak_i[best])
            ):
                best = j
        if best >= 0:
            accept(best, searchback=True)

    for i in range(len(cands)):
        if qrs and cands[i] - cands[qrs[-1]] > rr.missed_limit:
            search_back(i)
        irregular = rr.irregular
        above = peak_i[i] >= integ.threshold1(irregular) and peak_f[i] >= filt.threshold1(irregular)
        if above and not is_t_wave(i):
            accept(i, searchback=False)
        else:
            integ.noise(float(peak_i[i]))
            filt.noise(float(peak_f[i]))
    if qrs and n - cands[qrs[-1]] > rr.missed_limit:
        search_back(len(cands))
    return cands[np.array(qrs, dtype=np.int64)] if qrs else np.zeros(0, dtype=np.int64)


def detect(data: FloatArray, sampling_rate: float) -> IntArray:
    """R peaks of a ``(n_samples, n_leads)`` signal (no flat lead) by Pan-Tompkins."""
    x = normalise(data)
    integrated, band, weights = fuse_features(x, sampling_rate, feature)
    n = x.shape[0]
    filtered = np.zeros(n)
    slope = np.zeros(n)
    for lead in range(band.shape[1]):
        b = np.abs(band[:, lead])
        d = np.abs(derivative(band[:, lead], sampling_rate))
        filtered += weights[lead] * b / max(float(np.percentile(b, 99.0)), 1e-300)
        slope += weights[lead] * d / max(float(np.percentile(d, 99.0)), 1e-300)
    cands, _ = find_peaks(integrated, distance=samples(REFRACTORY, sampling_rate))
    if cands.size == 0:
        return np.zeros(0, dtype=np.int64)
    win = windows(cands, samples(INTEGRATION_WINDOW / 2, sampling_rate), n)
    peak_f = filtered[win].max(axis=1)
    peak_slope = slope[win].max(axis=1)
    qrs = _decide(cands.astype(np.int64), integrated[cands], peak_f, peak_slope, sampling_rate, n)
    lead = best_lead(band, qrs, sampling_rate)
    return refine_peaks(x[:, lead], band[:, lead], qrs, sampling_rate)
