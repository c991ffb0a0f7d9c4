"""Multiscale derivative delineation after Martínez et al. (2004), vectorised over beats.

The lead is differentiated with derivative-of-Gaussian wavelets at three scales given in
seconds, so that any sampling rate works (they play the part of Martínez's dyadic
quadratic-spline wavelet scales): 8 ms for the QRS, 40 ms to find P and T waves
(down to 20 ms at fast heart rates, as the waves narrow), 12 ms to place their outer
edges. Every step is a masked search over a (beats x window) matrix; no Python loop
runs over beats.

* QRS. Around each R peak the largest slope magnitude A (within 100 ms) is found on
  each side; the QRS is extended outwards through significant slope peaks (above
  ``QRS_SIGNIFICANT`` x A, at most ``QRS_HOP`` apart: Q and S waves), as in Martínez's
  search for the first and last significant modulus maxima. The onset is the end of
  the last isoelectric stretch (>= 8 ms with the slope below ``QRS_ONSET_XI`` x A, and
  above a noise floor) within ``QRS_REACH`` before that first slope; the offset is the
  start of the first such stretch after the last slope, or an earlier local slope
  minimum below ``QRS_JUNCTION_XI`` x A where the ST segment runs straight into the T
  wave (the isoelectric-segment search of Laguna et al. 1994; the noise floor is
  ``NOISE_FACTOR`` x the SD of the slope's noise between this beat and the last).
* P and T waves are sought on the lead with every QRS replaced by a straight line, so
  the large QRS does not leak into the smoothed signal. In a window after the QRS (T)
  or before it (P, starting where the previous T wave ended), a wave is a pair of
  opposite-sign interior slope extrema with the peak between them; of the upright and
  the inverted candidate, the one whose peak stands higher wins. Its outer edge is
  first bracketed with Martínez's thresholds (``P_ONSET_XI``, ``T_OFFSET_XI`` of the
  bracketing slope, or a local slope minimum) and then placed by the tangent method:
  the steepest slope extended to the local isoelectric level.
* Presence. A T wave needs a prominence of ``T_MIN_PROMINENCE`` x the median QRS
  amplitude. A P wave needs ``P_MIN_PROMINENCE`` of it, must lie fully inside its
  window, must repeat in the neighbouring beats (correlation with, and size of, the
  mean of the same stretch in up to 8 beats on each side) and must share the record's
  majority polarity and typical P-to-QRS distance. Atrial fibrillatory waves, with no
  fixed timing to the QRS, average out and fail; so does the T wave that precedes a
  premature beat.

References:
    Martínez JP, Almeida R, Olmos S, Rocha AP, Laguna P. A wavelet-based ECG delineator:
    evaluation on standard databases. IEEE Trans Biomed Eng 51(4):570-581 (2004).
    Laguna P, Jané R, Caminal P. Automatic detection of wave boundaries in multilead ECG
    signals: validation with the CSE database. Comput Biomed Res 27(1):45-60 (1994).
    Lepeschkin E, Surawicz B. The measurement of the Q-T interval of the
    electrocardiogram. Circulation 6(3):378-388 (1952) (the tangent method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from medmodal.ecg._delineators._waves import Wave, local_min, template_agreement
from medmodal.ecg._delineators._windows import (
    Windows,
    any_in_row,
    columns,
    first_true,
    last_true,
    masked_argmax,
    run_length,
)
from medmodal.types import BoolArray, FloatArray, IntArray

#: Scales (s) of the derivative-of-Gaussian wavelets: QRS, P / T detection, P / T edges.
QRS_SCALE, WAVE_SCALE, FINE_SCALE = 0.008, 0.040, 0.012
#: The P / T detection scale shrinks as sqrt(median RR / WAVE_SCALE_RR) below this RR (s),
#: to at most half (P and T waves narrow at fast rates).
WAVE_SCALE_RR = 0.8
#: QRS search: window before / after R (s), main slopes within MAIN_SLOPE (s) of R.
QRS_BEFORE, QRS_AFTER, MAIN_SLOPE = 0.15, 0.18, 0.10
#: A slope peak above QRS_SIGNIFICANT x the largest QRS slope, within QRS_HOP (s) before
#: the QRS's current first one (after its last one: QRS_HOP plus half the spacing of
#: the two main slopes) extends the QRS (at most QRS_MAX_HOPS times).
QRS_SIGNIFICANT, QRS_HOP, QRS_MAX_HOPS = 0.05, 0.03, 2
#: QRS boundary thresholds (fraction of the largest QRS slope) and the shortest
#: isoelectric stretch (s).
QRS_ONSET_XI, QRS_OFFSET_XI, ISOELECTRIC = 0.04, 0.05, 0.008
#: The QRS edges lie at most QRS_REACH (s) beyond its first / last significant slope
#: (a short PR segment at fast rates must not let the onset run back over the P wave).
QRS_REACH = 0.04
#: A local minimum of the slope below this fraction of the largest QRS slope also ends
#: the QRS (the ST segment can rise into the T wave with no isoelectric stretch).
QRS_JUNCTION_XI = 0.15
#: Slope noise floor: this many times the local robust SD of the slope's noise.
NOISE_FACTOR = 4.0
#: T search: from QRS offset + T_START to R + min(T_END, T_END_RR x next RR) (s).
T_START, T_END, T_END_RR = 0.02, 0.60, 0.70
#: P search: from QRS onset - P_SPAN (not before the previous T wave ended) to the onset.
P_SPAN = 0.30
#: Boundary thresholds (fraction of the bracketing slope), as in Martínez et al.
P_ONSET_XI, P_OFFSET_XI, T_OFFSET_XI = 0.5, 0.9, 0.4
#: Least prominence of a P / T wave, as a fraction of the median QRS amplitude.
P_MIN_PROMINENCE, T_MIN_PROMINENCE = 0.01, 0.02
#: P waves repeat: a candidate must correlate at least P_MIN_AGREEMENT with the same
#: stretch of the mean of AGREEMENT_NEIGHBOURS beats on each side, and that mean must
#: keep P_MIN_TEMPLATE of the candidate's size (random f-waves average out).
AGREEMENT_NEIGHBOURS, P_MIN_AGREEMENT, P_MIN_TEMPLATE = 8, 0.6, 0.5
#: Largest deviation (s) of a beat's P-to-QRS distance from the record's median.
PR_TOLERANCE = 0.05


def _samples(seconds: float, rate: float) -> int:
    return max(1, round(seconds * rate))


def _neighbour_rr(r: IntArray, rate: float) -> tuple[IntArray, IntArray]:
    """RR before and after each beat (samples); the ends reuse their neighbour's RR."""
    if r.size < 2:
        fallback = np.full(r.size, _samples(1.0, rate), dtype=np.int64)
        return fallback, fallback
    rr = np.diff(r)
    return np.concatenate(([rr[0]], rr)), np.concatenate((rr, [rr[-1]]))


