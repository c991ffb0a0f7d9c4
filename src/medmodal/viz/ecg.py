"""ECG figures: raw vs cleaned, detected peaks, rhythm strip, HRV.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or saved);
save it with ``fig.savefig(path, dpi=150)``. Traces are drawn over ECG paper (major grid
0.2 s / 0.5 mV, minor 0.04 s / 0.1 mV) when the window is short enough for it to help.

Example:
    >>> import numpy as np
    >>> from medmodal.viz.ecg import plot_peaks
    >>> t = np.arange(0, 5, 1 / 250)
    >>> x = np.sin(2 * np.pi * 1.2 * t) ** 31
    >>> fig = plot_peaks(x, 250, np.array([100, 308, 517, 725, 933]))
    >>> len(fig.axes)
    1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator
from scipy import signal as sps

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray

#: Colours used across the ECG figures (colour-blind safe Okabe-Ito palette).
COLORS = {
    "raw": "#7f7f7f",
    "clean": "#0072B2",
    "peak": "#D55E00",
    "missed": "#CC79A7",
    "false": "#E69F00",
    "grid_major": "#f4a6a6",
    "grid_minor": "#fbdcdc",
}
#: Background colour of each rhythm / quality label.
LABEL_COLORS = {
    "sinus": "#009E73",
    "tachycardia": "#E69F00",
    "bradycardia": "#56B4E9",
    "irregular": "#D55E00",
    "undetermined": "#bbbbbb",
    "excellent": "#009E73",
    "acceptable": "#F0E442",
    "unacceptable": "#D55E00",
}
_PAPER_MAX_SECONDS = 12.0


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
    raw2, clean2 = _as_2d(raw, "raw"), _as_2d(cleaned, "cleaned")
    if raw2.shape != clean2.shape:
        raise InvalidParameterError(
            f"plot_cleaning: raw {raw2.shape} and cleaned {clean2.shape} differ in shape"
        )
    names = _lead_names(lead_names, raw2.shape[1])
    window = _window(raw2.shape[0], sampling_rate, start, duration)
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
        ax_psd.set_ylabel(f"PSD ({units}²/Hz)")
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
    units: str = "mV",
    ax: Axes | None = None,
) -> Figure:
    """A trace with detected R peaks; with ``reference`` beats, misses and false detections.

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
        lead_name: y-axis label.
        units: signal units.
        ax: draw into this axes instead of a new figure.
    """
    x = _as_2d(signal, "signal")[:, 0]
    det = _as_indices(peaks, "peaks")
    window = _window(x.size, sampling_rate, start, duration)
    fig, ax = _figure_and_axes(ax, (13, 3.4))
    t = np.arange(x.size) / sampling_rate
    shown = slice(window.start, window.stop)
    if duration <= _PAPER_MAX_SECONDS:
        _ecg_paper(ax, t[shown], x[shown])
    ax.plot(t[shown], x[shown], color=COLORS["clean"], lw=1.0, label=lead_name)
    in_view = det[(det >= window.start) & (det < window.stop)]
    if reference is None:
        ax.plot(t[in_view], x[in_view], "v", color=COLORS["peak"], ms=7, label="R peak")
    else:
        ref = _as_indices(reference, "reference")
        _draw_matching(ax, t, x, in_view, ref, window, tolerance * sampling_rate)
    ax.set_xlim(t[window.start], t[window.stop - 1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{lead_name} ({units})")
    ax.set_title(f"Detected R peaks: {in_view.size} in {duration:g} s", loc="left")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncols=4, frameon=False)
    return fig


def plot_rhythm_strip(
    signal: ArrayLike,
    sampling_rate: float,
    peaks: ArrayLike,
    *,
    rhythm: Any = None,
    quality: Any = None,
    start: float = 0.0,
    duration: float = 60.0,
    row_seconds: float = 10.0,
    lead_name: str = "ECG",
    units: str = "mV",
) -> Figure:
    """A Holter-style strip: ``duration`` seconds in rows of ``row_seconds``.

    Beats are marked and labelled with the instantaneous heart rate; rhythm windows
    (``rhythm.to_frame()`` with ``start_s``, ``end_s``, ``label`` columns) shade the
    background, and quality windows draw a coloured band under each row.
    """
    x = _as_2d(signal, "signal")[:, 0]
    det = _as_indices(peaks, "peaks")
    window = _window(x.size, sampling_rate, start, duration)
    t0, t1 = window.start / sampling_rate, window.stop / sampling_rate
    n_rows = max(1, int(np.ceil((t1 - t0) / row_seconds)))
    fig = Figure(figsize=(13, 1.9 * n_rows + 0.8), layout="constrained")
    axes = fig.subplots(n_rows, 1, squeeze=False)[:, 0]
    rr = np.diff(det) / sampling_rate
    hr = np.concatenate(([np.nan], 60.0 / rr)) if det.size > 1 else np.full(det.size, np.nan)
    low, high = float(x[window].min()), float(x[window].max())
    pad = 0.15 * (high - low + 1e-9)
    rhythm_frame, quality_frame = _windows_frame(rhythm), _windows_frame(quality)
    for row, ax in enumerate(axes):
        a = t0 + row * row_seconds
        b = min(a + row_seconds, t1)
        i0, i1 = round(a * sampling_rate), round(b * sampling_rate)
        _shade_windows(ax, rhythm_frame, a, b, alpha=0.15)
        ax.plot(np.arange(i0, i1) / sampling_rate, x[i0:i1], color="black", lw=0.7)
        beats = np.flatnonzero((det >= i0) & (det < i1))
        ax.plot(det[beats] / sampling_rate, x[det[beats]], "v", color=COLORS["peak"], ms=4)
        for k in beats:
            if np.isfinite(hr[k]):
                ax.text(
                    det[k] / sampling_rate,
                    high + 0.5 * pad,
                    f"{hr[k]:.0f}",
                    fontsize=6,
                    ha="center",
                    color="#444444",
                )
        if quality_frame is not None:
            _quality_band(ax, quality_frame, a, b, low - pad)
        ax.set_xlim(a, a + row_seconds)
        ax.set_ylim(low - 1.6 * pad, high + 1.6 * pad)
        ax.set_ylabel(units, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("time (s)")
    axes[0].set_title(f"Rhythm strip, {lead_name} (numbers: heart rate in bpm)")
    _legend_for(fig, rhythm_frame, quality_frame)
    return fig


def plot_hrv(peaks: ArrayLike, sampling_rate: float, *, hrv: Any = None) -> Figure:
    """Tachogram, Poincaré plot (SD1/SD2 ellipse) and RR-interval spectrum with LF/HF bands.

    Args:
        peaks: R-peak sample indices (at least 3).
        sampling_rate: Hz.
        hrv: an optional HRV result whose ``to_dict()`` values are printed in the title.
    """
    det = _as_indices(peaks, "peaks")
    if det.size < 3:
        raise InvalidParameterError(f"plot_hrv: needs at least 3 R peaks, got {det.size}")
    rr = np.diff(det) / sampling_rate * 1000.0  # ms
    t = det[1:] / sampling_rate
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax_tach, ax_poin, ax_psd = fig.subplots(1, 3, width_ratios=(2.2, 1, 1.3))
    ax_tach.plot(t, rr, color=COLORS["clean"], lw=0.8, marker=".", ms=3)
    ax_tach.set_xlabel("time (s)")
    ax_tach.set_ylabel("RR interval (ms)")
    ax_tach.set_title("Tachogram")
    ax_tach.grid(alpha=0.3)
    _poincare(ax_poin, rr)
    _rr_spectrum(ax_psd, t, rr)
    if hrv is not None and hasattr(hrv, "to_dict"):
        values = hrv.to_dict()
        keys = [k for k in ("mean_nn", "sdnn", "rmssd", "pnn50", "lf_hf") if k in values]
        fig.suptitle("   ".join(f"{k}={values[k]:.3g}" for k in keys), fontsize=10)
    return fig


# --------------------------------------------------------------------------- helpers


def _as_2d(signal: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(signal, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] < 2:
        raise InvalidParameterError(
            f"{name} must be (n_samples,) or (n_samples, n_leads), got shape {array.shape}"
        )
    return array


def _as_indices(values: ArrayLike, name: str) -> IntArray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise InvalidParameterError(f"{name} must be a 1-D array of sample indices")
    return np.sort(array.astype(np.int64))


def _lead_names(names: Sequence[str] | None, n_leads: int) -> list[str]:
    if names is None:
        return [f"lead {i}" for i in range(n_leads)]
    if len(names) != n_leads:
        raise InvalidParameterError(f"got {len(names)} lead names for {n_leads} leads")
    return list(names)


def _window(n_samples: int, sampling_rate: float, start: float, duration: float) -> slice:
    if duration <= 0 or start < 0:
        raise InvalidParameterError(f"start must be >= 0 and duration > 0, got {start}, {duration}")
    i0 = min(round(start * sampling_rate), n_samples - 2)
    i1 = min(n_samples, i0 + max(2, round(duration * sampling_rate)))
    return slice(i0, i1)


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


def _ecg_paper(ax: Axes, t: FloatArray, x: FloatArray) -> None:
    """ECG paper: 0.04 s / 0.1 mV minor and 0.2 s / 0.5 mV major grid (labels every 1 s)."""
    ax.xaxis.set_major_locator(MultipleLocator(0.2))
    ax.xaxis.set_minor_locator(MultipleLocator(0.04))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v:.0f}" if abs(v - round(v)) < 1e-6 else "")
    )
    ax.yaxis.set_major_locator(MultipleLocator(0.5))
    ax.yaxis.set_minor_locator(MultipleLocator(0.1))
    ax.grid(which="major", color=COLORS["grid_major"], lw=0.7, zorder=0)
    ax.grid(which="minor", color=COLORS["grid_minor"], lw=0.4, zorder=0)
    ax.tick_params(which="both", length=0)
    ax.set_axisbelow(True)


def _draw_matching(
    ax: Axes,
    t: FloatArray,
    x: FloatArray,
    det: IntArray,
    ref: IntArray,
    window: slice,
    tolerance: float,
) -> None:
    ref = ref[(ref >= window.start) & (ref < window.stop)]
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
    ax.plot(
        t[missed],
        x[missed],
        "o",
        mfc="none",
        mec=COLORS["missed"],
        ms=11,
        mew=2,
        label="missed beat",
    )


Windows = list[tuple[float, float, str]]


def _windows_frame(result: Any) -> Windows | None:
    """``(start, end, label)`` rows of a windowed result (``to_frame()`` or a mapping)."""
    if result is None:
        return None
    frame = result.to_frame() if hasattr(result, "to_frame") else pd.DataFrame(result)
    frame = frame.rename(columns={"start": "start_s", "end": "end_s"})
    missing = {"start_s", "end_s", "label"} - set(frame.columns)
    if missing:
        raise InvalidParameterError(
            f"window results need columns start_s/end_s/label; missing {sorted(missing)}"
        )
    starts = frame["start_s"].to_numpy(dtype=float)
    ends = frame["end_s"].to_numpy(dtype=float)
    labels = frame["label"].astype(str).tolist()
    return [(float(a), float(b), str(c)) for a, b, c in zip(starts, ends, labels, strict=True)]


def _clip(windows: Windows | None, a: float, b: float) -> Windows:
    """The parts of ``windows`` that fall inside ``[a, b]``."""
    return [(max(s, a), min(e, b), lab) for s, e, lab in windows or [] if min(e, b) > max(s, a)]


def _shade_windows(ax: Axes, windows: Windows | None, a: float, b: float, alpha: float) -> None:
    for lo, hi, label in _clip(windows, a, b):
        ax.axvspan(lo, hi, color=LABEL_COLORS.get(label, "#cccccc"), alpha=alpha, lw=0)


def _quality_band(ax: Axes, windows: Windows, a: float, b: float, y: float) -> None:
    for lo, hi, label in _clip(windows, a, b):
        color = LABEL_COLORS.get(label, "#cccccc")
        ax.plot([lo, hi], [y, y], color=color, lw=5, solid_capstyle="butt")


def _legend_for(fig: Figure, rhythm: Windows | None, quality: Windows | None) -> None:
    handles = []
    for windows, prefix in ((rhythm, "rhythm"), (quality, "quality")):
        for label in dict.fromkeys(lab for _, _, lab in windows or []):
            color = LABEL_COLORS.get(label, "#cccccc")
            handles.append(Patch(color=color, alpha=0.6, label=f"{prefix}: {label}"))
    if handles:
        fig.legend(
            handles=handles, loc="outside lower center", ncols=min(len(handles), 6), fontsize=8
        )


def _poincare(ax: Axes, rr: FloatArray) -> None:
    x, y = rr[:-1], rr[1:]
    ax.plot(x, y, ".", color=COLORS["clean"], ms=3, alpha=0.6)
    if rr.size >= 3:
        sd1 = float(np.std((y - x) / np.sqrt(2), ddof=1))
        sd2 = float(np.std((y + x) / np.sqrt(2), ddof=1))
        centre = (float(x.mean()), float(y.mean()))
        ax.add_patch(
            Ellipse(
                centre, 2 * 2 * sd2, 2 * 2 * sd1, angle=45, fill=False, color=COLORS["peak"], lw=1.5
            )
        )
        ax.set_title(f"Poincaré  SD1={sd1:.0f} ms  SD2={sd2:.0f} ms", fontsize=10)
    lo, hi = np.percentile(rr, [0.5, 99.5])
    pad = 0.1 * (hi - lo + 1)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#999999", lw=0.8, ls="--")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("RR$_n$ (ms)")
    ax.set_ylabel("RR$_{n+1}$ (ms)")


def _rr_spectrum(ax: Axes, t: FloatArray, rr: FloatArray) -> None:
    duration = t[-1] - t[0]
    ax.set_title("RR spectrum (4 Hz resampled, Welch)", fontsize=10)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD (ms²/Hz)")
    ax.axvspan(0.04, 0.15, color="#56B4E9", alpha=0.2, label="LF")
    ax.axvspan(0.15, 0.40, color="#E69F00", alpha=0.2, label="HF")
    if duration < 60 or rr.size < 16:
        ax.text(
            0.5,
            0.5,
            "record too short\nfor a spectrum",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    else:
        grid = np.arange(t[0], t[-1], 0.25)
        even = np.interp(grid, t, rr)
        freqs, power = sps.welch(even - even.mean(), fs=4.0, nperseg=min(grid.size, 1024))
        ax.plot(freqs, power, color="black", lw=1.0)
    ax.set_xlim(0, 0.5)
    ax.legend(fontsize=8)


def plot_overview(result: Any, *, lead: int | None = None, seconds: float = 10.0) -> Figure:
    """One-page overview of an :class:`~medmodal.ecg.process.ECGResult`.

    Top: the first ``seconds`` of the cleaned ``lead`` (default: the lead the R peaks
    were placed on) with its R peaks on ECG paper. Middle:
    heart rate over the whole recording over rhythm-coloured windows, with a quality band.
    Bottom: tachogram and Poincaré plot.
    """
    fs = float(result.sampling_rate)
    lead = int(getattr(result, "peak_lead", 0)) if lead is None else lead
    x = result.cleaned[:, lead]
    fig = Figure(figsize=(13, 9.5), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=(1.2, 1, 1))
    ax_trace = fig.add_subplot(grid[0, :])
    plot_peaks(
        x,
        fs,
        result.peaks,
        duration=min(seconds, result.duration_s),
        ax=ax_trace,
        lead_name=str(result.lead_names[lead]),
    )
    ax_rate = fig.add_subplot(grid[1, :])
    rhythm, quality = _windows_frame(result.rhythm), _windows_frame(result.quality)
    _shade_windows(ax_rate, rhythm, 0.0, result.duration_s, alpha=0.25)
    peaks = result.peaks
    if peaks.size > 1:
        ax_rate.plot(peaks[1:] / fs, 60.0 * fs / np.diff(peaks), ".", color="black", ms=2.5)
        low, high = np.nanpercentile(60.0 * fs / np.diff(peaks), [1, 99])
        ax_rate.set_ylim(max(0.0, low - 15), high + 20)
        if quality is not None:
            _quality_band(ax_rate, quality, 0.0, result.duration_s, max(0.0, low - 10))
    ax_rate.set_xlim(0, result.duration_s)
    ax_rate.set_xlabel("time (s)")
    ax_rate.set_ylabel("heart rate (bpm)")
    ax_rate.set_title("Heart rate per beat over rhythm windows (band: signal quality)")
    _legend_for(fig, rhythm, quality)
    if peaks.size >= 3:
        rr = np.diff(peaks) / fs * 1000.0
        ax_tach = fig.add_subplot(grid[2, :2])
        ax_tach.plot(peaks[1:] / fs, rr, color=COLORS["clean"], lw=0.7)
        ax_tach.set_xlabel("time (s)")
        ax_tach.set_ylabel("RR (ms)")
        ax_tach.set_title("Tachogram")
        ax_tach.grid(alpha=0.3)
        _poincare(fig.add_subplot(grid[2, 2]), rr)
    return fig
