"""Heart-rate and HRV figures drawn from the HRV result's own NN intervals.

The intervals kept as NN are the ones :func:`medmodal.ecg.hrv.ecg_hrv` kept
(:attr:`~medmodal.ecg.hrv.HRV.nn_times_s`, selected by :func:`~medmodal.ecg.hrv.nn_mask`),
so the figures and the HRV table describe the same beats: the tachogram and the rate
panel draw the NN intervals (removed ones in grey, labelled as excluded; intervals outside
:data:`~medmodal.ecg.hrv.NN_BOUNDS`, i.e. 20-300 bpm, are not drawn but counted), the
Poincaré plot uses pairs of adjacent NN intervals only and prints the table's SD1/SD2,
and the spectrum is the HRV result's own estimator on the NN series.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.hrv import ecg_hrv
    >>> from medmodal.viz.ecg_hrv import plot_hrv
    >>> rr = 0.8 + 0.04 * np.sin(2 * np.pi * 0.25 * np.arange(300) * 0.8)
    >>> peaks = np.round(np.cumsum(rr) * 250).astype(int)
    >>> hrv = ecg_hrv(peaks, 250)
    >>> fig = plot_hrv(peaks, 250, hrv=hrv, lead_name="II")
    >>> f"RMSSD {hrv.rmssd_ms:.1f} ms" in fig.get_suptitle()
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from medmodal.ecg.hrv import HF_BAND, HRV, LF_BAND, MIN_SECONDS_HF, NN_BOUNDS, SPECTRA, ecg_hrv
from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, BoolArray, FloatArray
from medmodal.viz.ecg_labels import COLORS

#: The plausible heart-rate range, from NN_BOUNDS ("20-300 bpm").
_BPM = f"{60 / NN_BOUNDS[1]:g}-{60 / NN_BOUNDS[0]:g} bpm"


@dataclass(frozen=True)
class RRIntervals:
    """Every RR interval of a recording and what the HRV analysis made of it.

    Attributes:
        times_s: time of the beat ending each interval.
        rr_ms: the intervals.
        kept: kept as NN interval by the HRV analysis.
        plausible: inside :data:`~medmodal.ecg.hrv.NN_BOUNDS` (20-300 bpm).
    """

    times_s: FloatArray
    rr_ms: FloatArray
    kept: BoolArray
    plausible: BoolArray

    @property
    def excluded(self) -> BoolArray:
        """Plausible intervals removed as ectopic/artefact."""
        return self.plausible & ~self.kept

    @property
    def pairs(self) -> tuple[FloatArray, FloatArray]:
        """``(RR_n, RR_n+1)`` for adjacent intervals that were both kept (Poincaré)."""
        both = self.kept[:-1] & self.kept[1:]
        return self.rr_ms[:-1][both], self.rr_ms[1:][both]


def rr_intervals(peaks: ArrayLike, sampling_rate: float, hrv: HRV) -> RRIntervals:
    """Split the RR intervals of ``peaks`` into the NN intervals ``hrv`` kept and the rest.

    Raises:
        InvalidParameterError: ``hrv`` was not computed from these peaks.
    """
    beats = _as_peaks(peaks, "rr_intervals")
    rr_samples = np.diff(beats)
    ends = beats[1:]
    kept = np.isin(ends, np.round(np.asarray(hrv.nn_times_s) * sampling_rate).astype(np.int64))
    if hrv.n_intervals != rr_samples.size or int(kept.sum()) != np.asarray(hrv.nn_ms).size:
        raise InvalidParameterError(
            f"rr_intervals: the HRV result ({hrv.n_intervals} intervals, "
            f"{np.asarray(hrv.nn_ms).size} kept) was not computed from these "
            f"{beats.size} R peaks at {sampling_rate:g} Hz"
        )
    rr_s = rr_samples / sampling_rate
    plausible = (rr_s >= NN_BOUNDS[0]) & (rr_s <= NN_BOUNDS[1])
    return RRIntervals(ends / sampling_rate, rr_samples * 1000.0 / sampling_rate, kept, plausible)


def plot_hrv(
    peaks: ArrayLike,
    sampling_rate: float,
    *,
    hrv: HRV | None = None,
    lead_name: str | None = None,
) -> Figure:
    """Tachogram, Poincaré plot and NN spectrum of the HRV result, with its values as title.

    Args:
        peaks: R-peak sample indices (at least 3).
        sampling_rate: Hz.
        hrv: the HRV result of these peaks (default: :func:`~medmodal.ecg.hrv.ecg_hrv`
            with its defaults). Everything drawn comes from its NN intervals.
        lead_name: the lead the beats were detected on (named in the title).

    Raises:
        InvalidParameterError: fewer than 3 peaks, or ``hrv`` from other peaks.
    """
    beats = _as_peaks(peaks, "plot_hrv")
    if beats.size < 3:
        raise InvalidParameterError(f"plot_hrv: needs at least 3 R peaks, got {beats.size}")
    hrv = ecg_hrv(beats, sampling_rate) if hrv is None else hrv
    intervals = rr_intervals(beats, sampling_rate, hrv)
    fig = Figure(figsize=(13, 4.6), layout="constrained")
    ax_tach, ax_poin, ax_psd = fig.subplots(1, 3, width_ratios=(2.2, 1, 1.3))
    draw_tachogram(ax_tach, intervals)
    draw_poincare(ax_poin, intervals, hrv)
    draw_spectrum(ax_psd, hrv)
    fig.suptitle(hrv_title(hrv, lead_name), fontsize=10)
    return fig


def hrv_title(hrv: HRV, lead_name: str | None = None) -> str:
    """Two lines: what was analysed, then the table's values with their units."""
    where = f", R peaks on {lead_name}" if lead_name else ""
    first = (
        f"HRV of {hrv.n_intervals - hrv.n_removed} NN intervals ({hrv.n_removed} of "
        f"{hrv.n_intervals} RR intervals removed: ectopic, artefact or outside {_BPM}){where}"
    )
    values = (
        ("mean NN", hrv.mean_nn_ms, ".1f", " ms"),
        ("SDNN", hrv.sdnn_ms, ".1f", " ms"),
        ("RMSSD", hrv.rmssd_ms, ".1f", " ms"),
        ("pNN50", hrv.pnn50_pct, ".1f", " %"),
        ("LF", hrv.lf_ms2, ".0f", " ms²"),
        ("HF", hrv.hf_ms2, ".0f", " ms²"),
        ("LF/HF", hrv.lf_hf, ".2f", ""),
    )
    return first + "\n" + "    ".join(f"{k} {_fmt(v, spec, u)}" for k, v, spec, u in values)