def _slope_noise(
    x: FloatArray, slope: FloatArray, rate: float, r: IntArray, rr_prev: IntArray
) -> FloatArray:
    """Per beat, the SD of slope noise between the previous beat and this one.

    Noise is what the QRS-scale slope has and a twice coarser slope has not (ECG waves
    outside the QRS are smooth, so both scales see them alike). Its mean absolute value
    (x sqrt(pi / 2), the SD for Gaussian noise) is taken over the stretch from 60 ms
    after the previous R peak to 60 ms before this one, so bursts of muscle noise raise
    the floor only where they are. Cumulative sums make this O(n).
    """
    coarse = gaussian_filter1d(x, 2 * QRS_SCALE * rate, order=1)
    sums = np.concatenate(([0.0], np.cumsum(np.abs(slope - coarse))))
    guard = _samples(0.06, rate)
    stop = np.clip(r - guard, 0, x.size)
    start = np.clip(r - rr_prev + guard, 0, stop)
    short = stop - start < guard  # too little room: use the whole record's level
    start, stop = np.where(short, 0, start), np.where(short, x.size, stop)
    return np.sqrt(np.pi / 2) * (sums[stop] - sums[start]) / np.maximum(stop - start, 1)


def _chain(
    m: FloatArray, significant: BoolArray, start: IntArray, gap: IntArray, *, backward: bool
) -> IntArray:
    """Walk from ``start`` to the outermost significant slope peak, hop by hop.

    Each hop goes to the nearest significant local maximum of the slope magnitude
    within ``gap`` (per row) columns further out (a Q wave before R, an S wave after it), so the
    QRS is bounded by its first and last significant waves (Martínez et al.).
    """
    cols = np.arange(m.shape[1])[None, :]
    peaks = significant & local_min(-m)
    current = start.copy()
    for _ in range(QRS_MAX_HOPS):
        c, g = current[:, None], gap[:, None]
        if backward:
            col, found = last_true(peaks & (cols < c) & (cols >= c - g))
        else:
            col, found = first_true(peaks & (cols > c) & (cols <= c + g))
        current = np.where(found, col, current)
    return current


