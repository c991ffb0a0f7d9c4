"""The rhythm strip: minutes of one lead on true-size ECG paper, rows of 10 s.

Each row is drawn at 25 mm/s and 10 mm/mV after a 1 mV calibration pulse
(:mod:`medmodal.viz.ecg_paper`). Above each beat is the heart rate of the interval ending
there, from the NN intervals the HRV analysis kept (:mod:`medmodal.viz.ecg_hrv`);
rhythm windows colour a band above each row and signal-quality windows a band below it
(:mod:`medmodal.viz.ecg_labels`). With beat labels, each beat's class symbol (N, S, V,
F, Q; ? unknown) sits in a line of its own under the rates (:mod:`medmodal.viz.ecg_beats`).

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> from medmodal.viz.ecg_strip import plot_rhythm_strip
    >>> sim = ecg_simulate_annotated(30, 250, heart_rate=72, seed=0)
    >>> fig = plot_rhythm_strip(sim.signal, 250, sim.r_peaks, duration=30, lead_name="II")
    >>> len([t for t in fig.axes[0].texts if t.get_gid() == "lead"])  # one per 10 s row
    3
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from medmodal.ecg.hrv import HRV, ecg_hrv
from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray
from medmodal.viz._ecg_checks import as_2d, as_indices, time_slice
from medmodal.viz.ecg_beats import beat_handles, beat_marks, draw_beat_symbols
from medmodal.viz.ecg_hrv import rr_intervals
from medmodal.viz.ecg_labels import (
    COLORS,
    Kind,
    Windows,
    clip_windows,
    label_color,
    label_legend,
    windows_from,
)
from medmodal.viz.ecg_paper import (
    CALIBRATION_MM,
    GAIN_MM_MV,
    SPEED_MM_S,
    draw_calibration,
    draw_trace,
    ecg_paper,
    header,
    lead_label,
    on_major,
    to_mv,
    unit_notes,
)


def plot_rhythm_strip(
    signal: ArrayLike,
    sampling_rate: float,
    peaks: ArrayLike,
    *,
    rhythm: Any = None,
    quality: Any = None,
    hrv: HRV | None = None,
    start: float = 0.0,
    duration: float = 60.0,
    row_seconds: float = 10.0,
    lead_name: str = "ECG",
    lead_note: str = "",
    units: str = "mV",
    beat_labels: Any = None,
) -> Figure:
    """A Holter-style strip on true-size ECG paper: ``duration`` s in rows of ``row_seconds``.

    Each row starts with a 1 mV calibration pulse and is drawn at 25 mm/s and 10 mm/mV.
    Beats are marked and labelled with the heart rate of the NN interval ending there
    (grey in brackets: an interval the HRV analysis excluded; nothing for intervals
    outside 20-300 bpm). Rhythm windows (``rhythm.to_frame()`` with ``start_s``,
    ``end_s``, ``label`` columns) colour a band above each row, quality windows a band
    below it.

    Args:
        signal: one lead, ``(n_samples,)``.
        sampling_rate: Hz.
        peaks: R-peak sample indices.
        rhythm, quality: windowed results (or frames/mappings) to band, or None.
        hrv: the HRV result of ``peaks`` (default: computed with its defaults).
        start, duration: seconds shown.
        row_seconds: seconds per row (``25 * row_seconds`` mm).
        lead_name: the lead drawn; lead_note: why it was chosen.
        units: the signal's unit (mV, µV or V; anything else is said on the figure).
        beat_labels: one beat class per entry of ``peaks`` (or a
            :class:`~medmodal.ecg.beat_classes.BeatClasses`): each beat's symbol is
            written above it and the legend counts the classes shown.
    """
    x = as_2d(signal, "signal")[:, 0]
    det = as_indices(peaks, "peaks")
    symbols = None
    if beat_labels is not None:
        det, symbols = beat_marks(peaks, beat_labels, func="plot_rhythm_strip")
    window = time_slice(x.size, sampling_rate, start, duration)
    if not (math.isfinite(row_seconds) and row_seconds > 0):
        raise InvalidParameterError(
            f"plot_rhythm_strip: row_seconds must be > 0, got {row_seconds}"
        )
    t0, t1 = window.start / sampling_rate, window.stop / sampling_rate
    mv = np.full(x.size, np.nan)
    mv[window] = to_mv(x[window], units)
    below, above = _strip_extent(mv[window])
    # Below the baseline: quality band (3 mm) + 1 mm; above it: the trace, the R-peak
    # ticks (2.5 mm), the beat-class symbols (4 mm, when given), the rate labels (2 mm)
    # and the rhythm band (3 mm).
    row_mm = on_major(on_major(4.0 + below) + above + 9.5 + (0.0 if symbols is None else 4.0))
    starts = np.arange(t0, t1 - 1e-9, row_seconds)
    paper = ecg_paper(CALIBRATION_MM + SPEED_MM_S * row_seconds, row_mm * starts.size, footer_mm=12)
    rates = _beat_labels(det, sampling_rate, hrv)
    strip = _Strip(paper.ax, sampling_rate, mv, det, rates, symbols)
    bands = windows_from(rhythm), windows_from(quality)
    for k, a in enumerate(starts):
        bottom = paper.height_mm - (k + 1) * row_mm
        strip.row((a, min(a + row_seconds, t1)), bottom, bottom + on_major(4.0 + below), row_mm)
        strip.label(lead_name, a, bottom, row_mm)
        _bands(
            paper.ax, bands, (a, min(a + row_seconds, t1)), (bottom + row_mm - 3.0, bottom + 0.3)
        )
    note = f" ({lead_note})" if lead_note else ""
    letters = "" if symbols is None else "; letters: beat class"
    header(
        paper,
        f"Rhythm strip, {lead_name}{note}",
        f"{sampling_rate:g} Hz. Numbers: heart rate of each NN interval (bpm); grey in "
        f"brackets: interval excluded as ectopic/artefact{letters}",
        unit_notes([units]),
    )
    shown = [clip_windows(b, t0, t1) if b is not None else None for b in bands]
    label_legend(paper.figure, *shown, loc="lower center", extra=_beat_legend(det, symbols, window))
    return paper.figure


def _beat_legend(det: IntArray, symbols: list[str] | None, window: slice) -> list[Any]:
    """Legend handles of the beat classes shown in ``window`` (none without symbols)."""
    if symbols is None:
        return []
    seen = (det >= window.start) & (det < window.stop)
    return list(beat_handles([s for s, keep in zip(symbols, seen, strict=True) if keep]))


@dataclass(frozen=True)
class _Strip:
    """What every row of one strip draws from."""

    ax: Axes
    sampling_rate: float
    mv: FloatArray
    beats: IntArray
    beat_labels: list[tuple[str, bool]]
    symbols: list[str] | None = None

    def row(self, span: tuple[float, float], bottom: float, baseline: float, row_mm: float) -> None:
        """Calibration pulse, trace, R-peak ticks, beat classes and rates of the row ``span``."""
        fs = self.sampling_rate
        i0, i1 = round(span[0] * fs), round(span[1] * fs)
        draw_calibration(self.ax, 0.0, baseline)
        draw_trace(self.ax, self.mv[i0:i1], fs, CALIBRATION_MM, baseline)
        idx = np.flatnonzero((self.beats >= i0) & (self.beats < i1))
        x = CALIBRATION_MM + (self.beats[idx] - i0) * (SPEED_MM_S / fs)
        y = baseline + GAIN_MM_MV * np.nan_to_num(self.mv[self.beats[idx]]) + 1.5
        self.ax.plot(x, y, "v", color=COLORS["peak"], ms=2.5, zorder=4)
        if self.symbols is not None:
            shown = [self.symbols[j] for j in idx]
            draw_beat_symbols(self.ax, x, bottom + row_mm - 8.5, shown, fontsize=6.0)
        for xk, j in zip(x, idx, strict=True):
            text, kept = self.beat_labels[j]
            if text:
                color = "#000000" if kept else COLORS["excluded"]
                self.ax.text(
                    xk,
                    bottom + row_mm - 5.5,
                    text,
                    fontsize=5.5,
                    ha="center",
                    va="center",
                    color=color,
                    gid="rate",
                )

    def label(self, lead_name: str, start_s: float, bottom: float, row_mm: float) -> None:
        """Lead name above the calibration pulse, the row's start time below it."""
        lead_label(self.ax, 0.5, bottom + row_mm - 3.5, lead_name, fontsize=6.5)
        self.ax.text(0.5, bottom + 4.0, f"{start_s:g} s", fontsize=6, va="bottom", gid="row_start")


