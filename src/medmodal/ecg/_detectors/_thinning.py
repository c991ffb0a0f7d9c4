"""Noise-zone thinning: in noisy stretches, keep the best path of beats through the detections.

Electrode-motion and other noise adds complexes that pass any amplitude threshold that
still keeps the real beats, but they rarely fall where a beat is due. So in a *noisy
stretch* - the local noise level (the median of the nearest non-beat candidates) above
``NOISY`` of the local QRS level - the detections are re-chosen as a whole: of all ways
to keep some of them, the one kept is the one that maximises

``sum of the kept detections' utilities - RR_COST * sum over the intervals between them
of |log(interval / expected RR)|``

(a best path, found by dynamic programming as in Viterbi decoding). The detections just
before and after the stretch are kept and anchor the path. A detection's *utility* is
its *beat score* plus ``KEEP_ABOVE``; the beat score is its correlation with the template
of the quiet beats near it (the median band-passed complex, +-80 ms, of the nearest block
of ``TEMPLATE_BEATS`` beats from the quieter half of the record; every complex is first
centred on its largest band-passed deflection of the quiet complexes' polarity within
``ALIGN`` s, so a detection placed early or late on its complex still matches) plus
``AMPLITUDE_WEIGHT`` times the relative difference of its amplitude from the local QRS
level (counted from -1 to +0.5). So an
extra complex between two beats is left out unless it looks like a beat strongly enough
to pay for the two short intervals it makes, and a beat is kept unless it looks so
unlike one that leaving it out - and making one interval twice too long - costs less.

The *expected RR* is the median of the nearest intervals between consecutive confident
detections (template correlation at least ``CONFIDENT``), so noise cannot shorten it;
where fewer than ``SUPPORT`` such intervals end within ``WITHIN`` seconds there is no
evidence of the rhythm and nothing there is changed. Intervals longer than ``REACH``
expected RRs are not considered (unless there is no other). Quiet stretches are never
touched. The rule generalises the RR-interval argument of the search-back of Pan &
Tompkins (1985) and Hamilton & Tompkins (1986) - an interval too long for the rhythm
hides a missed beat, one too short holds an extra one - to a whole noisy stretch.

References:
    Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng
    32(3):230-236 (1985).
    Hamilton PS, Tompkins WJ. Quantitative investigation of QRS detection rules using
    the MIT/BIH arrhythmia database. IEEE Trans Biomed Eng 33(12):1157-1165 (1986).
    Forney GD. The Viterbi algorithm. Proc IEEE 61(3):268-278 (1973).
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._detectors._common import nearest_median, samples, windows
from medmodal.types import BoolArray, FloatArray, IntArray

NOISY = 0.2  # noise level / QRS level above which a stretch is noisy
RR_COST = 2.0  # weight of |log(interval / expected RR)| against the utilities
KEEP_ABOVE = 0.0  # utility = beat score + this (a negative score counts against)
REACH = 2.5  # longest interval considered, in expected RRs
AMPLITUDE_WEIGHT = 2.0  # beat score: correlation + this x (amplitude / level - 1)
CONFIDENT = 0.8  # template correlation of detections that set the expected RR ...
WITHIN, SUPPORT = 20.0, 5  # ... of which SUPPORT intervals must end within WITHIN s
TEMPLATE_HALF = 0.08  # s: half-width of the complexes that are correlated
ALIGN = 0.075  # s: complexes are centred on their largest deflection within this
TEMPLATE_BEATS = 15  # quiet beats in each template
NEIGHBOURS = 8  # beats / non-beats / intervals in each local median


def _median_near(
    positions: IntArray, values: FloatArray, at: IntArray | None, before: IntArray | None = None
) -> FloatArray:
    """Median of ``values`` at the ``NEIGHBOURS`` ``positions`` (sorted) nearest ``at``.

    ``at=None``: at the positions themselves; ``before``: see ``nearest_median``.
    """
    return nearest_median(positions, values, at, NEIGHBOURS, before=before)


def _aligned(band: FloatArray, peaks: IntArray, quiet: BoolArray, fs: float) -> IntArray:
    """Each peak moved to its complex's largest deflection of the quiet beats' polarity.

    The polarity is the sign of the quiet complexes' largest deflection (median over
    them); every complex is then centred on its own largest deflection of that sign
    within ``ALIGN`` seconds, so a biphasic complex (an rS in V1) is not centred on its
    r one time and on its S the next.
    """
    win = windows(peaks, samples(ALIGN, fs), band.shape[0])
    values = band[win]
    rows = np.arange(peaks.size)
    largest = values[rows, np.argmax(np.abs(values), axis=1)]
    polarity = 1.0 if np.median(largest[quiet]) >= 0 else -1.0
    return win[rows, np.argmax(polarity * values, axis=1)]


def _template_correlation(
    band: FloatArray, peaks: IntArray, quiet: BoolArray, fs: float
) -> FloatArray:
    """Correlation of each complex with the median of the nearest block of quiet ones.

    The quiet complexes are cut into consecutive blocks of ``TEMPLATE_BEATS`` (the last
    few left over); each block's sample-wise median is a template, and each complex is
    compared with the template of the block whose centre is nearest.
    """
    win = band[windows(peaks, samples(TEMPLATE_HALF, fs), band.shape[0])]
    win = win - win.mean(axis=1, keepdims=True)
    rows = np.flatnonzero(quiet)
    size = min(TEMPLATE_BEATS, rows.size)
    blocks = rows[: rows.size // size * size].reshape(-1, size)  # (n_blocks, size)
    templates = np.median(win[blocks], axis=1)  # (n_blocks, window)
    centres = peaks[blocks].mean(axis=1)
    n_blocks = blocks.shape[0]
    right = np.clip(np.searchsorted(centres, peaks), 0, n_blocks - 1)
    left = np.clip(right - 1, 0, n_blocks - 1)
    nearest = np.where(np.abs(centres[left] - peaks) < np.abs(centres[right] - peaks), left, right)
    template = templates[nearest]
    norm = np.linalg.norm(win, axis=1) * np.linalg.norm(template, axis=1)
    return np.einsum("ij,ij->i", win, template) / np.maximum(norm, 1e-300)


def _expected_rr(peaks: IntArray, confident: BoolArray, fs: float) -> FloatArray | None:
    """At each detection, the median nearby interval between consecutive confident ones.

    Zero (nothing can be changed) where fewer than ``SUPPORT`` such intervals end within
    ``WITHIN`` seconds; None when there are fewer than two in all.
    """
    sure = np.flatnonzero(confident)
    consecutive = np.diff(sure) == 1
    if consecutive.sum() < 2:
        return None
    ends = peaks[sure[1:][consecutive]]
    rr = _median_near(ends, np.diff(peaks[sure])[consecutive].astype(float), peaks)
    reach = WITHIN * fs
    support = np.searchsorted(ends, peaks + reach) - np.searchsorted(ends, peaks - reach)
    rr[support < SUPPORT] = 0.0
    return rr


def _stretches(noisy: BoolArray) -> list[tuple[int, int]]:
    """``(first, last)`` of each run of noisy detections, widened by one on each side."""
    edges = np.diff(np.concatenate([[0], noisy.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    last = noisy.size - 1
    return [(max(int(a) - 1, 0), min(int(b), last)) for a, b in zip(starts, stops, strict=True)]


def _best_path(times: IntArray, utility: FloatArray, rr: FloatArray) -> BoolArray:
    """Which of ``times`` the best path keeps; the first and last are always kept."""
    n = times.size
    expected = np.where(rr > 0, rr, np.median(rr[rr > 0]))
    best = np.full(n, -np.inf)
    best[0] = 0.0
    previous = np.zeros(n, dtype=np.intp)
    first = np.searchsorted(times, times - REACH * expected, side="left")
    for j in range(1, n):
        lo = min(int(first[j]), j - 1)
        gap = (times[j] - times[lo:j]) / expected[j]
        value = best[lo:j] - RR_COST * np.abs(np.log(np.maximum(gap, 1e-9)))
        k = int(np.argmax(value))
        best[j] = value[k] + utility[j]
        previous[j] = lo + k
    keep = np.zeros(n, dtype=bool)
    j = n - 1
    while j > 0:
        keep[j] = True
        j = int(previous[j])
    keep[0] = True
    return keep


def thin(
    cands: IntArray, beats: IntArray, amp: FloatArray, band: FloatArray, fs: float
) -> IntArray:
    """The positions of ``beats`` without the extra detections of noisy stretches.

    Args:
        cands: candidate positions (samples at ``fs``).
        beats: indices of the candidates taken as beats, sorted.
        amp: detection feature at each candidate.
        band: one band-passed lead at ``fs`` (the lead the complexes are compared on).
        fs: sampling rate of ``cands`` and ``band``.

    Returns:
        Sorted positions (samples at ``fs``) of the beats that are kept.
    """
    peaks = cands[beats]
    is_other = np.ones(cands.size, dtype=bool)
    is_other[beats] = False
    others = np.flatnonzero(is_other)
    if peaks.size < 5 or others.size == 0:
        return peaks
    level = np.maximum(_median_near(peaks, amp[beats], None), 1e-300)
    others_before = (np.cumsum(is_other) - is_other)[beats]
    noise_ratio = _median_near(cands[others], amp[others], None, others_before) / level
    quiet = noise_ratio <= np.median(noise_ratio)
    if quiet.sum() < 5 or not (noise_ratio > NOISY).any():
        return peaks
    corr = _template_correlation(band, _aligned(band, peaks, quiet, fs), quiet, fs)
    rr = _expected_rr(peaks, corr >= CONFIDENT, fs)
    if rr is None:
        return peaks
    score = corr + AMPLITUDE_WEIGHT * np.clip(amp[beats] / level - 1, -1, 0.5)
    keep = np.ones(peaks.size, dtype=bool)
    for lo, hi in _stretches((noise_ratio > NOISY) & (rr > 0)):
        keep[lo : hi + 1] = _best_path(
            peaks[lo : hi + 1], score[lo : hi + 1] + KEEP_ABOVE, rr[lo : hi + 1]
        )
    return peaks[keep]
