"""Multiscale derivative delineation after Martínez et al. (2004), vectorised over beats.

The lead is differentiated with derivative-of-Gaussian wavelets at scales given in
seconds, so that any sampling rate works (they play the part of Martínez's dyadic
quadratic-spline wavelet scales): 8 ms for the QRS, 40 ms to find P and T waves
(down to 20 ms at fast heart rates, as the waves narrow), 24 ms to end the T wave and
12 ms to place the P wave's edges. Every step is a masked search over a
(beats x window) matrix; no Python loop runs over beats.

* Median beat. The QRS is bounded on the lead with every typical beat replaced by its
  running median over 11 aligned beats (:mod:`medmodal.ecg._delineators._template`), as
  electrocardiographs measure intervals on a median beat: noise or a notch in one beat
  no longer moves its QRS end. P and T waves are sought on the beats themselves (a P
  wave that repeats from beat to beat is what tells sinus rhythm from atrial
  fibrillation, and the T end follows each beat's own QT).
* QRS: see :mod:`medmodal.ecg._delineators._qrs`.
* P and T waves are sought on the lead with every QRS replaced by a straight line, so
  the large QRS does not leak into the smoothed signal. In a window after the QRS (T)
  or before it (P, from ``P_SPAN`` before the QRS onset, not before the previous T wave
  ended), a wave is a pair of opposite-sign interior slope extrema with the peak between
  them. Of the upright and the inverted P candidate, the one whose peak stands higher
  wins; of the two T candidates, the earlier one unless it stands less than
  ``T_EARLIER_SHARE`` as high as the later one (a T wave precedes a U wave).
* Edges. Each wave's outer edges are first bracketed with Martínez's thresholds
  (``P_ONSET_XI`` / ``P_OFFSET_XI`` / ``T_OFFSET_XI`` of the bracketing slope, or a
  local slope minimum). The P onset and offset are then placed by the tangent method
  (the steepest slope extended to the level at the bracket). The T end is Martínez's
  threshold rule at ``T_END_SCALE``: the first sample after the T wave's steepest
  return slope where the slope falls below ``T_OFFSET_XI`` of it (or reaches a local
  minimum).
* Presence. A T wave needs a prominence of ``T_MIN_PROMINENCE`` x the median QRS
  amplitude. A P wave needs ``P_MIN_PROMINENCE`` of it, must lie fully inside its
  window, must repeat in the neighbouring beats (correlation with, and size of, the
  mean of the same stretch in up to 8 beats on each side) and must share the record's
  majority polarity and typical P-to-QRS distance. Atrial fibrillatory waves, with no
  fixed timing to the QRS, average out and fail; so does the T wave that precedes a
  premature beat.

:func:`delineate_lead` also returns how large each beat's P, QRS and T waves are
against the lead's typical level, which :mod:`medmodal.ecg._delineators._multilead`
uses to pick, beat by beat, the lead where a wave is best defined.

References:
    Martínez JP, Almeida R, Olmos S, Rocha AP, Laguna P. A wavelet-based ECG delineator:
    evaluation on standard databases. IEEE Trans Biomed Eng 51(4):570-581 (2004).
    Laguna P, Jané R, Caminal P. Automatic detection of wave boundaries in multilead ECG
    signals: validation with the CSE database. Comput Biomed Res 27(1):45-60 (1994).
    Lepeschkin E, Surawicz B. The measurement of the Q-T interval of the
    electrocardiogram. Circulation 6(3):378-388 (1952) (the tangent method).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.ndimage import gaussian_filter1d

from medmodal.ecg._delineators._multilead import LeadMarks
from medmodal.ecg._delineators._qrs import QRS_AFTER, QRS_BEFORE, qrs_bounds, samples
from medmodal.ecg._delineators._template import median_beats
from medmodal.ecg._delineators._waves import Wave, local_min, template_agreement
from medmodal.ecg._delineators._windows import (
    Windows,
    columns,
    first_true,
    masked_argmax,
    row_values,
)
from medmodal.types import BoolArray, FloatArray, IntArray

#: Scales (s) of the derivative-of-Gaussian wavelets: P / T detection, T end, P edges.
WAVE_SCALE, T_END_SCALE, FINE_SCALE = 0.040, 0.024, 0.012
#: The P / T detection scale shrinks as sqrt(median RR / WAVE_SCALE_RR) below this RR (s),
#: to at most half (P and T waves narrow at fast rates).
WAVE_SCALE_RR = 0.8
#: T search: from QRS offset + T_START to R + min(T_END, T_END_RR x next RR) (s).
T_START, T_END, T_END_RR = 0.02, 0.60, 0.70
#: Of two T candidates the earlier wins unless it is less than this share as high.
T_EARLIER_SHARE = 0.5
#: P search: from QRS onset - P_SPAN (not before the previous T wave ended) to the onset
#: (a PR interval may reach 400 ms in first-degree AV block).
P_SPAN = 0.40
#: Boundary thresholds (fraction of the bracketing slope), as in Martínez et al.
P_ONSET_XI, P_OFFSET_XI, T_OFFSET_XI = 0.5, 0.9, 0.4
#: Least prominence of a P / T wave, as a fraction of the median QRS amplitude.
P_MIN_PROMINENCE, T_MIN_PROMINENCE = 0.01, 0.02
#: P waves repeat: a candidate must correlate at least P_MIN_AGREEMENT with the same
#: stretch of the mean of AGREEMENT_NEIGHBOURS beats on each side, and that mean must
#: keep P_MIN_TEMPLATE of the candidate's size (random f-waves average out).
AGREEMENT_NEIGHBOURS, P_MIN_AGREEMENT, P_MIN_TEMPLATE = 8, 0.6, 0.5
#: Stretch (s) before / after each R peak replaced by the running median beat: the QRS
#: search window and a margin.
MEDIAN_SPAN = (QRS_BEFORE + 0.1, QRS_AFTER + 0.1)
#: Largest deviation (s) of a beat's P-to-QRS distance from the record's median.
PR_TOLERANCE = 0.05


def _neighbour_rr(r: IntArray, rate: float) -> tuple[IntArray, IntArray]:
    """RR before and after each beat (samples); the ends reuse their neighbour's RR."""
    if r.size < 2:
        fallback = np.full(r.size, samples(1.0, rate), dtype=np.int64)
        return fallback, fallback
    rr = np.diff(r)
    return np.concatenate(([rr[0]], rr)), np.concatenate((rr, [rr[-1]]))


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


