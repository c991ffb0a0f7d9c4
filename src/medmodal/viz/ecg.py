"""ECG figures: raw vs cleaned, detected peaks, rhythm strip and the one-page overview.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or saved);
save it with ``fig.savefig(path, dpi=150)``. Traces are drawn on ECG paper (1 mm = 0.04 s
/ 0.1 mV minor and 5 mm = 0.2 s / 0.5 mV major lines): the rhythm strip at true size
(:mod:`medmodal.viz.ecg_paper`), the peak traces with square grid cells. Every figure
names the lead it draws; heart rates and HRV come from the NN intervals that the HRV
analysis kept (:mod:`medmodal.viz.ecg_hrv`), and the 12-lead page is
:func:`medmodal.viz.ecg_12lead.plot_12lead`.

Example:
    >>> import numpy as np
    >>> from medmodal.viz.ecg import plot_peaks
    >>> t = np.arange(0, 5, 1 / 250)
    >>> x = np.sin(2 * np.pi * 1.2 * t) ** 31
    >>> fig = plot_peaks(x, 250, np.array([100, 308, 517, 725, 933]), lead_name="II")
    >>> fig.axes[0].get_ylabel()
    'II (mV)'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from scipy import signal as sps

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray
from medmodal.viz._ecg_checks import as_2d, as_indices, time_slice
from medmodal.viz.ecg_beats import SYMBOL_ROOM, draw_trace_beats
from medmodal.viz.ecg_hrv import RRIntervals, draw_poincare, draw_rate, draw_tachogram, plot_hrv
from medmodal.viz.ecg_hrv import rr_intervals as _rr_intervals
from medmodal.viz.ecg_labels import (
    COLORS,
    clip_windows,
    label_legend,
    shade_windows,
    windows_from,
)
from medmodal.viz.ecg_paper import (
    GAIN_MM_MV,
    SPEED_MM_S,
)
from medmodal.viz.ecg_strip import plot_rhythm_strip

__all__ = [
    "COLORS",
    "lead_caption",
    "lead_reason",
    "plot_cleaning",
    "plot_hrv",
    "plot_overview",
    "plot_peaks",
    "plot_rhythm_strip",
]

#: Longest window (s) whose peak trace gets the 1 mm grid (longer: 5 mm lines only).
_MINOR_GRID_MAX_S = 20.0
#: Opacity of the rhythm shading behind the overview's heart-rate panel.
_SHADE = 0.35


def lead_reason(result: Any) -> str:
    """Why the figures of an ECGResult draw the lead they draw (``result.peak_lead``).

    Example:
        >>> from medmodal.ecg.process import ecg_process
        >>> from medmodal.ecg.simulate import ecg_simulate
        >>> lead_reason(ecg_process(ecg_simulate(10, 250, seed=1), 250, lead_names=["II"]))
        'the only lead'
    """
    names = tuple(result.lead_names)
    if len(names) == 1:
        return "the only lead"
    leads = "both leads" if len(names) == 2 else f"the {len(names)} leads"
    why = f"sharpest QRS of {leads}"
    delineation = getattr(result, "delineation", None)
    if delineation is None:
        return why
    waves = tuple(delineation.leads) or (delineation.lead,)
    if len(waves) > 1:
        why += f"; waves delineated on {' + '.join(names[k] for k in waves)} together"
    elif waves[0] != int(getattr(result, "peak_lead", 0)):
        why += f"; waves delineated on {names[waves[0]]}"
    return why


def lead_caption(result: Any) -> str:
    """The lead the figures of an ECGResult draw, and why: ``"MLII (<reason>)"``."""
    return f"{result.lead_names[int(getattr(result, 'peak_lead', 0))]} ({lead_reason(result)})"


def plot_cleaning(
    raw: ArrayLike,
    cleaned: ArrayLike,
    sampling_rate: float,
    *,
    start: float = 0.0,
    duration: float = 10.0,
    lead_names: Sequence[str] | None = None,
    units: str = "mV",
) -> Figure:
    """Raw vs cleaned trace (left) and their power spectra (right), one row per lead.

    The spectra show what cleaning removed: baseline wander below 0.5 Hz, powerline
    interference at 50/60 Hz and high-frequency noise.
    """
    raw2, clean2 = as_2d(raw, "raw"), as_2d(cleaned, "cleaned")
    if raw2.shape != clean2.shape:
        raise InvalidParameterError(
            f"plot_cleaning: raw {raw2.shape} and cleaned {clean2.shape} differ in shape"
        )
    names = _lead_names(lead_names, raw2.shape[1])
    window = time_slice(raw2.shape[0], sampling_rate, start, duration)
    t = np.arange(window.start, window.stop) / sampling_rate
    fig = Figure(figsize=(13, 2.6 * raw2.shape[1] + 0.6), layout="constrained")
    axes = fig.subplots(raw2.shape[1], 2, squeeze=False, width_ratios=(3, 1))
    for lead, name in enumerate(names):
        ax, ax_psd = axes[lead]
        ax.plot(t, raw2[window, lead], color=COLORS["raw"], lw=0.8, label="raw")
        ax.plot(t, clean2[window, lead], color=COLORS["clean"], lw=1.0, label="cleaned")
        ax.set_ylabel(f"{name} ({units})")
        ax.set_xlim(t[0], t[-1])
        ax.legend(loc="upper right", fontsize=8, ncols=2)
        for x, label, color in ((raw2, "raw", "raw"), (clean2, "cleaned", "clean")):
            freqs, power = sps.welch(
                x[:, lead], fs=sampling_rate, nperseg=_nperseg(x, sampling_rate)
            )
            ax_psd.semilogy(freqs, power + 1e-12, color=COLORS[color], lw=1.0, label=label)
        ax_psd.set_xlim(0, min(sampling_rate / 2, 100))
        ax_psd.set_ylabel(f"{name} PSD ({units}²/Hz)")
        ax_psd.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 1].set_xlabel("frequency (Hz)")
    axes[0, 0].set_title("Raw vs cleaned ECG")
    axes[0, 1].set_title("Power spectrum")
    return fig


def plot_peaks(
    signal: ArrayLike,
    sampling_rate: float,
    peaks: ArrayLike,
    *,
    reference: ArrayLike | None = None,
    tolerance: float = 0.15,
    start: float = 0.0,
    duration: float = 10.0,
    lead_name: str = "ECG",
    lead_note: str = "",
    units: str = "mV",
    too_close: ArrayLike | None = None,
    beat_labels: Any = None,
    ax: Axes | None = None,
) -> Figure:
    """A trace on ECG paper with detected R peaks; with ``reference``, misses and false ones.

    With ``beat_labels`` each peak's beat class is written above it (``N``, ``S``,
    ``V``, ``F``, ``Q``, ``?`` unknown; :mod:`medmodal.viz.ecg_beats`), the title counts
    them and the legend names them.

    Args:
        signal: one lead, ``(n_samples,)``.
        sampling_rate: Hz.
        peaks: detected R-peak sample indices.
        reference: annotated beat indices; detections with no reference beat within
            ``tolerance`` seconds are drawn as false positives, unmatched reference beats
            as misses.
        tolerance: matching window in seconds (EC57 uses 0.15 s).
        start: first second shown.
        duration: seconds shown.
        lead_name: the lead drawn (y-axis label and title).
        lead_note: why this lead, printed after its name in the title.
        units: signal units (grid cells are 0.1 and 0.5 units high).
        too_close: detections closer than 200 ms to a neighbour (one of each pair is an
            extra detection; :mod:`medmodal.ecg.rr` flags them); circled in the figure.
        beat_labels: one beat class per entry of ``peaks`` (or a
            :class:`~medmodal.ecg.beat_classes.BeatClasses`), or None.
        ax: draw into this axes instead of a new figure.
    """
    x = as_2d(signal, "signal")[:, 0]
    det = as_indices(peaks, "peaks")
    window = time_slice(x.size, sampling_rate, start, duration)
    fig, ax = _figure_and_axes(ax, (13, 3.4))
    t = np.arange(x.size) / sampling_rate
    shown = slice(window.start, window.stop)
    ax.plot(t[shown], x[shown], color=COLORS["trace"], lw=0.8, label=lead_name, zorder=2)
    in_view = _in_view(det, window)
    if reference is None:
        ax.plot(t[in_view], x[in_view], "v", color=COLORS["peak"], ms=6, label="R peak")
    else:
        ref = as_indices(reference, "reference")
        _draw_matching(ax, t, x, in_view, ref, window, tolerance * sampling_rate)
    if too_close is not None:
        close = _in_view(as_indices(too_close, "too_close"), window)
        if close.size:
            label = "< 200 ms apart: one is an extra detection"
            _rings(ax, t[close], x[close], color=COLORS["false"], mew=1.4, label=label)
    classes = ""
    if beat_labels is not None:
        classes = draw_trace_beats(ax, x, sampling_rate, peaks, beat_labels, window)
    finite = x[shown][np.isfinite(x[shown])]
    room = finite.max(initial=0.0) + SYMBOL_ROOM if beat_labels is not None and finite.size else []
    _paper_axes(ax, t[window.start], t[window.stop - 1], np.r_[x[shown], room])
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{lead_name} ({units})")
    seconds = (window.stop - window.start) / sampling_rate
    note = f" ({lead_note})" if lead_note else ""
    count = f"{in_view.size} in {seconds:g} s" if in_view.size else f"none in {seconds:g} s"
    ax.set_title(
        f"R peaks on {lead_name}{note}: {count}{classes}",
        loc="left",
        fontsize=11,
        pad=6 if beat_labels is None else 20,  # the legend row sits under the title
    )
    n_entries = len(ax.get_legend_handles_labels()[0])
    ax.legend(
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
        ncols=4 if beat_labels is None else min(n_entries, 8),
        frameon=False,
    )
    return fig


def plot_overview(
    result: Any,
    *,
    lead: int | None = None,
    seconds: float = 10.0,
    units: str | Sequence[str] = "mV",
) -> Figure:
    """One-page overview of an :class:`~medmodal.ecg.process.ECGResult`.

    Top: the first ``seconds`` of the cleaned ``lead`` (default: the lead the R peaks
    were placed on, named with the reason) with its R peaks on ECG paper. Middle: the
    heart rate of each NN interval over the whole recording (excluded intervals grey,
    implausible ones left out) over rhythm-coloured windows, with a quality band. Bottom:
    tachogram and Poincaré plot of the same NN intervals as the HRV table. When the
    result has beat classes (``result.beat_classes``), each beat of the trace carries
    its class symbol.

    Args:
        result: an ECGResult.
        lead: lead index to draw (default ``result.peak_lead``).
        seconds: seconds of trace at the top.
        units: the signal unit, one for all leads or one per lead.
    """
    fs = float(result.sampling_rate)
    chosen = int(getattr(result, "peak_lead", 0)) if lead is None else lead
    if not 0 <= chosen < len(result.lead_names):
        raise InvalidParameterError(
            f"plot_overview: lead must be an index in 0..{len(result.lead_names) - 1}, got {lead}"
        )
    unit = units if isinstance(units, str) else list(units)[chosen]
    name = str(result.lead_names[chosen])
    note = lead_reason(result) if lead is None else "chosen by the caller"
    fig = Figure(figsize=(13, 9.5), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=(0.8, 1, 1))
    ax_trace = fig.add_subplot(grid[0, :])
    plot_peaks(
        result.cleaned[:, chosen],
        fs,
        result.peaks,
        duration=min(seconds, result.duration_s),
        ax=ax_trace,
        lead_name=name,
        lead_note=note,
        units=unit,
        too_close=_too_close(result),
        beat_labels=_beat_labels(result),
    )
    if result.peaks.size == 0:  # say why, in words, not "0 in 10 s"
        ax_trace.set_title(_no_beats_title(name, result), loc="left", fontsize=11)
    ax_rate = fig.add_subplot(grid[1, :])
    rhythm, quality = windows_from(result.rhythm), windows_from(result.quality)
    shade_windows(ax_rate, clip_windows(rhythm, 0.0, result.duration_s), "rhythm", alpha=_SHADE)
    intervals = _overview_intervals(result)
    if intervals is not None:
        draw_rate(ax_rate, intervals)
    quality_band = clip_windows(quality, 0.0, result.duration_s)
    shade_windows(ax_rate, quality_band, "quality", band=(0.0, 0.035))
    ax_rate.set_xlim(0, result.duration_s)
    ax_rate.set_xlabel("time (s)")
    ax_rate.set_title("Heart rate per NN interval (shading: rhythm; band: quality)", loc="left")
    label_legend(fig, rhythm, quality, rhythm_alpha=_SHADE)
    if intervals is not None:
        draw_tachogram(fig.add_subplot(grid[2, :2]), intervals)
        draw_poincare(fig.add_subplot(grid[2, 2]), intervals, result.hrv)
    return fig


# --------------------------------------------------------------------------- helpers


def _beat_labels(result: Any) -> Any:
    """The result's beat classes when they label its peaks, else None."""
    classes = getattr(result, "beat_classes", None)
    if classes is None or len(getattr(classes, "label", ())) != result.peaks.size:
        return None
    return classes


