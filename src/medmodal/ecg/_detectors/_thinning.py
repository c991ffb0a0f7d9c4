"""Noise-zone thinning: drop detections that split one RR interval where the ECG is noisy.

Electrode-motion and other noise adds complexes that pass any amplitude threshold that
still keeps the real beats, but they rarely fall where a beat is due: a noise complex
between two beats leaves three detections within about one RR interval, one of the two
intervals short. So in a *noisy stretch* - the local noise level (the median of the
nearest non-beat candidates) above ``NOISY`` of the local QRS level - a run of three
detections is *one too many* when

- it spans less than ``SPAN`` expected RR intervals, one of its two intervals is under
  ``SHORT`` of one, and it spans less than ``SPAN`` times the longer of the intervals
  just before and after it (so a rhythm that is fast throughout, such as atrial flutter
  with 2:1 conduction, is never read as a split one);

and then the detection that looks least like a beat goes, if it looks unlike one:

- its *beat score* is its correlation with the template of the quiet beats near it
  (the median band-passed complex, +-80 ms, of the nearest block of ``TEMPLATE_BEATS``
  beats from the quieter half of the record) plus ``AMPLITUDE_WEIGHT`` times the relative
  difference of its amplitude from the local QRS level (counted from -1 to +0.5);
- of the three, the drop that leaves the most regular rhythm is preferred
  (``RR_WEIGHT`` times the summed ``|log(RR / expected RR)|`` of the neighbouring
  intervals is added to each score), and nothing goes unless the chosen detection
  scores under ``DROP_BELOW``.

The *expected RR* is the median of the nearest intervals between consecutive confident
detections (template correlation at least ``CONFIDENT``), so noise cannot shorten it;
where fewer than ``SUPPORT`` such intervals end within ``WITHIN`` seconds there is no
evidence of the rhythm and nothing is flagged. The passes repeat until nothing changes.
Clean stretches are never touched. The rule turns round the RR-interval argument of the
search-back of Pan & Tompkins (1985) and Hamilton & Tompkins (1986): an interval too long
for the rhythm hides a missed beat, one too short holds an extra one.

References:
    Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng
    32(3):230-236 (1985).
    Hamilton PS, Tompkins WJ. Quantitative investigation of QRS detection rules using
    the MIT/BIH arrhythmia database. IEEE Trans Biomed Eng 33(12):1157-1165 (1986).
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._detectors._common import nearest_median, samples, windows
from medmodal.types import BoolArray, FloatArray, IntArray

NOISY = 0.2  # noise level / QRS level above which a stretch is noisy
SPAN = 1.3  # three detections within this many expected RRs hold one too many ...
SHORT = 0.5  # ... when one of their two intervals is under this many expected RRs
DROP_BELOW = 0.7  # only a detection whose beat score is below this is dropped
AMPLITUDE_WEIGHT = 2.0  # beat score: correlation + this x (amplitude / level - 1)
RR_WEIGHT = 0.5  # weight of the rhythm's irregularity when choosing what to drop
CONFIDENT = 0.8  # template correlation of detections that set the expected RR ...
WITHIN, SUPPORT = 20.0, 5  # ... of which SUPPORT intervals must end within WITHIN s
TEMPLATE_HALF = 0.08  # s: half-width of the complexes that are correlated
TEMPLATE_BEATS = 15  # quiet beats in each template
NEIGHBOURS = 8  # beats / non-beats / intervals in each local median
MAX_PASSES = 50


def _median_near(
    positions: IntArray, values: FloatArray, at: IntArray | None, before: IntArray | None = None
) -> FloatArray:
    """Median of ``values`` at the ``NEIGHBOURS`` ``positions`` (sorted) nearest ``at``.

    ``at=None``: at the positions themselves; ``before``: see ``nearest_median``.
    """
    return nearest_median(positions, values, at, NEIGHBOURS, before=before)


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


def _expected_rr(
    peaks: IntArray, kept: IntArray, confident: BoolArray, fs: float
) -> FloatArray | None:
    """At each kept detection, the median nearby interval between consecutive confident ones.

    Zero (nothing can be flagged) where fewer than ``SUPPORT`` such intervals end within
    ``WITHIN`` seconds; None when there are fewer than two in all.
    """
    sure = kept[confident[kept]]
    consecutive = np.diff(np.searchsorted(kept, sure)) == 1
    if consecutive.sum() < 2:
        return None
    times = peaks[kept]
    ends = peaks[sure[1:][consecutive]]
    rr = _median_near(ends, np.diff(peaks[sure])[consecutive].astype(float), times)
    reach = WITHIN * fs
    support = np.searchsorted(ends, times + reach) - np.searchsorted(ends, times - reach)
    rr[support < SUPPORT] = 0.0
    return rr


def _flag(times: IntArray, rr: FloatArray, noisy: BoolArray) -> IntArray:
    """Positions (in ``times``) at the centre of a run of three that is one too many."""
    n = times.size
    gaps = np.diff(times).astype(float)
    span = np.full(n, np.inf)
    span[1:-1] = gaps[:-1] + gaps[1:]
    shortest = np.full(n, np.inf)
    shortest[1:-1] = np.minimum(gaps[:-1], gaps[1:])
    before = np.r_[np.inf, np.inf, gaps[:-1]]  # the interval before the run of three
    after = np.r_[gaps[1:], np.inf, np.inf]  # and the one after it
    outer = np.where(
        np.isinf(before), after, np.where(np.isinf(after), before, np.maximum(before, after))
    )
    split = (span < SPAN * rr) & (shortest < SHORT * rr) & (span < SPAN * outer)
    return np.flatnonzero(split & noisy)


def _drop_cost(times: IntArray, k: int, drop: int, rr: float) -> float:
    """Irregularity of the intervals around detection ``k`` once ``drop`` is left out."""
    lo, hi = max(0, k - 2), min(times.size - 1, k + 2)
    rest = [times[u] for u in range(lo, hi + 1) if u != drop]
    return float(np.abs(np.log(np.diff(rest) / rr)).sum())


def _choose_drops(
    times: IntArray, score: FloatArray, flagged: IntArray, rr: FloatArray
) -> list[int]:
    """Positions (in ``times``) to drop: at most one per flagged run, none adjacent."""
    drops: list[int] = []
    for k in flagged.tolist():
        trio = (k - 1, k, k + 1)
        cost = np.array([_drop_cost(times, k, t, rr[k]) for t in trio])
        worst = trio[int(np.argmin(score[list(trio)] + RR_WEIGHT * (cost - cost.min())))]
        if score[worst] < DROP_BELOW and all(abs(worst - d) > 1 for d in drops):
            drops.append(worst)
    return drops


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
    corr = _template_correlation(band, peaks, quiet, fs)
    score = corr + AMPLITUDE_WEIGHT * np.clip(amp[beats] / level - 1, -1, 0.5)
    confident = corr >= CONFIDENT
    kept = np.arange(peaks.size)
    for _ in range(MAX_PASSES):
        rr = _expected_rr(peaks, kept, confident, fs)
        if rr is None or kept.size < 5:
            break
        flagged = _flag(peaks[kept], rr, noise_ratio[kept] > NOISY)
        drops = _choose_drops(peaks[kept], score[kept], flagged, rr)
        if not drops:
            break
        kept = np.delete(kept, drops)
    return peaks[kept]