def qrs_sizes(x: FloatArray, onset: IntArray, offset: IntArray) -> FloatArray:
    """Peak-to-peak amplitude of each beat's QRS (0 where it is not bounded)."""
    ok = (onset >= 0) & (offset > onset)
    win = Windows.build(np.where(ok, onset, 0), np.where(ok, offset + 1, 0), x.size)
    hi = np.where(win.valid, x[win.index], -np.inf).max(axis=1)
    lo = np.where(win.valid, x[win.index], np.inf).min(axis=1)
    return np.where(ok & np.isfinite(hi - lo), hi - lo, 0.0)


class Smoothed:
    """The QRS-blanked lead smoothed at the wave scale (detection) and the finer scales.

    Each version is computed when first used (T waves need the detection and T-end
    scales, P waves the detection and fine scales).
    """

    def __init__(self, blanked: FloatArray, rate: float, median_rr: float) -> None:
        """Smooth at the wave scale (narrower at fast rates, as P and T narrow too)."""
        shrink = float(np.clip(np.sqrt(median_rr / WAVE_SCALE_RR), 0.5, 1.0))
        self._x, self._rate, self._coarse = blanked, rate, WAVE_SCALE * shrink * rate

    @cached_property
    def wave(self) -> FloatArray:
        """At the detection scale."""
        return gaussian_filter1d(self._x, self._coarse)

    @cached_property
    def wave_slope(self) -> FloatArray:
        """Slope at the detection scale."""
        return gaussian_filter1d(self._x, self._coarse, order=1)

    @cached_property
    def end_slope(self) -> FloatArray:
        """Slope at the T-end scale."""
        return gaussian_filter1d(self._x, T_END_SCALE * self._rate, order=1)

    @cached_property
    def fine(self) -> FloatArray:
        """At the fine scale (P-wave edges)."""
        return gaussian_filter1d(self._x, FINE_SCALE * self._rate)

    @cached_property
    def fine_slope(self) -> FloatArray:
        """Slope at the fine scale."""
        return gaussian_filter1d(self._x, FINE_SCALE * self._rate, order=1)


def _t_end(wave: Wave, end_slope: FloatArray) -> IntArray:
    """Martínez's T-end rule on ``end_slope``, after the wave's steepest return slope."""
    win = wave.win
    cols = columns(win)
    w = win.take(end_slope)
    last = win.valid.sum(axis=1) - 1
    stop = np.where(wave.has_end, wave.end, last)
    toward_baseline = np.where(wave.upright, -1.0, 1.0)[:, None] * w
    span = win.valid & (cols >= wave.peak[:, None]) & (cols <= stop[:, None])
    steep, _ = masked_argmax(toward_baseline, span)
    mag = np.abs(w)
    below = mag < (T_OFFSET_XI * row_values(mag, steep))[:, None]
    end, found = first_true(win.valid & (below | local_min(mag)) & (cols > steep[:, None]))
    return np.where(found, end, stop)


def t_waves(
    sm: Smoothed,
    rate: float,
    r: IntArray,
    qrs_offset: IntArray,
    rr_next: IntArray,
    min_prominence: float,
) -> tuple[IntArray, IntArray]:
    """T peak and T offset samples per beat (-1 where no T wave is found)."""
    start = np.where(qrs_offset >= 0, qrs_offset, r + samples(0.08, rate))
    start = start + samples(T_START, rate)
    stop = r + np.minimum(samples(T_END, rate), (T_END_RR * rr_next).astype(np.int64))
    win = Windows.build(start, stop, sm.wave.size)
    wave = Wave(
        win,
        sm.wave,
        sm.wave_slope,
        (T_OFFSET_XI, T_OFFSET_XI),
        open_start=True,
        earlier_share=T_EARLIER_SHARE,
    )
    present = wave.found & (wave.prominence >= min_prominence)
    end = _t_end(wave, sm.end_slope)
    # Without a bracketed end (the T wave runs into the next P wave), no T end.
    return win.sample(wave.peak, present), win.sample(end, present & wave.has_end)


