"""Our AF detector: RR irregularity and dispersion of the intervals between like beats,
and the absence of P waves when the signal is there.

1. **Usable intervals.** Intervals that are no evidence of AF are set aside: pauses and
   missed beats (longer than :data:`PAUSE` times the local median RR), the short-long
   pair of a premature beat followed by its compensatory pause (after the ectopic-beat
   filter of Petrenas et al. 2015; the pair sums to about two local intervals), and,
   with a signal, intervals that begin or end on a beat whose QRS differs from its
   neighbours' dominant shape (ventricular, aberrant, fusion or noisy beats:
   :mod:`medmodal.ecg._af.morphology`). AF beats are supraventricular and keep the
   dominant shape.
2. **Irregularity.** On the usable intervals, the window of :data:`WIDTH` intervals
   around each one is divided by its median (so the rule works at any heart and
   sampling rate) and two statistics are taken: ``irregularity``, the median |ΔRR| of
   the normalised intervals, and ``dispersion``, the occupied cells of the normalised
   (RR, ΔRR) map (cells of :data:`CELL`) per interval (after the non-empty cell count of
   Lian et al. 2011, made scale-free): regular rhythms, bigeminy and trigeminy fill few
   cells, AF scatters over many.
3. **P waves.** With a signal, fewer than :data:`MAX_P_FRACTION` of the :data:`P_WIDTH`
   usable intervals around an interval may end on a beat with a P wave.

An interval is AF-like when both statistics exceed their thresholds, P waves are absent
and at least :data:`MIN_USABLE` of its window is usable. Where only
:data:`LOW_USABLE` to :data:`MIN_USABLE` of the window is usable (AF with frequent
ventricular or paced beats, or noise), AF needs the stronger evidence of
:data:`STRONG`; below :data:`LOW_USABLE` the window cannot be judged. Set-aside
intervals take the verdict of the nearest usable one.

All constants were chosen on the development half of MIT-BIH fixed before tuning
(``benchmarks/ecg_af.py``: AF records 201, 202, 210 and every other record of the rest);
the check half was used for no choice (tuning log in ``benchmarks/results/ecg_af.md``).

References:
    Petrenas A, Marozas V, Sörnmo L. Low-complexity detection of atrial fibrillation in
    continuous long-term monitoring. Comput Biol Med 65:184-191 (2015).
    Lian J, Wang L, Muessig D. A simple method to detect atrial fibrillation using RR
    intervals. Am J Cardiol 107(10):1494-1497 (2011).
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._af._common import centred_windows
from medmodal.types import BoolArray, FloatArray

#: Intervals per window (about 45-60 s at usual rates).
WIDTH = 64
#: Cell size of the (RR, ΔRR) map in units of the window's median RR.
CELL = 0.05
#: AF-like when irregularity exceeds this...
MIN_IRREGULARITY = 0.03
#: ...and the occupied cells per interval exceed this...
MIN_DISPERSION = 0.5
#: ...and (with a signal) fewer than this fraction of the P_WIDTH usable intervals
#: around it end on a beat with a P wave...
MAX_P_FRACTION = 0.3
P_WIDTH = 16
#: ...and at least this fraction of its window is usable.
MIN_USABLE = 0.5
#: With LOW_USABLE to MIN_USABLE of the window usable, AF needs irregularity, dispersion
#: and P fraction beyond these (stronger) thresholds; below LOW_USABLE, no verdict.
LOW_USABLE = 0.2
STRONG = (0.06, 0.6, 0.05)
#: A pause: longer than this many local median RR intervals.
PAUSE = 1.6
#: A premature beat: the interval before it is shorter than ``1 - PREMATURE`` local
#: medians, the one after longer than ``1 + COMPENSATORY``, and the two sum to two
#: local medians within ``PAIR_TOLERANCE``.
PREMATURE, COMPENSATORY, PAIR_TOLERANCE = 0.1, 0.1, 0.15
#: AF-like runs closer than this (s) form one episode (the peer keeps the shared 10 s).
MERGE_GAP_S = 20.0


def statistics(rr: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(irregularity, dispersion)`` of the window around each interval."""
    idx = centred_windows(rr.size, WIDTH)
    win = rr[idx]  # (n, width)
    norm = win / np.median(win, axis=1, keepdims=True)
    diffs = np.diff(norm, axis=1)  # (n, width - 1)
    irregularity = np.median(np.abs(diffs), axis=1)
    cells = np.floor(norm[:, 1:] / CELL).astype(np.int64) * 1_000_003 + np.floor(
        diffs / CELL
    ).astype(np.int64)
    cells.sort(axis=1)
    occupied = 1 + (np.diff(cells, axis=1) != 0).sum(axis=1)
    return irregularity, occupied / diffs.shape[1]


def usable(rr: FloatArray, odd: BoolArray | None = None) -> BoolArray:
    """Intervals that count as AF evidence (step 1 of the module docstring).

    Example:
        >>> rr = np.array([0.8] * 10 + [0.5, 1.1] + [0.8] * 10 + [2.0] + [0.8] * 10)
        >>> np.flatnonzero(~usable(rr)).tolist()
        [10, 11, 22]
    """
    relative = rr / np.median(rr[centred_windows(rr.size, WIDTH)], axis=1)
    keep = relative < PAUSE
    pair = (
        (relative[:-1] < 1 - PREMATURE)
        & (relative[1:] > 1 + COMPENSATORY)
        & (np.abs(relative[:-1] + relative[1:] - 2) < PAIR_TOLERANCE)
    )
    keep[:-1] &= ~pair
    keep[1:] &= ~pair
    if odd is not None:
        keep &= ~odd[:-1] & ~odd[1:]
    return np.asarray(keep, dtype=bool)


def detect(rr: FloatArray, p_present: BoolArray | None, odd: BoolArray | None = None) -> BoolArray:
    """AF-like flag of each RR interval (see the module docstring).

    Args:
        rr: RR intervals (s).
        p_present: per interval, a P wave before its end beat (None: RR only).
        odd: per beat (``rr.size + 1``), an unlike QRS shape (None: no signal).
    """
    keep = usable(rr, odd)
    index = np.flatnonzero(keep)
    if index.size < 12:
        return np.zeros(rr.size, dtype=bool)
    irregularity, dispersion = statistics(rr[index])
    p_fraction = np.zeros(index.size)
    if p_present is not None:
        p_used = p_present[index].astype(float)
        p_fraction = p_used[centred_windows(index.size, P_WIDTH)].mean(axis=1)
    flags = (
        (irregularity > MIN_IRREGULARITY)
        & (dispersion > MIN_DISPERSION)
        & (p_fraction < MAX_P_FRACTION)
    )
    strong = (irregularity > STRONG[0]) & (dispersion > STRONG[1]) & (p_fraction < STRONG[2])
    nearest = np.clip(np.searchsorted(index, np.arange(rr.size)), 0, index.size - 1)
    share = _usable_share(keep)
    out = np.where(share >= MIN_USABLE, flags[nearest], strong[nearest] & (share >= LOW_USABLE))
    return np.asarray(out, dtype=bool)


def _usable_share(keep: BoolArray) -> FloatArray:
    return np.asarray(keep.astype(float)[centred_windows(keep.size, WIDTH)].mean(axis=1))


def judgeable(keep: BoolArray) -> BoolArray:
    """Intervals whose window of :data:`WIDTH` has at least :data:`LOW_USABLE` usable ones
    (``keep``: :func:`usable`); the others cannot be judged (noise or frequent ectopy)."""
    return np.asarray(_usable_share(keep) >= LOW_USABLE, dtype=bool)
