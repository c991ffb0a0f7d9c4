"""Colours of the ECG figures: one colour per meaning, and labelled windows.

Rhythm labels are told apart by hue, signal-quality labels by lightness on one purple
scale (light = excellent, dark = unacceptable), and the marks drawn on traces (R peaks,
missed and false beats, NN intervals, excluded intervals) and the beat-class symbols
(:mod:`medmodal.viz.ecg_beats`) have colours of their own, so no colour means two things
in any figure. Every label of
:data:`medmodal.ecg.rhythm.LABELS` and :data:`medmodal.ecg.quality.LABELS` has a colour.

Example:
    >>> from medmodal.viz.ecg_labels import label_color
    >>> label_color("rhythm", "sinus"), label_color("quality", "unacceptable")
    ('#117733', '#54278F')
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from medmodal.errors import InvalidParameterError

#: Colours of the marks on the ECG figures (colour-blind safe Okabe-Ito / Tol hues).
COLORS = {
    "trace": "#000000",  # the ECG on paper
    "raw": "#8C8C8C",  # unfiltered signal (cleaning figure)
    "clean": "#0072B2",  # cleaned signal (cleaning figure)
    "peak": "#D55E00",  # detected R peak
    "missed": "#CC79A7",  # reference beat without a detection
    "false": "#E69F00",  # detection without a reference beat
    "nn": "#332288",  # a kept NN interval (rate, tachogram, Poincaré)
    "excluded": "#AAAAAA",  # an RR interval removed as ectopic/artefact
    "ellipse": "#882255",  # Poincaré SD1/SD2 ellipse
    "lf": "#44AA99",  # LF band of the RR spectrum
    "hf": "#999933",  # HF band of the RR spectrum
    "spectrum": "#555555",  # the RR spectrum
    "grid_major": "#E8A0A0",  # 5 mm lines of the ECG paper
    "grid_minor": "#F8D8D8",  # 1 mm lines of the ECG paper
}
#: Rhythm labels: one hue each (Tol muted).
RHYTHM_COLORS = {
    "sinus": "#117733",
    "tachycardia": "#CC6677",
    "bradycardia": "#88CCEE",
    "irregular": "#DDCC77",
    "undetermined": "#DDDDDD",
}
#: Signal-quality labels: one sequential purple scale, light (good) to dark (bad).
QUALITY_COLORS = {
    "excellent": "#DADAEB",
    "acceptable": "#9E9AC8",
    "unacceptable": "#54278F",
}
#: AAMI beat-class symbols written above the R peaks (Tol vibrant; "?": not classified).
BEAT_COLORS = {
    "N": "#333333",  # normal: dark, the common case stays quiet
    "S": "#0077BB",  # supraventricular ectopic
    "V": "#CC3311",  # ventricular ectopic
    "F": "#009988",  # fusion
    "Q": "#997700",  # unclassifiable
    "?": "#7F7F7F",  # the classifier gave no label
}
#: Colour of a label that no palette knows (drawn and named in the legend).
UNKNOWN_COLOR = "#FFFFFF"
_PALETTES = {"rhythm": RHYTHM_COLORS, "quality": QUALITY_COLORS}

Kind = Literal["rhythm", "quality"]
#: ``(start s, end s, label)`` rows of a windowed result.
Windows = list[tuple[float, float, str]]


def label_color(kind: Kind, label: str) -> str:
    """The colour of a rhythm or quality ``label`` (white for an unknown label).

    Raises:
        InvalidParameterError: ``kind`` is neither ``"rhythm"`` nor ``"quality"``.
    """
    if kind not in _PALETTES:
        raise InvalidParameterError(
            f"label_color: kind must be 'rhythm' or 'quality', got {kind!r}"
        )
    return _PALETTES[kind].get(label, UNKNOWN_COLOR)


def windows_from(result: Any) -> Windows | None:
    """``(start, end, label)`` rows of a windowed result (``to_frame()`` or a mapping).

    Accepts a :class:`~medmodal.ecg.rhythm.Rhythm`, :class:`~medmodal.ecg.quality.Quality`,
    a DataFrame or a mapping with ``start_s``/``end_s`` (or ``start``/``end``) and
    ``label`` columns; ``None`` gives ``None``.

    Raises:
        InvalidParameterError: a column is missing.
    """
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


def clip_windows(windows: Windows | None, a: float, b: float) -> Windows:
    """The parts of ``windows`` that fall inside ``[a, b]`` seconds."""
    return [(max(s, a), min(e, b), lab) for s, e, lab in windows or [] if min(e, b) > max(s, a)]


def shade_windows(
    ax: Axes,
    windows: Windows | None,
    kind: Kind,
    *,
    band: tuple[float, float] = (0.0, 1.0),
    alpha: float = 1.0,
) -> None:
    """Colour each window's time span over ``band`` (axes fraction, bottom to top).

    One collection per label (gid ``"<kind>:<label>"``), so thousands of windows cost
    what a handful of artists do.
    """
    spans: dict[str, list[list[tuple[float, float]]]] = {}
    lo, hi = band
    for a, b, label in windows or []:
        spans.setdefault(label, []).append([(a, lo), (b, lo), (b, hi), (a, hi)])
    for label, polygons in spans.items():
        shading = PolyCollection(
            polygons,
            facecolors=label_color(kind, label),
            alpha=alpha,
            linewidths=0,
            transform=ax.get_xaxis_transform(),
            zorder=0.5 if band == (0.0, 1.0) else 2.5,
        )
        shading.set_gid(f"{kind}:{label}")
        ax.add_collection(shading, autolim=False)


def label_legend(
    fig: Figure,
    rhythm: Windows | None,
    quality: Windows | None,
    *,
    loc: Literal["outside lower center", "lower center"] = "outside lower center",
    extra: list[Any] | None = None,
    rhythm_alpha: float = 1.0,
) -> None:
    """A legend on ``fig`` with one patch per rhythm and quality label present.

    Args:
        fig: the figure.
        rhythm, quality: the windows drawn (see :func:`windows_from`).
        loc: legend location (``"outside ..."`` needs a constrained layout).
        extra: more legend handles, placed first.
        rhythm_alpha: opacity of the rhythm patches (match the figure's shading).

    Labels are listed in their palette's order (unknown labels last).
    """
    handles = list(extra or [])
    for windows, kind, alpha in ((rhythm, "rhythm", rhythm_alpha), (quality, "quality", 1.0)):
        order = list(_PALETTES[kind])
        present = set(lab for _, _, lab in windows or [])
        for label in sorted(
            present, key=lambda lab: (order.index(lab) if lab in order else 99, lab)
        ):
            color = label_color(kind, label)  # type: ignore[arg-type]
            handles.append(
                Patch(facecolor=color, alpha=alpha, edgecolor="#666666", label=f"{kind}: {label}")
            )
    if handles:
        fig.legend(
            handles=handles,
            loc=loc,
            ncols=min(len(handles), 8),
            fontsize=8,
            frameon=False,
        )
