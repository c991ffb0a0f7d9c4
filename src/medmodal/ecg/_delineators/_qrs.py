"""QRS onset and offset of every beat on one lead, vectorised over beats.

The lead is differentiated with a derivative-of-Gaussian wavelet at the QRS scale
(8 ms). Around each R peak the largest slope magnitude A within 100 ms is found on each
side (the main slopes). The QRS is then extended outwards through its significant slope
peaks, Martínez et al.'s search for the first and last significant modulus maxima:

* a slope peak is significant above ``QRS_SIGNIFICANT_PRE`` x A before the QRS and
  ``QRS_SIGNIFICANT_POST`` x A after it (Martínez's gamma_QRSpre / gamma_QRSpost);
* a hop goes to the nearest significant peak at most ``QRS_HOP_PRE`` / ``QRS_HOP_POST``
  further out (a P wave close to a fast QRS must stay out of it), and never
  across an isoelectric segment (the slope below the boundary threshold for at least
  ``QRS_BARRIER``): a Q or S wave belongs to the QRS, a P or T wave beyond an
  isoelectric segment does not. The slope passing through zero at the tip of an S wave
  is too brief to stop the walk, so slurred and notched S waves stay in the QRS. After
  the R wave, a flat stretch counts as isoelectric only near the isoelectric level
  (within ``ISOELECTRIC_LEVEL`` of the QRS amplitude from the level at the QRS onset): a
  notch halfway up a slow S wave (a fragmented QRS) does not end the QRS.

The onset is the end of the last isoelectric stretch (>= ``ISOELECTRIC`` with the slope
below ``QRS_ONSET_XI`` x A and above a noise floor) within ``QRS_REACH`` before the
first significant slope; the offset is the start of the first such stretch after the
last one, or an earlier local slope minimum below ``QRS_JUNCTION_XI`` x A where the ST
segment runs straight into the T wave (the isoelectric-segment search of Laguna et al.
1994; the noise floor is ``NOISE_FACTOR`` x the SD of the slope's noise between this
beat and the last).

References:
    Martínez JP, Almeida R, Olmos S, Rocha AP, Laguna P. A wavelet-based ECG delineator:
    evaluation on standard databases. IEEE Trans Biomed Eng 51(4):570-581 (2004).
    Laguna P, Jané R, Caminal P. Automatic detection of wave boundaries in multilead ECG
    signals: validation with the CSE database. Comput Biomed Res 27(1):45-60 (1994).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from medmodal.ecg._delineators._waves import local_min
from medmodal.ecg._delineators._windows import (
    Windows,
    any_in_row,
    columns,
    first_true,
    last_true,
    masked_argmax,
    row_values,
    run_length,
)
from medmodal.types import BoolArray, FloatArray, IntArray

#: Scale (s) of the derivative-of-Gaussian wavelet for the QRS.
QRS_SCALE = 0.008
#: QRS search: window before / after R (s), main slopes within MAIN_SLOPE (s) of R.
QRS_BEFORE, QRS_AFTER, MAIN_SLOPE = 0.15, 0.18, 0.10
#: Significant slope peaks, as fractions of the largest QRS slope (Martínez et al. 2004).
QRS_SIGNIFICANT_PRE, QRS_SIGNIFICANT_POST = 0.06, 0.09
#: A hop to the next significant slope peak spans at most QRS_HOP_PRE (before the QRS)
#: or QRS_HOP_POST (after it) seconds, at most QRS_MAX_HOPS times, and never crosses an
#: isoelectric run of QRS_BARRIER (s).
QRS_HOP_PRE, QRS_HOP_POST = 0.04, 0.06
QRS_MAX_HOPS, QRS_BARRIER = 3, 0.016
#: QRS boundary thresholds (fraction of the largest QRS slope) and the shortest
#: isoelectric stretch (s).
QRS_ONSET_XI, QRS_OFFSET_XI, ISOELECTRIC = 0.04, 0.10, 0.008
#: The QRS edges lie at most QRS_REACH (s) beyond its first / last significant slope
#: (a short PR segment at fast rates must not let the onset run back over the P wave).
QRS_REACH = 0.04
#: A local minimum of the slope below this fraction of the largest QRS slope also ends
#: the QRS (the ST segment can rise into the T wave with no isoelectric stretch).
QRS_JUNCTION_XI = 0.15
#: After the R wave, a flat stretch is isoelectric only within this fraction of the QRS
#: peak-to-peak amplitude from the level at the QRS onset (0.1 mV for a 1 mV QRS, the
#: smallest ST deviation read as significant).
ISOELECTRIC_LEVEL = 0.1
#: Slope noise floor: this many times the local robust SD of the slope's noise.
NOISE_FACTOR = 4.0


def samples(seconds: float, rate: float) -> int:
    """``seconds`` in samples at ``rate`` (at least 1)."""
    return max(1, round(seconds * rate))


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
    guard = samples(0.06, rate)
    stop = np.clip(r - guard, 0, x.size)
    start = np.clip(r - rr_prev + guard, 0, stop)
    short = stop - start < guard  # too little room: use the whole record's level
    start, stop = np.where(short, 0, start), np.where(short, x.size, stop)
    return np.sqrt(np.pi / 2) * (sums[stop] - sums[start]) / np.maximum(stop - start, 1)


def _in_long_run(mask: BoolArray, length: int) -> BoolArray:
    """Cells inside a run of True at least ``length`` long (per row)."""
    back = run_length(mask)
    ahead = run_length(mask[:, ::-1])[:, ::-1]
    return mask & (back + ahead - 1 >= length)


def _near_level(xs: FloatArray, qrs: BoolArray, base: FloatArray) -> BoolArray:
    """Cells within ``ISOELECTRIC_LEVEL`` x the QRS peak-to-peak amplitude of ``base``."""
    size = np.where(qrs, xs, -np.inf).max(axis=1) - np.where(qrs, xs, np.inf).min(axis=1)
    size = np.where(np.isfinite(size), size, 0.0)
    return np.asarray(np.abs(xs - base[:, None]) <= ISOELECTRIC_LEVEL * size[:, None])


def _chain(
    m: FloatArray,
    significant: BoolArray,
    start: IntArray,
    gap: int,
    barrier: BoolArray,
    *,
    backward: bool,
) -> IntArray:
    """Walk from ``start`` to the outermost significant slope peak, hop by hop.

    Each hop goes to the nearest significant local maximum of the slope magnitude at
    most ``gap`` columns further out with no ``barrier`` cell (isoelectric run) between.
    """
    width = m.shape[1]
    cols = np.arange(width)[None, :]
    idx = np.broadcast_to(cols, m.shape)
    peaks = significant & local_min(-m)
    wall_before = np.maximum.accumulate(np.where(barrier, idx, -1), axis=1)
    wall_after = np.minimum.accumulate(np.where(barrier, idx, width)[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(m.shape[0])
    current = start.copy()
    for _ in range(QRS_MAX_HOPS):
        c = current[:, None]
        if backward:
            wall = wall_before[rows, current][:, None]
            col, found = last_true(peaks & (cols < c) & (cols >= c - gap) & (cols > wall))
        else:
            wall = wall_after[rows, current][:, None]
            col, found = first_true(peaks & (cols > c) & (cols <= c + gap) & (cols < wall))
        current = np.where(found, col, current)
    return current


def qrs_bounds(
    x: FloatArray, rate: float, r: IntArray, rr_prev: IntArray, rr_next: IntArray
) -> tuple[IntArray, IntArray]:
    """QRS onset and offset samples of every beat (see the module docstring)."""
    signed = gaussian_filter1d(x, QRS_SCALE * rate, order=1)
    floor = NOISE_FACTOR * _slope_noise(x, signed, rate, r, rr_prev)
    quiet_len, main = samples(ISOELECTRIC, rate), samples(MAIN_SLOPE, rate)
    before = np.minimum(samples(QRS_BEFORE, rate), rr_prev // 2)
    after = np.minimum(samples(QRS_AFTER, rate), rr_next // 2)
    win = Windows.build(r - before, r + after + 1, x.size)
    m = win.take(np.abs(signed))
    cols = columns(win)
    rel = cols - before[:, None]  # column relative to R
    amp = np.where(win.valid & (np.abs(rel) <= main), m, 0.0).max(axis=1)

    def above(share: float) -> BoolArray:
        return win.valid & (m >= np.maximum(share * amp, floor)[:, None])

    on_quiet, off_quiet = ~above(QRS_ONSET_XI), ~above(QRS_OFFSET_XI)
    first_main, _ = masked_argmax(m, win.valid & (rel <= 0) & (rel >= -main))
    last_main, _ = masked_argmax(m, win.valid & (rel >= 0) & (rel <= main))
    wall = samples(QRS_BARRIER, rate)
    pre, post = samples(QRS_HOP_PRE, rate), samples(QRS_HOP_POST, rate)
    first = _chain(
        m, above(QRS_SIGNIFICANT_PRE), first_main, pre, _in_long_run(on_quiet, wall), backward=True
    )
    on_quiet &= win.valid
    off_quiet &= win.valid
    reach = samples(QRS_REACH, rate)
    near_on = win.valid & (cols < first[:, None]) & (cols >= (first - reach)[:, None])
    on_col, on_found = last_true((run_length(on_quiet) >= quiet_len) & near_on)
    on_fb, _ = masked_argmax(-m, near_on)  # no isoelectric stretch: the smallest slope
    on_col = np.where(on_found, on_col, on_fb)
    xs = win.take(x)
    level = _near_level(xs, win.valid & (np.abs(rel) <= main), row_values(xs, on_col))
    barrier = _in_long_run(off_quiet, wall) & level
    last = _chain(m, above(QRS_SIGNIFICANT_POST), last_main, post, barrier, backward=False)
    near_off = win.valid & (cols > last[:, None]) & (cols <= (last + reach)[:, None])
    ahead = run_length(off_quiet[:, ::-1])[:, ::-1]  # quiet run starting at each cell
    # The J point may also be where the slope bottoms out before rising into the T wave.
    junction = win.valid & local_min(m) & (m < QRS_JUNCTION_XI * amp[:, None])
    off_col, off_found = first_true(((ahead >= quiet_len) | junction) & near_off)
    # No isoelectric stretch within reach (noise, fused waves): the smallest slope there.
    off_fb, _ = masked_argmax(-m, near_off)
    has = any_in_row(win.valid)
    onset = win.sample(on_col, has)
    offset = win.sample(np.where(off_found, off_col, off_fb), has)
    return onset, offset
