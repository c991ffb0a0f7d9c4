"""Two-sided adaptive-threshold QRS detector (medmodal's default).

Offline detection can look both ways: the signal and noise levels behind each decision
are medians over the beats *before and after* it, not only the past ones, so a sudden
change of amplitude or rhythm costs no beats while a causal estimator catches up.

1. Feature: 5-20 Hz zero-phase Butterworth band-pass (first order per edge, run
   forward and backward), five-point derivative, root of the 100 ms moving mean of its
   square (the local RMS slope), fused over leads; all at 100-200 Hz.
2. Candidates: feature peaks at least 200 ms apart (larger peaks win).
3. Levels: a first split at 0.35 of the local QRS level (the second-largest of the
   maxima of the five 1-s blocks around the candidate), then twice: the QRS level Q
   and the noise level N are the medians of the 8 nearest beats / non-beats, and the
   threshold is ``N + 0.3125 (Q - N)`` (Hamilton & Tompkins 1986).
4. Pair rules for beats closer than 360 ms: within 300 ms the weaker one goes when it
   is under 0.6 of the stronger or when the gap is under half the local median RR
   (a P or T wave, not a beat); within 360 ms a later, weaker complex whose slope is
   under half the earlier one's is a T wave (Pan & Tompkins 1985).
5. Search-back: in every RR gap longer than 1.5 times the local median RR, the largest
   candidate above half the threshold that is not a T wave becomes a beat; repeated
   until no gap changes (Pan & Tompkins 1985; Hamilton & Tompkins 1986).
6. Noise-zone thinning: in noisy stretches the detections kept are the best path
   through them, trading how beat-like each one is (template correlation and
   amplitude) against how far the intervals between them stray from the expected RR
   (see ``_thinning``).
7. Peaks are moved onto the R extremum of the most informative lead.

References:
    Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng
    32(3):230-236 (1985). doi:10.1109/TBME.1985.325532
    Hamilton PS, Tompkins WJ. Quantitative investigation of QRS detection rules using
    the MIT/BIH arrhythmia database. IEEE Trans Biomed Eng 33(12):1157-1165 (1986).
    doi:10.1109/TBME.1986.325695
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
    nearest_median,
    refine_peaks,
    samples,
    sorted_union,
)
from medmodal.ecg._detectors._thinning import thin
from medmodal.types import BoolArray, FloatArray, IntArray

BAND = (5.0, 20.0)  # Hz: QRS energy, with less of the P and T waves than 5-15 Hz
BAND_ORDER = 1  # Butterworth order per edge (doubled by forward-backward filtering)
RMS_WINDOW = 0.100  # s: about one QRS width
REFRACTORY = 0.200  # s: no two beats closer (physiological refractory period)
FIRST_SPLIT = 0.35  # first pass: fraction of the local QRS level
LEVEL_BLOCK = 1.0  # s: first-pass QRS level from the maxima of 5 blocks this long
NEIGHBOURS = 8  # beats (and non-beats) whose medians give the levels
THRESHOLD = 0.3125  # Hamilton & Tompkins: N + THRESHOLD * (Q - N)
ITERATIONS = 2  # refinements of the beat / non-beat split
PAIR_GAP = 0.300  # s: closer pairs hold at most one beat unless both are strong ...
PAIR_RATIO = 0.6  # ... i.e. the weaker reaches this fraction of the stronger ...
PAIR_RR = 0.5  # ... and the pair is not closer than this fraction of the median RR
T_WAVE_WINDOW = 0.360  # s: Pan-Tompkins T-wave discrimination window
T_WAVE_SLOPE = 0.5  # a T wave's slope is under half that of its QRS
SEARCH_BACK_RR = 1.5  # search back in gaps longer than this many median RRs
SEARCH_BACK_THRESHOLD = 0.5  # with this fraction of the threshold
SLOPE_WINDOW = 0.06  # s: a candidate's slope is the largest within this of its peak


def feature(x: FloatArray, sampling_rate: float) -> tuple[FloatArray, FloatArray]:
    """Local RMS slope of the 5-20 Hz band-passed ECG, and the band-passed ECG."""
    band = bandpass(x, sampling_rate, *BAND, order=BAND_ORDER)
    slope = derivative(band, sampling_rate)
    np.square(slope, out=slope)
    rms = moving_average(slope, samples(RMS_WINDOW, sampling_rate), in_place=True)
    np.maximum(rms, 0.0, out=rms)  # rounding can leave tiny negatives
    return np.sqrt(rms, out=rms), band


def _block_level(feature: FloatArray, cands: IntArray, block: int, rank: int) -> FloatArray:
    """For each candidate, the ``rank``-th largest of the 5 block maxima around it.

    The feature is cut into blocks of ``block`` samples; each block's maximum is its
    tallest complex, so this is a robust local QRS level over about +-2.5 blocks that
    ignores up to ``rank - 1`` outlying complexes (a burst of noise, one huge PVC).
    """
    full, rest = divmod(feature.shape[0], block)
    maxima = feature[: full * block].reshape(full, block).max(axis=1)
    if rest:
        maxima = np.append(maxima, feature[full * block :].max())
    n_blocks = maxima.size
    edge = np.concatenate([np.full(2, -np.inf), maxima, np.full(2, -np.inf)])
    five = np.stack([edge[k : k + n_blocks] for k in range(5)], axis=1)
    five.sort(axis=1)
    level = five[:, 5 - rank]
    level = np.where(np.isfinite(level), level, five[:, -1])  # records of < rank blocks
    return level[cands // block]


def _classify(
    feature: FloatArray, cands: IntArray, amp: FloatArray, fs: float
) -> tuple[BoolArray, FloatArray]:
    """Beat / non-beat split of the candidates and the per-candidate threshold."""
    level = _block_level(feature, cands, samples(LEVEL_BLOCK, fs), rank=2)
    threshold = FIRST_SPLIT * level
    beat = amp > threshold
    for _ in range(ITERATIONS):
        if beat.sum() < 2 or beat.all():
            break
        # Candidates of each kind before each candidate: np.searchsorted for less.
        beats_before: IntArray = np.cumsum(beat) - beat
        q = nearest_median(cands[beat], amp[beat], None, NEIGHBOURS, before=beats_before)
        others_before = np.arange(len(cands)) - beats_before
        n = nearest_median(cands[~beat], amp[~beat], None, NEIGHBOURS, before=others_before)
        threshold = n + THRESHOLD * (q - n)
        beat = amp > threshold
    return beat, threshold


def _pair_rules(
    beats: IntArray, cands: IntArray, amp: FloatArray, slope: FloatArray, fs: float
) -> IntArray:
    """Drop P and T waves: the weaker member of implausibly close pairs (see module doc)."""
    pair_gap, t_window = samples(PAIR_GAP, fs), samples(T_WAVE_WINDOW, fs)
    while len(beats) > 1:
        gap = np.diff(cands[beats])
        median_rr = nearest_median(cands[beats[1:]], gap, None, NEIGHBOURS)
        drop: set[int] = set()
        for k in np.flatnonzero(gap < t_window).tolist():
            i, j = beats[k], beats[k + 1]
            weaker = k if amp[i] < amp[j] else k + 1
            if gap[k] < pair_gap and (
                min(amp[i], amp[j]) < PAIR_RATIO * max(amp[i], amp[j])
                or gap[k] < PAIR_RR * median_rr[k]
            ):
                drop.add(weaker)
            elif slope[j] < T_WAVE_SLOPE * slope[i] and amp[j] < amp[i]:
                drop.add(k + 1)
        if not drop:
            break
        beats = np.delete(beats, sorted(drop))
    return beats


def _search_back(
    beats: IntArray,
    cands: IntArray,
    amp: FloatArray,
    slope: FloatArray,
    threshold: FloatArray,
    fs: float,
) -> IntArray:
    """Fill RR gaps longer than 1.5 median RR with their best sub-threshold candidate."""
    refractory, t_window = samples(REFRACTORY, fs), samples(T_WAVE_WINDOW, fs)
    while len(beats) > 3:
        times = cands[beats]
        rr = np.diff(times)
        median_rr = nearest_median(times[1:], rr, None, NEIGHBOURS)
        long_gap = np.flatnonzero(rr > SEARCH_BACK_RR * median_rr)
        if long_gap.size == 0:
            break
        # The candidates strictly between the two beats of each long gap.
        count = beats[long_gap + 1] - beats[long_gap] - 1
        gap = np.repeat(long_gap, count)
        inside = np.arange(gap.size) - np.repeat(np.cumsum(count) - count, count)
        index = beats[gap] + 1 + inside
        since = cands[index] - times[gap]
        ok = (
            (since >= refractory)
            & (times[gap + 1] - cands[index] >= refractory)
            & (amp[index] > SEARCH_BACK_THRESHOLD * threshold[index])
            & ~((since < t_window) & (slope[index] < T_WAVE_SLOPE * slope[beats[gap]]))
        )
        found, gap = index[ok], gap[ok]
        if found.size == 0:
            break
        order = np.lexsort((-amp[found], gap))  # by gap, largest first
        _, first = np.unique(gap[order], return_index=True)
        beats = sorted_union(beats, found[order][first])
    return beats


def detect(data: FloatArray, sampling_rate: float) -> IntArray:
    """R peaks of a ``(n_samples, n_leads)`` signal (no flat lead)."""
    xd, fs, q = decimate(data, sampling_rate)
    rms, band, fusion = fuse_features(xd, fs, feature)
    cands = feature_peaks(rms, samples(REFRACTORY, fs))
    if cands.size < 2:
        return np.zeros(0, dtype=np.int64)
    amp = rms[cands]
    slope = fusion.candidate_slopes(band, cands, fs, SLOPE_WINDOW)
    beat, threshold = _classify(rms, cands, amp, fs)
    beats = _pair_rules(np.flatnonzero(beat), cands, amp, slope, fs)
    beats = _search_back(beats, cands, amp, slope, threshold, fs)
    lead = best_lead(band, cands[beats], fs)
    peaks = thin(cands, beats, amp, band[:, lead], fs)
    return refine_peaks(data[:, lead], band[:, lead], peaks, fs, q=q)