def p_waves(
    sm: Smoothed,
    rate: float,
    qrs_onset: IntArray,
    not_before: IntArray,
    min_prominence: float,
) -> dict[str, IntArray]:
    """P onset, peak and offset samples per beat (-1 where no P wave is found)."""
    start = np.maximum(qrs_onset - samples(P_SPAN, rate), not_before)
    win = Windows.build(start, qrs_onset, sm.wave.size)
    wave = Wave(win, sm.wave, sm.wave_slope, (P_ONSET_XI, P_OFFSET_XI))
    last = win.valid.sum(axis=1) - 1
    # The whole wave lies in its window: it starts inside and falls before the QRS.
    inside = wave.has_begin & (wave.begin > 0) & (wave.hi < last)
    ok = wave.found & inside & (wave.prominence >= min_prominence) & (qrs_onset >= 0)
    region = (win.sample(wave.begin, wave.has_begin), win.sample(wave.hi, wave.found))
    corr, size = template_agreement(
        sm.wave, qrs_onset, region, ok, samples(P_SPAN, rate), AGREEMENT_NEIGHBOURS
    )
    ok &= (corr >= P_MIN_AGREEMENT) & (size >= P_MIN_TEMPLATE)
    ok &= _consistent(wave, qrs_onset, ok, rate)
    return {
        "p_onset": win.sample(wave.tangent(sm.fine, sm.fine_slope, before=True), ok),
        "p_peak": win.sample(wave.peak, ok),
        "p_offset": win.sample(wave.tangent(sm.fine, sm.fine_slope, before=False), ok),
    }


def _consistent(wave: Wave, qrs_onset: IntArray, ok: BoolArray, rate: float) -> BoolArray:
    """P candidates with the majority polarity and a typical distance to the QRS."""
    if not ok.any():
        return ok
    majority = np.count_nonzero(wave.upright[ok]) * 2 >= np.count_nonzero(ok)
    distance = qrs_onset - wave.win.sample(wave.peak, ok)
    typical = np.median(distance[ok & (wave.upright == majority)])
    near = np.abs(distance - typical) <= PR_TOLERANCE * rate
    return (wave.upright == majority) & near


def _height(x: FloatArray, a: IntArray, b: IntArray) -> FloatArray:
    """|x[a] - x[b]| per beat (0 where either point is missing)."""
    ok = (a >= 0) & (b >= 0)
    return np.where(ok, np.abs(x[np.where(ok, a, 0)] - x[np.where(ok, b, 0)]), 0.0)


def delineate_lead(x: FloatArray, rate: float, r: IntArray) -> LeadMarks:
    """All fiducial points of the beats at ``r`` on one lead ``x``, and wave sizes."""
    rr_prev, rr_next = _neighbour_rr(r, rate)
    median = median_beats(x, r, rate, span=MEDIAN_SPAN)
    onset, offset = qrs_bounds(median, rate, r, rr_prev, rr_next)
    qrs = qrs_sizes(median, onset, offset)
    amp = float(np.median(qrs[qrs > 0])) if (qrs > 0).any() else 1.0
    median_rr = float(np.median(rr_prev)) / rate if r.size else 1.0
    sm = Smoothed(blank_qrs(x, onset, offset), rate, median_rr)
    t_peak, t_offset = t_waves(sm, rate, r, offset, rr_next, T_MIN_PROMINENCE * amp)
    # A P wave starts after the previous beat's T wave (or its QRS if no T was found).
    prev_end = np.where(t_offset >= 0, t_offset, np.where(t_peak >= 0, t_peak, offset))
    not_before = np.concatenate(([0], prev_end[:-1])) if r.size else prev_end
    p = p_waves(sm, rate, onset, not_before, P_MIN_PROMINENCE * amp)
    points = {
        "r_peak": r,
        **p,
        "qrs_onset": onset,
        "qrs_offset": offset,
        "t_peak": t_peak,
        "t_offset": t_offset,
    }
    # Wave sizes for choosing between leads: the T wave's height above the J point, the
    # P wave's above its onset, the QRS's peak to peak, over the lead's typical level.
    level = float(np.median(np.abs(x - np.median(x)))) or 1.0
    sizes = {
        "p": _height(x, p["p_peak"], p["p_onset"]) / level,
        "qrs": qrs / level,
        "t": _height(x, t_peak, offset) / level,
    }
    return LeadMarks(points=points, sizes=sizes)


def delineate(x: FloatArray, rate: float, r: IntArray) -> dict[str, IntArray]:
    """All fiducial points of the beats at ``r`` on one lead ``x``."""
    return delineate_lead(x, rate, r).points
