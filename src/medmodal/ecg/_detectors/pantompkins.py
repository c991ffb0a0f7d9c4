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

from medmodal.ecg._detectors._common import (
    bandpass,
    best_lead,
    decimate,
    derivative,
    feature_peaks,
    fuse_features,
    moving_average,
    refine_peaks,
    samples,
    windows,
)
from medmodal.types import BoolArray, FloatArray, IntArray

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
        self.irregular = False  # not all of the last 8 RR within 92-116 % of AVERAGE2

    def add(self, rr: float) -> None:
        low, high = 0.92 * self.average2, 1.16 * self.average2
        self.recent = [*self.recent[-7:], rr]
        if low <= rr <= high:
            self.selected = [*self.selected[-7:], rr]
            self.average2 = sum(self.selected) / len(self.selected)
            self.misses = 0
        else:
            self.misses += 1
            if self.misses >= 8:  # guard: follow a lasting change of rate
                self.selected = list(self.recent)
                self.average2 = sum(self.selected) / len(self.selected)
                self.misses = 0
        low, high = 0.92 * self.average2, 1.16 * self.average2
        self.irregular = len(self.recent) == 8 and not all(low <= r <= high for r in self.recent)

    @property
    def missed_limit(self) -> float:
        return 1.66 * self.average2


class _Decider:
    """The Pan-Tompkins decision rules run over candidate peaks in time order."""

    def __init__(
        self,
        cands: IntArray,
        peak_i: FloatArray,
        peak_f: FloatArray,
        slope: FloatArray,
        fs: float,
    ) -> None:
        self.cands, self.peak_i, self.peak_f, self.slope = cands, peak_i, peak_f, slope
        learn = cands < samples(2.0, fs)  # learning phase: the first 2 s
        if not learn.any():
            learn[: min(3, len(cands))] = True
        self.integ = _Thresholds(float(peak_i[learn].max()) / 3, float(peak_i[learn].mean()) / 2)
        self.filt = _Thresholds(float(peak_f[learn].max()) / 3, float(peak_f[learn].mean()) / 2)
        self.rr = _RR(initial=fs)  # 1 s until beats are found
        self.t_window = samples(T_WAVE_WINDOW, fs)
        self.qrs: list[int] = []  # indices into cands

    def run(self, n: int) -> IntArray:
        """Classify every candidate; ``n`` is the signal length (for the final search)."""
        cands = self.cands
        # The loop reads Python numbers (the same doubles and ints: numpy scalars and
        # one-element arrays cost more than the arithmetic here).
        at, peak_i, peak_f = cands.tolist(), self.peak_i.tolist(), self.peak_f.tolist()
        slope = self.slope.tolist()
        for i in range(len(at)):
            if self.qrs and at[i] - at[self.qrs[-1]] > self.rr.missed_limit:
                self._search_back(i)
            irregular = self.rr.irregular
            above = peak_i[i] >= self.integ.threshold1(irregular) and (
                peak_f[i] >= self.filt.threshold1(irregular)
            )
            last = self.qrs[-1] if self.qrs else -1
            t_wave = last >= 0 and (
                at[i] - at[last] < self.t_window and slope[i] < 0.5 * slope[last]
            )  # as _t_waves, for one candidate
            if above and not t_wave:
                self._accept(i, searchback=False)
            else:
                self.integ.noise(peak_i[i])
                self.filt.noise(peak_f[i])
        if self.qrs and n - cands[self.qrs[-1]] > self.rr.missed_limit:
            self._search_back(len(cands))
        return cands[np.array(self.qrs, dtype=np.int64)]

    def _t_waves(self, idx: IntArray) -> BoolArray:
        """Candidates within 360 ms of the last QRS with under half its slope."""
        if not self.qrs:
            return np.zeros(len(idx), dtype=bool)
        last = self.qrs[-1]
        return (self.cands[idx] - self.cands[last] < self.t_window) & (
            self.slope[idx] < 0.5 * self.slope[last]
        )

    def _accept(self, i: int, searchback: bool) -> None:
        if self.qrs:
            self.rr.add(float(self.cands[i] - self.cands[self.qrs[-1]]))
        self.qrs.append(i)
        self.integ.signal(float(self.peak_i[i]), searchback)
        self.filt.signal(float(self.peak_f[i]), searchback)

    def _search_back(self, upto: int) -> None:
        """The largest skipped candidate above THRESHOLD2 since the last QRS is one."""
        idx = np.arange(self.qrs[-1] + 1 if self.qrs else 0, upto)
        irregular = self.rr.irregular
        ok = (
            (self.peak_i[idx] >= self.integ.threshold2(irregular))
            & (self.peak_f[idx] >= self.filt.threshold2(irregular))
            & ~self._t_waves(idx)
        )
        if ok.any():
            self._accept(int(idx[ok][np.argmax(self.peak_i[idx[ok]])]), searchback=True)


def detect(data: FloatArray, sampling_rate: float) -> IntArray:
    """R peaks of a ``(n_samples, n_leads)`` signal (no flat lead) by Pan-Tompkins."""
    xd, sampling_rate, q = decimate(data, sampling_rate)
    integrated, band, fusion = fuse_features(xd, sampling_rate, feature)
    n = xd.shape[0]
    filtered = fusion.combine(np.abs(band))
    slope = fusion.combine(np.abs(derivative(band, sampling_rate)))
    cands = feature_peaks(integrated, samples(REFRACTORY, sampling_rate))
    if cands.size == 0:
        return np.zeros(0, dtype=np.int64)
    win = windows(cands, samples(INTEGRATION_WINDOW / 2, sampling_rate), n)
    peak_f = filtered[win].max(axis=1)
    peak_slope = slope[win].max(axis=1)
    qrs = _Decider(cands, integrated[cands], peak_f, peak_slope, sampling_rate).run(n)
    lead = best_lead(band, qrs, sampling_rate)
    return refine_peaks(data[:, lead], band[:, lead], qrs, sampling_rate, q=q)