def _no_beats_title(lead_name: str, result: Any) -> str:
    """``"II: no beats found: the signal is flat (...)"``: the title of a trace without
    beats, with the reason the analysis gave when it gave one."""
    reason = str(getattr(result, "peak_lead_reason", ""))
    reason = reason.removeprefix("no R peaks: ") if reason.startswith("no R peaks") else ""
    return f"{lead_name}: no beats found" + (f": {reason}" if reason else "")


def _too_close(result: Any) -> IntArray | None:
    """Both beats of every RR interval that :mod:`medmodal.ecg.rr` flags as too short."""
    rr = getattr(result, "rr", None)
    if rr is None or result.peaks.size < 2:
        return None
    short = np.flatnonzero(np.asarray(rr.flag) == "too_short")
    return result.peaks[np.unique(np.concatenate([short, short + 1]))]


def _overview_intervals(result: Any) -> RRIntervals | None:
    if result.hrv is None or result.peaks.size < 3:
        return None
    return _rr_intervals(result.peaks, float(result.sampling_rate), result.hrv)


def _paper_axes(ax: Axes, t0: float, t1: float, x: FloatArray) -> None:
    """Grid in data units (0.04 s / 0.1 unit, 0.2 s / 0.5 unit) with square cells."""
    finite = x[np.isfinite(x)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    y0, y1 = np.floor(2 * low - 0.5) / 2, np.ceil(2 * high + 0.5) / 2
    for step, kind, lw in ((0.04, "minor", 0.3), (0.2, "major", 0.7)):
        if kind == "minor" and t1 - t0 > _MINOR_GRID_MAX_S:
            continue
        xs = np.arange(np.ceil(t0 / step), np.floor(t1 / step) + 1) * step
        ys = np.arange(np.ceil(y0 / (step * 2.5)), np.floor(y1 / (step * 2.5)) + 1) * step * 2.5
        segments = [((v, y0), (v, y1)) for v in xs] + [((t0, v), (t1, v)) for v in ys]
        lines = LineCollection(segments, colors=COLORS[f"grid_{kind}"], linewidths=lw, zorder=0)
        lines.set_gid(f"grid_{kind}")
        ax.add_collection(lines)
    ax.set_xlim(t0, t1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(GAIN_MM_MV / SPEED_MM_S, adjustable="box")
    ax.tick_params(which="both", length=0)


def _lead_names(names: Sequence[str] | None, n_leads: int) -> list[str]:
    if names is None:
        return [f"lead {i}" for i in range(n_leads)]
    if len(names) != n_leads:
        raise InvalidParameterError(f"got {len(names)} lead names for {n_leads} leads")
    return list(names)


def _nperseg(x: FloatArray, sampling_rate: float) -> int:
    return int(min(x.shape[0], 4 * 2 ** int(np.ceil(np.log2(sampling_rate)))))


def _figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        figure = ax.get_figure()
        if not isinstance(figure, Figure):
            raise InvalidParameterError("ax must belong to a matplotlib Figure")
        return figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def _draw_matching(
    ax: Axes,
    t: FloatArray,
    x: FloatArray,
    det: IntArray,
    ref: IntArray,
    window: slice,
    tolerance: float,
) -> None:
    ref = _in_view(ref, window)
    if ref.size and det.size:
        nearest_ref = np.min(np.abs(det[:, None] - ref[None, :]), axis=1)
        nearest_det = np.min(np.abs(ref[:, None] - det[None, :]), axis=1)
    else:
        nearest_ref = np.full(det.size, np.inf)
        nearest_det = np.full(ref.size, np.inf)
    hit = nearest_ref <= tolerance
    ax.plot(t[det[hit]], x[det[hit]], "v", color=COLORS["peak"], ms=7, label="detected")
    ax.plot(t[det[~hit]], x[det[~hit]], "X", color=COLORS["false"], ms=9, label="false detection")
    missed = ref[nearest_det > tolerance]
    _rings(ax, t[missed], x[missed], color=COLORS["missed"], mew=2, label="missed beat")


def _in_view(indices: IntArray, window: slice) -> IntArray:
    """The sample indices inside ``window``."""
    return indices[(indices >= window.start) & (indices < window.stop)]


def _rings(ax: Axes, t: FloatArray, y: FloatArray, *, color: str, mew: float, label: str) -> None:
    """Open circles (11 pt) at the points ``(t, y)``."""
    ax.plot(t, y, "o", mfc="none", mec=color, ms=11, mew=mew, label=label)
