"""Our AF detector: RR irregularity and dispersion around the local median, and the
absence of P waves when the signal is there.

For every RR interval, the window of :data:`WIDTH` intervals around it is divided by its
median (so the rule works at any heart and sampling rate) and two statistics are taken:

- ``irregularity``: median |ΔRR| of the normalised intervals. Medians make it robust to
  isolated ectopic beats, which move only two or three successive differences.
- ``dispersion``: occupied cells of the normalised (RR, ΔRR) map (cells of
  :data:`CELL`) per interval. Regular rhythms, and bigeminy or trigeminy whose intervals
  take two or three values, fill few cells; AF scatters over many (after the non-empty
  cell count of Lian et al. 2011, made scale-free).

An interval is AF-like when both exceed their thresholds and, with a signal, fewer than
:data:`MAX_P_FRACTION` of the window's beats have a P wave. All constants were chosen on
the development half of MIT-BIH fixed before tuning (``benchmarks/ecg_af.py``: AF records
201, 202, 210 and every other record without AF); the check half was not looked at.
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
#: ...and (with a signal) fewer than this fraction of the window's beats have a P wave.
MAX_P_FRACTION = 0.3


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


def detect(rr: FloatArray, p_present: BoolArray | None) -> BoolArray:
    """AF-like flag of each RR interval (see the module docstring)."""
    irregularity, dispersion = statistics(rr)
    flags = (irregularity > MIN_IRREGULARITY) & (dispersion > MIN_DISPERSION)
    if p_present is not None:
        p_fraction = p_present.astype(float)[centred_windows(rr.size, WIDTH)].mean(axis=1)
        flags &= p_fraction < MAX_P_FRACTION
    return np.asarray(flags, dtype=bool)
