"""Beat classes on ECG traces: the AAMI symbol of each beat above its R peak.

As ``wfdb.plot_wfdb`` draws a record's annotation symbols over its signal, the trace,
strip and paper figures take optional per-beat labels and write each beat's symbol
above it: ``N`` (normal or bundle-branch block), ``S`` (supraventricular ectopic),
``V`` (ventricular ectopic), ``F`` (fusion), ``Q`` (unclassifiable), in one colour per
class (:data:`~medmodal.viz.ecg_labels.BEAT_COLORS`), and ``?`` for a beat the
classifier could not label. The legend lists each class shown with its count.

Labels come as one string per R peak, or as any object with ``label`` (one per peak)
and ``peaks`` attributes, such as the :class:`~medmodal.ecg.beat_classes.BeatClasses`
of :func:`~medmodal.ecg.process.ecg_process`.

Example:
    >>> import numpy as np
    >>> from medmodal.viz.ecg_beats import beat_marks, counts_text
    >>> peaks, symbols = beat_marks(np.array([300, 100, 200]), ["V", "N", "unknown"], func="demo")
    >>> peaks.tolist(), symbols, counts_text(symbols)
    ([100, 200, 300], ['N', '?', 'V'], 'N 1, V 1, ? 1')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray
from medmodal.viz.ecg_labels import BEAT_COLORS

__all__ = [
    "BEAT_SYMBOLS",
    "SYMBOL_NAMES",
    "SYMBOL_ROOM",
    "UNKNOWN_SYMBOL",
    "beat_counts",
    "beat_handles",
    "beat_marks",
    "counts_text",
    "draw_beat_symbols",
    "draw_trace_beats",
    "qrs_tops",
]

#: The AAMI EC57 beat classes, in their standard order.
BEAT_SYMBOLS = ("N", "S", "V", "F", "Q")
#: The symbol of a beat without a class (any label that is not an AAMI class).
UNKNOWN_SYMBOL = "?"
#: What each symbol means (legend text).
SYMBOL_NAMES = {
    "N": "normal",
    "S": "supraventricular ectopic",
    "V": "ventricular ectopic",
    "F": "fusion",
    "Q": "unclassifiable",
    UNKNOWN_SYMBOL: "not classified",
}
#: Height (signal units, mV) above the QRS kept for the symbols on a trace in mV.
SYMBOL_ROOM = 0.5
#: The gid of every symbol drawn (tests and callers find the text artists by it).
GID = "beat_class"


def beat_marks(
    peaks: ArrayLike | None, beat_labels: Any, *, func: str
) -> tuple[IntArray, list[str]]:
    """Sorted R peaks and the symbol of each, from per-beat labels.

    Args:
        peaks: R-peak sample indices (any order), or None when ``beat_labels`` carries
            its own ``peaks``.
        beat_labels: one label per peak (``N``, ``S``, ``V``, ``F``, ``Q``; anything
            else, such as ``"unknown"``, is drawn as ``?``), or an object with ``label``
            and ``peaks`` attributes.
        func: the calling figure, named in errors.

    Raises:
        InvalidParameterError: no peaks, peaks that are not 1-D integer sample indices,
            or a label count that is not the peak count.
    """
    labels = getattr(beat_labels, "label", beat_labels)
    if peaks is None:
        peaks = getattr(beat_labels, "peaks", None)
    if peaks is None:
        raise InvalidParameterError(f"{func}: beat_labels need the R peaks they label")
    array = np.asarray(peaks)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise InvalidParameterError(f"{func}: peaks must be a 1-D array of sample indices")
    if isinstance(labels, str) or len(labels) != array.size:
        count = "a string" if isinstance(labels, str) else f"{len(labels)} labels"
        raise InvalidParameterError(
            f"{func}: beat_labels must give one label per R peak ({array.size}), got {count}"
        )
    order = np.argsort(array, kind="stable")
    symbols = [_symbol(labels[k]) for k in order]
    return array[order].astype(np.int64), symbols


def _symbol(label: Any) -> str:
    text = str(label)
    return text if text in BEAT_SYMBOLS else UNKNOWN_SYMBOL


def beat_counts(symbols: Sequence[str]) -> dict[str, int]:
    """How many beats carry each symbol, in AAMI order then ``?``; absent symbols left out."""
    found = {s: 0 for s in (*BEAT_SYMBOLS, UNKNOWN_SYMBOL)}
    for s in symbols:
        found[_symbol(s)] += 1
    return {s: n for s, n in found.items() if n}


def counts_text(symbols: Sequence[str]) -> str:
    """``"N 40, V 12"``: the counts of :func:`beat_counts` in words ("no beats" if none)."""
    counts = beat_counts(symbols)
    return ", ".join(f"{s} {n}" for s, n in counts.items()) or "no beats"


def draw_beat_symbols(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    symbols: Sequence[str],
    *,
    fontsize: float = 8.0,
) -> None:
    """Write each symbol centred at ``(x, y)`` (``y`` one value or one per beat).

    Every text artist has the gid ``"beat_class"`` and its class colour, in bold.
    """
    ys = np.broadcast_to(np.asarray(y, dtype=np.float64), np.shape(x))
    for xk, yk, symbol in zip(np.asarray(x, dtype=np.float64), ys, symbols, strict=True):
        ax.text(
            float(xk),
            float(yk),
            symbol,
            ha="center",
            va="center",
            fontsize=fontsize,
            fontweight="bold",
            color=BEAT_COLORS[_symbol(symbol)],
            gid=GID,
            zorder=5,
        )


def beat_handles(symbols: Sequence[str]) -> list[Line2D]:
    """Legend handles: one per symbol present, the symbol as marker and its meaning and
    count as label (``"ventricular ectopic: 12"``)."""
    return [
        Line2D(
            [],
            [],
            ls="none",
            marker=f"${symbol}$",
            ms=7,
            color=BEAT_COLORS[symbol],
            label=f"{SYMBOL_NAMES[symbol]}: {count}",
        )
        for symbol, count in beat_counts(symbols).items()
    ]


def qrs_tops(x: FloatArray, beats: IntArray, sampling_rate: float) -> FloatArray:
    """The highest finite value of ``x`` within 60 ms of each beat (0 where none): where
    a symbol goes above an upright or an inverted QRS.

    Example:
        >>> qrs_tops(np.array([0.0, -2.0, 0.1, 1.0, np.nan]), np.array([1, 4]), 50.0).tolist()
        [1.0, 1.0]
    """
    half = max(1, round(0.06 * sampling_rate))
    finite = np.where(np.isfinite(x), x, -np.inf)
    tops = np.array(
        [finite[max(0, b - half) : b + half + 1].max(initial=-np.inf) for b in beats], dtype=float
    )
    return np.where(np.isfinite(tops), tops, 0.0)


def draw_trace_beats(
    ax: Axes, x: FloatArray, sampling_rate: float, peaks: ArrayLike, labels: Any, window: slice
) -> str:
    """Each beat's class symbol above its QRS on a trace in seconds and signal units
    (the highest point within 60 ms of the R peak, so an inverted QRS is not written
    over) for the beats in ``window``, with legend entries; returns the title's count of
    the classes shown (``"; beats N 9, V 3"``, ``""`` when no beat is shown)."""
    beats, symbols = beat_marks(peaks, labels, func="plot_peaks")
    seen = (beats >= window.start) & (beats < window.stop)
    shown = [s for s, keep in zip(symbols, seen, strict=True) if keep]
    at = beats[seen]
    tops = qrs_tops(x, at, sampling_rate)
    draw_beat_symbols(ax, at / sampling_rate, tops + SYMBOL_ROOM / 2, shown, fontsize=8)
    for handle in beat_handles(shown):
        ax.add_line(handle)
    return f"; beats {counts_text(shown)}" if shown else ""