def _beat_labels(det: IntArray, sampling_rate: float, hrv: HRV | None) -> list[tuple[str, bool]]:
    """Per beat: the rate (bpm) of the interval ending there and whether it is an NN interval.

    Empty text for the first beat and for intervals outside the plausible range.
    """
    labels = [("", True)] * det.size
    if det.size < 3:
        return labels
    hrv = ecg_hrv(det, sampling_rate) if hrv is None else hrv
    intervals = rr_intervals(det, sampling_rate, hrv)
    for k, (rr, kept, ok) in enumerate(
        zip(intervals.rr_ms, intervals.kept, intervals.plausible, strict=True)
    ):
        text = f"{60000.0 / rr:.0f}" if kept else f"({60000.0 / rr:.0f})"
        labels[k + 1] = (text if ok else "", bool(kept))
    return labels


def _bands(
    ax: Axes,
    bands: tuple[Windows | None, Windows | None],
    span: tuple[float, float],
    ys: tuple[float, float],
) -> None:
    """Rhythm band at ``ys[0]`` and quality band at ``ys[1]`` (2.7 mm high) for one row."""
    kinds: tuple[Kind, Kind] = ("rhythm", "quality")
    for windows, kind, y in zip(bands, kinds, ys, strict=True):
        clipped = clip_windows(windows, *span)
        if clipped:
            ax.text(0.5, y + 1.35, kind, fontsize=4.5, va="center", color="#444444")
        for lo, hi, label in clipped:
            x0 = CALIBRATION_MM + (lo - span[0]) * SPEED_MM_S
            color = label_color(kind, label)
            rect = Rectangle((x0, y), (hi - lo) * SPEED_MM_S, 2.7, lw=0, facecolor=color)
            rect.set(zorder=1, gid=kind)
            ax.add_patch(rect)


def _strip_extent(mv: FloatArray) -> tuple[float, float]:
    finite = mv[np.isfinite(mv)]
    low, high = np.percentile(finite, [0.1, 99.9]) if finite.size else (0.0, 0.0)
    return GAIN_MM_MV * max(-float(low), 0.0), GAIN_MM_MV * max(float(high), 1.0)
