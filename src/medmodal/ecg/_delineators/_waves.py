"""P / T wave candidates: a bracketing pair of slopes per beat, vectorised over beats.

A wave shows up in the derivative of the smoothed signal as a pair of opposite-sign
slope extrema (modulus maxima, in Martínez et al.'s wavelet terms) with the wave's peak
between them: rise then fall for an upright wave, fall then rise for an inverted one.
Its outer boundaries are where the slope magnitude falls below a fraction of the
bracketing slope or reaches a local minimum.

References:
    Martínez JP, Almeida R, Olmos S, Rocha AP, Laguna P. A wavelet-based ECG delineator:
    evaluation on standard databases. IEEE Trans Biomed Eng 51(4):570-581 (2004).
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._delineators._windows import (
    Windows,
    columns,
    first_true,
    last_true,
    masked_argmax,
    row_values,
)
from medmodal.types import BoolArray, FloatArray, IntArray


def _slope_extrema(
    valid: BoolArray, w: FloatArray, *, open_start: bool
) -> tuple[BoolArray, BoolArray]:
    """Interior local maxima of positive slope and minima of negative slope.

    Only interior extrema count, so the tail of a wave outside the window (a monotone
    slope at its edge) is never taken for half of a wave inside it; with
    ``open_start`` the window's first sample may hold the first slope (a T wave may
    rise straight from the J point).
    """
    left = np.zeros_like(valid)
    left[:, 1:] = valid[:, :-1]
    right = np.zeros_like(valid)
    right[:, :-1] = valid[:, 1:]
    inner = valid & right & (True if open_start else left)
    return inner & local_min(-w) & (w > 0), inner & local_min(w) & (w < 0)


def _pair(
    s: FloatArray, w: FloatArray, valid: BoolArray, first: BoolArray, second: BoolArray, sign: float
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Strongest first slope, the strongest opposite slope after it, the peak between.

    Returns the columns of both slopes and of the peak, and the peak's height above the
    mean level at the two slopes (0 where there is no such pair).
    """
    cols = np.arange(w.shape[1])[None, :]
    lo, has_lo = masked_argmax(sign * w, first)
    hi, has_hi = masked_argmax(-sign * w, second & (cols > lo[:, None]))
    between = valid & (cols >= lo[:, None]) & (cols <= hi[:, None])
    peak, _ = masked_argmax(sign * s, between)
    level = 0.5 * (row_values(s, lo) + row_values(s, hi))
    height = sign * (row_values(s, peak) - level)
    return lo, hi, peak, np.where(has_lo & has_hi, height, 0.0)


def local_min(m: FloatArray) -> BoolArray:
    """Cells no larger than both row neighbours (edges compare with one)."""
    left = np.concatenate((m[:, :1], m[:, :-1]), axis=1)
    right = np.concatenate((m[:, 1:], m[:, -1:]), axis=1)
    return (m <= left) & (m <= right)


class Wave:
    """A P or T wave candidate per beat, found in (K, W) windows of the smoothed signal.

    Attributes (per beat): ``lo`` / ``hi`` the columns of the first and second
    bracketing slopes, ``peak`` the extremum between them, ``upright`` its polarity,
    ``begin`` / ``end`` the outer boundaries (Martínez's slope-threshold rule) with
    ``has_begin`` / ``has_end``, and ``prominence`` the peak height above the level at
    those boundaries.
    """

    def __init__(
        self,
        win: Windows,
        smooth: FloatArray,
        slope: FloatArray,
        xi: tuple[float, float],
        *,
        open_start: bool = False,
        earlier_share: float | None = None,
    ) -> None:
        self.win = win
        self.s = win.take(smooth)
        self.w = win.take(slope)
        rises, falls = _slope_extrema(win.valid, self.w, open_start=open_start)
        up = _pair(self.s, self.w, win.valid, rises, falls, 1.0)
        down = _pair(self.s, self.w, win.valid, falls, rises, -1.0)
        #: The pair whose peak stands higher above its slopes wins, or with
        #: ``earlier_share``, the earlier pair unless it is less than that share as high.
        self.upright = up[3] >= down[3]
        if earlier_share is not None:
            up_first = up[2] < down[2]
            early, late = np.where(up_first, up[3], down[3]), np.where(up_first, down[3], up[3])
            both = (up[3] > 0) & (down[3] > 0)
            pick_up = np.where(early >= earlier_share * late, up_first, ~up_first)
            self.upright = np.where(both, pick_up, up[3] > 0)
        self.lo, self.hi, self.peak = (
            np.where(self.upright, u, d) for u, d in zip(up[:3], down[:3], strict=True)
        )
        self.found = np.maximum(up[3], down[3]) > 0
        self.begin, self.has_begin = self._boundary(xi[0], before=True)
        self.end, self.has_end = self._boundary(xi[1], before=False)
        last = win.valid.sum(axis=1) - 1  # without an edge, the window's end stands in
        base_lo = row_values(self.s, np.where(self.has_begin, self.begin, 0))
        base_hi = row_values(self.s, np.where(self.has_end, self.end, last))
        self.prominence = np.abs(row_values(self.s, self.peak) - 0.5 * (base_lo + base_hi))

    def _boundary(self, xi: float, *, before: bool) -> tuple[IntArray, BoolArray]:
        """Column where the slope falls below ``xi`` x the outer bracketing slope."""
        cols = columns(self.win)
        start = self.lo if before else self.hi
        mag = np.abs(self.w)
        thr = xi * row_values(mag, start)
        hit = self.win.valid & ((mag < thr[:, None]) | local_min(mag))
        if before:
            return last_true(hit & (cols < start[:, None]))
        return first_true(hit & (cols > start[:, None]))

    def tangent(self, fine: FloatArray, fine_slope: FloatArray, *, before: bool) -> IntArray:
        """Wave boundary by the tangent method on a finely smoothed signal.

        The steepest slope between the peak and the outer boundary is extended as a
        straight line to the level of the signal at that boundary (the local
        isoelectric level); the boundary is where they meet.
        """
        cols = columns(self.win)
        s, w = self.win.take(fine), self.win.take(fine_slope)
        last = self.win.valid.sum(axis=1) - 1  # without an edge, the window's end stands in
        if before:
            outer = np.where(self.has_begin, self.begin, 0)
        else:
            outer = np.where(self.has_end, self.end, last)
        lo, hi = (outer, self.peak) if before else (self.peak, outer)
        span = self.win.valid & (cols >= lo[:, None]) & (cols <= hi[:, None])
        steep = np.where(self.upright == before, 1.0, -1.0)[:, None] * w
        col, _ = masked_argmax(steep, span)
        base = row_values(s, outer)
        slope = row_values(w, col)
        safe = np.where(np.abs(slope) > 0, slope, np.inf)
        meet = col - (row_values(s, col) - base) / safe
        return np.clip(np.rint(meet), lo, hi).astype(np.int64)


