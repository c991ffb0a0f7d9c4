"""The standard 12-lead page: 3 x 4 leads of 2.5 s each and a 10 s rhythm strip.

Rows I/aVR/V1/V4, II/aVL/V2/V5 and III/aVF/V3/V6, each column 2.5 s of the same 10 s in
time order (as an electrocardiograph prints them), and lead II over the full 10 s at the
bottom, on ECG paper at 25 mm/s and 10 mm/mV (:mod:`medmodal.viz.ecg_paper`). Lead names
are matched case-insensitively (PTB-XL's ``AVR`` is aVR). A record without the 12
standard leads is drawn as stacked strips, one per lead, and the page says why.

Example:
    >>> import numpy as np
    >>> from medmodal.viz.ecg_12lead import STANDARD_LEADS, plot_12lead
    >>> fig = plot_12lead(np.zeros((1000, 12)), 100, lead_names=STANDARD_LEADS)
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "lead"][:4]
    ['I', 'aVR', 'V1', 'V4']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike
from medmodal.viz.ecg_labels import COLORS
from medmodal.viz.ecg_paper import (
    CALIBRATION_MM,
    MAJOR_MM,
    SPEED_MM_S,
    beat_window,
    beats_note,
    check_leads,
    draw_beat_row,
    draw_calibration,
    draw_trace,
    ecg_paper,
    header,
    lead_label,
    on_major,
    plot_ecg_paper,
    time_window,
    to_mv,
    unit_notes,
)

#: The 12 standard leads, as printed.
STANDARD_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
#: Rows of the page, each four columns of :data:`COLUMN_SECONDS`.
LAYOUT = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
#: Seconds per column, and of the whole page (the rhythm strip's length).
COLUMN_SECONDS = 2.5
PAGE_SECONDS = 4 * COLUMN_SECONDS
#: Default row height (mm): 4 major squares above and below the baseline.
ROW_MM = 40.0


def standard_leads(lead_names: Sequence[str]) -> dict[str, int] | None:
    """Index of each standard lead in ``lead_names`` (case-insensitive), or None if any is missing.

    Example:
        >>> names = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
        >>> standard_leads(names)["aVR"], standard_leads(["MLII", "V1"])
        (3, None)
    """
    folded = {str(name).strip().lower(): i for i, name in reversed(list(enumerate(lead_names)))}
    found = {lead: folded.get(lead.lower()) for lead in STANDARD_LEADS}
    if any(index is None for index in found.values()):
        return None
    return {lead: int(index) for lead, index in found.items() if index is not None}


def plot_12lead(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    lead_names: Sequence[str],
    units: str | Sequence[str] = "mV",
    start: float = 0.0,
    rhythm_lead: str = "II",
    title: str | None = None,
    row_mm: float = ROW_MM,
    peaks: ArrayLike | None = None,
    beat_labels: Any = None,
) -> Figure:
    """The standard 12-lead page (3 x 4 leads, 2.5 s each, and a 10 s rhythm strip).

    Args:
        signal: ``(n_samples, n_leads)`` in ``units``, at least 10 s from ``start`` for a
            full page (a shorter record leaves the end of the page blank).
        sampling_rate: Hz.
        lead_names: one name per column of ``signal``; the 12 standard leads are found
            by name, case-insensitively. Without all of them the leads are drawn as
            stacked strips (:func:`~medmodal.viz.ecg_paper.plot_ecg_paper`) and the
            header says which are missing.
        units: amplitude unit, one for all leads or one per lead (mV, µV or V).
        start: first second of the page.
        rhythm_lead: the standard lead of the rhythm strip.
        title: printed in the header.
        row_mm: height of each row; large complexes may reach into the next row, as on
            an electrocardiograph's printout.
        peaks, beat_labels: R peaks and one beat class per peak (or a
            :class:`~medmodal.ecg.beat_classes.BeatClasses` alone): each beat's symbol
            is written above the rhythm strip (above every strip of
            :func:`~medmodal.viz.ecg_paper.plot_ecg_paper` without the 12 leads), and the
            header counts the classes shown.

    Returns:
        A true-size :class:`~matplotlib.figure.Figure` (260 x ~180 mm grid).

    Raises:
        InvalidParameterError: bad shape, names, units, window, row height or rhythm lead.
    """
    func = "plot_12lead"
    data, names, unit_list = check_leads(signal, lead_names, units, func=func)
    index = standard_leads(names)
    if index is None:
        missing = [
            lead for lead in STANDARD_LEADS if lead.lower() not in {n.lower() for n in names}
        ]
        note = f"stacked strips: the record lacks the standard lead(s) {', '.join(missing)}"
        return plot_ecg_paper(
            data,
            sampling_rate,
            lead_names=names,
            units=unit_list,
            start=start,
            duration=PAGE_SECONDS,
            title=f"{title} ({note})" if title else note,
            peaks=peaks,
            beat_labels=beat_labels,
        )
    rhythm = _rhythm_lead(rhythm_lead, func=func)
    if not (math.isfinite(row_mm) and row_mm >= 2 * MAJOR_MM):
        raise InvalidParameterError(f"{func}: row_mm must be >= 10 mm, got {row_mm}")
    window = time_window(data.shape[0], sampling_rate, start, PAGE_SECONDS, func=func)
    marks = beat_window(peaks, beat_labels, window, func=func)
    mv = {lead: to_mv(data[window, k], unit_list[k]) for lead, k in index.items()}
    paper = ecg_paper(CALIBRATION_MM + SPEED_MM_S * PAGE_SECONDS, 4 * row_mm)
    per_column = round(COLUMN_SECONDS * sampling_rate)
    for row, leads in enumerate((*LAYOUT, (rhythm,))):
        baseline = paper.height_mm - row * row_mm - on_major(0.6 * row_mm)
        draw_calibration(paper.ax, 0.0, baseline)
        for col, lead in enumerate(leads):
            x0 = CALIBRATION_MM + col * SPEED_MM_S * COLUMN_SECONDS
            chunk = (
                mv[lead] if len(leads) == 1 else mv[lead][col * per_column : (col + 1) * per_column]
            )
            draw_trace(paper.ax, chunk, sampling_rate, x0, baseline)
            lead_label(paper.ax, x0 + 1.0, baseline + 0.45 * row_mm, lead)
            if col:
                paper.ax.plot([x0, x0], [baseline - 3, baseline + 3], color=COLORS["trace"], lw=0.8)
        if marks is not None and len(leads) == 1:
            draw_beat_row(paper.ax, marks, sampling_rate, mv[rhythm], baseline)
    t0 = window.start / sampling_rate
    seconds = (window.stop - window.start) / sampling_rate
    header(
        paper,
        title or "12-lead ECG",
        f"{sampling_rate:g} Hz, {t0:g}-{t0 + seconds:g} s{beats_note(marks)}",
        unit_notes(unit_list),
    )
    paper.ax.text(
        paper.width_mm,
        -3.0,
        f"rhythm strip: {rhythm}; columns {COLUMN_SECONDS:g} s each, in time order",
        ha="right",
        va="center",
        fontsize=7,
    )
    return paper.figure


def _rhythm_lead(name: str, *, func: str) -> str:
    for lead in STANDARD_LEADS:
        if lead.lower() == str(name).strip().lower():
            return lead
    raise InvalidParameterError(
        f"{func}: rhythm_lead must be one of {', '.join(STANDARD_LEADS)}, got {name!r}"
    )
