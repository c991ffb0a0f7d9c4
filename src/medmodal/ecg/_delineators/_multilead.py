"""One set of fiducial points from several leads delineated separately (same R peaks).

Rules, beat by beat:

* QRS onset and offset: the median over the leads that bound the QRS (for two leads,
  their mean). One lead's boundary running into a notch, a clipped complex or noise
  cannot set the QRS alone; with many leads this is a robust version of the multilead
  rule of Laguna et al. (1994), which takes the earliest onset and the latest offset.
* T wave (peak, offset): both points from the one lead where the T wave is largest
  against the lead's typical level over the record (median over the beats): where it is
  best defined, the lead a cardiologist would read QT on. One lead for the record keeps
  QT from jumping between leads whose T waves end at different times; beats where that
  lead has no T wave take it from the other.
* P wave (onset, peak, offset): all points from the lead where that beat's P wave is
  largest (P waves are small; the larger one is the one least disturbed by noise).
  A wave found in no lead is absent.

(Martínez et al. 2004 scored each beat on the lead that fitted the annotation best,
which no delineator can know; these rules choose without the annotation.)

References:
    Laguna P, Jané R, Caminal P. Automatic detection of wave boundaries in multilead ECG
    signals: validation with the CSE database. Comput Biomed Res 27(1):45-60 (1994).
    Martínez JP, Almeida R, Olmos S, Rocha AP, Laguna P. A wavelet-based ECG delineator:
    evaluation on standard databases. IEEE Trans Biomed Eng 51(4):570-581 (2004).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medmodal.types import FloatArray, IntArray


@dataclass(frozen=True)
class LeadMarks:
    """One lead's fiducial points and, per beat, the size of its P, QRS and T waves.

    Sizes are amplitudes over the lead's median absolute deviation (0 where a wave is
    absent), so that leads of different gains compare.
    """

    points: dict[str, IntArray]
    sizes: dict[str, FloatArray]


#: Points taken from the lead where their wave is largest, by wave.
WAVES = {"p": ("p_onset", "p_peak", "p_offset"), "t": ("t_peak", "t_offset")}
#: Waves taken from one lead for the whole record: the lead where the wave is largest
#: in the median beat (beats where that lead has none take the per-beat choice).
PER_RECORD = ("t",)
#: Points set by the median over leads.
MEDIAN = ("qrs_onset", "qrs_offset")


def _median(stack: IntArray) -> IntArray:
    """Per beat (column), the rounded median of the leads' marks (-1 if none)."""
    marks = np.where(stack >= 0, stack.astype(np.float64), np.nan)
    found = np.asarray(np.isfinite(marks).any(axis=0), dtype=bool)
    filled = np.where(found[None, :], marks, 0.0)
    return np.where(found, np.rint(np.nanmedian(filled, axis=0)), -1).astype(np.int64)


def combine(marks: Sequence[LeadMarks]) -> dict[str, IntArray]:
    """Fiducial points of every beat from several leads' marks (see the module doc)."""
    first = marks[0].points
    if len(marks) == 1:
        return dict(first)
    out = {"r_peak": first["r_peak"]}
    for name in MEDIAN:
        out[name] = _median(np.stack([m.points[name] for m in marks]))
    beats = np.arange(first["r_peak"].size)
    for wave, names in WAVES.items():
        sizes = np.stack([m.sizes[wave] for m in marks])  # (leads, beats)
        present = np.stack([m.points[names[0]] >= 0 for m in marks])
        best = np.argmax(np.where(present, sizes, -np.inf), axis=0)
        if wave in PER_RECORD:
            lead = int(np.argmax(np.median(sizes, axis=1)))
            best = np.where(present[lead], lead, best)
        any_present = np.asarray(present.any(axis=0), dtype=bool)
        for name in names:
            stack = np.stack([m.points[name] for m in marks])
            out[name] = np.where(any_present, stack[best, beats], -1)
    return {name: out[name] for name in first}
