"""ECG paper: a true-size millimetre grid at 25 mm/s and 10 mm/mV, and strips drawn on it.

The paper has 1 mm minor and 5 mm major lines (0.04 s / 0.1 mV and 0.2 s / 0.5 mV at
the standard speed and gain). Figures are sized from their extent in millimetres and
their one axes is in millimetres with equal aspect, so a figure printed or shown at its
physical size (``fig.get_size_inches()``) has true 1 mm squares. The grid is two
:class:`~matplotlib.collections.LineCollection` objects, not axis ticks, whose layout
made long strips slow (render times, and ticks against collections on the same axes:
``benchmarks/results/viz_ecg_paper.md``). Each row starts with a 1 mV calibration pulse;
the speed and gain are printed in the header.

With R peaks and beat labels, each beat's class symbol (N, S, V, F, Q; ? unknown) is
written just above the beat on every lead (:mod:`medmodal.viz.ecg_beats`).

Amplitudes are taken in mV; µV and V are converted. A lead in any other unit (or none)
is drawn at 10 mm per unit and the figure says that the unit is unknown.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.viz.ecg_paper import plot_ecg_paper
    >>> fig = plot_ecg_paper(ecg_simulate(10, 250, seed=0), 250, lead_names=["II"])
    >>> [round(25.4 * v) for v in fig.get_size_inches()]  # mm, margins included
    [270, 46]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray
from medmodal.viz.ecg_beats import beat_marks, counts_text, draw_beat_symbols, qrs_tops
from medmodal.viz.ecg_labels import COLORS

#: Paper speed (mm/s) and gain (mm/mV) of the standard ECG.
SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
#: Minor and major grid spacing (mm).
MINOR_MM = 1.0
MAJOR_MM = 5.0
#: Width (mm) of the lead-in at the left of each row that holds the calibration pulse.
CALIBRATION_MM = 10.0
#: mV per unit of the amplitude units that can be converted (lower case).
MV_PER_UNIT = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3}
#: White margins (mm) around the grid: sides, header (title, speed, gain), footer.
SIDE_MM, HEADER_MM, FOOTER_MM = 5.0, 15.0, 6.0
_ROW_MM = (15.0, 50.0)  # smallest and largest auto row height (mm)


@dataclass(frozen=True)
class Paper:
    """A true-size figure whose single axes is in mm, origin at the grid's lower left.

    Attributes:
        figure: the figure, ``(width + 2 * SIDE_MM, height + header + footer)`` mm.
        ax: the axes (axis hidden), limits in mm.
        width_mm, height_mm: extent of the grid.
    """

    figure: Figure
    ax: Axes
    width_mm: float
    height_mm: float


def ecg_paper(
    width_mm: float,
    height_mm: float,
    *,
    header_mm: float = HEADER_MM,
    footer_mm: float = FOOTER_MM,
) -> Paper:
    """A blank sheet of ECG paper: grid of ``width_mm`` x ``height_mm`` (rounded up to 5 mm).

    Example:
        >>> paper = ecg_paper(258, 40)
        >>> paper.width_mm, paper.height_mm, [float(v) for v in paper.ax.get_xlim()]
        (260.0, 40.0, [-5.0, 265.0])
    """
    if not (math.isfinite(width_mm) and math.isfinite(height_mm)) or min(width_mm, height_mm) <= 0:
        raise InvalidParameterError(
            f"ecg_paper: width_mm and height_mm must be positive, got {width_mm}, {height_mm}"
        )
    width = MAJOR_MM * math.ceil(width_mm / MAJOR_MM - 1e-9)
    height = MAJOR_MM * math.ceil(height_mm / MAJOR_MM - 1e-9)
    total_w, total_h = width + 2 * SIDE_MM, height + header_mm + footer_mm
    fig = Figure(figsize=(total_w / 25.4, total_h / 25.4))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(-SIDE_MM, width + SIDE_MM)
    ax.set_ylim(-footer_mm, height + header_mm)
    ax.set_aspect("equal")
    ax.set_axis_off()
    draw_grid(ax, width, height)
    return Paper(fig, ax, float(width), float(height))


def draw_grid(ax: Axes, width_mm: float, height_mm: float) -> tuple[LineCollection, ...]:
    """Draw the 1 mm / 5 mm grid over ``[0, width] x [0, height]`` mm; returns (minor, major).

    The collections carry the gids ``"grid_minor"`` and ``"grid_major"``.
    """
    out = []
    for step, kind, lw in ((MINOR_MM, "minor", 0.25), (MAJOR_MM, "major", 0.6)):
        xs = np.arange(0.0, width_mm + 1e-9, step)
        ys = np.arange(0.0, height_mm + 1e-9, step)
        if kind == "minor":  # leave the major positions to the major lines
            xs = xs[np.abs(xs / MAJOR_MM - np.round(xs / MAJOR_MM)) > 1e-9]
            ys = ys[np.abs(ys / MAJOR_MM - np.round(ys / MAJOR_MM)) > 1e-9]
        segments = [((x, 0.0), (x, height_mm)) for x in xs]
        segments += [((0.0, y), (width_mm, y)) for y in ys]
        lines = LineCollection(segments, colors=COLORS[f"grid_{kind}"], linewidths=lw, zorder=0)
        lines.set_gid(f"grid_{kind}")
        ax.add_collection(lines)
        out.append(lines)
    return tuple(out)


def draw_calibration(
    ax: Axes, x_mm: float, baseline_mm: float, *, gain: float = GAIN_MM_MV
) -> None:
    """A 1 mV x 0.2 s calibration pulse whose lead-in starts at ``x_mm``."""
    x = x_mm + np.array([1.0, 3.0, 3.0, 8.0, 8.0, CALIBRATION_MM - 1.0])
    y = baseline_mm + np.array([0.0, 0.0, gain, gain, 0.0, 0.0])
    ax.plot(x, y, color=COLORS["trace"], lw=0.8, solid_joinstyle="miter", gid="calibration")


def draw_trace(
    ax: Axes,
    values_mv: FloatArray,
    sampling_rate: float,
    x_mm: float,
    baseline_mm: float,
) -> None:
    """Draw ``values_mv`` (already in mV) from ``x_mm`` at 25 mm/s around ``baseline_mm``."""
    x = x_mm + np.arange(values_mv.size) * (SPEED_MM_S / sampling_rate)
    y = baseline_mm + GAIN_MM_MV * values_mv
    ax.plot(x, y, color=COLORS["trace"], lw=0.7, zorder=3, gid="trace")


def amplitude_scale(unit: str) -> tuple[float, str | None]:
    """mV per unit of ``unit`` and, when it is not a voltage, a note saying so.

    Example:
        >>> amplitude_scale("uV"), amplitude_scale("")[0]
        ((0.001, None), 1.0)
    """
    factor = MV_PER_UNIT.get(unit.strip().lower())
    if factor is not None:
        return factor, None
    shown = repr(unit) if unit.strip() else "not given"
    return 1.0, f"amplitude unit {shown}: drawn at 10 mm per unit, not calibrated in mV"


def plot_ecg_paper(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    lead_names: Sequence[str] | None = None,
    units: str | Sequence[str] = "mV",
    start: float = 0.0,
    duration: float = 10.0,
    title: str | None = None,
    peaks: ArrayLike | None = None,
    beat_labels: Any = None,
) -> Figure:
    """Every lead as its own strip on ECG paper (25 mm/s, 10 mm/mV), stacked top to bottom.

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)``, in ``units``.
        sampling_rate: Hz.
        lead_names: one name per lead (default ``lead 0``, ``lead 1``...).
        units: the amplitude unit, one for all leads or one per lead (mV, µV or V are
            converted; anything else is drawn at 10 mm per unit and said so).
        start: first second shown.
        duration: seconds shown (each strip is ``25 * duration`` mm long).
        title: printed in the header.
        peaks: R-peak sample indices that ``beat_labels`` label (not needed when
            ``beat_labels`` is a :class:`~medmodal.ecg.beat_classes.BeatClasses`).
        beat_labels: one beat class per peak: its symbol is written above the beat on
            every lead, and the header counts the classes shown.

    Returns:
        A true-size :class:`~matplotlib.figure.Figure`.

    Raises:
        InvalidParameterError: bad shape, names, units or window; peaks without labels
            or a label count that is not the peak count.

    Example:
        >>> import numpy as np
        >>> fig = plot_ecg_paper(np.zeros((2500, 2)), 250, lead_names=["MLII", "V1"])
        >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "lead")
        ['MLII', 'V1']
    """
    data, names, unit_list = check_leads(signal, lead_names, units, func="plot_ecg_paper")
    window = time_window(data.shape[0], sampling_rate, start, duration, func="plot_ecg_paper")
    marks = beat_window(peaks, beat_labels, window, func="plot_ecg_paper")
    shown = [to_mv(data[window, k], unit_list[k]) for k in range(data.shape[1])]
    rows = [_row_extent(v) for v in shown]
    below = max(r[0] for r in rows)
    above = max(r[1] for r in rows) + (0.0 if marks is None else 4.0)  # room for the symbols
    row_mm = min(max(MAJOR_MM * math.ceil((below + above) / MAJOR_MM), _ROW_MM[0]), _ROW_MM[1])
    seconds = (window.stop - window.start) / sampling_rate
    paper = ecg_paper(CALIBRATION_MM + SPEED_MM_S * duration, row_mm * len(shown))
    for k, values in enumerate(shown):
        top = paper.height_mm - k * row_mm
        baseline = top - row_mm + min(on_major(below), on_major(row_mm / 2))
        draw_calibration(paper.ax, 0.0, baseline)
        draw_trace(paper.ax, values, sampling_rate, CALIBRATION_MM, baseline)
        lead_label(paper.ax, CALIBRATION_MM + 1.0, top - 1.0, names[k])
        if marks is not None:
            draw_beat_row(
                paper.ax, marks, sampling_rate, values, baseline, ceiling_mm=paper.height_mm + 3.0
            )
    header(
        paper,
        title or "ECG",
        f"{sampling_rate:g} Hz, {window.start / sampling_rate:g}-"
        f"{window.start / sampling_rate + seconds:g} s{beats_note(marks)}",
        unit_notes(unit_list),
    )
    return paper.figure


# --------------------------------------------------------------------------- shared helpers


def check_leads(
    signal: ArrayLike,
    lead_names: Sequence[str] | None,
    units: str | Sequence[str],
    *,
    func: str,
) -> tuple[FloatArray, list[str], list[str]]:
    """The signal as ``(n_samples, n_leads)``, one name and one unit per lead.

    Raises:
        InvalidParameterError: bad shape, or a name/unit count that is not the lead count.
    """
    data = np.asarray(signal, dtype=np.float64)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 1:
        raise InvalidParameterError(
            f"{func}: signal must be (n_samples,) or (n_samples, n_leads), got {data.shape}"
        )
    n = data.shape[1]
    names = [f"lead {i}" for i in range(n)] if lead_names is None else [str(s) for s in lead_names]
    unit_list = [units] * n if isinstance(units, str) else [str(u) for u in units]
    for what, values in (("lead_names", names), ("units", unit_list)):
        if len(values) != n:
            raise InvalidParameterError(f"{func}: got {len(values)} {what} for {n} leads")
    return data, names, unit_list


def time_window(
    n_samples: int, sampling_rate: float, start: float, duration: float, *, func: str
) -> slice:
    """Samples from ``start`` for ``duration`` seconds (clipped to the record).

    Raises:
        InvalidParameterError: non-positive rate or duration, negative or too late start.
    """
    if not sampling_rate > 0 or not duration > 0 or not start >= 0:
        raise InvalidParameterError(
            f"{func}: need sampling_rate > 0, duration > 0 and start >= 0, got "
            f"{sampling_rate}, {duration}, {start}"
        )
    i0 = round(start * sampling_rate)
    if i0 > n_samples - 2:
        raise InvalidParameterError(
            f"{func}: start {start} s is past the end of the record "
            f"({n_samples / sampling_rate:g} s)"
        )
    return slice(i0, min(n_samples, i0 + max(2, round(duration * sampling_rate))))


def beat_window(
    peaks: ArrayLike | None, beat_labels: Any, window: slice, *, func: str
) -> tuple[IntArray, list[str]] | None:
    """The R peaks inside ``window`` (samples from its start) and their class symbols,
    or None without ``beat_labels`` (:func:`medmodal.viz.ecg_beats.beat_marks`)."""
    if beat_labels is None:
        if peaks is not None:
            raise InvalidParameterError(f"{func}: peaks are drawn with their beat_labels; got none")
        return None
    beats, symbols = beat_marks(peaks, beat_labels, func=func)
    seen = (beats >= window.start) & (beats < window.stop)
    return beats[seen] - window.start, [s for s, keep in zip(symbols, seen, strict=True) if keep]


def draw_beat_row(
    ax: Axes,
    marks: tuple[IntArray, list[str]],
    sampling_rate: float,
    values_mv: FloatArray,
    baseline_mm: float,
    *,
    x_mm: float = CALIBRATION_MM,
    ceiling_mm: float = np.inf,
) -> None:
    """The beat symbols of :func:`beat_window` over the trace ``values_mv`` drawn from
    ``x_mm`` around ``baseline_mm``: each 3 mm above the highest point of its QRS
    (+-60 ms), as ``wfdb.plot_wfdb`` writes annotations at the signal, and no higher
    than ``ceiling_mm`` (clear of the header)."""
    beats, symbols = marks
    tops = np.maximum(qrs_tops(values_mv, beats, sampling_rate), 0.0)  # at least 3 mm up
    y = np.minimum(baseline_mm + GAIN_MM_MV * tops + 3.0, ceiling_mm)
    draw_beat_symbols(ax, x_mm + beats * (SPEED_MM_S / sampling_rate), y, symbols, fontsize=6.5)


def beats_note(marks: tuple[IntArray, list[str]] | None) -> str:
    """``"; beats N 9, V 3"`` for the header (empty without beat labels)."""
    return "" if marks is None else f"; beats {counts_text(marks[1])}"


def on_major(mm: float) -> float:
    """``mm`` rounded up to a 5 mm line, so that baselines sit on the major grid."""
    return MAJOR_MM * math.ceil(mm / MAJOR_MM - 1e-9)


def to_mv(values: FloatArray, unit: str) -> FloatArray:
    """``values`` in mV around their median (NaN gaps stay gaps)."""
    mv = values * amplitude_scale(unit)[0]
    finite = mv[np.isfinite(mv)]
    return mv - (float(np.median(finite)) if finite.size else 0.0)


def unit_notes(units: Sequence[str]) -> list[str]:
    """One note per distinct unit that is not a voltage."""
    notes = (amplitude_scale(u)[1] for u in dict.fromkeys(units))
    return [n for n in notes if n]


def lead_label(ax: Axes, x_mm: float, y_mm: float, name: str, *, fontsize: float = 8) -> None:
    """The lead name with its top left at ``(x_mm, y_mm)`` (gid ``"lead"``)."""
    ax.text(
        x_mm,
        y_mm,
        name,
        ha="left",
        va="top",
        fontsize=fontsize,
        fontweight="bold",
        gid="lead",
        zorder=4,
    )


def header(paper: Paper, title: str, details: str, notes: Sequence[str] = ()) -> None:
    """Three header lines: the title, then speed, gain and ``details``, then ``notes`` (red).

    Lines longer than the grid is wide are cut with an ellipsis, so nothing overflows the
    true-size page.
    """
    ax, top, width = paper.ax, paper.height_mm, paper.width_mm
    scale = f"{SPEED_MM_S:g} mm/s, {GAIN_MM_MV:g} mm/mV, {details}"
    lines = ((title, 9.0, "title", "#000000"), (scale, 7.5, "scale", "#000000"))
    for k, (text, size, gid, color) in enumerate(
        (*lines, ("; ".join(notes), 7.0, "notes", "#B00000"))
    ):
        if text:
            ax.text(
                0.0,
                top + HEADER_MM - 3.5 - 4.5 * k,
                _fit(text, width, size),
                ha="left",
                va="center",
                fontsize=size,
                color=color,
                gid=gid,
            )


def _fit(text: str, width_mm: float, fontsize: float) -> str:
    """``text`` cut to about ``width_mm`` at ``fontsize`` pt (0.55 em per character)."""
    chars = int(width_mm / (0.55 * fontsize * 25.4 / 72))
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "\u2026"


def _row_extent(values_mv: FloatArray) -> tuple[float, float]:
    """mm needed below and above the baseline (robust to single spikes), with a margin."""
    finite = values_mv[np.isfinite(values_mv)]
    if not finite.size:
        return 5.0, 5.0
    low, high = np.percentile(finite, [0.1, 99.9])
    return GAIN_MM_MV * max(-float(low), 0.0) + 3.0, GAIN_MM_MV * max(float(high), 1.0) + 3.0
