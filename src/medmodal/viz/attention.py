"""Where cross-attention looks on an ECG: token attention drawn under the trace.

Two figures for attention over the time tokens of signals (e.g.
:meth:`medmodal.fusion.FusionClassifier.forward` with ``need_weights=True``), with the
annotated events (PVC beats) shaded so that the map can be checked by eye:

- :func:`plot_attention_overlay`: several traces, each over a bar chart of its attention
  (mean over heads and queries), a dashed line at uniform attention;
- :func:`plot_attention_heads`: one trace over a heat map of every head and query token.

Example:
    >>> import numpy as np
    >>> from medmodal.viz.attention import plot_attention_heads, plot_attention_overlay
    >>> ecg = np.sin(np.linspace(0, 60, 1000))[None]
    >>> weights = np.full((1, 20), 1 / 20)
    >>> fig = plot_attention_overlay(ecg, weights, [np.array([350])], np.array([0.9]),
    ...                              sampling_rate=100)
    >>> len(fig.axes)
    2
    >>> fig = plot_attention_heads(ecg[0], np.full((2, 2, 20), 1 / 20), np.array([350]),
    ...                            sampling_rate=100)
    >>> len(fig.axes)  # trace, heat map, colour bar
    3
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from medmodal.errors import InvalidParameterError

__all__ = ["plot_attention_heads", "plot_attention_overlay"]


def _shade(ax: Axes, events: np.ndarray, sampling_rate: float, half_width: float) -> None:
    for r in events:
        start = (r / sampling_rate) - half_width
        ax.axvspan(start, (r / sampling_rate) + half_width, color="tab:red", alpha=0.2)


def plot_attention_overlay(
    ecg: np.ndarray,
    weights: np.ndarray,
    events: Sequence[np.ndarray],
    proba: np.ndarray,
    *,
    sampling_rate: float,
    half_width: float = 0.15,
) -> Figure:
    """Traces with their events shaded, each above its attention over the time tokens.

    Args:
        ecg: ``(n, T)`` traces (mV).
        weights: ``(n, T')`` attention over each trace's tokens.
        events: per trace, the event samples (PVC R peaks) to shade.
        proba: ``(n,)`` the model's probability of the positive class, in the titles.
        sampling_rate: Hz of the traces.
        half_width: seconds shaded on each side of an event.

    Raises:
        InvalidParameterError: inputs of different lengths.
    """
    n = len(ecg)
    if not len(weights) == len(events) == len(proba) == n or n == 0:
        raise InvalidParameterError(
            f"plot_attention_overlay: ecg ({n}), weights ({len(weights)}), events "
            f"({len(events)}) and proba ({len(proba)}) need the same non-zero length"
        )
    fig = Figure(figsize=(10, 2.6 * n), layout="constrained")
    axes = fig.subplots(2 * n, 1, gridspec_kw={"height_ratios": [3, 1] * n}, sharex=True)
    t = np.arange(ecg.shape[1]) / sampling_rate
    for i in range(n):
        ax, bar = axes[2 * i], axes[2 * i + 1]
        ax.plot(t, ecg[i], color="black", lw=0.8)
        _shade(ax, events[i], sampling_rate, half_width)
        kind = "with PVCs" if len(events[i]) else "sinus rhythm"
        ax.set_title(f"record {i + 1}: {kind}; P(PVCs) = {proba[i]:.2f}", fontsize=10, loc="left")
        ax.set_ylabel("mV")
        edges = np.linspace(0, t[-1] + 1 / sampling_rate, weights.shape[1] + 1)
        bar.bar(edges[:-1], weights[i], width=np.diff(edges), align="edge", color="tab:blue")
        bar.axhline(1 / weights.shape[1], color="grey", lw=0.8, ls="--")
        bar.set_ylabel("attn")
    axes[-1].set_xlabel("time (s); dashed line: uniform attention")
    fig.suptitle("Where cross-attention looks on the ECG", fontsize=12)
    return fig


def plot_attention_heads(
    ecg: np.ndarray,
    heads: np.ndarray,
    events: np.ndarray,
    *,
    sampling_rate: float,
    half_width: float = 0.15,
    queries: Sequence[str] = ("age", "sex"),
) -> Figure:
    """One trace above a heat map of its attention per head and query token.

    Args:
        ecg: ``(T,)`` trace (mV).
        heads: ``(H, Q, T')`` attention of each head and query token over the time tokens.
        events: event samples (PVC R peaks) to shade.
        sampling_rate: Hz of the trace.
        half_width: seconds shaded on each side of an event.
        queries: names of the query tokens (at least ``Q``).

    Raises:
        InvalidParameterError: ``heads`` not 3-D or fewer query names than queries.
    """
    if heads.ndim != 3 or len(queries) < heads.shape[1]:
        raise InvalidParameterError(
            f"plot_attention_heads: heads must be (heads, queries, tokens) with at most "
            f"{len(queries)} queries, got shape {heads.shape}"
        )
    n_heads, n_queries, tokens = heads.shape
    fig = Figure(figsize=(10, 1.2 + 0.5 * n_heads * n_queries + 1.5), layout="constrained")
    ax, hm = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1.3, 0.3 * n_heads * n_queries]})
    t = np.arange(ecg.shape[0]) / sampling_rate
    ax.plot(t, ecg, color="black", lw=0.8)
    _shade(ax, events, sampling_rate, half_width)
    ax.set_xlim(0, t[-1])
    ax.set_ylabel("mV")
    ax.set_title("ECG (PVC beats shaded)", fontsize=10, loc="left")
    rows = heads.reshape(n_heads * n_queries, tokens)
    image = hm.imshow(rows, aspect="auto", cmap="viridis", extent=(0, t[-1], len(rows), 0))
    labels = [f"head {h + 1} / {q}" for h in range(n_heads) for q in queries[:n_queries]]
    hm.set_yticks(np.arange(len(rows)) + 0.5, labels, fontsize=8)
    hm.set_xlabel("time (s)")
    fig.colorbar(image, ax=hm, label="attention weight")
    fig.suptitle("Attention per head and query token", fontsize=12)
    return fig