def template_agreement(
    smooth: FloatArray,
    qrs_onset: IntArray,
    region: tuple[IntArray, IntArray],
    members: BoolArray,
    span: int,
    neighbours: int,
) -> tuple[FloatArray, FloatArray]:
    """Agreement of each beat's candidate wave with the same stretch in its neighbours.

    The ``span`` samples before every QRS onset are averaged over the ``members``
    among the ``neighbours`` beats on each side (the beat itself left out; members are
    beats with a plausible candidate, so premature beats do not blur the template; at
    least ``neighbours // 2`` members are needed). Each beat's ``region`` (first and
    last sample of its candidate wave) is then compared with the same stretch of that
    template, both with their least-squares line removed. A real P wave repeats from
    beat to beat: it correlates with the template and the template keeps its size.
    Atrial fibrillatory waves, with no fixed timing to the QRS, average out: the
    template there is small and unrelated. Beats without a full segment get 0.

    Returns:
        Per beat, the correlation and the template-to-beat RMS ratio over the region.
    """
    n_beats = qrs_onset.size
    win = Windows.build(qrs_onset - span, qrs_onset, smooth.size)
    full = win.valid.all(axis=1) & (qrs_onset >= span)
    usable = full & members
    seg = np.where(full[:, None], smooth[win.index], 0.0)
    own = np.where(usable[:, None], seg, 0.0)
    sums = np.concatenate((np.zeros((1, seg.shape[1])), np.cumsum(own, axis=0)))
    counts = np.concatenate(([0], np.cumsum(usable)))
    k = np.arange(n_beats)
    lo, hi = np.maximum(k - neighbours, 0), np.minimum(k + neighbours + 1, n_beats)
    others = counts[hi] - counts[lo] - usable
    template = (sums[hi] - sums[lo] - own) / np.maximum(others, 1)[:, None]
    cols = columns(win)
    first = (region[0] - (qrs_onset - span))[:, None]
    last = (region[1] - (qrs_onset - span))[:, None]
    mask = (cols >= first) & (cols <= last)
    a, b = _detrend(seg, mask), _detrend(template, mask)
    aa, bb = (a * a).sum(axis=1), (b * b).sum(axis=1)
    den = np.sqrt(aa * bb)
    corr = np.divide((a * b).sum(axis=1), den, out=np.zeros(n_beats), where=den > 0)
    ratio = np.sqrt(np.divide(bb, aa, out=np.zeros(n_beats), where=aa > 0))
    ok = full & (others >= max(1, neighbours // 2)) & (mask.sum(axis=1) >= 3)
    return np.where(ok, corr, 0.0), np.where(ok, ratio, 0.0)


def _detrend(x: FloatArray, mask: BoolArray) -> FloatArray:
    """Rows of ``x`` minus their least-squares line over ``mask`` (0 outside it)."""
    m = mask.astype(float)
    n = np.maximum(m.sum(axis=1, keepdims=True), 1.0)
    t = np.arange(x.shape[1], dtype=float)[None, :]
    tc = t - (m * t).sum(axis=1, keepdims=True) / n
    xc = x - (m * x).sum(axis=1, keepdims=True) / n
    var = (m * tc * tc).sum(axis=1, keepdims=True)
    slope = (m * tc * xc).sum(axis=1, keepdims=True) / np.where(var > 0, var, 1.0)
    return m * (xc - slope * tc)