def draw_tachogram(ax: Axes, intervals: RRIntervals) -> None:
    """NN intervals over time (line broken at removed ones), excluded intervals in grey."""
    nn = np.where(intervals.kept, intervals.rr_ms, np.nan)
    ax.plot(intervals.times_s, nn, color=COLORS["nn"], lw=0.8, marker=".", ms=2.5, label="NN")
    _draw_excluded(ax, intervals, intervals.rr_ms)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("RR interval (ms)")
    ax.set_title("Tachogram (NN intervals)", fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    _legend_above(ax)


def draw_rate(ax: Axes, intervals: RRIntervals) -> None:
    """Heart rate of each NN interval (bpm); excluded intervals grey, implausible ones skipped."""
    rate = 60000.0 / intervals.rr_ms
    nn = intervals.kept & intervals.plausible
    ax.plot(intervals.times_s[nn], rate[nn], ".", color=COLORS["nn"], ms=2.5, label="NN interval")
    _draw_excluded(ax, intervals, rate)
    shown = rate[intervals.plausible]
    if shown.size:
        low, high = np.percentile(rate[nn] if nn.any() else shown, [0.5, 99.5])
        ax.set_ylim(max(0.0, low - 20.0), high + 20.0)
    ax.set_ylabel("heart rate (bpm)")
    _legend_above(ax)


def draw_poincare(ax: Axes, intervals: RRIntervals, hrv: HRV) -> None:
    """Pairs of adjacent NN intervals and the SD1/SD2 ellipse of the HRV table."""
    x, y = intervals.pairs
    ax.plot(x, y, ".", color=COLORS["nn"], ms=3, alpha=0.6)
    ax.set_title(
        f"Poincaré  SD1 {_fmt(hrv.sd1_ms, '.1f', ' ms')}  SD2 {_fmt(hrv.sd2_ms, '.1f', ' ms')}",
        fontsize=10,
    )
    if np.isfinite(hrv.sd1_ms) and np.isfinite(hrv.sd2_ms):
        centre = (hrv.mean_nn_ms, hrv.mean_nn_ms)
        ellipse = Ellipse(centre, 4 * hrv.sd2_ms, 4 * hrv.sd1_ms, angle=45, fill=False)
        ellipse.set(color=COLORS["ellipse"], lw=1.5, label="2 SD1 x 2 SD2")
        ax.add_patch(ellipse)
    values = np.concatenate([x, y]) if x.size else np.asarray(intervals.rr_ms)
    lo, hi = np.percentile(values, [0.5, 99.5])
    if np.isfinite(hrv.sd1_ms) and np.isfinite(hrv.sd2_ms):  # the whole ellipse in view
        reach = 2.0 * np.hypot(hrv.sd1_ms, hrv.sd2_ms) / np.sqrt(2.0)
        lo, hi = min(lo, hrv.mean_nn_ms - reach), max(hi, hrv.mean_nn_ms + reach)
    pad = 0.1 * (hi - lo + 1)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#999999", lw=0.8, ls="--")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("NN$_n$ (ms)")
    ax.set_ylabel("NN$_{n+1}$ (ms)")
    ax.text(
        0.02,
        0.98,
        f"{x.size} adjacent NN pairs",
        transform=ax.transAxes,
        va="top",
        fontsize=7,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
    )


def draw_spectrum(ax: Axes, hrv: HRV) -> None:
    """The NN spectrum by the HRV result's own method, with the LF and HF bands."""
    ax.set_title(f"NN spectrum ({hrv.method})", fontsize=10)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD (ms²/Hz)")
    ax.axvspan(*LF_BAND, color=COLORS["lf"], alpha=0.25, lw=0, label="LF")
    ax.axvspan(*HF_BAND, color=COLORS["hf"], alpha=0.25, lw=0, label="HF")
    times, nn = np.asarray(hrv.nn_times_s), np.asarray(hrv.nn_ms)
    span = float(times[-1] - times[0]) if times.size else 0.0
    if span < MIN_SECONDS_HF or times.size < 4 or not np.isfinite(hrv.hf_ms2):
        ax.text(
            0.5,
            0.5,
            "NN series too short\nfor a spectrum",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    else:
        freqs, power = SPECTRA.get(hrv.method)(times, nn)
        ax.plot(freqs, power, color=COLORS["spectrum"], lw=1.0)
    ax.set_xlim(0, 0.5)
    ax.legend(fontsize=8)


def _draw_excluded(ax: Axes, intervals: RRIntervals, values: FloatArray) -> None:
    excluded = intervals.excluded
    skipped = int((~intervals.plausible).sum())
    label = f"excluded: ectopic/artefact ({int(excluded.sum())})"
    if skipped:
        label += f"; {skipped} outside {_BPM} not drawn"
    ax.plot(
        intervals.times_s[excluded],
        values[excluded],
        "x",
        color=COLORS["excluded"],
        ms=3.5,
        label=label,
    )


def _legend_above(ax: Axes) -> None:
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, ncols=2, frameon=False)


def _fmt(value: float, spec: str, unit: str) -> str:
    return f"{value:{spec}}{unit}" if np.isfinite(value) else "n/a"


def _as_peaks(values: ArrayLike, func: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise InvalidParameterError(f"{func}: peaks must be a 1-D array of sample indices")
    return np.sort(array.astype(np.int64))
