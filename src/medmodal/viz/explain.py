"""Explanation figures a cardiologist can read: relevance over the ECG, modality importance.

- :func:`plot_ecg_relevance`: one trace with a relevance map (attention, Grad-CAM or
  Integrated Gradients) as a coloured background or as the line's colour, events (e.g. the
  PVC beats) marked;
- :func:`plot_relevance_panels`: the same trace under several maps, one row each, so the
  methods can be compared beat by beat;
- :func:`plot_modality_importance`: Shapley values / ablation drops per modality;
- :func:`plot_attention_heatmap`: cross-attention per head over time under the trace;
- :func:`plot_record_explanation`: one record's call explained on one page: the relevance
  maps over its trace beside the Shapley values of its modalities.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or saved).

Example:
    >>> import numpy as np
    >>> from medmodal.viz.explain import plot_ecg_relevance
    >>> t = np.arange(0, 4, 1 / 100)
    >>> x = np.sin(2 * np.pi * 1.1 * t) ** 31
    >>> fig = plot_ecg_relevance(x, np.exp(-((t - 2) ** 2)), 100, events=[200])
    >>> fig.axes[0].get_xlabel()
    'time (s)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure

from medmodal.errors import InvalidParameterError
from medmodal.explain.modality_importance import ModalityImportance
from medmodal.types import ArrayLike

__all__ = [
    "plot_attention_heatmap",
    "plot_ecg_relevance",
    "plot_modality_importance",
    "plot_record_explanation",
    "plot_relevance_panels",
]

STYLES = ("background", "line")
_CMAP = "Reds"
#: Line colour by relevance: grey (none) → orange → dark red (most), visible on white.
_LINE_CMAP = LinearSegmentedColormap.from_list(
    "relevance_line", ["#a0a0a0", "#E69F00", "#D55E00", "#7f0000"]
)
_EVENT_COLOR = "#0072B2"


def plot_ecg_relevance(
    signal: ArrayLike,
    relevance: ArrayLike,
    sampling_rate: float,
    *,
    style: str = "background",
    events: ArrayLike | None = None,
    event_label: str = "PVC",
    title: str | None = None,
    label: str = "relevance",
    units: str = "mV",
    smooth: float = 0.0,
    ax: Axes | None = None,
) -> Figure:
    """An ECG trace with a per-sample relevance map drawn over time.

    Args:
        signal: ``(T,)`` one lead.
        relevance: ``(T,)`` relevance (any scale; shown scaled to its maximum magnitude).
        sampling_rate: Hz.
        style: ``"background"`` (shaded columns behind the trace) or ``"line"`` (the
            trace coloured by relevance).
        events: sample indices to mark (e.g. the R peaks of ectopic beats).
        event_label: legend text of the events.
        title: figure title.
        label: colour-bar label.
        units: signal units for the y axis.
        smooth: width (s) of a moving average of ``|relevance|`` (helps sample-level maps
            such as Integrated Gradients read as beats rather than needles); 0 = none.
        ax: draw into this axes (its figure is returned).
    """
    x, r = _pair(signal, relevance, "plot_ecg_relevance")
    if style not in STYLES:
        raise InvalidParameterError(
            f"plot_ecg_relevance: style must be one of {STYLES}, got {style!r}"
        )
    if ax is None:
        fig = Figure(figsize=(12, 3.2), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    mappable = _draw(ax, x, _scaled(r, smooth * sampling_rate), sampling_rate, style)
    _mark_events(ax, events, x, sampling_rate, event_label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(units)
    if title:
        ax.set_title(title, fontsize=11, loc="left")
    fig.colorbar(mappable, ax=ax, label=f"{label} (scaled)", pad=0.01, fraction=0.03)
    return fig


def plot_relevance_panels(
    signal: ArrayLike,
    relevances: Mapping[str, ArrayLike],
    sampling_rate: float,
    *,
    events: ArrayLike | None = None,
    event_label: str = "PVC",
    style: str = "background",
    title: str | None = None,
    units: str = "mV",
    smooth: Mapping[str, float] | None = None,
) -> Figure:
    """One row per explanation method over the same trace (shared time axis).

    Args:
        signal: ``(T,)`` one lead.
        relevances: method name → ``(T,)`` relevance (each scaled to its own maximum).
        sampling_rate: Hz.
        events, event_label, style, units: as in :func:`plot_ecg_relevance`.
        title: figure title.
        smooth: method name → moving-average width (s), see :func:`plot_ecg_relevance`.
    """
    if not relevances:
        raise InvalidParameterError("plot_relevance_panels: give at least one relevance map")
    n = len(relevances)
    fig = Figure(figsize=(12, 1.2 + 2.1 * n), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0])
    for ax, (name, rel) in zip(axes, relevances.items(), strict=True):
        x, r = _pair(signal, rel, "plot_relevance_panels")
        width = (smooth or {}).get(name, 0.0) * sampling_rate
        mappable = _draw(ax, x, _scaled(r, width), sampling_rate, style)
        _mark_events(ax, events, x, sampling_rate, event_label)
        ax.set_ylabel(units)
        ax.set_title(name, fontsize=10, loc="left")
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(mappable, ax=list(axes), label="relevance (scaled per row)", fraction=0.03)
    fig.suptitle(title or "Which part of the ECG drove the call", fontsize=12)
    return fig


def plot_record_explanation(
    signal: ArrayLike,
    relevances: Mapping[str, ArrayLike],
    sampling_rate: float,
    modality_values: Mapping[str, float],
    *,
    events: ArrayLike | None = None,
    event_label: str = "PVC",
    call: str | None = None,
    smooth: Mapping[str, float] | None = None,
    units: str = "mV",
) -> Figure:
    """One record on one page: where on the trace (left) and which modality (right).

    Args:
        signal: ``(T,)`` one lead of the record.
        relevances: method name → ``(T,)`` relevance over the trace.
        sampling_rate: Hz.
        modality_values: modality → this record's Shapley value (or ablation drop).
        events, event_label, smooth, units: as in :func:`plot_relevance_panels`.
        call: the model's call for the title, e.g. ``"P(PVCs) = 0.97"``.
    """
    if not relevances or not modality_values:
        raise InvalidParameterError(
            "plot_record_explanation: give at least one relevance map and one modality value"
        )
    n = len(relevances)
    fig = Figure(figsize=(15, 1.4 + 2.0 * n), layout="constrained")
    grid = fig.add_gridspec(n, 2, width_ratios=[4.5, 1])
    first: Axes | None = None
    for row, (name, rel) in enumerate(relevances.items()):
        ax = fig.add_subplot(grid[row, 0], sharex=first)
        first = first or ax
        x, r = _pair(signal, rel, "plot_record_explanation")
        width = (smooth or {}).get(name, 0.0) * sampling_rate
        _draw(ax, x, _scaled(r, width), sampling_rate, "background")
        _mark_events(ax, events, x, sampling_rate, event_label)
        ax.set_ylabel(units)
        ax.set_title(f"{name} (darker = more relevant)", fontsize=10, loc="left")
        if row == n - 1:
            ax.set_xlabel("time (s)")
    bars = fig.add_subplot(grid[:, 1])
    names = sorted(modality_values, key=lambda k: abs(modality_values[k]))
    vals = np.array([float(modality_values[k]) for k in names])
    bars.barh(names, vals, color=["#D55E00" if v >= 0 else "#0072B2" for v in vals])
    bars.axvline(0, color="black", lw=0.8)
    for i, v in enumerate(vals):
        bars.annotate(f"{v:+.2f}", (v, i), xytext=(3 if v >= 0 else -3, 0),
                      textcoords="offset points", va="center", ha="left" if v >= 0 else "right",
                      fontsize=9)  # fmt: skip
    bars.margins(x=0.35)
    bars.set_title("modality contribution", fontsize=10, loc="left")
    bars.set_xlabel("Shapley value of this record")
    fig.suptitle(f"Why the model made this call{': ' + call if call else ''}", fontsize=12)
    return fig


def plot_modality_importance(
    importance: ModalityImportance | Mapping[str, float],
    *,
    title: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Horizontal bars of per-modality importance (mean over samples, with SD whiskers).

    For Shapley values the footer states ``v(all)``, ``v(none)`` and the bars' sum, which
    equals their difference (efficiency).
    """
    if isinstance(importance, ModalityImportance):
        means = importance.mean()
        sds = {k: float(np.std(v)) if np.ndim(v) else 0.0 for k, v in importance.values.items()}
        quantity, method = importance.quantity, importance.method
    else:
        means = {str(k): float(v) for k, v in importance.items()}
        sds, quantity, method = dict.fromkeys(means, 0.0), "importance", "importance"
    if not means:
        raise InvalidParameterError("plot_modality_importance: nothing to plot")
    names = sorted(means, key=lambda k: abs(means[k]))
    vals = np.array([means[k] for k in names])
    fig = Figure(figsize=(7, 1.4 + 0.55 * len(names)), layout="constrained")
    ax = fig.add_subplot()
    colors = ["#D55E00" if v >= 0 else "#0072B2" for v in vals]
    err = [sds[k] for k in names]
    ax.barh(names, vals, xerr=err if any(err) else None, color=colors, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    for i, (v, e) in enumerate(zip(vals, err, strict=True)):
        end = v + e if v >= 0 else v - e
        ax.annotate(f"{v:+.3f}", (end, i), xytext=(4 if v >= 0 else -4, 0),
                    textcoords="offset points", va="center",
                    ha="left" if v >= 0 else "right", fontsize=9)  # fmt: skip
    what = {"shapley": "Shapley value", "ablation": "drop when removed"}.get(method, method)
    xtitle = xlabel or f"{what} ({quantity})"
    if isinstance(importance, ModalityImportance) and method == "shapley":
        full, empty = float(np.mean(importance.full)), float(np.mean(importance.empty))
        xtitle += (
            f"\nwith all modalities {full:.3f}, with none {empty:.3f}: the bars sum to "
            f"{vals.sum():+.3f}, the difference"
        )
    ax.set_xlabel(xtitle)
    ax.set_title(title or f"Modality importance: {what}", fontsize=11, loc="left")
    ax.margins(x=0.2)
    return fig


def plot_attention_heatmap(
    heads: ArrayLike,
    *,
    signal: ArrayLike | None = None,
    sampling_rate: float = 1.0,
    stride: int | None = None,
    events: ArrayLike | None = None,
    head_labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Cross-attention weights as a heatmap (heads x time), under the trace when given.

    Args:
        heads: ``(H, T')`` attention of each head on the signal's tokens.
        signal: ``(T,)`` the trace, drawn above on the same time axis.
        sampling_rate: Hz of the signal.
        stride: samples per token (default ``ceil(T / T')``; tokens when no signal).
        events: sample indices to mark on the trace.
        head_labels: row labels (default ``head 1`` ...).
        title: figure title.
    """
    w = np.asarray(heads, dtype=np.float64)
    if w.ndim != 2 or w.size == 0:
        raise InvalidParameterError(
            f"plot_attention_heatmap: heads must be (H, T'), got shape {w.shape}"
        )
    h, t = w.shape
    labels = list(head_labels) if head_labels is not None else [f"head {i + 1}" for i in range(h)]
    if len(labels) != h:
        raise InvalidParameterError(
            f"plot_attention_heatmap: {len(labels)} head_labels for {h} heads"
        )
    x = None if signal is None else np.asarray(signal, dtype=np.float64).ravel()
    length = t if x is None else len(x)
    step = int(stride or np.ceil(length / t))
    end = (t * step) / sampling_rate if x is None else len(x) / sampling_rate
    fig = Figure(figsize=(12, 1.6 + 0.45 * h + (2.2 if x is not None else 0)), layout="constrained")
    if x is None:
        hm = fig.add_subplot()
    else:
        top, hm = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 0.45 * h]})
        time = np.arange(len(x)) / sampling_rate
        top.plot(time, x, color="black", lw=0.8)
        _mark_events(top, events, x, sampling_rate, "PVC")
        top.set_ylabel("mV")
    extent = (0.0, min(t * step / sampling_rate, end) if x is not None else end, h, 0.0)
    image = hm.imshow(w, aspect="auto", cmap="viridis", extent=extent, interpolation="nearest")
    for e in np.asarray(events if events is not None else [], dtype=np.float64).ravel():
        hm.axvline(e / sampling_rate, color="white", lw=0.8, ls="--")
    hm.set_yticks(np.arange(h) + 0.5, labels, fontsize=8)
    hm.set_xlabel("time (s)" if x is not None or sampling_rate != 1.0 else "token x stride")
    fig.colorbar(image, ax=hm if x is None else [top, hm], label="attention weight", fraction=0.03)
    fig.suptitle(title or "Cross-attention per head over time", fontsize=12)
    return fig


def _pair(signal: ArrayLike, relevance: ArrayLike, where: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(signal, dtype=np.float64).ravel()
    r = np.asarray(relevance, dtype=np.float64).ravel()
    if x.shape != r.shape or x.size < 2:
        raise InvalidParameterError(
            f"{where}: signal ({x.size} samples) and relevance ({r.size}) must have the same "
            "length >= 2"
        )
    if not np.isfinite(r).all():
        raise InvalidParameterError(f"{where}: relevance contains NaN or inf")
    return x, r


def _scaled(r: np.ndarray, width: float = 0.0) -> np.ndarray:
    """``|r|`` (moving average over ``width`` samples when > 1) scaled to [0, 1]."""
    a = np.abs(r)
    k = round(width)
    if k > 1:
        a = np.convolve(a, np.ones(k) / k, mode="same")
    peak = float(a.max())
    return a / peak if peak > 0 else np.zeros_like(a)


def _draw(ax: Axes, x: np.ndarray, r: np.ndarray, fs: float, style: str) -> Any:
    t = np.arange(len(x)) / fs
    norm = Normalize(0.0, 1.0)
    pad = 0.1 * (np.ptp(x) or 1.0)
    lo, hi = float(x.min() - pad), float(x.max() + pad)
    if style == "background":
        extent = (t[0], t[-1] + 1 / fs, lo, hi)
        mappable: Any = ax.imshow(
            r[None, :], aspect="auto", cmap=_CMAP, norm=norm, alpha=0.8, extent=extent,
            interpolation="nearest",
        )  # fmt: skip
        ax.plot(t, x, color="black", lw=0.8)
    else:
        points = np.stack([t, x], axis=1)
        segments = np.stack([points[:-1], points[1:]], axis=1)
        lines = LineCollection(list(segments), cmap=_LINE_CMAP, norm=norm, linewidths=1.6)
        lines.set_array(0.5 * (r[:-1] + r[1:]))
        ax.add_collection(lines)
        mappable = lines
    ax.set_xlim(t[0], t[-1] + 1 / fs)
    ax.set_ylim(lo, hi)
    return mappable


def _mark_events(ax: Axes, events: ArrayLike | None, x: np.ndarray, fs: float, label: str) -> None:
    if events is None:
        return
    idx = np.asarray(events, dtype=np.int64).ravel()
    idx = idx[(idx >= 0) & (idx < len(x))]
    if idx.size == 0:
        return
    top = ax.get_ylim()[1] if ax.get_ylim()[1] > x.max() else x.max()
    ax.plot(idx / fs, np.full(idx.size, top), "v", color=_EVENT_COLOR, ms=7, label=label,
            clip_on=False)  # fmt: skip
    ax.legend(loc="lower right", fontsize=8, framealpha=0.8)