def qrs_bounds(
    x: FloatArray, rate: float, r: IntArray, rr_prev: IntArray, rr_next: IntArray
) -> tuple[IntArray, IntArray]:
    """QRS onset and offset samples of every beat (see the module docstring)."""
    signed = gaussian_filter1d(x, QRS_SCALE * rate, order=1)
    slope = np.abs(signed)
    floor = NOISE_FACTOR * _slope_noise(x, signed, rate, r, rr_prev)
    quiet_len, main = _samples(ISOELECTRIC, rate), _samples(MAIN_SLOPE, rate)
    before = np.minimum(_samples(QRS_BEFORE, rate), rr_prev // 2)
    after = np.minimum(_samples(QRS_AFTER, rate), rr_next // 2)
    win = Windows.build(r - before, r + after + 1, x.size)
    m = win.take(slope)
    cols = columns(win)
    rel = cols - before[:, None]  # column relative to R
    amp = np.where(win.valid & (np.abs(rel) <= main), m, 0.0).max(axis=1)
    significant = win.valid & (m >= np.maximum(QRS_SIGNIFICANT * amp, floor)[:, None])
    first_main, _ = masked_argmax(m, win.valid & (rel <= 0) & (rel >= -main))
    last_main, _ = masked_argmax(m, win.valid & (rel >= 0) & (rel <= main))
    hop = _samples(QRS_HOP, rate)
    first = _chain(m, significant, first_main, np.full(r.size, hop), backward=True)
    # Wide complexes (ventricular beats) space their waves further apart.
    later = hop + (last_main - first_main) // 2
    last = _chain(m, significant, last_main, later, backward=False)
    on_thr = np.maximum(QRS_ONSET_XI * amp, floor)[:, None]
    off_thr = np.maximum(QRS_OFFSET_XI * amp, floor)[:, None]
    on_quiet = win.valid & (m < on_thr)
    off_quiet = win.valid & (m < off_thr)
    reach = _samples(QRS_REACH, rate)
    near_on = win.valid & (cols < first[:, None]) & (cols >= (first - reach)[:, None])
    near_off = win.valid & (cols > last[:, None]) & (cols <= (last + reach)[:, None])
    on_col, on_found = last_true((run_length(on_quiet) >= quiet_len) & near_on)
    ahead = run_length(off_quiet[:, ::-1])[:, ::-1]  # quiet run starting at each cell
    # The J point may also be where the slope bottoms out before rising into the T wave.
    junction = win.valid & local_min(m) & (m < QRS_JUNCTION_XI * amp[:, None])
    off_col, off_found = first_true(((ahead >= quiet_len) | junction) & near_off)
    # No isoelectric stretch within reach (noise, fused waves): the smallest slope there.
    on_fb, _ = masked_argmax(-m, near_on)
    off_fb, _ = masked_argmax(-m, near_off)
    has = any_in_row(win.valid)
    onset = win.sample(np.where(on_found, on_col, on_fb), has)
    offset = win.sample(np.where(off_found, off_col, off_fb), has)
    return onset, offset


def blank_qrs(x: FloatArray, onset: IntArray, offset: IntArray) -> FloatArray:
    """``x`` with every QRS (onset to offset) replaced by a straight line."""
    ok = (onset >= 0) & (offset > onset)
    if not ok.any():
        return x.copy()
    delta = np.zeros(x.size + 1, dtype=np.int64)
    np.add.at(delta, onset[ok] + 1, 1)
    np.add.at(delta, offset[ok], -1)
    inside = np.cumsum(delta[:-1]) > 0  # strictly between onset and offset
    if inside.all():
        return x.copy()
    out = x.copy()
    idx = np.arange(x.size)
    out[inside] = np.interp(idx[inside], idx[~inside], x[~inside])
    return out


def qrs_amplitude(x: FloatArray, onset: IntArray, offset: IntArray) -> float:
    """Median peak-to-peak amplitude of the QRS complexes (1.0 if none is bounded)."""
    ok = (onset >= 0) & (offset > onset)
    if not ok.any():
        return 1.0
    win = Windows.build(onset[ok], offset[ok] + 1, x.size)
    hi = np.where(win.valid, x[win.index], -np.inf).max(axis=1)
    lo = np.where(win.valid, x[win.index], np.inf).min(axis=1)
    amp = float(np.median(hi - lo))
    return amp if amp > 0 else 1.0


@dataclass(frozen=True)
class Smoothed:
    """The QRS-blanked lead at the wave scale (detection) and the fine scale (edges)."""

    wave: FloatArray
    wave_slope: FloatArray
    fine: FloatArray
    fine_slope: FloatArray

    @classmethod
    def of(cls, blanked: FloatArray, rate: float, median_rr: float) -> Smoothed:
        """Smooth at the wave scale (narrower at fast rates, as P and T narrow too)."""
        shrink = float(np.clip(np.sqrt(median_rr / WAVE_SCALE_RR), 0.5, 1.0))
        coarse, fine = WAVE_SCALE * shrink * rate, FINE_SCALE * rate
        return cls(
            wave=gaussian_filter1d(blanked, coarse),
            wave_slope=gaussian_filter1d(blanked, coarse, order=1),
            fine=gaussian_filter1d(blanked, fine),
            fine_slope=gaussian_filter1d(blanked, fine, order=1),
        )


def t_waves(
    sm: Smoothed,
    rate: float,
    r: IntArray,
    qrs_offset: IntArray,
    rr_next: IntArray,
    min_prominence: float,
) -> tuple[IntArray, IntArray]:
    """T peak and T offset samples per beat (-1 where no T wave is found)."""
    start = np.where(qrs_offset >= 0, qrs_offset, r + _samples(0.08, rate))
    start = start + _samples(T_START, rate)
    stop = r + np.minimum(_samples(T_END, rate), (T_END_RR * rr_next).astype(np.int64))
    win = Windows.build(start, stop, sm.wave.size)
    wave = Wave(win, sm.wave, sm.wave_slope, (T_OFFSET_XI, T_OFFSET_XI), open_start=True)
    present = wave.found & (wave.prominence >= min_prominence)
    end = wave.tangent(sm.fine, sm.fine_slope, before=False)
    return win.sample(wave.peak, present), win.sample(end, present & wave.has_end)


def p_waves(
    sm: Smoothed,
    rate: float,
    qrs_onset: IntArray,
    not_before: IntArray,
    min_prominence: float,
) -> tuple[IntArray, IntArray]:
    """P peak and P onset samples per beat (-1 where no P wave is found)."""
    start = np.maximum(qrs_onset - _samples(P_SPAN, rate), not_before)
    win = Windows.build(start, qrs_onset, sm.wave.size)
    wave = Wave(win, sm.wave, sm.wave_slope, (P_ONSET_XI, P_OFFSET_XI))
    last = win.valid.sum(axis=1) - 1
    # The whole wave lies in its window: it starts inside and falls before the QRS.
    inside = wave.has_begin & (wave.begin > 0) & (wave.hi < last)
    ok = wave.found & inside & (wave.prominence >= min_prominence) & (qrs_onset >= 0)
    region = (win.sample(wave.begin, wave.has_begin), win.sample(wave.hi, wave.found))
    corr, size = template_agreement(
        sm.wave, qrs_onset, region, ok, _samples(P_SPAN, rate), AGREEMENT_NEIGHBOURS
    )
    ok &= (corr >= P_MIN_AGREEMENT) & (size >= P_MIN_TEMPLATE)
    ok &= _consistent(wave, qrs_onset, ok, rate)
    onset = wave.tangent(sm.fine, sm.fine_slope, before=True)
    return win.sample(wave.peak, ok), win.sample(onset, ok)


def _consistent(wave: Wave, qrs_onset: IntArray, ok: BoolArray, rate: float) -> BoolArray:
    """P candidates with the majority polarity and a typical distance to the QRS."""
    if not ok.any():
        return ok
    majority = np.count_nonzero(wave.upright[ok]) * 2 >= np.count_nonzero(ok)
    distance = qrs_onset - wave.win.sample(wave.peak, ok)
    typical = np.median(distance[ok & (wave.upright == majority)])
    near = np.abs(distance - typical) <= PR_TOLERANCE * rate
    return (wave.upright == majority) & near


def delineate(x: FloatArray, rate: float, r: IntArray) -> dict[str, IntArray]:
    """All fiducial points of the beats at ``r`` on one lead ``x``."""
    rr_prev, rr_next = _neighbour_rr(r, rate)
    onset, offset = qrs_bounds(x, rate, r, rr_prev, rr_next)
    amp = qrs_amplitude(x, onset, offset)
    median_rr = float(np.median(rr_prev)) / rate if r.size else 1.0
    sm = Smoothed.of(blank_qrs(x, onset, offset), rate, median_rr)
    t_peak, t_offset = t_waves(sm, rate, r, offset, rr_next, T_MIN_PROMINENCE * amp)
    # A P wave starts after the previous beat's T wave (or its QRS if no T was found).
    prev_end = np.where(t_offset >= 0, t_offset, np.where(t_peak >= 0, t_peak, offset))
    not_before = np.concatenate(([0], prev_end[:-1])) if r.size else prev_end
    p_peak, p_onset = p_waves(sm, rate, onset, not_before, P_MIN_PROMINENCE * amp)
    return {
        "r_peak": r,
        "p_onset": p_onset,
        "p_peak": p_peak,
        "qrs_onset": onset,
        "qrs_offset": offset,
        "t_peak": t_peak,
        "t_offset": t_offset,
    }
